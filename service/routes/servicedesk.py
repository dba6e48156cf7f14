"""The service-desk connector's routes: a service's queue (owners and admins), sending a
thread to the desk and reading its ticket's status (the thread's owners; moderators
read), and the desk's signed status callback.

Sending only queues the ticket (202): the housekeeping worker calls the desk
(:mod:`service.servicedesk`). Staff act under their own names: a queued ticket is a
``send-ticket`` entry in ``thread_audit``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

import asyncpg
import msgspec
from litestar import Controller, Request, get, post, put
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_202_ACCEPTED

from instruments.errors import N_, FieldError
from service import servicedesk as desk
from service.auth import requires_roles
from service.errors import Problem, problem_spec
from service.origin import absolute_url
from service.queries import servicedesk as q
from service.queries import services as services_q
from service.queries import threads as threads_q
from service.queries.accounts import Account
from service.queries.servicedesk import Ticket
from service.threads import ticket_payload

# RT queue names are free text; control characters are refused (they could end a header or a line).
QueueName = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")]


class QueueSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    queue: QueueName


class QueueView(msgspec.Struct, frozen=True):
    service_id: UUID
    # The configured desk ("Request Tracker"), or None when the server has none.
    desk: str | None
    queue: str | None


class TicketState(msgspec.Struct, frozen=True):
    """The thread's ticket as staff see it. Not what was sent: a message hidden since then
    stays in the sent text, and owners do not read hidden messages."""

    id: UUID  # the idempotency key kept on the desk's ticket
    queue: str
    state: str  # pending, created, failed
    attempts: int
    last_error: str
    next_attempt_at: datetime
    ticket_ref: str | None
    ticket_url: str | None
    status: str | None


class TicketView(msgspec.Struct, frozen=True):
    thread_id: UUID
    desk: str | None
    # The queue a ticket would go to now (the service's), None when not set.
    queue: str | None
    # The thread's ticket: the attempts, the desk's number, link and status.
    ticket: TicketState | None


class StatusCallback(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    ticket: Annotated[str, msgspec.Meta(pattern=r"^[1-9][0-9]{0,17}$")]
    status: Annotated[str, msgspec.Meta(min_length=1, max_length=desk.STATUS_MAX_LENGTH)]
    # The desk's transaction number of the change (RT: the transaction id): a call is applied
    # only when it is newer than the last one applied, so a replay changes nothing.
    transaction: Annotated[int, msgspec.Meta(ge=1, le=2**62)]


class CallbackResult(msgspec.Struct, frozen=True):
    applied: bool


_ERRORS = {401: problem_spec("Not signed in"), 403: problem_spec("Role or CSRF token missing")}
_NOT_FOUND = {404: problem_spec("No such thread for you")}
_NOT_CONFIGURED = N_("This server has no service desk: an administrator sets CANDOR_RT_URL and CANDOR_RT_TOKEN")


async def _service_staff(request: Request, db: asyncpg.Connection, service_id: UUID) -> None:
    """Admins see every service; owners only their own."""
    me: Account = request.scope["user"]
    if "admin" in me.roles:
        if await services_q.select_service(db, service_id=service_id) is None:
            raise Problem(404, "not-found", N_("No service {service_id}", service_id=service_id))
        return
    if not await services_q.owns_service(db, service_id=service_id, account_id=me.id):
        raise Problem(403, "forbidden", N_("Only the owners of this service can do this"))


async def _thread(request: Request, db: asyncpg.Connection, thread_id: UUID, *, owner: bool) -> threads_q.ThreadSummary:
    """The thread if the caller owns its service (or, to read, is a moderator); else 404."""
    me: Account = request.scope["user"]
    thread = await threads_q.select_thread(db, thread_id=thread_id)
    if thread is not None:
        if await services_q.owns_service(db, service_id=thread.service.id, account_id=me.id):
            return thread
        if "moderator" in me.roles:
            if owner:
                raise Problem(403, "forbidden", N_("Only the owners of the thread's service can do this"))
            return thread
    raise Problem(404, "not-found", N_("No thread {thread_id} among your services", thread_id=thread_id))


async def _ticket_view(db: asyncpg.Connection, state: State, thread: threads_q.ThreadSummary) -> TicketView:
    queue = await q.select_queue(db, service_id=thread.service.id)
    ticket = await q.select_ticket(db, thread_id=thread.id)
    return TicketView(thread_id=thread.id, desk=desk.desk_name(state.settings), queue=queue.queue if queue else None,
                      ticket=None if ticket is None else _state(ticket))


def _state(ticket: Ticket) -> TicketState:
    return TicketState(id=ticket.id, queue=ticket.queue, state=ticket.state, attempts=ticket.attempts,
                       last_error=ticket.last_error, next_attempt_at=ticket.next_attempt_at,
                       ticket_ref=ticket.ticket_ref, ticket_url=ticket.ticket_url, status=ticket.status)


class ServiceDeskController(Controller):
    path = "/api"
    tags = ["servicedesk"]

    @get("/services/{service_id:uuid}/servicedesk", operation_id="getServiceDeskQueue",
         guards=[requires_roles("owner", "admin")], responses=_ERRORS)
    async def get_queue(
        self, request: Request, state: State, db: NamedDependency[asyncpg.Connection], service_id: FromPath[UUID]
    ) -> QueueView:
        await _service_staff(request, db, service_id)
        queue = await q.select_queue(db, service_id=service_id)
        return QueueView(service_id=service_id, desk=desk.desk_name(state.settings),
                         queue=queue.queue if queue else None)

    @put("/services/{service_id:uuid}/servicedesk", operation_id="setServiceDeskQueue",
         guards=[requires_roles("owner", "admin")],
         responses={**_ERRORS, 409: problem_spec("No service desk configured"), 422: problem_spec("Invalid fields")})
    async def set_queue(
        self, request: Request, state: State, db: NamedDependency[asyncpg.Connection], service_id: FromPath[UUID],
        data: JSONBody[QueueSettings],
    ) -> QueueView:
        await _service_staff(request, db, service_id)
        if not desk.configured(state.settings):
            raise Problem(409, "conflict", _NOT_CONFIGURED)
        if data.queue != data.queue.strip():
            raise Problem(422, "validation", N_("The queue name has spaces at its start or end"),
                          errors=[FieldError(field="queue", reason=N_("no spaces at the start or end"))])
        stored = await q.upsert_queue(db, service_id=service_id, queue=data.queue, updated_by=request.scope["user"].id)
        return QueueView(service_id=service_id, desk=desk.desk_name(state.settings), queue=stored.queue)

    @get("/threads/{thread_id:uuid}/servicedesk", operation_id="getThreadTicket",
         guards=[requires_roles("owner", "moderator")], responses={**_ERRORS, **_NOT_FOUND})
    async def get_ticket(
        self, request: Request, state: State, db: NamedDependency[asyncpg.Connection], thread_id: FromPath[UUID]
    ) -> TicketView:
        thread = await _thread(request, db, thread_id, owner=False)
        return await _ticket_view(db, state, thread)

    @post("/threads/{thread_id:uuid}/servicedesk", operation_id="sendThreadToServiceDesk",
          guards=[requires_roles("owner")], status_code=HTTP_202_ACCEPTED,
          responses={**_ERRORS, **_NOT_FOUND, 409: problem_spec("No service desk or no queue for the service")})
    async def send(
        self, request: Request, state: State, db: NamedDependency[asyncpg.Connection], thread_id: FromPath[UUID]
    ) -> TicketView:
        thread = await _thread(request, db, thread_id, owner=True)
        if not desk.configured(state.settings):
            raise Problem(409, "conflict", _NOT_CONFIGURED)
        queue = await q.select_queue(db, service_id=thread.service.id)
        if queue is None:
            raise Problem(409, "conflict", N_("The service {name} has no service-desk queue yet: an owner sets one first", name=thread.service.name))
        messages = await threads_q.select_messages(db, thread_id=thread_id)
        # The public origin, never the Host header (which anyone can forge).
        link = absolute_url(state.settings, f"/threads/staff/{thread_id}")
        me: Account = request.scope["user"]
        _, queued = await q.queue_ticket(db, thread_id=thread_id, service_id=thread.service.id, queue=queue.queue,
                                         requested_by=me.id, payload=ticket_payload(thread, messages, link))
        if queued:
            await threads_q.insert_audit(db, thread_id=thread_id, actor_id=me.id, action="send-ticket",
                                         reason=f"service desk queue {queue.queue}")
        return await _ticket_view(db, state, thread)


class ServiceDeskCallbackController(Controller):
    """Called by the desk (an RT scrip), never by a browser: no session, an HMAC signature."""

    path = "/api/servicedesk"
    tags = ["servicedesk"]

    @post("/rt/status", operation_id="reportServiceDeskStatus", status_code=HTTP_200_OK, opt={"csrf_exempt": True},
          responses={401: problem_spec("Unsigned, wrongly signed or stale"), 404: problem_spec("No callback set up")})
    async def status(self, request: Request, state: State, db: NamedDependency[asyncpg.Connection]) -> CallbackResult:
        secret = state.settings.rt_callback_secret
        if not secret:
            raise Problem(404, "not-found", N_("No service-desk callback is set up (CANDOR_RT_CALLBACK_SECRET)"))
        body = await request.body()
        refused = desk.verify_callback(secret, timestamp=request.headers.get(desk.CALLBACK_TIMESTAMP_HEADER),
                                       signature=request.headers.get(desk.CALLBACK_SIGNATURE_HEADER), body=body,
                                       now=datetime.now(UTC))
        if refused:
            raise Problem(401, "unauthenticated", N_("The status call is refused: {refused}", refused=refused))
        try:
            report = msgspec.json.decode(body, type=StatusCallback)
        except msgspec.ValidationError as exc:
            raise Problem(422, "validation", N_("The status call has invalid fields: {reason}",
                                                reason=str(exc))) from None
        except msgspec.DecodeError:
            raise Problem(400, "malformed-body", N_("The status call's body is not JSON")) from None
        status = desk.clean_status(report.status)
        if status is None:
            raise Problem(422, "validation", N_("The status is not printable text"),
                          errors=[FieldError(field="status", reason=N_("printable text, at most 64 characters"))])
        applied = await q.apply_callback_status(db, ticket_ref=report.ticket, status=status, seq=report.transaction)
        return CallbackResult(applied=applied)
