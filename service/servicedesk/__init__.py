"""The service-desk connector: a thread becomes exactly one ticket in the owning
service's queue, and the ticket's status comes back to the thread.

**What is sent.** :func:`service.threads.ticket_payload`, as for the generic webhook:
the thread's title, its visible text (hidden messages left out) and its link, nothing
else: no author (there is none to name), no account, no time. The payload is taken when
an owner presses the button and kept on the outbox row, so what the desk got can be shown.

**Never inside a request.** The button only writes a row of ``servicedesk_tickets``;
:func:`send_due` (the housekeeping job ``servicedesk_sender``) claims due rows with SKIP
LOCKED and a lease, calls the desk with no transaction open, and records the outcome,
retrying with the webhook's back-off (:func:`service.threads.next_attempt`). A desk that
is slow or down delays tickets, never a page.

**Exactly one ticket per thread.** One row per thread (a unique constraint), and the row's
random id is the idempotency key the desk keeps on the ticket (in RT: the subject ends with
``[candor:<key>]``, which TicketSQL can search). Every attempt first asks the desk for a
ticket with the key and creates one only when there is none, so an attempt that created
the ticket and died before recording it (a crash, a lost answer, a lease that ran out) is
finished by the next attempt instead of repeated.

**Status.** :func:`poll_due` (job ``servicedesk_poller``) asks the desk for the status of
each created ticket that is not final, every :data:`POLL_INTERVAL_SECONDS`; a desk that can
call out (an RT scrip) may also report changes at once through the signed callback
(:func:`verify_callback`): HMAC-SHA256 over a timestamp and the body, refused outside a
:data:`CALLBACK_WINDOW_SECONDS` window, and applied only when its transaction number is
newer than the last one applied, so a replayed call changes nothing.

**Adapters.** :class:`Desk` is the whole surface a desk must offer (create, find by key,
status); :mod:`service.servicedesk.rt` is Request Tracker 5's. docs/servicedesk.md maps the
same three calls onto Zammad, GLPI and Jira Service Management.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlsplit
from uuid import UUID

from service.queries import servicedesk as q
from service.queries.servicedesk import Ticket
from service.settings import Settings, SettingsError
from service.threads import MAX_ATTEMPTS, next_attempt

log = logging.getLogger("candor.servicedesk")

SEND_INTERVAL_SECONDS = 5
POLL_JOB_INTERVAL_SECONDS = 60
# A created ticket's status is asked for again after this long (until it is final).
POLL_INTERVAL_SECONDS = 300
# A claimed row whose worker died before recording the outcome is tried again after this.
LEASE_SECONDS = 300
# Find, create and read the answer, per ticket: bounds a round of the worker.
ATTEMPT_TIMEOUT_SECONDS = 30
CONCURRENCY = 4
# The desk's signed status callback: headers, and how far its clock may be from ours.
CALLBACK_SIGNATURE_HEADER = "X-Candor-Signature-256"
CALLBACK_TIMESTAMP_HEADER = "X-Candor-Timestamp"
CALLBACK_WINDOW_SECONDS = 300
STATUS_MAX_LENGTH = 64


@dataclass(frozen=True, slots=True)
class TicketRef:
    id: str  # the desk's ticket number
    url: str  # where people open it in the desk's own web interface


class DeskError(Exception):
    """The desk did not take the call; the message (shown to owners) says why.
    ``final``: trying again cannot help (the desk refused what was sent)."""

    def __init__(self, reason: str, *, final: bool = False) -> None:
        super().__init__(reason)
        self.final = final


class Desk(Protocol):
    """What Candor needs from a service desk: three calls, each raising :class:`DeskError`."""

    name: str
    # Statuses after which the ticket is no longer polled.
    final_statuses: frozenset[str]

    async def create_ticket(self, *, idempotency_key: UUID, title: str, text: str, link: str,
                            queue: str) -> TicketRef: ...

    async def find_by_key(self, idempotency_key: UUID) -> TicketRef | None: ...

    async def get_status(self, ticket_ref: str) -> str: ...

    async def aclose(self) -> None: ...


# Settings ------------------------------------------------------------------------------------


def configured(settings: Settings) -> bool:
    return bool(settings.rt_url)


def check_settings(settings: Settings) -> None:
    """Refuse to start with service-desk settings that cannot work (all problems at once)."""
    invalid = []
    if settings.rt_url:
        parts = urlsplit(settings.rt_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            invalid.append("CANDOR_RT_URL must be RT's base URL, e.g. https://rt.example.org")
        elif parts.query or parts.fragment or parts.username or parts.password:
            invalid.append("CANDOR_RT_URL takes no query, fragment or credentials (the token is CANDOR_RT_TOKEN)")
        elif settings.environment == "production" and parts.scheme != "https":
            invalid.append("CANDOR_RT_URL must use https in production (the token travels with every call)")
        if not settings.rt_token:
            invalid.append("CANDOR_RT_URL is set but CANDOR_RT_TOKEN is not (an RT auth token)")
    elif settings.rt_token or settings.rt_callback_secret:
        invalid.append("CANDOR_RT_TOKEN and CANDOR_RT_CALLBACK_SECRET need CANDOR_RT_URL")
    if settings.rt_callback_secret and len(settings.rt_callback_secret) < 16:
        invalid.append("CANDOR_RT_CALLBACK_SECRET must be at least 16 characters")
    if invalid:
        raise SettingsError(invalid=invalid)


def desk_for(settings: Settings) -> Desk | None:
    """The configured desk, or None."""
    if not configured(settings):
        return None
    from service.servicedesk.rt import RequestTracker

    return RequestTracker(settings.rt_url, settings.rt_token)


def desk_name(settings: Settings) -> str | None:
    return "Request Tracker" if configured(settings) else None


# Sending -------------------------------------------------------------------------------------


async def _attempt(desk: Desk, ticket: Ticket) -> TicketRef:
    found = await desk.find_by_key(ticket.id)
    if found is not None:  # an earlier attempt created it and could not record it
        return found
    payload = ticket.payload
    return await desk.create_ticket(idempotency_key=ticket.id, title=str(payload["title"]),
                                    text=str(payload["text"]), link=str(payload["link"]), queue=ticket.queue)


async def _send_one(pool: Any, desk: Desk, ticket: Ticket, now: datetime) -> None:
    """One claimed row, start to end: its failure, whatever it is, is its own."""
    ref: TicketRef | None = None
    error, final = "", False
    try:
        async with asyncio.timeout(ATTEMPT_TIMEOUT_SECONDS):
            ref = await _attempt(desk, ticket)
    except DeskError as refused:
        error, final = str(refused), refused.final
    except Exception as exc:  # noqa: BLE001 - recorded on this row, never on the others
        error = f"{desk.name} call failed ({type(exc).__name__})"
    try:
        async with pool.acquire() as conn:
            if ref is not None:
                await q.record_created(conn, ticket_id=ticket.id, attempt=ticket.attempts, ticket_ref=ref.id,
                                       ticket_url=ref.url, poll_at=now)
            else:
                retry_at = None if final else next_attempt(ticket.attempts, now)
                await q.record_failure(conn, ticket_id=ticket.id, attempt=ticket.attempts, error=error,
                                       next_attempt_at=retry_at)
    except Exception:  # noqa: BLE001 - the lease runs out and the next attempt finds the ticket by its key
        log.exception("could not record service-desk ticket %s", ticket.id)


async def send_due(pool: Any, desk: Desk, *, now: datetime | None = None) -> int:
    """Try every pending ticket whose time has come; returns how many rows were claimed.
    The claim commits before the desk is called; no connection is held during the calls."""
    now = now or datetime.now(UTC)
    async with pool.acquire() as conn, conn.transaction():
        claimed = await q.claim_due_tickets(conn, now=now, lease_until=now + timedelta(seconds=LEASE_SECONDS),
                                            max_attempts=MAX_ATTEMPTS)
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(ticket: Ticket) -> None:
        async with gate:
            await _send_one(pool, desk, ticket, now)

    await asyncio.gather(*(one(t) for t in claimed if t.state == "pending"))
    return len(claimed)


# Status --------------------------------------------------------------------------------------


def clean_status(status: object) -> str | None:
    """A desk's status as Candor keeps it (lower case, printable, short); None if it is not one."""
    if not isinstance(status, str):
        return None
    status = status.strip().lower()
    if not status or len(status) > STATUS_MAX_LENGTH or not status.isprintable():
        return None
    return status


