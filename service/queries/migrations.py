"""SQL of the migration runner: the one-row ``schema_version`` state and its lock.

The runner itself (ordering, refusing a database ahead of the code) is
:mod:`service.migrate`; a migration's own SQL comes from its file.
"""

from __future__ import annotations

import asyncpg

from service.queries import one_value

# Any fixed number: every replica takes the same lock ("Cand").
LOCK_KEY = 0x43616E64


async def lock_migrations(conn: asyncpg.Connection) -> None:
    """Wait for any other migrating process; held until the transaction ends."""
    await conn.execute("select pg_advisory_xact_lock($1)", LOCK_KEY)


async def create_schema_version(conn: asyncpg.Connection) -> None:
    """The state row, at version 0 when it is new."""
    await conn.execute(
        """
        create table if not exists schema_version (
            singleton boolean primary key default true check (singleton),
            version   integer not null
        );
        insert into schema_version (version) values (0) on conflict do nothing;
        """
    )


async def select_version(conn: asyncpg.Connection) -> int:
    """The applied version; 0 when the state table does not exist yet."""
    if not await conn.fetchval("select to_regclass('schema_version') is not null"):
        return 0
    return await conn.fetchval("select version from schema_version") or 0


async def lock_version(conn: asyncpg.Connection) -> int:
    """The applied version, its row held until the runner's transaction ends."""
    return await one_value(conn, "select version from schema_version for update")


async def apply_migration(conn: asyncpg.Connection, *, sql: str) -> None:
    # A migration file may hold several statements: sent as one simple query.
    await conn.execute(sql)


async def update_version(conn: asyncpg.Connection, *, version: int) -> None:
    await conn.execute("update schema_version set version = $1", version)
