"""SQL for groups of accounts (audiences of survey waves) and the append-only trail of
their membership changes (who changed what, on which day, from where)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

import asyncpg
import msgspec

from service.queries import truth

# Where a membership change came from: the admin page or API, the demo seed, and later
# directory sync (SCIM) and sign-in claims (OIDC).
Source = Literal["admin", "scim", "oidc", "demo"]


class Group(msgspec.Struct, frozen=True):
    id: UUID
    name: str
    description: str
    member_count: int
    created_at: datetime
    # 'scim': the organisation's directory manages it (SCIM), and admins cannot edit it.
    managed_by: Literal["admin", "scim"] = "admin"


class GroupMember(msgspec.Struct, frozen=True):
    id: UUID
    email: str
    display_name: str


_SELECT = """
    select g.id, g.name, g.description, g.created_at,
           (select count(*) from group_members m where m.group_id = g.id)::int as member_count,
           case when exists (select 1 from scim_groups s where s.group_id = g.id) then 'scim' else 'admin' end
               as managed_by
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


async def delete_group(conn: asyncpg.Connection, *, group_id: UUID, actor_id: UUID | None, source: Source) -> bool:
    """Delete the group, recording each member's removal in the trail (in one statement:
    when the group cannot go, e.g. it is a wave's audience, nothing is recorded either)."""
    return await truth(conn,
        """
        with gone as (
            delete from groups where id = $1 returning id
        ), logged as (
            insert into group_membership_audit (group_id, account_id, change, actor_id, source)
            select m.group_id, m.account_id, 'removed', $2::uuid, $3::text
            from group_members m join gone on gone.id = m.group_id
        )
        select exists (select 1 from gone)
        """,
        group_id, actor_id, source,
    )


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


async def replace_members(
    conn: asyncpg.Connection, *, group_id: UUID, account_ids: list[UUID], actor_id: UUID | None, source: Source
) -> list[UUID]:
    """Set the members, recording each account added or removed in the trail; returns the
    ids that name no account (nothing changes then). Members who stay are not touched."""
    known = await conn.fetch("select id from accounts where id = any($1::uuid[])", account_ids)
    unknown = sorted(set(account_ids) - {r["id"] for r in known}, key=str)
    if unknown:
        return unknown
    # One statement: every sub-statement sees the membership as it was before it, so the
    # delete and the insert touch disjoint rows and each row changed is logged once.
    await conn.execute(
        """
        with removed as (
            delete from group_members where group_id = $1 and account_id <> all($2::uuid[]) returning account_id
        ), added as (
            insert into group_members (group_id, account_id) select $1, unnest($2::uuid[])
            on conflict do nothing returning account_id
        )
        insert into group_membership_audit (group_id, account_id, change, actor_id, source)
        select $1, account_id, 'removed', $3::uuid, $4::text from removed
        union all
        select $1, account_id, 'added', $3::uuid, $4::text from added
        """,
        group_id, account_ids, actor_id, source,
    )
    return []


class MembershipChange(msgspec.Struct, frozen=True):
    """One entry of the trail. Names are today's; a deleted group or account keeps its id."""

    changed_on: date
    group_id: UUID
    group_name: str | None
    account_id: UUID
    account_email: str | None
    account_name: str | None
    change: Literal["added", "removed"]
    actor_id: UUID | None
    actor_email: str | None
    source: Source


async def select_membership_changes(
    conn: asyncpg.Connection, *, group_id: UUID | None = None, limit: int = 1000
) -> list[MembershipChange]:
    """The trail, newest first: of one group, or of every group (deleted ones included)."""
    rows = await conn.fetch(
        """
        select t.changed_on, t.group_id, g.name as group_name, t.account_id, a.email as account_email,
               a.display_name as account_name, t.change, t.actor_id, x.email as actor_email, t.source
        from group_membership_audit t
        left join groups g on g.id = t.group_id
        left join accounts a on a.id = t.account_id
        left join accounts x on x.id = t.actor_id
        where $1::uuid is null or t.group_id = $1
        order by t.seq desc
        limit $2
        """,
        group_id, limit,
    )
    return [MembershipChange(**dict(r)) for r in rows]
