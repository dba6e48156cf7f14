"""SQL for instrument versions (content-addressed, immutable)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec

from instruments import Instrument, instrument_hash
from service.queries import truth


class InstrumentSummary(msgspec.Struct, frozen=True):
    id: str
    version: str
    hash: str
    title: str
    format: str
    builtin: bool
    created_at: datetime


class InstrumentVersion(msgspec.Struct, frozen=True):
    summary: InstrumentSummary
    instrument: Instrument


_SUMMARY = "id, version, hash, title, format, builtin, created_at"


async def insert_instrument(
    conn: asyncpg.Connection, *, instrument: Instrument, builtin: bool, uploaded_by: UUID | None
) -> tuple[InstrumentSummary | None, bool]:
    """Store a version. Returns (summary, created); summary is None when the
    (id, version) pair is taken by different content."""
    digest = instrument_hash(instrument)
    row = await conn.fetchrow(
        f"""
        insert into instruments (hash, id, version, title, format, builtin, document, uploaded_by)
        values ($1, $2, $3, $4, $5, $6, $7, $8)
        on conflict do nothing
        returning {_SUMMARY}
        """,
        digest, instrument.id, instrument.version, instrument.title, instrument.format, builtin,
        msgspec.to_builtins(instrument), uploaded_by,
    )
    if row is not None:
        return InstrumentSummary(**dict(row)), True
    existing = await conn.fetchrow(f"select {_SUMMARY} from instruments where hash = $1", digest)
    return (InstrumentSummary(**dict(existing)), False) if existing else (None, False)


async def select_instruments(conn: asyncpg.Connection) -> list[InstrumentSummary]:
    rows = await conn.fetch(f"select {_SUMMARY} from instruments order by id, created_at desc, version desc")
    return [InstrumentSummary(**dict(r)) for r in rows]


async def select_instrument(
    conn: asyncpg.Connection, *, instrument_id: str, digest: str | None = None
) -> InstrumentVersion | None:
    """The newest version of ``instrument_id``, or the version with ``digest``."""
    row = await conn.fetchrow(
        f"""
        select {_SUMMARY}, document from instruments
        where id = $1 and ($2::text is null or hash = $2)
        order by created_at desc, version desc limit 1
        """,
        instrument_id, digest,
    )
    if row is None:
        return None
    data = dict(row)
    document = data.pop("document")
    return InstrumentVersion(summary=InstrumentSummary(**data), instrument=msgspec.convert(document, Instrument))


async def select_instrument_by_hash(conn: asyncpg.Connection, *, digest: str) -> Instrument | None:
    document = await conn.fetchval("select document from instruments where hash = $1", digest)
    return None if document is None else msgspec.convert(document, Instrument)


async def is_builtin_id(conn: asyncpg.Connection, *, instrument_id: str) -> bool:
    return await truth(conn, "select exists (select 1 from instruments where id = $1 and builtin)", instrument_id)
