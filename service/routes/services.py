"""The IT service catalogue: managed by admins and managers, readable by every signed-in account."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import asyncpg
import msgspec
from litestar import Controller, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from instruments.errors import N_
from service.auth import requires_login, requires_roles
from service.errors import FieldError, Problem, problem_spec
from service.queries import services as q
from service.queries.services import Service

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Description = Annotated[str, msgspec.Meta(max_length=4000)]
Hours = Annotated[int, msgspec.Meta(ge=1, le=24 * 365)]
Days = Annotated[int, msgspec.Meta(ge=1, le=3650)]


class ServiceCreate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: Name
    description: Description = ""
    sla_first_answer_hours: Hours = 24
    sla_action_days: Days = 30
    owner_ids: list[UUID] = msgspec.field(default_factory=list)


class ServiceUpdate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: Name | None = None
    description: Description | None = None
    sla_first_answer_hours: Hours | None = None
    sla_action_days: Days | None = None
    archived: bool | None = None
    owner_ids: list[UUID] | None = None


_ERRORS = {401: problem_spec("Not signed in"), 403: problem_spec("Role or CSRF token missing")}
_WRITE_ERRORS = {**_ERRORS, 409: problem_spec("Name taken"), 422: problem_spec("Invalid fields")}
_NOT_FOUND = {404: problem_spec("No such service")}
editors = requires_roles("admin", "manager")


async def _set_owners(db: NamedDependency[asyncpg.Connection], service_id: FromPath[UUID], owner_ids: list[UUID]) -> None:
    invalid = await q.replace_owners(db, service_id=service_id, account_ids=list(dict.fromkeys(owner_ids)))
    if invalid:
        raise Problem(
            422, "validation", N_("Owners must be active accounts with the owner role"),
            errors=[FieldError(field=f"owner_ids[{owner_ids.index(i)}]", reason=N_("{owner_id} is not an active owner",
                                                                                   owner_id=i)) for i in invalid],
        )


async def _load(db: NamedDependency[asyncpg.Connection], service_id: FromPath[UUID]) -> Service:
    service = await q.select_service(db, service_id=service_id)
    if service is None:
        raise Problem(404, "not-found", N_("No service {service_id}", service_id=service_id))
    return service


def _name_taken(name: str) -> Problem:
    return Problem(409, "conflict", N_("A service named {name!r} exists",
                                       name=name), errors=[FieldError(field="name", reason=N_("already taken"))])


class ServiceController(Controller):
    path = "/api/services"
    tags = ["services"]

    @get("/", operation_id="listServices", guards=[requires_login], responses=_ERRORS)
    async def list_services(self, db: NamedDependency[asyncpg.Connection], include_archived: FromQuery[bool] = False) -> list[Service]:
        return await q.select_services(db, include_archived=include_archived)

    @get("/{service_id:uuid}", operation_id="getService", guards=[requires_login], responses={**_ERRORS, **_NOT_FOUND})
    async def get_service(self, db: NamedDependency[asyncpg.Connection], service_id: FromPath[UUID]) -> Service:
        return await _load(db, service_id)

    @post("/", operation_id="createService", guards=[editors], status_code=HTTP_201_CREATED, responses=_WRITE_ERRORS)
    async def create_service(self, db: NamedDependency[asyncpg.Connection], data: JSONBody[ServiceCreate]) -> Service:
        service_id = await q.insert_service(
            db,
            name=data.name,
            description=data.description,
            sla_first_answer_hours=data.sla_first_answer_hours,
            sla_action_days=data.sla_action_days,
        )
        if service_id is None:
            raise _name_taken(data.name)
        await _set_owners(db, service_id, data.owner_ids)
        return await _load(db, service_id)

    @patch("/{service_id:uuid}", operation_id="updateService", guards=[editors],
           responses={**_WRITE_ERRORS, **_NOT_FOUND})
    async def update_service(self, db: NamedDependency[asyncpg.Connection], service_id: FromPath[UUID], data: JSONBody[ServiceUpdate]) -> Service:
        try:
            async with db.transaction():
                found = await q.update_service(
                    db,
                    service_id=service_id,
                    name=data.name,
                    description=data.description,
                    sla_first_answer_hours=data.sla_first_answer_hours,
                    sla_action_days=data.sla_action_days,
                    archived=data.archived,
                )
        except asyncpg.UniqueViolationError:
            raise _name_taken(data.name or "") from None
        if not found:
            raise Problem(404, "not-found", N_("No service {service_id}", service_id=service_id))
        if data.owner_ids is not None:
            await _set_owners(db, service_id, data.owner_ids)
        return await _load(db, service_id)
