"""Sign in, sign out, and who am I."""

from __future__ import annotations

from typing import Annotated

import asyncpg
import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from instruments.errors import N_
from service.auth import (
    SESSION_COOKIE,
    requires_login,
    session_cookie,
    sign_in,
    token_hash,
)
from service.errors import Problem, problem_spec
from service.queries import accounts as q
from service.queries.accounts import Account


class LoginIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    email: Annotated[str, msgspec.Meta(min_length=3, max_length=254)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]


class Me(msgspec.Struct, frozen=True):
    account: Account
    csrf_token: str


class AuthController(Controller):
    path = "/api/auth"
    tags = ["auth"]

    @post(
        "/login",
        operation_id="login",
        status_code=HTTP_200_OK,
        opt={"csrf_exempt": True},
        responses={
            401: problem_spec("Email or password is wrong (the same answer for an unknown email)"),
            403: problem_spec("Password sign-in is switched off (CANDOR_PASSWORD_LOGIN=false)"),
            429: problem_spec("Too many failed attempts for this email; see Retry-After"),
            503: problem_spec("Too many sign-ins checked at once, or the database is unreachable; see Retry-After"),
        },
    )
    async def login(
        self, request: Request, state: State, db: NamedDependency[asyncpg.Connection], data: JSONBody[LoginIn]
    ) -> Response[Me]:
        if not state.settings.password_login:
            raise Problem(403, "password-login-disabled",
                          N_("Passwords are switched off here; sign in with {oidc_provider_name} at /auth/oidc/login",
                             oidc_provider_name=state.settings.oidc_provider_name))
        result = await sign_in(request, state, db, email=data.email, password=data.password)
        # commit=True: the attempt's count is kept with the error answer.
        if result.status == 429:
            raise Problem(429, "too-many-requests", N_("Too many failed sign-in attempts; try again later"),
                          headers={"Retry-After": str(result.retry_after)}, commit=True)
        if result.token is None or result.account is None or result.csrf_token is None:
            raise Problem(401, "invalid-credentials", N_("Email or password is wrong"), commit=True)
        return Response(Me(account=result.account, csrf_token=result.csrf_token),
                        cookies=[session_cookie(state.settings, request, result.token)])

    @post("/logout", operation_id="logout", status_code=HTTP_204_NO_CONTENT)
    async def logout(self, request: Request, state: State, db: NamedDependency[asyncpg.Connection]) -> Response[None]:
        if token := request.cookies.get(SESSION_COOKIE):
            await q.delete_session(db, token_hash=token_hash(token))
        return Response(None, status_code=HTTP_204_NO_CONTENT, cookies=[session_cookie(state.settings, request, None)])

    @get("/me", operation_id="me", guards=[requires_login], responses={401: problem_spec("Not signed in")})
    async def me(self, request: Request) -> Me:
        return Me(account=request.scope["user"], csrf_token=request.scope["auth"].csrf_token)
