"""HTML pages: sign-in, home per role, privacy, surveys, receipts, waves.

Pages redirect a visitor who is not signed in to ``/login`` (the JSON API answers
problem+json instead) and show a plain 403 page to a signed-in account without the
role. What a page shows from the waves API is fetched by its ES module.
"""

from __future__ import annotations

import hmac
from typing import Any
from uuid import UUID

import asyncpg
from litestar import Controller, Request, get, post
from litestar.datastructures import Cookie, State
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from service import audit, i18n, mail, transparency
from service.auth import (
    CSRF_HEADER,
    SESSION_COOKIE,
    session_cookie,
    sign_in,
    token_hash,
)
from service.oidc import end_session_url
from service.origin import same_origin, secure_origin
from service.pages import PageResponse, gate, page
from service.queries import accounts as accounts_q
from service.queries import audit as audit_q
from service.queries import groups as groups_q
from service.queries import services as services_q

FORM = ("application/x-www-form-urlencoded", "multipart/form-data")
WAVE_ROLES = ("manager", "owner", "admin")
LANG_COOKIE_DAYS = 365


def _same_origin(request: Request) -> bool:
    """Login CSRF: a sign-in form posted from another site is refused (the one public
    origin decides, not the scheme and Host the app sees behind the proxy)."""
    return same_origin(request.app.state.settings, request)


def _local_path(target: str) -> str:
    """``target`` when it is a path on this site, else ``/``: the switcher never redirects elsewhere."""
    if target.startswith("/") and not target.startswith(("//", "/\\")) and "\\" not in target and target.isprintable():
        return target
    return "/"


