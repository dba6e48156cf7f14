"""Queries behind a wave's report: its stored answers, its comments, and its series."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import asyncpg
import msgspec


class SeriesWave(msgspec.Struct, frozen=True):
    """A closed wave of one service and instrument (a point of its trend)."""

    id: UUID
    title: str
    closes_on: date
    audience_size: int | None


async def select_answer_arrays(
    conn: asyncpg.Connection, *, campaign_id: UUID
) -> tuple[list[list[int | None]], list[list[int | None] | None], list[list[int | None] | None]]:
    """Every response's item values, importance and satisfaction arrays (instrument
    order), in storage order: row ``r`` of each list is the same response."""
    rows = await conn.fetch(
        "select item_values, importance, satisfaction from responses where campaign_id = $1", campaign_id
    )
    return [r["item_values"] for r in rows], [r["importance"] for r in rows], [r["satisfaction"] for r in rows]


async def select_comments(conn: asyncpg.Connection, *, campaign_id: UUID) -> list[tuple[str, str]]:
    """Every free-text answer of the wave as (prompt key, text)."""
    rows = await conn.fetch(
        "select key, value from responses, jsonb_each_text(comments) where campaign_id = $1", campaign_id
    )
    return [(r["key"], r["value"]) for r in rows]


async def select_series(conn: asyncpg.Connection, *, campaign_id: UUID) -> list[SeriesWave]:
    """The closed waves of this wave's service with the very same instrument (hash), the
    oldest first: the waves whose scores can be compared with this one's."""
    rows = await conn.fetch(
        """
        select c.id, c.title, c.closes_on, c.audience_size
        from campaigns c
        join campaigns this on this.id = $1
        where c.service_id = this.service_id and c.instrument_hash = this.instrument_hash
          and c.status = 'closed'
        order by c.closes_on, c.opened_on, c.id
        """,
        campaign_id,
    )
    return [SeriesWave(id=r["id"], title=r["title"], closes_on=r["closes_on"], audience_size=r["audience_size"])
            for r in rows]


async def select_respondent_rows(
    conn: asyncpg.Connection, *, campaign_id: UUID
) -> list[tuple[list[int | None], list[int | None] | None, list[int | None] | None, dict[str, str]]]:
    """Every response's stored arrays and comments (for respondent-level exports)."""
    rows = await conn.fetch(
        "select item_values, importance, satisfaction, comments from responses where campaign_id = $1", campaign_id
    )
    return [(r["item_values"], r["importance"], r["satisfaction"], _comments(r["comments"])) for r in rows]


def _comments(raw: object) -> dict[str, str]:
    if isinstance(raw, str):
        raw = msgspec.json.decode(raw)
    return {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
