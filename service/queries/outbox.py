"""The claim every outbox shares: webhook deliveries, service-desk tickets and mail.

Each outbox row is ``pending`` until an attempt succeeds or the attempts run out; a worker
claims due rows in a short transaction (``skip locked``, so replicas share the work),
counts the attempt and leases the row until ``lease_until``, commits, and only then talks
to the outside world (HTTP, SMTP) with no connection held. A row whose lease ran out after
its last attempt (its worker died mid-call) is given up instead and returned as
``failed``, so the caller records that and nothing is retried forever.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import asyncpg

#: The outbox tables; constants only, nothing from a request is ever spliced in.
Outbox = Literal["webhook_deliveries", "servicedesk_tickets", "mail_outbox"]


async def claim_due(
    conn: asyncpg.Connection, *, table: Outbox, columns: str, now: datetime, lease_until: datetime,
    max_attempts: int, limit: int,
) -> list[asyncpg.Record]:
    """Claim up to ``limit`` due rows of ``table``, returning ``columns`` (a comma-separated
    list of the table's column names) of each."""
    returning = ", ".join(f"o.{c.strip()}" for c in columns.split(","))
    return await conn.fetch(
        f"""
        with due as (
            select id from {table}
            where state = 'pending' and next_attempt_at <= $1
            order by next_attempt_at limit $4 for update skip locked
        )
        update {table} o
        set attempts = case when o.attempts >= $3 then o.attempts else o.attempts + 1 end,
            state = case when o.attempts >= $3 then 'failed' else 'pending' end,
            last_error = case when o.attempts >= $3 then 'no outcome was recorded for the last attempt'
                              else o.last_error end,
            next_attempt_at = case when o.attempts >= $3 then o.next_attempt_at else $2 end
        from due where o.id = due.id
        returning {returning}
        """,  # noqa: S608 - table is an Outbox literal, columns are the module's own constants
        now, lease_until, max_attempts, limit,
    )
