"""SQL for the demo organisation: the seeded-once marker, bulk synthetic responses, and
the days its story happened on.

Everything else the demo stores goes through the same query and service functions the
API uses; what is here only does what no request does: store many responses at once,
and put a thread's messages and staff actions on the days of the story instead of the
day `make run` first started. Those are days (and, for staff, the moment: staff act
under their names), exactly the precision the columns hold anyway.
"""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

import asyncpg


async def demo_seeded(conn: asyncpg.Connection) -> bool:
    return bool(await conn.fetchval("select exists (select 1 from demo_seed)"))


async def insert_demo_seed(conn: asyncpg.Connection) -> None:
    await conn.execute("insert into demo_seed default values")


async def insert_synthetic_responses(
    conn: asyncpg.Connection,
    *,
    campaign_id: UUID,
    responses: list[tuple[UUID, str, list[int | None], list[int] | None, list[int | None] | None, dict[str, str]]],
    nonces: list[bytes],
) -> None:
    """Store ``(id, receipt, item_values, importance, satisfaction, comments)`` rows and spend
    one nonce for each, in bulk (demo and test data only: no wave-status check, no token)."""
    await conn.executemany(
        """insert into responses (id, campaign_id, receipt, item_values, importance, satisfaction, comments)
           values ($1, $2, $3, $4, $5, $6, $7)""",
        [(response_id, campaign_id, *rest) for response_id, *rest in responses],
    )
    await conn.executemany("insert into spent_tokens (campaign_id, nonce) values ($1, $2)",
                           [(campaign_id, nonce) for nonce in nonces])


async def date_message(conn: asyncpg.Connection, *, message_id: UUID, posted_on: date,
                       posted_at: datetime | None) -> None:
    """Put a message on its day in the story: an author's keeps the day only (the table's
    check refuses a time on it), a staff reply the moment it was written."""
    await conn.execute("update thread_messages set posted_on = $2, posted_at = $3 where id = $1",
                       message_id, posted_on, posted_at)


async def date_audit(conn: asyncpg.Connection, *, thread_id: UUID, action: str, at: datetime) -> None:
    """Put a thread's staff action (one of each kind per demo thread) on its moment in the story."""
    await conn.execute("update thread_audit set at = $3 where thread_id = $1 and action = $2",
                       thread_id, action, at)
