"""SCIM 2.0 endpoints for the organisation's directory, and the admin API of their tokens.

``/scim/v2`` is called by a directory (Entra ID, Okta, Keycloak), never by a browser:
it authenticates with a bearer token only, ignores the session cookie (so it needs no
CSRF token: a browser does not attach a bearer token to a forged request), answers
``application/scim+json`` and reports errors as RFC 7644 §3.12 error objects, not
problem+json. It is left out of the OpenAPI description: its own discovery endpoints
(``ServiceProviderConfig``, ``ResourceTypes``, ``Schemas``) describe it.

The tokens are created on the admin pages, shown once and stored as SHA-256 (a token is
32 random bytes: nothing to guess, so no slow hash is needed), listed with the days they
were created and last used, and revoked there.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Annotated, Any
from uuid import UUID, uuid4

import asyncpg
import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post, put, route
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT
from litestar.types import ExceptionHandlersMap

from instruments.errors import N_
from service import i18n, scim
from service.auth import requires_roles
from service.errors import DATABASE_UNAVAILABLE, Problem, problem_spec
from service.origin import absolute_url
from service.queries import accounts as accounts_q
from service.queries import groups as groups_q
from service.queries import scim as q
from service.queries.accounts import Account
from service.queries.scim import ScimToken, UserFields
from service.scim import SCIM_JSON, ScimError

PREFIX = "/scim/v2"
TOKEN_PREFIX = "candor_scim_"


def scim_token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def _answer(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response[bytes]:
    return Response(msgspec.json.encode(body), status_code=status, media_type=SCIM_JSON, headers=headers)


def _error(status: int, detail: str, scim_type: str | None = None, headers: dict[str, str] | None = None) -> Response[bytes]:
    return _answer(ScimError(status, detail, scim_type).body(), status, headers)


def handle_scim_error(_: Request, exc: ScimError) -> Response[bytes]:
    headers = {"WWW-Authenticate": 'Bearer realm="candor-scim"'} if exc.status == 401 else None
    return _answer(exc.body(), exc.status, headers)


def handle_http_exception(_: Request, exc: HTTPException) -> Response[bytes]:
    detail = exc.detail if isinstance(exc, Problem) else (exc.detail or "The request could not be handled")
    return _error(exc.status_code, detail, "invalidValue" if exc.status_code == 400 else None, exc.headers)


def handle_unavailable(_: Request, exc: Exception) -> Response[bytes]:
    return _error(503, "The database cannot be reached right now; try again shortly", headers={"Retry-After": "5"})


def handle_unstorable(_: Request, exc: Exception) -> Response[bytes]:
    return _error(400, "Text in this request contains a NUL character (U+0000), which cannot be stored",
                  "invalidValue")


async def requires_scim_token(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """A live bearer token, or 401 (the same answer for a missing, unknown or revoked one)."""
    scheme, _space, token = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ScimError(401, "This endpoint needs a SCIM bearer token (Authorization: Bearer …)")
    async with connection.app.state.pool.acquire() as conn:
        token_id = await q.use_token(conn, token_hash=scim_token_hash(token.strip()))
    if token_id is None:
        raise ScimError(401, "The bearer token is unknown or revoked")


async def _json(request: Request) -> Any:
    try:
        return msgspec.json.decode(await request.body())
    except msgspec.DecodeError as exc:
        raise ScimError(400, f"The body is not valid JSON: {exc}", "invalidSyntax") from None


def _base(state: State) -> str:
    return absolute_url(state.settings, PREFIX)


def _int(request: Request, name: str) -> int | None:
    text = request.query_params.get(name)
    if text is None or text == "":
        return None
    try:
        return int(text)
    except ValueError:
        raise ScimError(400, f"{name} must be an integer", "invalidValue") from None


def _project(request: Request, resource: dict[str, Any], schema: str) -> dict[str, Any]:
    return scim.project(resource, schema, attributes=request.query_params.get("attributes"),
                        excluded=request.query_params.get("excludedAttributes"))


def _user_fields(write: scim.UserWrite, account_id: UUID) -> UserFields:
    return UserFields(
        user_name=write.user_name, external_id=write.external_id, display_name=write.display_name, name=write.name,
        emails=write.emails, active=write.active,
        # No address from the directory: a placeholder no mail can reach (RFC 2606 .invalid).
        account_email=write.email or f"{account_id}@scim.invalid",
        account_name=write.account_name, account_active=write.active is not False,
        preferred_language=write.preferred_language,
        account_language=i18n.browser_language(None, write.preferred_language),
    )


async def _write_user(db: asyncpg.Connection, account_id: UUID, write: scim.UserWrite, *, new: bool) -> q.ScimUser:
    """Store the user and its account; a deactivated account's sessions end now."""
    if await q.user_name_taken(db, user_name=write.user_name, other_than=None if new else account_id):
        raise ScimError(409, f"userName {write.user_name!r} is taken", "uniqueness")
    fields = _user_fields(write, account_id)
    if not fields.account_active and not new:
        await _keep_an_admin(db, account_id)
    try:
        async with db.transaction():
            if new:
                await q.insert_account(db, account_id=account_id, fields=fields)
            else:
                await q.update_account(db, account_id=account_id, fields=fields)
    except asyncpg.UniqueViolationError:
        raise ScimError(409, f"The email {fields.account_email} belongs to another account", "uniqueness") from None
    if not fields.account_active:
        await accounts_q.delete_account_sessions(db, account_id=account_id)
    return await q.upsert_user(db, account_id=account_id, fields=fields)


