"""Groups of accounts: managed by admins, readable by managers (who pick wave audiences).

Every membership change is recorded in an append-only trail that admins read: whoever
pads an audience with accounts they control (to shrink the difference between two
waves' audiences) shows up there by name and date.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import asyncpg
import msgspec
from litestar import Controller, Request, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from instruments.errors import N_
from service.auth import requires_roles
from service.errors import FieldError, Problem, problem_spec
from service.queries import groups as q
from service.queries import scim as scim_q
from service.queries.accounts import Account
from service.queries.groups import Group, GroupMember, MembershipChange

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Description = Annotated[str, msgspec.Meta(max_length=2000)]
Limit = Annotated[int, QueryParameter(ge=1, le=10_000)]


class GroupCreate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: Name
    description: Description = ""


class GroupUpdate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: Name | None = None
    description: Description | None = None


class MembersIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    account_ids: Annotated[list[UUID], msgspec.Meta(max_length=100_000)]


class GroupDetail(msgspec.Struct, frozen=True):
    group: Group
    members: list[GroupMember]


_ERRORS = {401: problem_spec("Not signed in"), 403: problem_spec("Role or CSRF token missing")}
_NOT_FOUND = {404: problem_spec("No such group")}
admin = requires_roles("admin")


async def _detail(db: NamedDependency[asyncpg.Connection], group_id: FromPath[UUID]) -> GroupDetail:
    group = await q.select_group(db, group_id=group_id)
    if group is None:
        raise Problem(404, "not-found", N_("No group {group_id}", group_id=group_id))
    return GroupDetail(group=group, members=await q.select_members(db, group_id=group_id))


def _me(request: Request) -> Account:
    return request.scope["user"]


async def _editable(db: asyncpg.Connection, group_id: UUID) -> None:
    """A group the directory manages (SCIM) changes only through the directory: a hand
    edit would be undone at the next sync, and an audience from the directory must not
    be quietly padded by hand."""
    if await scim_q.is_managed(db, group_id=group_id):
        raise Problem(409, "conflict", N_("This group is managed by your directory (SCIM): change its name and "
                      "members in the directory, which provisions them here"))


_MANAGED = {409: problem_spec("The group is managed by the directory (SCIM)")}


def _name_taken(name: str) -> Problem:
    return Problem(409, "conflict", N_("A group named {name!r} exists",
                                       name=name), errors=[FieldError(field="name", reason=N_("already taken"))])


class GroupController(Controller):
    path = "/api/groups"
    tags = ["groups"]
    guards = [requires_roles("admin", "manager")]

    @get("/", operation_id="listGroups", responses=_ERRORS)
    async def list_groups(self, db: NamedDependency[asyncpg.Connection]) -> list[Group]:
        return await q.select_groups(db)

    @post(
        "/",
        operation_id="createGroup",
        guards=[admin],
        status_code=HTTP_201_CREATED,
        responses={**_ERRORS, 409: problem_spec("Name taken"), 422: problem_spec("Invalid fields")},
    )
    async def create_group(self, db: NamedDependency[asyncpg.Connection], data: JSONBody[GroupCreate]) -> GroupDetail:
        group_id = await q.insert_group(db, name=data.name, description=data.description)
        if group_id is None:
            raise _name_taken(data.name)
        return await _detail(db, group_id)

    @get("/{group_id:uuid}", operation_id="getGroup", responses={**_ERRORS, **_NOT_FOUND})
    async def get_group(self, db: NamedDependency[asyncpg.Connection], group_id: FromPath[UUID]) -> GroupDetail:
        return await _detail(db, group_id)

    @patch(
        "/{group_id:uuid}",
        operation_id="updateGroup",
        guards=[admin],
        responses={**_ERRORS, **_NOT_FOUND, 409: problem_spec("Name taken, or managed by the directory (SCIM)"),
                   422: problem_spec("Invalid fields")},
    )
    async def update_group(self, db: NamedDependency[asyncpg.Connection], group_id: FromPath[UUID], data: JSONBody[GroupUpdate]) -> GroupDetail:
        await _editable(db, group_id)
        try:
            async with db.transaction():
                found = await q.update_group(db, group_id=group_id, name=data.name, description=data.description)
        except asyncpg.UniqueViolationError:
            raise _name_taken(data.name or "") from None
        if not found:
            raise Problem(404, "not-found", N_("No group {group_id}", group_id=group_id))
        return await _detail(db, group_id)

    @delete("/{group_id:uuid}", operation_id="deleteGroup", guards=[admin], status_code=HTTP_204_NO_CONTENT,
            responses={**_ERRORS, **_NOT_FOUND,
                       409: problem_spec("The group is a wave's audience, or managed by the directory (SCIM)")})
    async def delete_group(
        self, request: Request, db: NamedDependency[asyncpg.Connection], group_id: FromPath[UUID]
    ) -> None:
        await _editable(db, group_id)
        try:
            async with db.transaction():
                deleted = await q.delete_group(db, group_id=group_id, actor_id=_me(request).id, source="admin")
        except asyncpg.ForeignKeyViolationError:
            raise Problem(409, "conflict", N_("The group is the audience of a survey wave; waves keep their audience, "
                          "so it cannot be deleted")) from None
        if not deleted:
            raise Problem(404, "not-found", N_("No group {group_id}", group_id=group_id))

    @put(
        "/{group_id:uuid}/members",
        operation_id="setGroupMembers",
        guards=[admin],
        responses={**_ERRORS, **_NOT_FOUND, **_MANAGED, 422: problem_spec("Unknown account ids")},
    )
    async def set_members(
        self, request: Request, db: NamedDependency[asyncpg.Connection], group_id: FromPath[UUID],
        data: JSONBody[MembersIn],
    ) -> GroupDetail:
        if await q.select_group(db, group_id=group_id) is None:
            raise Problem(404, "not-found", N_("No group {group_id}", group_id=group_id))
        await _editable(db, group_id)
        unknown = await q.replace_members(db, group_id=group_id, account_ids=list(dict.fromkeys(data.account_ids)),
                                          actor_id=_me(request).id, source="admin")
        if unknown:
            raise Problem(
                422, "validation", N_("Some account ids name no account"),
                errors=[FieldError(field=f"account_ids[{data.account_ids.index(u)}]", reason=N_("no account {account_id}", account_id=u)) for u in unknown],
            )
        return await _detail(db, group_id)

    @get("/audit", operation_id="listGroupMembershipChanges", guards=[admin],
         responses={**_ERRORS, 422: problem_spec("Invalid limit")})
    async def audit(
        self, db: NamedDependency[asyncpg.Connection], limit: Limit = 1000
    ) -> list[MembershipChange]:
        """Every group's membership changes, newest first (deleted groups included)."""
        return await q.select_membership_changes(db, limit=limit)

    @get("/{group_id:uuid}/audit", operation_id="listGroupMembershipChangesOfGroup", guards=[admin],
         responses={**_ERRORS, 422: problem_spec("Invalid limit")})
    async def group_audit(
        self, db: NamedDependency[asyncpg.Connection], group_id: FromPath[UUID], limit: Limit = 1000
    ) -> list[MembershipChange]:
        """One group's membership changes, newest first; a deleted group's history stays readable."""
        return await q.select_membership_changes(db, group_id=group_id, limit=limit)