class PageController(Controller):
    tags = ["pages"]
    include_in_schema = False

    @get("/", operation_id="homePage")
    async def home(self, request: Request, db: NamedDependency[asyncpg.Connection]) -> PageResponse:
        if denied := gate(request):
            return denied
        user = request.scope["user"]
        context: dict[str, Any] = {}
        if "owner" in user.roles:
            services = await services_q.select_services(db, include_archived=False)
            context["owned"] = [s for s in services if any(o.id == user.id for o in s.owners)]
        if "admin" in user.roles:
            context["counts"] = {
                "accounts": len(await accounts_q.select_accounts(db)),
                "groups": len(await groups_q.select_groups(db)),
                "services": len(await services_q.select_services(db, include_archived=True)),
            }
        return page(request, "home", **context)

    @get("/login", operation_id="loginPage")
    async def login_page(self, request: Request) -> PageResponse:
        if request.scope.get("user") is not None:
            return Redirect("/", status_code=303)
        return page(request, "login", email="", error=None)

    @post("/login", operation_id="loginForm", opt={"csrf_exempt": True, "accept": FORM})
    async def login_form(self, request: Request, state: State, db: NamedDependency[asyncpg.Connection]) -> PageResponse:
        form = await request.form()
        email = str(form.get("email", "")).strip()[:254]
        password = str(form.get("password", ""))[:1024]
        if not state.settings.password_login:
            return page(request, "login", status=403, email="", error="password-off")
        if not _same_origin(request):
            return page(request, "login", status=403, email=email, error="origin")
        if len(email) < 3 or not password:
            return page(request, "login", status=400, email=email, error="missing")
        result = await sign_in(request, state, db, email=email, password=password)
        if result.token is None:
            error = "throttled" if result.status == 429 else "wrong"
            answer = page(request, "login", status=result.status, email=email, error=error,
                          retry_minutes=max(1, -(-result.retry_after // 60)))
            if result.status == 429:
                answer.headers["retry-after"] = str(result.retry_after)
            return answer
        # The home page's module fetches this member's tokens right away (issuance is not tied to answering).
        return Redirect("/", status_code=303, cookies=[session_cookie(state.settings, request, result.token)])

    # The form's `_csrf` field is checked here, not by the session middleware, which
    # cannot read a form body (it has no `receive`).
    @post("/logout", operation_id="logoutForm", opt={"csrf_exempt": True, "accept": FORM})
    async def logout_form(self, request: Request, state: State, db: NamedDependency[asyncpg.Connection]) -> PageResponse:
        auth = request.scope.get("auth")
        if auth is not None:
            form = await request.form()
            sent = request.headers.get(CSRF_HEADER) or str(form.get("_csrf", ""))
            if not hmac.compare_digest(sent.encode(), auth.csrf_token.encode()):
                return page(request, "forbidden", status=403, needed=[], csrf_failed=True)
            session_hash = token_hash(request.cookies[SESSION_COOKIE])
            end_session = await end_session_url(state, db, session_hash=session_hash)
            await accounts_q.delete_session(db, token_hash=session_hash)
            if end_session:
                # Signed in through the provider: sign out there too (a page, not a redirect:
                # the CSP's form-action 'self' would stop a form's redirect to another origin).
                answer = page(request, "signed_out", user=None, roles=set(), csrf="", end_session_url=end_session)
                answer.cookies.append(session_cookie(state.settings, request, None))
                return answer
        return Redirect("/login", status_code=303, cookies=[session_cookie(state.settings, request, None)])

    # A link, not a form: choosing a language changes this browser's preference (a plain cookie whose value is
    # one of two words), so it needs neither a session nor a CSRF token and works signed out. Signed in, it is
    # also the language of the member's mail, stored only when the click came from a page of this site: a link
    # on another site cannot change what a member's mail is written in.
    @get("/language", operation_id="chooseLanguage")
    async def choose_language(self, request: Request, db: NamedDependency[asyncpg.Connection],
                              lang: FromQuery[str] = "", back: FromQuery[str] = "/") -> Redirect:
        settings = request.app.state.settings
        secure = settings.secure_cookies if settings.secure_cookies is not None else secure_origin(settings)
        known = lang in i18n.SUPPORTED
        user = request.scope.get("user")
        if known and user is not None and _same_origin(request):
            await accounts_q.choose_language(db, account_id=user.id, language=lang)
        cookie = Cookie(key=i18n.LANG_COOKIE, value=lang if known else "", path="/", httponly=True,
                        samesite="lax", secure=secure, max_age=LANG_COOKIE_DAYS * 86400 if known else 0)
        return Redirect(_local_path(back[:2000]), status_code=303, cookies=[cookie],
                        headers={"cache-control": "no-store"})

    @get("/privacy", operation_id="privacyPage")
    async def privacy(self, request: Request, db: NamedDependency[asyncpg.Connection]) -> Template:
        lang = i18n.choose_locale(request.cookies.get(i18n.LANG_COOKIE), request.headers.get("accept-language"))
        shown = audit.for_reader(await audit_q.select_audit_result(db), i18n.translations(lang).gettext)
        return page(request, "privacy", audit=shown,
                    key_log=await transparency.published(db), mail_retention_days=mail.RETENTION_DAYS)

    @get("/receipts", operation_id="receiptsPage")
    async def receipts(self, request: Request) -> Template:
        # Public: a receipt is checked anonymously, from any browser.
        return page(request, "receipts")

    @get("/surveys", operation_id="surveysPage")
    async def surveys(self, request: Request) -> PageResponse:
        return gate(request, "member") or page(request, "surveys")

    @get("/surveys/{campaign_id:uuid}", operation_id="surveyPage")
    async def survey(self, request: Request, campaign_id: FromPath[UUID]) -> PageResponse:
        return gate(request, "member") or page(request, "survey", campaign_id=str(campaign_id))

    @get("/waves", operation_id="wavesPage")
    async def waves(self, request: Request) -> PageResponse:
        return gate(request, *WAVE_ROLES) or page(request, "waves")

    @get("/waves/{campaign_id:uuid}", operation_id="wavePage")
    async def wave(self, request: Request, campaign_id: FromPath[UUID]) -> PageResponse:
        return gate(request, *WAVE_ROLES) or page(request, "wave", campaign_id=str(campaign_id))