async def _keep_an_admin(db: asyncpg.Connection, account_id: UUID) -> None:
    if await q.is_last_active_admin(db, account_id=account_id):
        raise ScimError(409, "This account is Candor's last active admin; give another account the admin role "
                        "before the directory deactivates it", "mutability")


async def _user_or_404(db: asyncpg.Connection, user_id: str) -> q.ScimUser:
    account_id = _uuid(user_id)
    user = None if account_id is None else await q.select_user(db, account_id=account_id, lock=True)
    if user is None:
        raise ScimError(404, f"No User {user_id}")
    return user


async def _group_or_404(db: asyncpg.Connection, group_id: str) -> q.ScimGroup:
    found = _uuid(group_id)
    group = None if found is None else await q.select_group(db, group_id=found, lock=True)
    if group is None:
        raise ScimError(404, f"No Group {group_id}")
    return group


def _uuid(text: str) -> UUID | None:
    try:
        return UUID(text)
    except ValueError:
        return None


async def _write_group(db: asyncpg.Connection, group_id: UUID | None, write: scim.GroupWrite) -> UUID:
    """Create (``group_id`` None) or replace a directory group; members through the
    audited ``replace_members``, with source 'scim'."""
    if write.members:
        known = await q.select_scim_accounts(db, account_ids=write.members)
        if unknown := [m for m in write.members if m not in known]:
            raise ScimError(400, f"members: no User {unknown[0]}", "invalidValue")
    taken = ScimError(409, f"A group named {write.display_name!r} exists", "uniqueness")
    if group_id is None:
        group_id = await groups_q.insert_group(db, name=write.display_name, description="")
        if group_id is None:
            raise taken
    else:
        try:
            async with db.transaction():
                await groups_q.update_group(db, group_id=group_id, name=write.display_name, description=None)
        except asyncpg.UniqueViolationError:
            raise taken from None
    await q.mark_group(db, group_id=group_id, external_id=write.external_id)
    await groups_q.replace_members(db, group_id=group_id, account_ids=write.members, actor_id=None, source="scim")
    return group_id


_SCIM_OPT = {"csrf_exempt": True, "accept": (SCIM_JSON, "application/json")}


