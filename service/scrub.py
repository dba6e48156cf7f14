"""The arrival-order pass: no arrival order older than ``settings.scrub_window_minutes``.

Every window, each wave, thread day and token month that received rows since the
previous pass is rewritten whole in random order, one transaction per group (waves;
threads), and the tables are vacuumed so the old tuple versions are gone. Afterwards all
of a wave's (day's, month's) rows carry one transaction id and random physical positions:
ordering by ``xmin`` or ``ctid`` says nothing older than the current window, only which
rows arrived since the last pass. (DESIGN.md, anonymity invariant 3.)

What stays out of reach of this pass, and is said on the privacy page: WAL segments
until they are recycled, backups until they expire, and freed page space until reused.
"""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Any

import asyncpg

from service.queries import arrivals

log = logging.getLogger("candor.scrub")

# The thread tables are locked without waiting (a request holding them finishes in
# milliseconds); this many tries a pass, a short random pause apart.
LOCK_ATTEMPTS = 40
LOCK_PAUSE_SECONDS = (0.05, 0.25)


async def scrub_group(pool: Any, group: str) -> int | None:
    """Rewrite the group's rows not yet scrubbed; the number moved, or None when another
    replica is doing it (or the thread tables stayed busy: the next pass will)."""
    for _ in range(LOCK_ATTEMPTS):
        try:
            async with pool.acquire() as conn, conn.transaction():
                if not await arrivals.try_lock_group(conn, group=group):
                    return None
                if group == "threads":
                    await arrivals.lock_thread_tables(conn)
                moved = 0
                for table in arrivals.GROUPS[group]:
                    moved += await arrivals.rewrite_in_random_order(conn, table)
                return moved
        except asyncpg.LockNotAvailableError:
            await asyncio.sleep(random.uniform(*LOCK_PAUSE_SECONDS))
    log.warning("arrival-order pass for %s skipped: its tables stayed busy", group)
    return None


async def vacuum_group(database_url: str, group: str) -> None:
    # Its own connection, outside any transaction (VACUUM cannot run in one) and
    # without the pool's statement timeout: a large table's index pass may take a while.
    conn = await asyncpg.connect(database_url, server_settings={"statement_timeout": "0"})
    try:
        await arrivals.vacuum(conn, tables=arrivals.GROUPS[group])
    finally:
        await conn.close()


async def scrub_pass(pool: Any, database_url: str) -> dict[str, int]:
    """One pass over both groups; rows moved per group, for the groups this replica did.

    The group whose pass this replica did is vacuumed even when nothing was moved: a
    wave closed since the previous pass was rewritten without a VACUUM."""
    done = {}
    for group in arrivals.GROUPS:
        moved = await scrub_group(pool, group)
        if moved is None:
            continue
        await vacuum_group(database_url, group)
        done[group] = moved
    return done


async def scrub_arrival_order(app: Any) -> dict[str, int]:
    """Background job (every ``scrub_window_minutes``): :func:`scrub_pass`."""
    return await scrub_pass(app.state.pool, app.state.settings.database_url)
