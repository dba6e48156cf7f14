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
        order by c.closes_on, c.opened_on, c.created_at, c.id
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


async def select_snapshot(conn: asyncpg.Connection, *, campaign_id: UUID, language: str, version: str,
                          context: str) -> bytes | None:
    """The stored report of the wave in ``language`` if the same code made it in the same context."""
    return await conn.fetchval(
        "select body from report_snapshots where campaign_id = $1 and language = $2 and version = $3 "
        "and context = $4", campaign_id, language, version, context)


async def store_snapshot(conn: asyncpg.Connection, *, campaign_id: UUID, language: str, version: str,
                         context: str, body: bytes) -> None:
    """Keep the wave's report in ``language``, replacing one made by other code or in another context."""
    await conn.execute(
        "insert into report_snapshots (campaign_id, language, version, context, body) values ($1, $2, $3, $4, $5) "
        "on conflict (campaign_id, language) do update set version = excluded.version, "
        "context = excluded.context, body = excluded.body", campaign_id, language, version, context, body)


async def select_unsnapshotted(conn: asyncpg.Connection, *, version: str, languages: list[str],
                               limit: int) -> list[tuple[UUID, str]]:
    """Closed waves lacking a report by this code version in one of ``languages``, the most
    recently closed first (those are the ones being read): (wave, language) pairs."""
    rows = await conn.fetch(
        """
        select c.id, l.language
        from campaigns c cross join unnest($2::text[]) as l(language)
        where c.status = 'closed'
          and not exists (select 1 from report_snapshots s
                          where s.campaign_id = c.id and s.language = l.language and s.version = $1)
        order by c.closes_on desc, c.id, l.language
        limit $3
        """, version, languages, limit)
    return [(r["id"], r["language"]) for r in rows]


async def try_lock_snapshot(conn: asyncpg.Connection, *, campaign_id: UUID, language: str) -> bool:
    """Whether this transaction now holds the right to build the wave's report in
    ``language`` (another replica building it keeps its lock until it commits)."""
    return bool(await conn.fetchval("select pg_try_advisory_xact_lock(hashtext('report:' || $1::text || ':' || $2))",
                                    str(campaign_id), language))
