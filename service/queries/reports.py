"""Queries behind a wave's report: its stored answers, its comments, and its series."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
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


#: A null answer in ``answer_codes`` (never a stored value: answers are 1..points,
#: allocations 0..total); see migration 0014.
NULL_ANSWER = -32768


async def copy_answer_codes(conn: asyncpg.Connection, *, campaign_id: UUID,
                            sink: Callable[[bytes], Awaitable[None]]) -> None:
    """Every response's ``answer_codes`` (item values, importance and satisfaction as
    big-endian int16, :data:`NULL_ANSWER` for null) as one binary ``COPY`` into ``sink``,
    in the order :func:`select_answer_arrays` gives the same rows."""
    await conn.copy_from_query("select answer_codes from responses where campaign_id = $1", campaign_id,
                               output=sink, format="binary")


async def select_comments(conn: asyncpg.Connection, *, campaign_id: UUID) -> list[tuple[str, str]]:
    """Every free-text answer of the wave as (prompt key, text): only the responses
    with comments are read (``responses_commented_idx``), not the whole wave."""
    rows = await conn.fetch(
        "select key, value from responses, jsonb_each_text(comments) "
        "where campaign_id = $1 and comments <> '{}'::jsonb", campaign_id
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
) -> list[tuple[list[int | None], list[int | None] | None, list[int | None] | None, dict[str, str],
                list[int | None] | None]]:
    """Every response's stored arrays, comments and measures (for respondent-level exports)."""
    rows = await conn.fetch(
        "select item_values, importance, satisfaction, comments, measures from responses where campaign_id = $1",
        campaign_id,
    )
    return [(r["item_values"], r["importance"], r["satisfaction"], _comments(r["comments"]), r["measures"])
            for r in rows]


def _comments(raw: object) -> dict[str, str]:
    if isinstance(raw, str):
        raw = msgspec.json.decode(raw)
    return {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}


async def select_measures(conn: asyncpg.Connection, *, campaign_id: UUID) -> list[list[int | None] | None]:
    """Every response's IT experience measures (instrument order; ``None`` for a response
    stored without them), one entry per response, so the count is the wave's responses."""
    rows = await conn.fetch("select measures from responses where campaign_id = $1", campaign_id)
    return [r["measures"] for r in rows]
