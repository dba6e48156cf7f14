"""SQL for the readiness probe."""

from __future__ import annotations

import asyncpg

from service.queries import NoRowError


async def select_one(conn: asyncpg.Connection, *, timeout: float) -> int:
    """The cheapest round trip that proves the server answers queries (not only accepts connections)."""
    row = await conn.fetchrow("select 1", timeout=timeout)
    if row is None:
        raise NoRowError("select 1")
    return int(row[0])
