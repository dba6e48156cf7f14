"""All SQL of the service lives in this package, one module per domain.

asyncpg's ``fetchval`` and ``fetchrow`` are typed ``Any | None``: a statement that always
yields one row (``count(*)``, ``exists``, ``insert ... returning`` without ``on conflict``)
reads through :func:`one_value` / :func:`one_row`, which say so and fail loudly when the
database disagrees, instead of passing a ``None`` on as an ``int``.
"""

from __future__ import annotations

from typing import Any

import asyncpg


class NoRowError(LookupError):
    """A statement that must return a row returned none."""


async def one_value(conn: asyncpg.Connection | Any, query: str, *args: Any) -> Any:
    """The first column of the one row ``query`` must return (``None`` only for SQL NULL)."""
    row = await conn.fetchrow(query, *args)
    if row is None:
        raise NoRowError(query.strip().split("\n", 1)[0])
    return row[0]


async def one_row(conn: asyncpg.Connection | Any, query: str, *args: Any) -> asyncpg.Record:
    """The one row ``query`` must return."""
    row = await conn.fetchrow(query, *args)
    if row is None:
        raise NoRowError(query.strip().split("\n", 1)[0])
    return row


async def count(conn: asyncpg.Connection | Any, query: str, *args: Any) -> int:
    """A ``count(*)``-like statement: one row, one non-null integer."""
    value = await one_value(conn, query, *args)
    if value is None:
        raise NoRowError(f"NULL count: {query.strip().splitlines()[0]}")
    return int(value)


async def truth(conn: asyncpg.Connection | Any, query: str, *args: Any) -> bool:
    """An ``exists``-like statement: one row, one boolean (NULL reads as False)."""
    return bool(await one_value(conn, query, *args))
