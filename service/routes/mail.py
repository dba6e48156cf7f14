"""Mail settings of one's own (reminders on or off) and the admins' mailbox page.

The mailbox lists the outbox: in development (no ``CANDOR_SMTP_URL``) that is where
mail goes instead of being sent; with SMTP it shows what was sent, what waits for a
retry and what was given up; in production without SMTP it says that mail is off.
"""

from __future__ import annotations

import asyncpg
import msgspec
from litestar import Controller, Request, get, put
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import JSONBody

from service import mail
from service.auth import requires_login
from service.errors import problem_spec
from service.pages import PageResponse, gate, page
from service.queries import mail as q


class MailPreferences(msgspec.Struct, frozen=True):
    # Reminders while a survey is open to you and your token has not been fetched.
    # Invitations to newly opened surveys are always sent.
    reminders: bool
    # How this Candor handles mail: smtp (sent), mailbox (kept for admins, development), off.
    delivery: str


class MailPreferencesUpdate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    reminders: bool


_ERRORS = {401: problem_spec("Not signed in"), 403: problem_spec("Missing CSRF token")}


class MailPreferenceController(Controller):
    path = "/api/me/mail"
    tags = ["mail"]

    @get("/", operation_id="getMailPreferences", guards=[requires_login], responses=_ERRORS)
    async def get_preferences(
        self, request: Request, state: State, db: NamedDependency[asyncpg.Connection]
    ) -> MailPreferences:
        opted_out = await q.select_reminders_opted_out(db, account_id=request.scope["user"].id)
        return MailPreferences(reminders=not opted_out, delivery=mail.mode(state.settings))

    @put("/", operation_id="setMailPreferences", guards=[requires_login],
         responses={**_ERRORS, 422: problem_spec("Invalid fields")})
    async def set_preferences(
        self, request: Request, state: State, db: NamedDependency[asyncpg.Connection],
        data: JSONBody[MailPreferencesUpdate],
    ) -> MailPreferences:
        await q.set_reminders_opted_out(db, account_id=request.scope["user"].id, opted_out=not data.reminders)
        return MailPreferences(reminders=data.reminders, delivery=mail.mode(state.settings))


class MailboxPageController(Controller):
    path = "/admin/mailbox"
    tags = ["pages"]
    include_in_schema = False

    @get("/", operation_id="adminMailboxPage")
    async def mailbox(self, request: Request, state: State, db: NamedDependency[asyncpg.Connection]) -> PageResponse:
        if denied := gate(request, "admin"):
            return denied
        settings = state.settings
        server = mail.parse_smtp_url(settings.smtp_url) if settings.smtp_url else None
        return page(request, "admin/mailbox", delivery=mail.mode(settings), sender=mail.sender(settings),
                    server=f"{server.host}:{server.port}" if server else "", outbox=await q.select_outbox(db))