class ScimController(Controller):
    path = PREFIX
    tags = ["scim"]
    include_in_schema = False
    guards = [requires_scim_token]
    opt = _SCIM_OPT
    exception_handlers: ExceptionHandlersMap = {  # type: ignore[assignment]  # handlers narrower than Exception
        ScimError: handle_scim_error,
        HTTPException: handle_http_exception,
        **dict.fromkeys(DATABASE_UNAVAILABLE, handle_unavailable),
        asyncpg.exceptions.CharacterNotInRepertoireError: handle_unstorable,
        asyncpg.exceptions.UntranslatableCharacterError: handle_unstorable,
    }

    # Discovery ------------------------------------------------------------------------

    @get("/ServiceProviderConfig", operation_id="scimServiceProviderConfig")
    async def service_provider_config(self, state: State) -> Response[bytes]:
        return _answer(scim.service_provider_config(_base(state)))

    @get("/ResourceTypes", operation_id="scimResourceTypes")
    async def resource_types(self, state: State) -> Response[bytes]:
        found = scim.resource_types(_base(state))
        return _answer(scim.list_response(found, total=len(found), start_index=1))

    @get("/ResourceTypes/{type_id:str}", operation_id="scimResourceType")
    async def resource_type(self, state: State, type_id: FromPath[str]) -> Response[bytes]:
        return _answer(scim.find(scim.resource_types(_base(state)), type_id, "resource type"))

    @get("/Schemas", operation_id="scimSchemas")
    async def schemas(self, state: State) -> Response[bytes]:
        found = scim.schemas(_base(state))
        return _answer(scim.list_response(found, total=len(found), start_index=1))

    @get("/Schemas/{schema_id:str}", operation_id="scimSchema")
    async def schema(self, state: State, schema_id: FromPath[str]) -> Response[bytes]:
        return _answer(scim.find(scim.schemas(_base(state)), schema_id, "schema"))

    @post("/.search", operation_id="scimSearchAll")
    async def search_all(self) -> Response[bytes]:
        raise ScimError(501, "Searching several resource types at once is not supported; GET /Users or /Groups")

    @route("/{rest:path}", http_method=["GET", "POST", "PUT", "PATCH", "DELETE"], operation_id="scimUnknown")
    async def unknown(self, rest: FromPath[str]) -> Response[bytes]:
        raise ScimError(404, f"No SCIM endpoint {PREFIX}{rest}")

    # Users ----------------------------------------------------------------------------

    @get("/Users", operation_id="scimListUsers")
    async def list_users(self, request: Request, state: State, db: NamedDependency[asyncpg.Connection]) -> Response[bytes]:
        equals = scim.parse_filter(request.query_params.get("filter"), ("userName", "externalId", "displayName", "id"),
                                   scim.USER_SCHEMA)
        offset, limit = scim.page(_int(request, "startIndex"), _int(request, "count"))
        total, users = (0, []) if equals is None else await q.select_users(db, equals=equals, offset=offset, limit=limit)
        resources = [_project(request, scim.user_resource(u, _base(state)), scim.USER_SCHEMA) for u in users]
        return _answer(scim.list_response(resources, total=total, start_index=offset + 1))

    @post("/Users", operation_id="scimCreateUser")
    async def create_user(self, request: Request, state: State, db: NamedDependency[asyncpg.Connection]) -> Response[bytes]:
        write = scim.user_write(scim.canonical_user(await _json(request)))
        account_id, new = uuid4(), True
        if write.email is not None and (existing := await q.select_linkable_account(db, email=write.email)):
            # An account made by hand before provisioning started: the directory takes it over.
            if existing[1]:
                raise ScimError(409, f"The email {write.email} belongs to another User", "uniqueness")
            account_id, new = existing[0], False
        user = await _write_user(db, account_id, write, new=new)
        resource = scim.user_resource(user, _base(state))
        return _answer(resource, 201, {"Location": resource["meta"]["location"]})

    @get("/Users/{user_id:str}", operation_id="scimGetUser")
    async def get_user(self, request: Request, state: State, db: NamedDependency[asyncpg.Connection],
                       user_id: FromPath[str]) -> Response[bytes]:
        user = await _user_or_404(db, user_id)
        return _answer(_project(request, scim.user_resource(user, _base(state)), scim.USER_SCHEMA))

    @put("/Users/{user_id:str}", operation_id="scimReplaceUser")
    async def replace_user(self, request: Request, state: State, db: NamedDependency[asyncpg.Connection],
                           user_id: FromPath[str]) -> Response[bytes]:
        user = await _user_or_404(db, user_id)
        write = scim.user_write(scim.canonical_user(await _json(request)))
        return _answer(scim.user_resource(await _write_user(db, user.id, write, new=False), _base(state)))

    @patch("/Users/{user_id:str}", operation_id="scimPatchUser")
    async def patch_user(self, request: Request, state: State, db: NamedDependency[asyncpg.Connection],
                         user_id: FromPath[str]) -> Response[bytes]:
        user = await _user_or_404(db, user_id)
        current = scim.canonical_user(scim.user_resource(user, _base(state)))
        write = scim.user_write(scim.patch_user(current, await _json(request)))
        return _answer(scim.user_resource(await _write_user(db, user.id, write, new=False), _base(state)))

    @delete("/Users/{user_id:str}", operation_id="scimDeleteUser", status_code=HTTP_204_NO_CONTENT)
    async def delete_user(self, db: NamedDependency[asyncpg.Connection], user_id: FromPath[str]) -> None:
        """Deprovision: the account is deactivated (it stays, for the trail and past
        waves), its sessions end, it leaves the directory's groups and SCIM forgets it."""
        user = await _user_or_404(db, user_id)
        await _keep_an_admin(db, user.id)
        await q.deactivate_account(db, account_id=user.id)
        await accounts_q.delete_account_sessions(db, account_id=user.id)
        for group_id in await q.select_managed_groups_of(db, account_id=user.id):
            group = await q.select_group(db, group_id=group_id, lock=True)
            if group is not None:
                await groups_q.replace_members(db, group_id=group_id, account_ids=[m for m in group.members if m != user.id],
                                               actor_id=None, source="scim")
        await q.unlink_user(db, account_id=user.id)

    # Groups ---------------------------------------------------------------------------

    @get("/Groups", operation_id="scimListGroups")
    async def list_groups(self, request: Request, state: State, db: NamedDependency[asyncpg.Connection]) -> Response[bytes]:
        equals = scim.parse_filter(request.query_params.get("filter"), ("displayName", "externalId", "id"),
                                   scim.GROUP_SCHEMA)
        offset, limit = scim.page(_int(request, "startIndex"), _int(request, "count"))
        total, groups = (0, []) if equals is None else await q.select_groups(db, equals=equals, offset=offset, limit=limit)
        resources = [_project(request, scim.group_resource(g, _base(state)), scim.GROUP_SCHEMA) for g in groups]
        return _answer(scim.list_response(resources, total=total, start_index=offset + 1))

    @post("/Groups", operation_id="scimCreateGroup")
    async def create_group(self, request: Request, state: State, db: NamedDependency[asyncpg.Connection]) -> Response[bytes]:
        write = scim.group_write(scim.canonical_group(await _json(request)))
        group = await q.select_group(db, group_id=await _write_group(db, None, write))
        assert group is not None
        resource = scim.group_resource(group, _base(state))
        return _answer(resource, 201, {"Location": resource["meta"]["location"]})

    @get("/Groups/{group_id:str}", operation_id="scimGetGroup")
    async def get_group(self, request: Request, state: State, db: NamedDependency[asyncpg.Connection],
                        group_id: FromPath[str]) -> Response[bytes]:
        group = await _group_or_404(db, group_id)
        return _answer(_project(request, scim.group_resource(group, _base(state)), scim.GROUP_SCHEMA))

    @put("/Groups/{group_id:str}", operation_id="scimReplaceGroup")
    async def replace_group(self, request: Request, state: State, db: NamedDependency[asyncpg.Connection],
                            group_id: FromPath[str]) -> Response[bytes]:
        group = await _group_or_404(db, group_id)
        await _write_group(db, group.id, scim.group_write(scim.canonical_group(await _json(request))))
        return _answer(scim.group_resource(await _group_or_404(db, group_id), _base(state)))

    @patch("/Groups/{group_id:str}", operation_id="scimPatchGroup")
    async def patch_group(self, request: Request, state: State, db: NamedDependency[asyncpg.Connection],
                          group_id: FromPath[str]) -> Response[bytes]:
        group = await _group_or_404(db, group_id)
        current = scim.canonical_group(scim.group_resource(group, _base(state)))
        await _write_group(db, group.id, scim.group_write(scim.patch_group(current, await _json(request))))
        return _answer(scim.group_resource(await _group_or_404(db, group_id), _base(state)))

    @delete("/Groups/{group_id:str}", operation_id="scimDeleteGroup", status_code=HTTP_204_NO_CONTENT)
    async def delete_group(self, db: NamedDependency[asyncpg.Connection], group_id: FromPath[str]) -> None:
        """A group that is a wave's audience stays (waves keep their audience): it is
        emptied and handed back to the admins instead, and SCIM no longer sees it."""
        group = await _group_or_404(db, group_id)
        try:
            async with db.transaction():
                await groups_q.delete_group(db, group_id=group.id, actor_id=None, source="scim")
        except asyncpg.ForeignKeyViolationError:
            await groups_q.replace_members(db, group_id=group.id, account_ids=[], actor_id=None, source="scim")
            await q.unmark_group(db, group_id=group.id)


