"""Admin API for accounts: create, list, change roles, deactivate."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

import asyncpg
import msgspec
from litestar import Controller, Request, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from instruments.errors import N_
from service.auth import requires_roles
from service.errors import Problem, problem_spec
from service.passwords import hash_password
from service.queries import accounts as q
from service.queries.accounts import Account

Role = Literal["member", "owner", "manager", "moderator", "admin"]
Email = Annotated[str, msgspec.Meta(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Password = Annotated[str, msgspec.Meta(min_length=10, max_length=1024)]


class AccountCreate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    email: Email
    display_name: Name
    password: Password
    roles: Annotated[list[Role], msgspec.Meta(min_length=1)] = msgspec.field(default_factory=lambda: ["member"])


class AccountUpdate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    display_name: Name | None = None
    roles: Annotated[list[Role], msgspec.Meta(min_length=1)] | None = None
    active: bool | None = None
    password: Password | None = None


_ERRORS = {
    401: problem_spec("Not signed in"),
    403: problem_spec("Not an admin, or missing CSRF token"),
    422: problem_spec("Invalid fields"),
}


class AccountController(Controller):
    path = "/api/accounts"
    tags = ["accounts"]
    guards = [requires_roles("admin")]

    @get("/", operation_id="listAccounts", responses=_ERRORS)
    async def list_accounts(self, db: NamedDependency[asyncpg.Connection]) -> list[Account]:
        return await q.select_accounts(db)

    @post(
        "/",
        operation_id="createAccount",
        status_code=HTTP_201_CREATED,
        responses={**_ERRORS, 409: problem_spec("The email is taken")},
    )
    async def create_account(self, db: NamedDependency[asyncpg.Connection], data: JSONBody[AccountCreate]) -> Account:
        account = await q.insert_account(
            db,
            email=data.email,
            display_name=data.display_name,
            password_hash=await hash_password(data.password),
            roles=list(data.roles),
        )
        if account is None:
            raise Problem(409, "conflict", N_("An account with email {email} exists", email=data.email.lower()))
        return account

    @get("/{account_id:uuid}", operation_id="getAccount", responses={**_ERRORS, 404: problem_spec("No such account")})
    async def get_account(self, db: NamedDependency[asyncpg.Connection], account_id: FromPath[UUID]) -> Account:
        account = await q.select_account(db, account_id=account_id)
        if account is None:
            raise Problem(404, "not-found", N_("No account {account_id}", account_id=account_id))
        return account

    @patch(
        "/{account_id:uuid}",
        operation_id="updateAccount",
        responses={**_ERRORS, 404: problem_spec("No such account"), 409: problem_spec("Would remove the last admin")},
    )
    async def update_account(
        self, request: Request, db: NamedDependency[asyncpg.Connection], account_id: FromPath[UUID], data: JSONBody[AccountUpdate]
    ) -> Account:
        me: Account = request.scope["user"]
        losing_admin = data.active is False or (data.roles is not None and "admin" not in data.roles)
        if me.id == account_id and losing_admin:
            raise Problem(409, "conflict", N_("An admin cannot remove their own admin access"))
        account = await q.update_account(
            db,
            account_id=account_id,
            display_name=data.display_name,
            roles=list(data.roles) if data.roles is not None else None,
            active=data.active,
            password_hash=await hash_password(data.password) if data.password else None,
        )
        if account is None:
            raise Problem(404, "not-found", N_("No account {account_id}", account_id=account_id))
        if data.active is False or data.password:
            await q.delete_account_sessions(db, account_id=account_id)
        return account
