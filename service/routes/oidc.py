"""Sign in through the organisation's OpenID provider: ``/auth/oidc/login`` starts the
flow, ``/auth/oidc/callback`` finishes it (service.oidc says what is checked).

Both are browser navigations, so they answer with redirects and pages, never
problem+json: a refused sign-in shows the sign-in page saying why, with no session.
The callback takes pool connections one at a time and holds none while it talks to the
provider (a slow provider must not tie up the database).
"""

from __future__ import annotations

import hmac

from litestar import Controller, Request, get
from litestar.datastructures import Cookie, State
from litestar.response import Redirect, Template

from service.auth import open_session, session_cookie, token_hash
from service.oidc import (
    FLOW_COOKIE,
    FLOW_COOKIE_PATH,
    FLOW_MINUTES,
    OidcError,
    Provider,
    new_flow,
    resolve_account,
    state_hash,
    sync_groups,
)
from service.origin import secure_origin
from service.pages import PageResponse, page
from service.queries import oidc as q
from service.settings import Settings


def _flow_cookie(settings: Settings, value: str | None) -> Cookie:
    # Lax: the callback is a top-level navigation back from the provider, which Lax allows.
    secure = settings.secure_cookies if settings.secure_cookies is not None else secure_origin(settings)
    return Cookie(key=FLOW_COOKIE, value=value or "", path=FLOW_COOKIE_PATH, httponly=True, samesite="lax",
                  secure=secure, max_age=FLOW_MINUTES * 60 if value else 0)


def _refused(request: Request, settings: Settings, exc: OidcError) -> Template:
    answer = page(request, "login", status=exc.status, email="", error="oidc", oidc_reason=exc.reason,
                  oidc_detail=exc.detail)
    answer.cookies.append(_flow_cookie(settings, None))
    return answer


class OidcController(Controller):
    path = "/auth/oidc"
    tags = ["auth"]
    include_in_schema = False

    @get("/login", operation_id="oidcLogin")
    async def login(self, request: Request, state: State) -> PageResponse:
        settings: Settings = state.settings
        provider: Provider = state.oidc
        flow = new_flow()
        try:
            url = await provider.authorization_url(flow)
        except OidcError as exc:
            return _refused(request, settings, exc)
        async with state.pool.acquire() as conn:
            await q.insert_flow(conn, state_hash=state_hash(flow.state), nonce=flow.nonce,
                                code_verifier=flow.code_verifier, lifetime_minutes=FLOW_MINUTES)
        return Redirect(url, status_code=303, cookies=[_flow_cookie(settings, flow.state)])

    @get("/callback", operation_id="oidcCallback")
    async def callback(self, request: Request, state: State) -> PageResponse:
        settings: Settings = state.settings
        try:
            session = await _finish(request, state)
        except OidcError as exc:
            return _refused(request, settings, exc)
        return Redirect("/", status_code=303, cookies=[session_cookie(settings, request, session),
                                                        _flow_cookie(settings, None)])


async def _finish(request: Request, state: State) -> str:
    """Check the callback against its flow, exchange the code, verify the ID token and
    open the session; its token. Raises OidcError."""
    settings: Settings = state.settings
    provider: Provider = state.oidc
    params = request.query_params
    if error := params.get("error"):
        # Nothing to check a refusal against (some providers leave out the state): it
        # signs nobody in, and its flow expires on its own.
        raise OidcError("denied", f"The identity provider did not sign you in ({error[:80]})")
    sent = params.get("state") or ""
    held = request.cookies.get(FLOW_COOKIE) or ""
    if not sent or not hmac.compare_digest(sent.encode(), held.encode()):
        raise OidcError("state", "This sign-in was not started in this browser, or has already finished; "
                                 "sign in again", status=400)
    async with state.pool.acquire() as conn:
        flow = await q.take_flow(conn, state_hash=state_hash(sent), lifetime_minutes=FLOW_MINUTES)
    if flow is None:
        raise OidcError("state", "This sign-in has expired or has already finished; sign in again", status=400)
    nonce, code_verifier = flow
    code = params.get("code")
    if not code:
        raise OidcError("code", "The identity provider sent no sign-in code; sign in again", status=400)
    tokens = await provider.exchange_code(code=code, code_verifier=code_verifier)
    claims = await provider.verify_id_token(tokens.id_token, nonce=nonce, access_token=tokens.access_token)
    async with state.pool.acquire() as conn, conn.transaction():
        account = await resolve_account(conn, settings, claims)
        await sync_groups(conn, settings, account.id, claims)
        opened = await open_session(request, conn, account)
        assert opened.token is not None
        await q.insert_session_token(conn, session_hash=token_hash(opened.token), id_token=tokens.id_token)
    return opened.token
