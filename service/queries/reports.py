"""Queries behind a wave's report: its stored answers and its comments."""

from __future__ import annotations

from uuid import UUID

import asyncpg


async def select_answer_arrays(
    conn: asyncpg.Connection, *, campaign_id: UUID
) -> tuple[list[list[int | None]], list[list[int | None] | None]]:
    """Every response's item values and importance arrays (instrument order), in storage order."""
    rows = await conn.fetch("select item_values, importance from responses where campaign_id = $1", campaign_id)
    return [r["item_values"] for r in rows], [r["importance"] for r in rows]


async def select_comments(conn: asyncpg.Connection, *, campaign_id: UUID) -> list[tuple[str, str]]:
    """Every free-text answer of the wave as (prompt key, text)."""
    rows = await conn.fetch(
        "select key, value from responses, jsonb_each_text(comments) where campaign_id = $1", campaign_id
    )
    return [(r["key"], r["value"]) for r in rows]
