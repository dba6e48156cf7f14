"""SQL for groups of accounts (audiences of survey waves)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec


class Group(msgspec.Struct, frozen=True):
    id: UUID
    name: str
    description: str
    member_count: int
    created_at: datetime


class GroupMember(msgspec.Struct, frozen=True):
    id: UUID
    email: str
    display_name: str


_SELECT = """
    select g.id, g.name, g.description, g.created_at,
           (select count(*) from group_members m where m.group_id = g.id)::int as member_count
    from groups g
"""


async def select_groups(conn: asyncpg.Connection) -> list[Group]:
    return [Group(**dict(r)) for r in await conn.fetch(_SELECT + " order by lower(g.name)")]


async def select_group(conn: asyncpg.Connection, *, group_id: UUID) -> Group | None:
    row = await conn.fetchrow(_SELECT + " where g.id = $1", group_id)
    return None if row is None else Group(**dict(row))


async def insert_group(conn: asyncpg.Connection, *, name: str, description: str) -> UUID | None:
    """The new group's id; ``None`` when the name is taken."""
    return await conn.fetchval(
        "insert into groups (name, description) values ($1, $2) on conflict do nothing returning id",
        name, description,
    )


async def update_group(
    conn: asyncpg.Connection, *, group_id: UUID, name: str | None, description: str | None
) -> bool:
    """False when there is no such group. Raises UniqueViolationError on a taken name."""
    status = await conn.execute(
        "update groups set name = coalesce($2, name), description = coalesce($3, description) where id = $1",
        group_id, name, description,
    )
    return status != "UPDATE 0"


async def delete_group(conn: asyncpg.Connection, *, group_id: UUID) -> bool:
    return await conn.execute("delete from groups where id = $1", group_id) != "DELETE 0"


async def select_members(conn: asyncpg.Connection, *, group_id: UUID) -> list[GroupMember]:
    rows = await conn.fetch(
        """
        select a.id, a.email, a.display_name
        from group_members m join accounts a on a.id = m.account_id
        where m.group_id = $1 order by a.email
        """,
        group_id,
    )
    return [GroupMember(**dict(r)) for r in rows]


async def replace_members(conn: asyncpg.Connection, *, group_id: UUID, account_ids: list[UUID]) -> list[UUID]:
    """Set the members; returns the ids that name no account (nothing changes then)."""
    known = await conn.fetch("select id from accounts where id = any($1::uuid[])", account_ids)
    unknown = sorted(set(account_ids) - {r["id"] for r in known}, key=str)
    if unknown:
        return unknown
    await conn.execute("delete from group_members where group_id = $1", group_id)
    await conn.execute(
        "insert into group_members (group_id, account_id) select $1, unnest($2::uuid[]) on conflict do nothing",
        group_id, account_ids,
    )
    return []
