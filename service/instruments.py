"""The built-in instrument library in the database: every version stored once, never changed."""

from __future__ import annotations

import asyncpg

from instruments import list_builtin
from service.queries import instruments as instruments_q


async def sync_builtin_instruments(conn: asyncpg.Connection) -> None:
    """Store every built-in version; a built-in edited without a new version stops start-up."""
    for instrument in list_builtin():
        summary, _ = await instruments_q.insert_instrument(conn, instrument=instrument, builtin=True, uploaded_by=None)
        if summary is None:
            raise RuntimeError(
                f"built-in instrument {instrument.id} version {instrument.version} changed without a new "
                "version number; instrument versions are immutable once stored"
            )
