"""Sessions, CSRF and role guards.

A session is a random 256-bit token in an HttpOnly, SameSite=Lax cookie; the database
keeps only its SHA-256. Every unsafe request that a session cookie authenticates must
carry the session's CSRF token in ``X-CSRF-Token``; an HTML form route that posts a
``_csrf`` field instead is marked ``csrf_exempt`` and checks the field itself (a
middleware cannot read the body without consuming it). Anonymous endpoints under ``/anon/`` never look at cookies at all.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass

import asyncpg
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, State
from litestar.handlers.base import BaseRouteHandler
from litestar.types import ASGIApp, Receive, Scope, Send

from instruments.errors import N_
from service.errors import Problem
from service.i18n import LANG_COOKIE, browser_language
from service.origin import secure_origin
from service.passwords import PasswordChecksBusy
from service.queries import accounts as q
from service.queries.accounts import Account
from service.settings import Settings

SESSION_COOKIE = "candor_session"
CSRF_HEADER = "x-csrf-token"
ANONYMOUS_PREFIX = "/anon/"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


def email_key(settings: Settings, email: str) -> bytes:
    """Throttle key: keyed, so the table does not list the addresses people typed."""
    return hmac.new(settings.secret_key, email.strip().lower().encode(), hashlib.sha256).digest()


def session_cookie(settings: Settings, request: Request, token: str | None) -> Cookie:
    # The public origin decides, not the scheme the app sees behind a TLS-terminating proxy.
    secure = settings.secure_cookies if settings.secure_cookies is not None else secure_origin(settings)
    return Cookie(
        key=SESSION_COOKIE,
        value=token or "",
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure,
        max_age=settings.session_absolute_hours * 3600 if token else 0,
    )


class SessionMiddleware:
    """Resolve the session cookie into ``scope["user"]`` and enforce CSRF."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope["user"] = None
        scope["auth"] = None
        if not scope["path"].startswith(ANONYMOUS_PREFIX):
            await self._authenticate(scope)
        await self.app(scope, receive, send)

    async def _authenticate(self, scope: Scope) -> None:
        request: Request = Request(scope)
        token = request.cookies.get(SESSION_COOKIE)
        if not token:
            return
        app = scope["litestar_app"]
        settings: Settings = app.state.settings
        async with app.state.pool.acquire() as conn:
            live = await q.touch_session(
                conn,
                token_hash=token_hash(token),
                idle_minutes=settings.session_idle_minutes,
                absolute_hours=settings.session_absolute_hours,
            )
        if live is None:
            return
        scope["user"] = live.account
        scope["auth"] = live
        handler = scope.get("route_handler")
        csrf_exempt = handler is not None and handler.opt.get("csrf_exempt", False)
        if request.method not in _SAFE_METHODS and not csrf_exempt:
            sent = request.headers.get(CSRF_HEADER, "")
            if not hmac.compare_digest(sent.encode(), live.csrf_token.encode()):
                raise Problem(403, "csrf", N_("This request needs the session's CSRF token in X-CSRF-Token"))


def requires_login(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    if connection.scope.get("user") is None:
        raise Problem(401, "unauthenticated", N_("Sign in to use this endpoint"))


def requires_roles(*roles: str) -> Callable[[ASGIConnection, BaseRouteHandler], None]:
    """Guard: signed in and holding at least one of ``roles``."""
    allowed = frozenset(roles)

    def guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
        requires_login(connection, handler)
        if allowed.isdisjoint(connection.scope["user"].roles):
            raise Problem(403, "forbidden", N_("This needs one of the roles: {roles}",
                                               roles=', '.join(sorted(allowed))))

    return guard

@dataclass(frozen=True)
class SignIn:
    """Outcome of a sign-in attempt: ``token`` on success, else ``status`` and ``retry_after``."""

    account: Account | None = None
    token: str | None = None
    csrf_token: str | None = None
    status: int = 200
    retry_after: int = 0


async def sign_in(request: Request, state: State, db: asyncpg.Connection, *, email: str, password: str) -> SignIn:
    """Throttle, verify, rotate the session: the one sign-in of the JSON API and the form.

    Every attempt is counted before its password is checked, in one statement that
    locks the email's row, so parallel guesses cannot all slip under the limit. The count
    is written on the request's own connection: a caller answering 401 or 429 commits
    it (``Problem(commit=True)``, or a page, which is not an error). An unknown email
    costs the same password hash as a wrong password; when every hash slot is taken the
    answer is 503 and the attempt is not counted (its password was never checked).
    """
    settings: Settings = state.settings
    key = email_key(settings, email)
    attempts, remaining = await q.record_login_attempt(db, email_key=key, window_minutes=settings.login_window_minutes)
    if attempts > settings.login_max_failures:
        return SignIn(status=429, retry_after=max(1, math.ceil(remaining)))
    found = await q.select_login(db, email=email)
    try:
        ok = await state.password_checks.verify(found[1] if found else None, password)
    except PasswordChecksBusy:
        raise Problem(503, "unavailable", N_("Too many sign-ins are being checked right now; try again in a moment"),
                      headers={"Retry-After": "1"}) from None
    if not ok or found is None or not found[0].active:
        return SignIn(status=401)
    await q.clear_login_failures(db, email_key=key)
    return await open_session(request, db, found[0])


async def open_session(request: Request, db: asyncpg.Connection, account: Account) -> SignIn:
    """A new session for ``account``, ending the one the browser had (no fixation): the
    one way every sign-in (password or identity provider) starts a session."""
    if old := request.cookies.get(SESSION_COOKIE):
        await q.delete_session(db, token_hash=token_hash(old))
    token = new_session_token()
    csrf = new_session_token()
    await q.insert_session(db, token_hash=token_hash(token), account_id=account.id, csrf_token=csrf)
    # The language the member reads Candor in becomes their mail's, unless one is known already.
    if language := browser_language(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language")):
        await q.infer_language(db, account_id=account.id, language=language)
    return SignIn(account=account, token=token, csrf_token=csrf)