async def poll_due(pool: Any, desk: Desk, *, now: datetime | None = None) -> int:
    """Ask the desk for the status of every created ticket that is due; returns how many
    were asked about. A failed look-up is logged and tried at the next poll."""
    now = now or datetime.now(UTC)
    async with pool.acquire() as conn, conn.transaction():
        due = await q.claim_due_polls(conn, now=now, next_poll_at=now + timedelta(seconds=POLL_INTERVAL_SECONDS),
                                      final=sorted(desk.final_statuses))
    for ticket in due:
        if ticket.ticket_ref is None:
            continue
        try:
            async with asyncio.timeout(ATTEMPT_TIMEOUT_SECONDS):
                status = clean_status(await desk.get_status(ticket.ticket_ref))
        except Exception as exc:  # noqa: BLE001 - one ticket's look-up never stops the others
            log.warning("status of %s ticket %s: %s", desk.name, ticket.ticket_ref, exc)
            continue
        if status is not None and status != ticket.status:
            async with pool.acquire() as conn:
                await q.update_status(conn, ticket_id=ticket.id, status=status)
    return len(due)


# Background jobs (service.housekeeping) ----------------------------------------------------------


async def send_tickets(app: Any) -> None:
    """Background job: create the tickets that are due (nothing when no desk is configured)."""
    desk = desk_for(app.state.settings)
    if desk is None:
        return
    try:
        await send_due(app.state.pool, desk)
    finally:
        await desk.aclose()


async def poll_tickets(app: Any) -> None:
    """Background job: bring the desk's statuses back to the threads."""
    desk = desk_for(app.state.settings)
    if desk is None:
        return
    try:
        await poll_due(app.state.pool, desk)
    finally:
        await desk.aclose()


# The desk's signed callback --------------------------------------------------------------------


def callback_signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=`` and HMAC-SHA256(secret, timestamp ``.`` body) in hex: the timestamp is
    signed with the body, so an old call cannot be sent again under a new time."""
    mac = hmac.new(secret.encode(), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_callback(secret: str, *, timestamp: str | None, signature: str | None, body: bytes,
                    now: datetime) -> str | None:
    """Why the call is refused, or None when it is signed with ``secret`` and fresh."""
    if not timestamp or not signature:
        return f"the call needs {CALLBACK_TIMESTAMP_HEADER} and {CALLBACK_SIGNATURE_HEADER} headers"
    if not timestamp.isdigit() or len(timestamp) > 12:
        return f"{CALLBACK_TIMESTAMP_HEADER} must be seconds since 1970 (UTC)"
    if not hmac.compare_digest(signature.strip().encode(), callback_signature(secret, timestamp, body).encode()):
        return "the signature does not match"
    if abs(now.timestamp() - int(timestamp)) > CALLBACK_WINDOW_SECONDS:
        return f"the timestamp is more than {CALLBACK_WINDOW_SECONDS} seconds away from the server's time"
    return None
