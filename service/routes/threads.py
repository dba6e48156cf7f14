"""Feedback threads, staff and member side: thread tokens (monthly allowance), the
owners' inbox and replies, moderation, the public board, metrics, webhooks, and the
thread pages.

The anonymous side (opening a thread, reading and replying with its secret) is in
:mod:`service.routes.anon_threads`. Staff act under their own names: every staff
action is recorded in ``thread_audit`` with the account and the time.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from uuid import UUID

import asyncpg
import msgspec
from litestar import Controller, Request, Response, get, post, put
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.response import Template
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_202_ACCEPTED

from crypto.tokens import TOKEN_REQUEST, TOKEN_RESPONSE
from instruments.errors import N_, FieldError
from service import threads as logic
from service.auth import requires_login, requires_roles
from service.errors import Problem, problem_spec
from service.issuance import Issuer, TokenKey, publish_key, read_token_requests
from service.origin import absolute_url
from service.pages import PageResponse, gate, page
from service.queries import services as services_q
from service.queries import threads as q
from service.queries.accounts import Account
from service.queries.threads import AuditEntry, Delivery, Message, Metrics, ThreadSummary

Body = Annotated[str, msgspec.Meta(min_length=1, max_length=10_000)]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]

staff = requires_roles("owner", "moderator")
owners = requires_roles("owner")
moderators = requires_roles("moderator")
members = requires_roles("member")


class ThreadTokenKey(TokenKey, frozen=True, rename="kebab"):
    period: str


class Allowance(msgspec.Struct, frozen=True):
    period: str
    per_month: int
    issued: int
    remaining: int
    token_key_id: str


class StaffThread(msgspec.Struct, frozen=True):
    thread: ThreadSummary
    messages: list[Message]
    # "The author has read up to message N" — a number, never a time.
    author_read_seq: int


class StaffReply(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    body: Body


class StatusChange(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    status: Literal["acknowledged", "answered"]


class PublicationDecision(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    approved: bool
    reason: Annotated[str, msgspec.Meta(max_length=1000)] = ""


class Hide(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    reason: Reason


class WebhookSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    url: Annotated[str, msgspec.Meta(pattern=r"^https?://[^\s]+$", max_length=2000)]
    # Shared signing secret (at least 16 characters); stored encrypted, never shown again.
    secret: Annotated[str, msgspec.Meta(min_length=16, max_length=200)]
    active: bool = True


class WebhookView(msgspec.Struct, frozen=True):
    service_id: UUID
    url: str | None
    active: bool
    signature_header: str
    deliveries: list[Delivery]


class BoardThread(msgspec.Struct, frozen=True):
    thread: ThreadSummary
    messages: list[Message]


_ERRORS = {401: problem_spec("Not signed in"), 403: problem_spec("Role or CSRF token missing")}
_NOT_FOUND = {404: problem_spec("No such thread for you")}


async def _staff_thread(db: asyncpg.Connection, request: Request, thread_id: UUID, *, lock: bool = False) -> ThreadSummary:
    """The thread, if the caller is a moderator or owns its service; else 404."""
    me: Account = request.scope["user"]
    thread = await (q.lock_thread if lock else q.select_thread)(db, thread_id=thread_id)
    if thread is not None and ("moderator" in me.roles
                               or await services_q.owns_service(db, service_id=thread.service.id, account_id=me.id)):
        return thread
    raise Problem(404, "not-found", N_("No thread {thread_id} among your services", thread_id=thread_id))


async def _require_owner(request: Request, db: asyncpg.Connection, thread: ThreadSummary) -> None:
    me: Account = request.scope["user"]
    if not await services_q.owns_service(db, service_id=thread.service.id, account_id=me.id):
        raise Problem(403, "forbidden", N_("Only the owners of the thread's service can do this"))


def _staff_messages(messages: list[Message], *, moderator: bool) -> list[Message]:
    """Owners do not see the text of a hidden message; moderators do (they decide)."""
    if moderator:
        return messages
    return [msgspec.structs.replace(m, body="") if m.hidden_reason is not None else m for m in messages]


def _public_messages(messages: list[Message]) -> list[Message]:
    return [msgspec.structs.replace(m, body="" if m.hidden_reason is not None else m.body, posted_at=None)
            for m in messages]


async def _staff_view(db: asyncpg.Connection, request: Request, thread_id: UUID) -> StaffThread:
    thread = await q.select_thread(db, thread_id=thread_id)
    if thread is None:
        raise Problem(404, "not-found", N_("No thread {thread_id}", thread_id=thread_id))
    messages = await q.select_messages(db, thread_id=thread_id)
    moderator = "moderator" in request.scope["user"].roles
    return StaffThread(thread=thread, messages=_staff_messages(messages, moderator=moderator),
                       author_read_seq=thread.author_read_seq)


class ThreadController(Controller):
    path = "/api/threads"
    tags = ["threads"]

    # Tokens ----------------------------------------------------------------------------------

    @get("/token-key", operation_id="getThreadTokenKey")
    async def token_key(self, state: State) -> ThreadTokenKey:
        key = await logic.current_keys(state.pool, state.settings)
        return ThreadTokenKey(**msgspec.structs.asdict(publish_key(key)), period=key.owner.isoformat()[:7])

    @get("/allowance", operation_id="getThreadAllowance", guards=[members], responses=_ERRORS)
    async def allowance(self, request: Request, state: State) -> Allowance:
        # Reads without a transaction: asked by every member of a sign-in burst (issue 19).
        async with state.pool.acquire() as db:
            key = await logic.current_keys(db, state.settings)
            issued = await q.select_issued(db, period=key.owner, account_id=request.scope["user"].id)
        per_month = state.settings.thread_tokens_per_month
        return Allowance(period=key.owner.isoformat()[:7], per_month=per_month, issued=issued,
                         remaining=max(0, per_month - issued), token_key_id=key.token_key_id.hex())

    @post("/token-requests", operation_id="requestThreadTokens", guards=[members], opt={"accept": (TOKEN_REQUEST,)},
          status_code=HTTP_200_OK, responses={
              **_ERRORS, 400: problem_spec("Malformed TokenRequest(s) or another key"),
              409: problem_spec("More than what is left of this month's allowance")})
    async def request_tokens(self, request: Request, state: State) -> Response[bytes]:
        """One RFC 9578 TokenRequest, or several concatenated (the rest of the month's
        allowance at once, so a page left half-way loses nothing): as many TokenResponses
        back, concatenated in the same order.

        No connection is held while signing (issue 19): one read checks the allowance,
        the signing runs, one statement counts — all or nothing, and a failed signing
        counts nothing."""
        limit = state.settings.thread_tokens_per_month
        me = request.scope["user"].id
        body = await request.body()
        async with state.pool.acquire() as db:
            key = await logic.current_keys(db, state.settings)
            token_requests = read_token_requests(body, key)
            issued = await q.select_issued(db, period=key.owner, account_id=me)
        if issued + len(token_requests) > limit:  # read before signing: an exhausted allowance costs no signature
            raise Problem(409, "token-issued", N_("This month's allowance is {limit} thread tokens; {left} left",
                                                  limit=limit, left=limit - issued))
        issuer: Issuer = state.issuer
        responses = await issuer.issue(key, token_requests)
        async with state.pool.acquire() as db:  # the upsert's row lock decides races
            if await q.record_issuance(db, period=key.owner, account_id=me, count=len(token_requests),
                                       limit=limit) is None:
                left = limit - await q.select_issued(db, period=key.owner, account_id=me)
                raise Problem(409, "token-issued", N_("This month's allowance is {limit} thread tokens; {left} left",
                                                      limit=limit, left=left))
        return Response(responses, media_type=TOKEN_RESPONSE)

    # Inbox and threads -------------------------------------------------------------------------

    @get("/", operation_id="listThreads", guards=[staff], responses=_ERRORS)
    async def inbox(
        self, request: Request, db: NamedDependency[asyncpg.Connection],
        service_id: FromQuery[UUID | None] = None, q_: Annotated[str, QueryParameter(name="q", max_length=200)] = "",
        awaiting: FromQuery[Literal["publication"] | None] = None,
    ) -> list[ThreadSummary]:
        me: Account = request.scope["user"]
        return await q.select_inbox(db, account_id=me.id, all_services="moderator" in me.roles, service_id=service_id,
                                    query=q_.strip(), awaiting_publication=awaiting == "publication")

    @get("/audit", operation_id="listThreadAudit", guards=[requires_roles("moderator", "admin")], responses=_ERRORS)
    async def audit(
        self, db: NamedDependency[asyncpg.Connection], thread_id: FromQuery[UUID | None] = None,
        moderation_only: FromQuery[bool] = True,
    ) -> list[AuditEntry]:
        return await q.select_audit(db, thread_id=thread_id, moderation_only=moderation_only)

    @get("/{thread_id:uuid}", operation_id="getThread", guards=[staff], responses={**_ERRORS, **_NOT_FOUND})
    async def get_thread(
        self, request: Request, db: NamedDependency[asyncpg.Connection], thread_id: FromPath[UUID]
    ) -> StaffThread:
        await _staff_thread(db, request, thread_id)
        return await _staff_view(db, request, thread_id)

    @post("/{thread_id:uuid}/messages", operation_id="replyAsStaff", guards=[owners], status_code=HTTP_201_CREATED,
          responses={**_ERRORS, **_NOT_FOUND})
    async def reply(
        self, request: Request, db: NamedDependency[asyncpg.Connection], thread_id: FromPath[UUID],
        data: JSONBody[StaffReply],
    ) -> StaffThread:
        thread = await _staff_thread(db, request, thread_id, lock=True)
        await _require_owner(request, db, thread)
        await q.insert_message(db, thread_id=thread_id, body=data.body, staff_id=request.scope["user"].id)
        return await _staff_view(db, request, thread_id)

    @put("/{thread_id:uuid}/status", operation_id="setThreadStatus", guards=[owners],
         responses={**_ERRORS, **_NOT_FOUND})
    async def set_status(
        self, request: Request, db: NamedDependency[asyncpg.Connection], thread_id: FromPath[UUID],
        data: JSONBody[StatusChange],
    ) -> StaffThread:
        thread = await _staff_thread(db, request, thread_id, lock=True)
        await _require_owner(request, db, thread)
        await q.update_thread(db, thread_id=thread_id, changes={"staff_status": data.status})
        action = "acknowledge" if data.status == "acknowledged" else "answer"
        await q.insert_audit(db, thread_id=thread_id, actor_id=request.scope["user"].id, action=action)
        return await _staff_view(db, request, thread_id)

    @post("/{thread_id:uuid}/publication-request", operation_id="requestPublication", guards=[owners],
          status_code=HTTP_200_OK, responses={**_ERRORS, **_NOT_FOUND})
    async def request_publication(
        self, request: Request, db: NamedDependency[asyncpg.Connection], thread_id: FromPath[UUID]
    ) -> StaffThread:
        thread = await _staff_thread(db, request, thread_id, lock=True)
        await _require_owner(request, db, thread)
        await q.update_thread(db, thread_id=thread_id, changes={"publish_requested": True})
        await q.insert_audit(db, thread_id=thread_id, actor_id=request.scope["user"].id, action="request-publication")
        return await _staff_view(db, request, thread_id)

    @put("/{thread_id:uuid}/publication", operation_id="decidePublication", guards=[moderators],
         responses={**_ERRORS, **_NOT_FOUND})
    async def decide_publication(
        self, request: Request, db: NamedDependency[asyncpg.Connection], thread_id: FromPath[UUID],
        data: JSONBody[PublicationDecision],
    ) -> StaffThread:
        thread = await _staff_thread(db, request, thread_id, lock=True)
        if data.approved:
            changes, action = {"publish_approved": True}, "approve-publication"
        else:
            action = "withdraw-publication" if thread.publish_approved else "reject-publication"
            changes = {"publish_approved": False, "publish_requested": False}
        await q.update_thread(db, thread_id=thread_id, changes=changes)
        await q.insert_audit(db, thread_id=thread_id, actor_id=request.scope["user"].id, action=action,
                             reason=data.reason)
        return await _staff_view(db, request, thread_id)

    @post("/{thread_id:uuid}/messages/{seq:int}/hide", operation_id="hideMessage", guards=[moderators],
          status_code=HTTP_200_OK, responses={**_ERRORS, 404: problem_spec("No such thread or message")})
    async def hide(
        self, request: Request, db: NamedDependency[asyncpg.Connection], thread_id: FromPath[UUID],
        seq: FromPath[int], data: JSONBody[Hide],
    ) -> StaffThread:
        await _staff_thread(db, request, thread_id, lock=True)
        message_id = await q.hide_message(db, thread_id=thread_id, seq=seq, reason=data.reason)
        if message_id is None:
            raise Problem(404, "not-found", N_("No message {seq} in this thread", seq=seq))
        await q.insert_audit(db, thread_id=thread_id, actor_id=request.scope["user"].id, action="hide-message",
                             reason=data.reason, message_id=message_id)
        return await _staff_view(db, request, thread_id)

    @post("/{thread_id:uuid}/ticket", operation_id="sendThreadTicket", guards=[owners], status_code=HTTP_202_ACCEPTED,
          responses={**_ERRORS, **_NOT_FOUND, 409: problem_spec("The service has no active webhook")})
    async def send_ticket(
        self, request: Request, db: NamedDependency[asyncpg.Connection], thread_id: FromPath[UUID]
    ) -> Delivery:
        thread = await _staff_thread(db, request, thread_id)
        await _require_owner(request, db, thread)
        hook = await q.select_webhook(db, service_id=thread.service.id)
        if hook is None or not hook.active:
            raise Problem(409, "conflict", N_("This service has no active service-desk webhook; an owner sets one up first"))
        messages = await q.select_messages(db, thread_id=thread_id)
        # The public origin, never the Host header (which anyone can forge).
        link = absolute_url(request.app.state.settings, f"/threads/staff/{thread_id}")
        delivery = await q.insert_delivery(db, service_id=thread.service.id, thread_id=thread_id,
                                           requested_by=request.scope["user"].id,
                                           payload=logic.ticket_payload(thread, messages, link))
        await q.insert_audit(db, thread_id=thread_id, actor_id=request.scope["user"].id, action="send-ticket")
        return delivery


class BoardController(Controller):
    """The public board: threads a moderator approved and their author agreed to publish."""

    path = "/api/board"
    tags = ["threads"]

    @get("/", operation_id="searchBoard", guards=[requires_login], responses=_ERRORS)
    async def board(
        self, db: NamedDependency[asyncpg.Connection], q_: Annotated[str, QueryParameter(name="q", max_length=200)] = ""
    ) -> list[ThreadSummary]:
        return await q.select_board(db, query=q_.strip())

    @get("/{thread_id:uuid}", operation_id="getBoardThread", guards=[requires_login],
         responses={**_ERRORS, 404: problem_spec("Not on the board")})
    async def board_thread(self, db: NamedDependency[asyncpg.Connection], thread_id: FromPath[UUID]) -> BoardThread:
        thread = await q.select_thread(db, thread_id=thread_id)
        if thread is None or not thread.public:
            raise Problem(404, "not-found", N_("No thread {thread_id} on the public board", thread_id=thread_id))
        messages = await q.select_messages(db, thread_id=thread_id)
        return BoardThread(thread=thread, messages=_public_messages(messages))


async def _service_staff(request: Request, db: asyncpg.Connection, service_id: UUID, *also: str) -> None:
    """Callers with a role in ``also`` see every service; others must own this one."""
    me: Account = request.scope["user"]
    if set(also) & set(me.roles):
        if await services_q.select_service(db, service_id=service_id) is None:
            raise Problem(404, "not-found", N_("No service {service_id}", service_id=service_id))
        return
    if not await services_q.owns_service(db, service_id=service_id, account_id=me.id):
        raise Problem(403, "forbidden", N_("Only the owners of this service can do this"))


class ServiceThreadsController(Controller):
    """Per-service settings and figures for threads: the webhook and the metrics."""

    path = "/api/services/{service_id:uuid}"
    tags = ["threads"]

    @get("/webhook", operation_id="getServiceWebhook", guards=[requires_roles("owner", "admin")], responses=_ERRORS)
    async def get_webhook(
        self, request: Request, db: NamedDependency[asyncpg.Connection], service_id: FromPath[UUID]
    ) -> WebhookView:
        await _service_staff(request, db, service_id, "admin")
        hook = await q.select_webhook(db, service_id=service_id)
        return WebhookView(service_id=service_id, url=hook.url if hook else None, active=bool(hook and hook.active),
                           signature_header=logic.SIGNATURE_HEADER,
                           deliveries=await q.select_deliveries(db, service_id=service_id))

    @put("/webhook", operation_id="setServiceWebhook", guards=[requires_roles("owner", "admin")],
         responses={**_ERRORS, 422: problem_spec("Invalid fields")})
    async def set_webhook(
        self, request: Request, state: State, db: NamedDependency[asyncpg.Connection], service_id: FromPath[UUID],
        data: JSONBody[WebhookSettings],
    ) -> WebhookView:
        await _service_staff(request, db, service_id, "admin")
        if refused := await logic.refuse_destination(data.url, allow_private=state.settings.webhook_allow_private):
            raise Problem(422, "validation", N_("The webhook cannot be sent there: {refused}", refused=refused),
                          errors=[FieldError(field="url", reason=refused)])
        secret = logic.encrypt_webhook_secret(state.settings.key_encryption_key, service_id, data.secret)
        await q.upsert_webhook(db, service_id=service_id, url=data.url, secret=secret, active=data.active,
                               updated_by=request.scope["user"].id)
        return WebhookView(service_id=service_id, url=data.url, active=data.active,
                           signature_header=logic.SIGNATURE_HEADER,
                           deliveries=await q.select_deliveries(db, service_id=service_id))

    @get("/thread-metrics", operation_id="getThreadMetrics", guards=[requires_roles("owner", "manager", "admin")],
         responses=_ERRORS)
    async def metrics(
        self, request: Request, db: NamedDependency[asyncpg.Connection], service_id: FromPath[UUID],
        since: FromQuery[date | None] = None,
    ) -> Metrics:
        await _service_staff(request, db, service_id, "manager", "admin")
        return await q.select_metrics(db, service_id=service_id, since=since)


class ThreadPageController(Controller):
    """Thread pages; their ES modules fetch everything from the APIs above."""

    tags = ["pages"]
    include_in_schema = False

    @get("/threads/new", operation_id="newThreadPage")
    async def new_thread(self, request: Request) -> PageResponse:
        return gate(request, "member") or page(request, "threads/new")

    @get("/threads/follow", operation_id="followThreadPage")
    async def follow(self, request: Request) -> Template:
        # Public: an author follows a thread with its secret from any browser, signed in or not.
        return page(request, "threads/follow")

    @get("/threads/policy", operation_id="threadPolicyPage")
    async def policy(self, request: Request) -> Template:
        return page(request, "threads/policy")

    @get("/board", operation_id="boardPage")
    async def board(self, request: Request) -> PageResponse:
        return gate(request) or page(request, "threads/board")

    @get("/threads/inbox", operation_id="inboxPage")
    async def inbox(self, request: Request) -> PageResponse:
        return gate(request, "owner", "moderator") or page(request, "threads/inbox")

    @get("/threads/staff/{thread_id:uuid}", operation_id="staffThreadPage")
    async def staff_thread(self, request: Request, thread_id: FromPath[UUID]) -> PageResponse:
        return gate(request, "owner", "moderator") or page(request, "threads/staff", thread_id=str(thread_id))

    @get("/moderation", operation_id="moderationPage")
    async def moderation(self, request: Request) -> PageResponse:
        return gate(request, "moderator") or page(request, "threads/moderation")
