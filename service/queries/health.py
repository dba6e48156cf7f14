"""SQL for the readiness probe."""

from __future__ import annotations

import asyncpg


async def select_one(conn: asyncpg.Connection, *, timeout: float) -> int:
    """The cheapest round trip that proves the server answers queries (not only accepts connections)."""
    return await conn.fetchval("select 1", timeout=timeout)