# Tokens (admins) ---------------------------------------------------------------------

TokenName = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class TokenCreate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: TokenName


class TokenCreated(msgspec.Struct, frozen=True):
    """The token itself appears here once and is never shown again."""

    token: str
    scim_base_url: str
    details: ScimToken


_ERRORS = {401: problem_spec("Not signed in"), 403: problem_spec("Not an admin, or missing CSRF token")}


class ScimTokenController(Controller):
    path = "/api/admin/scim-tokens"
    tags = ["scim"]
    guards = [requires_roles("admin")]

    @get("/", operation_id="listScimTokens", responses=_ERRORS)
    async def list_tokens(self, db: NamedDependency[asyncpg.Connection]) -> list[ScimToken]:
        return await q.select_tokens(db)

    @post("/", operation_id="createScimToken", status_code=HTTP_201_CREATED,
          responses={**_ERRORS, 422: problem_spec("Invalid name")})
    async def create_token(self, request: Request, state: State, db: NamedDependency[asyncpg.Connection],
                           data: JSONBody[TokenCreate]) -> TokenCreated:
        me: Account = request.scope["user"]
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        created = await q.insert_token(db, name=data.name.strip() or data.name, token_hash=scim_token_hash(token),
                                       created_by=me.id)
        return TokenCreated(token=token, scim_base_url=_base(state), details=created)

    @delete("/{token_id:uuid}", operation_id="revokeScimToken", status_code=HTTP_204_NO_CONTENT,
            responses={**_ERRORS, 404: problem_spec("No such token")})
    async def revoke_token(self, db: NamedDependency[asyncpg.Connection], token_id: FromPath[UUID]) -> None:
        if await q.revoke_token(db, token_id=token_id) is None:
            raise Problem(404, "not-found", N_("No SCIM token {token_id}", token_id=token_id))
