"""SQL for the key transparency log: its key, entries and signed tree heads.

Everything here is public data (issuer keys and when they were first used); the log
names no person. Appending is serialised by :func:`lock_log`, taken in the transaction
that also opens the wave or stores the month's key.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

import asyncpg
import msgspec


class LogKeyRow(msgspec.Struct, frozen=True):
    public_key: bytes
    private_key: bytes  # encrypted


class EntryRow(msgspec.Struct, frozen=True):
    leaf_index: int
    entry: bytes
    leaf_hash: bytes


class HeadRow(msgspec.Struct, frozen=True):
    tree_size: int
    root_hash: bytes
    issued_on: date
    signature: bytes


class UnloggedKey(msgspec.Struct, frozen=True):
    """An issuer key stored before the log existed (or outside it): what back-fill appends."""

    kind: str  # "wave" or "thread-period"
    campaign_id: UUID | None
    period: date | None
    token_key: bytes
    token_key_id: bytes
    opened_on: date


async def select_log_key(conn: asyncpg.Connection) -> LogKeyRow | None:
    row = await conn.fetchrow("select public_key, private_key from transparency_log_key")
    return None if row is None else LogKeyRow(**dict(row))


async def insert_log_key(conn: asyncpg.Connection, *, public_key: bytes, private_key: bytes) -> bool:
    """Store the log key unless one exists: of two replicas starting at once, the first wins."""
    status = await conn.execute(
        "insert into transparency_log_key (public_key, private_key) values ($1, $2) on conflict do nothing",
        public_key, private_key,
    )
    return status == "INSERT 0 1"


async def lock_log(conn: asyncpg.Connection) -> None:
    """Hold appends (not reads) until this transaction ends: one writer at a time picks
    the next leaf index and signs the head of the tree it made."""
    await conn.execute("lock table transparency_entries in share row exclusive mode")


async def select_leaf_hashes(conn: asyncpg.Connection, *, limit: int | None = None) -> list[bytes]:
    """The leaf hashes in index order: all, or the first ``limit``."""
    rows = await conn.fetch(
        "select leaf_hash from transparency_entries where $1::bigint is null or leaf_index < $1 order by leaf_index",
        limit,
    )
    return [r["leaf_hash"] for r in rows]


async def insert_entry(
    conn: asyncpg.Connection, *, leaf_index: int, kind: str, campaign_id: UUID | None, period: date | None,
    token_key_id: bytes, entry: bytes, leaf_hash: bytes,
) -> None:
    await conn.execute(
        """
        insert into transparency_entries (leaf_index, token_key_id, kind, campaign_id, period, entry, leaf_hash)
        values ($1, $2, $3, $4, $5, $6, $7)
        """,
        leaf_index, token_key_id, kind, campaign_id, period, entry, leaf_hash,
    )


async def insert_head(conn: asyncpg.Connection, *, head: HeadRow) -> None:
    await conn.execute(
        "insert into transparency_tree_heads (tree_size, root_hash, issued_on, signature) values ($1, $2, $3, $4)",
        head.tree_size, head.root_hash, head.issued_on, head.signature,
    )


async def select_latest_head(conn: asyncpg.Connection) -> HeadRow | None:
    row = await conn.fetchrow(
        "select tree_size, root_hash, issued_on, signature from transparency_tree_heads order by tree_size desc limit 1"
    )
    return None if row is None else HeadRow(**dict(row))


async def select_entries(conn: asyncpg.Connection, *, start: int, end: int) -> list[bytes]:
    rows = await conn.fetch(
        "select entry from transparency_entries where leaf_index >= $1 and leaf_index < $2 order by leaf_index",
        start, end,
    )
    return [r["entry"] for r in rows]


async def select_entry_by_key_id(conn: asyncpg.Connection, *, token_key_id: bytes) -> EntryRow | None:
    row = await conn.fetchrow(
        "select leaf_index, entry, leaf_hash from transparency_entries where token_key_id = $1", token_key_id
    )
    return None if row is None else EntryRow(**dict(row))


async def select_opened_on(conn: asyncpg.Connection, *, campaign_id: UUID, token_key_id: bytes) -> date | None:
    """The day an opened wave with this key opened (set by the database when it opened)."""
    return await conn.fetchval(
        "select opened_on from campaigns where id = $1 and status <> 'draft' and token_key_id = $2",
        campaign_id, token_key_id,
    )


async def select_unlogged_keys(conn: asyncpg.Connection) -> list[UnloggedKey]:
    """Opened waves' and thread months' keys that have no entry, oldest first (then by id),
    so a back-fill appends them in the order they came into use. A month's key was made
    some day in its month; the first day stands for it."""
    rows = await conn.fetch(
        """
        select kind, campaign_id, period, token_key, token_key_id, opened_on from (
            select 'wave' as kind, c.id as campaign_id, null::date as period, c.token_key, c.token_key_id,
                   coalesce(c.opened_on, c.opens_on) as opened_on, c.id::text as sort_id
            from campaigns c
            where c.status <> 'draft'
              and not exists (select 1 from transparency_entries e where e.token_key_id = c.token_key_id)
            union all
            select 'thread-period', null, p.period, p.token_key, p.token_key_id, p.period, to_char(p.period, 'YYYY-MM')
            from thread_periods p
            where not exists (select 1 from transparency_entries e where e.token_key_id = p.token_key_id)
        ) k
        order by opened_on, sort_id
        """
    )
    return [UnloggedKey(**{k: r[k] for k in UnloggedKey.__struct_fields__}) for r in rows]
