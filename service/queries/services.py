"""SQL for the IT service catalogue."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec


class ServiceOwner(msgspec.Struct, frozen=True):
    id: UUID
    display_name: str


class Service(msgspec.Struct, frozen=True):
    id: UUID
    name: str
    description: str
    sla_first_answer_hours: int
    sla_action_days: int
    archived: bool
    owners: list[ServiceOwner]
    created_at: datetime


_SELECT = """
    select s.id, s.name, s.description, s.sla_first_answer_hours, s.sla_action_days, s.archived,
           s.created_at,
           coalesce((select jsonb_agg(jsonb_build_object('id', a.id, 'display_name', a.display_name)
                                      order by a.display_name)
                     from service_owners o join accounts a on a.id = o.account_id
                     where o.service_id = s.id), '[]'::jsonb) as owners
    from services s
"""


def _service(row: asyncpg.Record) -> Service:
    data = dict(row)
    data["owners"] = msgspec.convert(data["owners"], list[ServiceOwner])
    return Service(**data)


async def select_services(conn: asyncpg.Connection, *, include_archived: bool) -> list[Service]:
    rows = await conn.fetch(_SELECT + " where $1 or not s.archived order by lower(s.name)", include_archived)
    return [_service(r) for r in rows]


async def select_service(conn: asyncpg.Connection, *, service_id: UUID) -> Service | None:
    row = await conn.fetchrow(_SELECT + " where s.id = $1", service_id)
    return None if row is None else _service(row)


async def owns_service(conn: asyncpg.Connection, *, service_id: UUID, account_id: UUID) -> bool:
    """Whether the account is one of the service's owners: the one check of service
    ownership (a role is not checked here; the routes' guards decide the roles)."""
    return bool(await conn.fetchval(
        "select exists (select 1 from service_owners where service_id = $1 and account_id = $2)",
        service_id, account_id,
    ))


async def insert_service(
    conn: asyncpg.Connection, *, name: str, description: str, sla_first_answer_hours: int, sla_action_days: int
) -> UUID | None:
    return await conn.fetchval(
        """
        insert into services (name, description, sla_first_answer_hours, sla_action_days)
        values ($1, $2, $3, $4) on conflict do nothing returning id
        """,
        name, description, sla_first_answer_hours, sla_action_days,
    )


async def update_service(
    conn: asyncpg.Connection,
    *,
    service_id: UUID,
    name: str | None,
    description: str | None,
    sla_first_answer_hours: int | None,
    sla_action_days: int | None,
    archived: bool | None,
) -> bool:
    status = await conn.execute(
        """
        update services set
            name = coalesce($2, name),
            description = coalesce($3, description),
            sla_first_answer_hours = coalesce($4, sla_first_answer_hours),
            sla_action_days = coalesce($5, sla_action_days),
            archived = coalesce($6, archived)
        where id = $1
        """,
        service_id, name, description, sla_first_answer_hours, sla_action_days, archived,
    )
    return status != "UPDATE 0"


async def replace_owners(conn: asyncpg.Connection, *, service_id: UUID, account_ids: list[UUID]) -> list[UUID]:
    """Set the owners; returns ids that are not active accounts holding the owner role."""
    valid = await conn.fetch(
        "select id from accounts where id = any($1::uuid[]) and active and 'owner' = any(roles)", account_ids
    )
    invalid = sorted(set(account_ids) - {r["id"] for r in valid}, key=str)
    if invalid:
        return invalid
    await conn.execute("delete from service_owners where service_id = $1", service_id)
    await conn.execute(
        "insert into service_owners (service_id, account_id) select $1, unnest($2::uuid[]) on conflict do nothing",
        service_id, account_ids,
    )
    return []
