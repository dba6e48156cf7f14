"""SQL for the service-desk connector: each service's queue, and the ticket outbox
(one row per thread: what is sent, the attempts, the desk's ticket and its status).

Rows are claimed with SKIP LOCKED and a lease, as webhook deliveries are, so replicas
share the work and a worker that dies mid-attempt leaves the row to the next one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from service.queries import outbox


class DeskQueue(msgspec.Struct, frozen=True):
    service_id: UUID
    queue: str
    updated_at: datetime


class Ticket(msgspec.Struct, frozen=True):
    id: UUID  # the idempotency key the desk keeps on the ticket
    thread_id: UUID
    service_id: UUID
    queue: str
    payload: dict[str, Any]
    state: str
    attempts: int
    last_error: str
    next_attempt_at: datetime
    ticket_ref: str | None
    ticket_url: str | None
    status: str | None
    created_at: datetime


_TICKET = """id, thread_id, service_id, queue, payload, state, attempts, last_error, next_attempt_at, ticket_ref,
             ticket_url, status, created_at"""


def _ticket(row: asyncpg.Record | None) -> Ticket | None:
    return None if row is None else Ticket(**dict(row))


# Queues --------------------------------------------------------------------------------------


async def select_queue(conn: asyncpg.Connection, *, service_id: UUID) -> DeskQueue | None:
    row = await conn.fetchrow(
        "select service_id, queue, updated_at from servicedesk_queues where service_id = $1", service_id)
    return None if row is None else DeskQueue(**dict(row))


async def upsert_queue(conn: asyncpg.Connection, *, service_id: UUID, queue: str, updated_by: UUID) -> DeskQueue:
    row = await conn.fetchrow(
        """
        insert into servicedesk_queues (service_id, queue, updated_by) values ($1, $2, $3)
        on conflict (service_id) do update set queue = $2, updated_by = $3, updated_at = now()
        returning service_id, queue, updated_at
        """,
        service_id, queue, updated_by,
    )
    if row is None:  # an upsert with returning always yields its row
        raise LookupError(f"no queue row for service {service_id}")
    return DeskQueue(**dict(row))


# Tickets -------------------------------------------------------------------------------------


async def select_ticket(conn: asyncpg.Connection, *, thread_id: UUID) -> Ticket | None:
    return _ticket(await conn.fetchrow(f"select {_TICKET} from servicedesk_tickets where thread_id = $1", thread_id))


async def queue_ticket(
    conn: asyncpg.Connection, *, thread_id: UUID, service_id: UUID, queue: str, requested_by: UUID,
    payload: dict[str, Any],
) -> tuple[Ticket, bool]:
    """The thread's ticket row and whether this call queued it: a new row, or a failed one
    sent again (same key, attempts from zero). A pending or created row is left alone, so
    pressing the button twice never makes a second ticket."""
    row = await conn.fetchrow(
        f"""
        insert into servicedesk_tickets (thread_id, service_id, queue, requested_by, payload)
        values ($1, $2, $3, $4, $5)
        on conflict (thread_id) do update
            set queue = $3, requested_by = $4, payload = $5, state = 'pending', attempts = 0, last_error = '',
                next_attempt_at = now()
            where servicedesk_tickets.state = 'failed'
        returning {_TICKET}
        """,
        thread_id, service_id, queue, requested_by, payload,
    )
    if row is not None:
        return Ticket(**dict(row)), True
    existing = await select_ticket(conn, thread_id=thread_id)
    if existing is None:  # the conflicting row was deleted meanwhile (its thread went)
        raise LookupError(f"no ticket row for thread {thread_id}")
    return existing, False


async def claim_due_tickets(
    conn: asyncpg.Connection, *, now: datetime, lease_until: datetime, max_attempts: int, limit: int = 20
) -> list[Ticket]:
    """Claim pending rows whose time has come (skipping rows another replica holds): count
    the attempt and lease the row until ``lease_until``. A row whose lease ran out after
    its last attempt is given up instead and returned as 'failed'."""
    rows = await outbox.claim_due(conn, table="servicedesk_tickets", columns=_TICKET, now=now,
                                  lease_until=lease_until, max_attempts=max_attempts, limit=limit)
    return [Ticket(**dict(r)) for r in rows]


async def record_created(
    conn: asyncpg.Connection, *, ticket_id: UUID, attempt: int, ticket_ref: str, ticket_url: str, poll_at: datetime,
) -> bool:
    """The desk has the ticket; False when the row moved on meanwhile (another worker)."""
    done = await conn.fetchval(
        """
        update servicedesk_tickets set state = 'created', ticket_ref = $3, ticket_url = $4, last_error = '',
               next_poll_at = $5
        where id = $1 and state = 'pending' and attempts = $2
        returning true
        """,
        ticket_id, attempt, ticket_ref, ticket_url, poll_at,
    )
    return bool(done)


async def record_failure(
    conn: asyncpg.Connection, *, ticket_id: UUID, attempt: int, error: str, next_attempt_at: datetime | None,
) -> bool:
    """A failed attempt: tried again at ``next_attempt_at``, or given up when it is None."""
    done = await conn.fetchval(
        """
        update servicedesk_tickets
        set state = case when $4::timestamptz is null then 'failed' else 'pending' end, last_error = $3,
            next_attempt_at = coalesce($4, next_attempt_at)
        where id = $1 and state = 'pending' and attempts = $2
        returning true
        """,
        ticket_id, attempt, error, next_attempt_at,
    )
    return bool(done)


# Status --------------------------------------------------------------------------------------


async def claim_due_polls(
    conn: asyncpg.Connection, *, now: datetime, next_poll_at: datetime, final: list[str], limit: int = 50
) -> list[Ticket]:
    """Created tickets whose status is due for a look (and not final), moved to their next
    poll time at once so replicas do not ask twice."""
    rows = await conn.fetch(
        f"""
        with due as (
            select id from servicedesk_tickets
            where state = 'created' and next_poll_at <= $1 and (status is null or status <> all($3::text[]))
            order by next_poll_at limit $4 for update skip locked
        )
        update servicedesk_tickets t set next_poll_at = $2 from due where t.id = due.id
        returning {", ".join(f"t.{c.strip()}" for c in _TICKET.split(","))}
        """,
        now, next_poll_at, final, limit,
    )
    return [Ticket(**dict(r)) for r in rows]


async def update_status(conn: asyncpg.Connection, *, ticket_id: UUID, status: str) -> None:
    await conn.execute("update servicedesk_tickets set status = $2 where id = $1", ticket_id, status)


async def apply_callback_status(conn: asyncpg.Connection, *, ticket_ref: str, status: str, seq: int) -> bool:
    """A status the desk reported for its ticket ``ticket_ref`` with its transaction number
    ``seq``: applied only when newer than the last one applied (a replay changes nothing)."""
    done = await conn.fetchval(
        """
        update servicedesk_tickets set status = $2, status_seq = $3
        where ticket_ref = $1 and state = 'created' and status_seq < $3
        returning true
        """,
        ticket_ref, status, seq,
    )
    return bool(done)
