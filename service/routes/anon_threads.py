"""Anonymous side of feedback threads: open one with a thread token, then read, reply,
resolve and consent to publication with the thread secret alone.

Under ``/anon/`` no cookie is read and nothing about the caller is logged or stored.
A thread token is a Privacy Pass token of this month's (or last month's) thread key;
its nonce is spent in the same statement that creates the thread. The secret travels
in ``Authorization: ThreadSecret <twelve words>``, never in the URL.
"""

from __future__ import annotations

import uuid
from datetime import date
from functools import partial
from typing import Annotated, Literal
from uuid import UUID

import asyncpg
import msgspec
from litestar import Controller, Request, get, post, put
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.status_codes import HTTP_201_CREATED

from instruments.errors import N_, FieldError
from service import threads as logic
from service.errors import Problem, problem_spec
from service.issuance import Issuer
from service.queries import threads as q
from service.queries.threads import Message

Category = Literal["problem", "idea", "question", "praise"]
Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Body = Annotated[str, msgspec.Meta(min_length=1, max_length=10_000)]
SECRET_CHALLENGE = 'ThreadSecret realm="candor-threads"'


class ThreadOpen(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    service_id: UUID
    category: Category
    title: Title
    body: Body
    # The twelve-word phrase the browser made; only its keyed hash is kept.
    secret: str


class ThreadOpened(msgspec.Struct, frozen=True):
    thread_id: UUID
    opened_on: date


class Reply(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    body: Body


class Resolution(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    resolved: bool


class Consent(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    consent: bool


class AuthorThread(msgspec.Struct, frozen=True):
    """What the author sees: everything, hidden messages with the moderator's reason."""

    thread_id: UUID
    service: q.ServiceRef
    category: str
    title: str
    opened_on: date
    staff_status: str
    resolved: bool
    publish_requested: bool
    publish_approved: bool
    author_consent: bool
    public: bool
    messages: list[Message]


async def _thread_by_secret(request: Request, state: State, db: asyncpg.Connection) -> UUID:
    """The thread the Authorization header's secret opens.

    The right secret always opens its thread, however many wrong ones were tried (so
    a flood of guesses cannot lock authors out); only failures count toward the
    service-wide per-minute budget. The count is written on the request's connection
    and committed with the 401 or 429 answer.
    """
    phrase = logic.parse_secret_header(request.headers.get("authorization"))
    if phrase is not None:
        found = await q.select_thread_id_by_secret(db, secret_hash=logic.secret_hash(state.settings.secret_key, phrase))
        if found is not None:
            return found
    await q.record_secret_failure(db)
    if await q.select_secret_failures(db) > state.settings.thread_secret_failures_per_minute:
        raise Problem(429, "too-many-requests",
                      N_("Too many wrong thread secrets were tried in the last minute; try again in a minute"),
                      headers={"Retry-After": "60"}, commit=True)
    raise Problem(401, "thread-secret", N_("Send the thread's twelve-word secret: Authorization: ThreadSecret …"),
                  headers={"WWW-Authenticate": SECRET_CHALLENGE}, commit=True)


async def _author_view(db: asyncpg.Connection, thread_id: UUID) -> AuthorThread:
    thread = await q.select_thread(db, thread_id=thread_id)
    if thread is None:  # the secret named it in this same transaction; threads are never deleted
        raise Problem(404, "not-found", N_("No such thread"))
    messages = await q.select_messages(db, thread_id=thread_id)
    # Staff names are shown (staff reply under their own name); their exact times are not needed here.
    shown = [msgspec.structs.replace(m, posted_at=None) for m in messages]
    return AuthorThread(
        thread_id=thread.id, service=thread.service, category=thread.category, title=thread.title,
        opened_on=thread.opened_on, staff_status=thread.staff_status, resolved=thread.resolved,
        publish_requested=thread.publish_requested, publish_approved=thread.publish_approved,
        author_consent=thread.author_consent, public=thread.public, messages=shown,
    )


_SECRET_ERRORS = {
    401: problem_spec("Missing or unknown thread secret"),
    429: problem_spec("A wrong secret, and too many wrong secrets in the last minute (service-wide)"),
}


class AnonymousThreadController(Controller):
    path = "/anon/threads"
    tags = ["anonymous"]

    @post("/", operation_id="openThread", status_code=HTTP_201_CREATED, responses={
        401: problem_spec("Missing or invalid thread token; WWW-Authenticate carries the challenge"),
        409: problem_spec("Token already spent, or the secret is in use"),
        422: problem_spec("Invalid fields; the token is not spent"),
    })
    async def open_thread(
        self, request: Request, state: State, db: NamedDependency[asyncpg.Connection], data: JSONBody[ThreadOpen]
    ) -> ThreadOpened:
        current = await logic.current_keys(db, state.settings)
        issuer: Issuer = state.issuer
        # Accepted: this month's key or last month's. A refusal carries this month's challenge
        # (and commits, since this request may have made that key).
        token, key = await issuer.redeem(request.headers.get("authorization"), current,
                                         partial(logic.redeemable_key, db, current=current.owner))
        phrase = logic.normalise_secret(data.secret)
        errors = []
        if phrase is None:
            errors.append(FieldError(field="secret", reason=N_("must be twelve words of the thread word list")))
        if not await q.service_accepts_threads(db, service_id=data.service_id):
            errors.append(FieldError(field="service_id", reason=N_("no such service")))
        if errors or phrase is None:
            raise Problem(422, "validation", N_("The thread cannot be opened; your token was not used"), errors=errors)
        thread_id = uuid.uuid4()
        day = logic.today()
        try:
            async with db.transaction():
                stored = await q.open_thread(
                    db, period=key.owner, nonce=token.nonce, thread_id=thread_id, service_id=data.service_id,
                    secret_hash=logic.secret_hash(state.settings.secret_key, phrase), category=data.category,
                    title=data.title, body=data.body, opened_on=day,
                )
        except asyncpg.UniqueViolationError:
            raise Problem(409, "conflict", N_("Choose another secret; your token was not used")) from None
        if not stored:
            raise Problem(409, "token-spent", N_("This thread token has already been used"))
        return ThreadOpened(thread_id=thread_id, opened_on=day)

    @get("/by-secret", operation_id="readThread", responses=_SECRET_ERRORS)
    async def read_thread(self, request: Request, state: State, db: NamedDependency[asyncpg.Connection]) -> AuthorThread:
        thread_id = await _thread_by_secret(request, state, db)
        view = await _author_view(db, thread_id)
        if view.messages:
            await q.mark_read(db, thread_id=thread_id, seq=view.messages[-1].seq)
        return view

    @post("/by-secret/messages", operation_id="replyToThread", status_code=HTTP_201_CREATED,
          responses={**_SECRET_ERRORS, 422: problem_spec("Invalid body")})
    async def reply(
        self, request: Request, state: State, db: NamedDependency[asyncpg.Connection], data: JSONBody[Reply]
    ) -> AuthorThread:
        thread_id = await _thread_by_secret(request, state, db)
        await q.lock_thread(db, thread_id=thread_id)
        _, seq = await q.insert_message(db, thread_id=thread_id, body=data.body, staff_id=None)
        await q.mark_read(db, thread_id=thread_id, seq=seq)
        return await _author_view(db, thread_id)

    @put("/by-secret/resolution", operation_id="resolveThread", responses=_SECRET_ERRORS)
    async def resolve(
        self, request: Request, state: State, db: NamedDependency[asyncpg.Connection], data: JSONBody[Resolution]
    ) -> AuthorThread:
        thread_id = await _thread_by_secret(request, state, db)
        await q.update_thread(db, thread_id=thread_id, changes={"resolved": data.resolved})
        return await _author_view(db, thread_id)

    @put("/by-secret/consent", operation_id="consentToPublication", responses=_SECRET_ERRORS)
    async def consent(
        self, request: Request, state: State, db: NamedDependency[asyncpg.Connection], data: JSONBody[Consent]
    ) -> AuthorThread:
        thread_id = await _thread_by_secret(request, state, db)
        await q.update_thread(db, thread_id=thread_id, changes={"author_consent": data.consent})
        return await _author_view(db, thread_id)
