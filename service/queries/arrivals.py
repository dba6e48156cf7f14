"""SQL that erases arrival order: rewriting anonymous and issuance rows in random order.

A row's transaction id (``xmin``) and physical position (``ctid``) say when, and in
which order, it was written; an insider can line that order up against issuance rows
or sign-in times. Rewriting rows in one transaction gives them all that transaction's
id, and inserting them in random order puts them in a random physical order; a VACUUM
afterwards removes the old tuple versions (see service/scrub.py for the pass).
"""

from __future__ import annotations

from uuid import UUID

import asyncpg

from service.queries import count, truth

# Tables rewritten together, each group in one transaction: a wave's issuance and
# anonymous rows; the threads' issuance, spent tokens, threads and messages.
WAVE_TABLES = ("responses", "spent_tokens", "token_issuances")
THREAD_TABLES = ("thread_spent_tokens", "threads", "thread_messages", "thread_token_issuances")
GROUPS = {"waves": WAVE_TABLES, "threads": THREAD_TABLES}
# Within each table, the unit a pass rewrites whole: every row of a wave, day or month
# that received a row since the previous pass. Rewriting only the new rows would leave
# each earlier window's rows with that window's transaction id, so a dump would still
# order a wave's answers by the hour they came in; order *between* these units is public
# anyway (the wave, the thread's date, the token's month).
ARRIVAL_UNITS = {
    "responses": "campaign_id",
    "spent_tokens": "campaign_id",
    "token_issuances": "campaign_id",
    "threads": "opened_on",
    "thread_messages": "posted_on",
    "thread_spent_tokens": "period",
    "thread_token_issuances": "period",
}

# pg_try_advisory_xact_lock(classid, objid): "Cand" and the group's number, so replicas
# running the pass at once take turns per group (the migration runner uses one bigint key).
_LOCK_CLASS = 0x43616E64
_LOCK_IDS = {"waves": 1, "threads": 2}


async def try_lock_group(conn: asyncpg.Connection, *, group: str) -> bool:
    """Take the group's pass lock for this transaction; False when another replica holds it."""
    return await truth(conn, "select pg_try_advisory_xact_lock($1, $2)", _LOCK_CLASS, _LOCK_IDS[group])


async def lock_thread_tables(conn: asyncpg.Connection) -> None:
    """Hold off every write to the thread tables until the transaction ends.

    Threads and messages are updated (status, read marker, hiding) and referenced
    (messages, audit, deliveries): a write waiting on a row the pass deletes would find it
    gone, so writers wait for the table instead and then see the rewritten rows. NOWAIT:
    the pass never waits on a request (it cannot be half of a deadlock); it tries again.
    Plain reads go on. The foreign keys to threads and messages are checked at commit,
    when the deleted rows exist again."""
    await conn.execute(f"lock table {', '.join(THREAD_TABLES)} in exclusive mode nowait")
    await conn.execute("set constraints all deferred")


async def _stored_columns(conn: asyncpg.Connection, table: str) -> str:
    # From the catalog, so a column added later is carried over too; generated columns
    # (full-text search) are computed again, ``scrubbed`` is set by the rewrite.
    names = await conn.fetch(
        """
        select quote_ident(attname) as name from pg_attribute
        where attrelid = $1::regclass and attnum > 0 and not attisdropped and attgenerated = ''
          and attname <> 'scrubbed'
        order by attnum
        """,
        table,
    )
    return ", ".join(r["name"] for r in names)


async def rewrite_in_random_order(
    conn: asyncpg.Connection, table: str, *, campaign_id: UUID | None = None
) -> int:
    """Delete and re-insert, in random order and marked scrubbed, every row of each
    arrival unit (``ARRIVAL_UNITS``: wave, day or month) of ``table`` that holds a row not
    yet scrubbed (or, with ``campaign_id``, all of that wave's rows); the number moved.

    One statement, one snapshot: a row committed after it started is not touched (it
    waits for the next pass). A concurrent insert of a key being moved waits on the
    unique index for this transaction and then conflicts, so a spent token stays spent."""
    if table not in WAVE_TABLES + THREAD_TABLES:
        raise ValueError(f"{table} is not an anonymous or issuance table")
    columns = await _stored_columns(conn, table)
    unit = ARRIVAL_UNITS[table]
    where = (
        "campaign_id = $1" if campaign_id is not None
        else f"{unit} in (select {unit} from {table} where not scrubbed)"
    )
    return await count(conn,
        f"""
        with moved as (delete from {table} where {where} returning {columns}),
             stored as (insert into {table} ({columns}, scrubbed)
                        select {columns}, true from moved order by random() returning 1)
        select count(*) from stored
        """,
        *([campaign_id] if campaign_id is not None else []),
    )


async def vacuum(conn: asyncpg.Connection, *, tables: tuple[str, ...]) -> None:
    """Remove the old tuple versions and their index entries (outside a transaction).

    ``index_cleanup on``: with few dead rows VACUUM may otherwise skip the indexes, whose
    entries still point at the old physical positions, in arrival order."""
    if not set(tables) <= set(WAVE_TABLES + THREAD_TABLES):
        raise ValueError("only anonymous and issuance tables are vacuumed here")
    await conn.execute(f"vacuum (index_cleanup on) {', '.join(tables)}")

