"""SQL for SCIM provisioning: bearer tokens, the directory's view of accounts (Users)
and the groups it manages (Groups).

Membership changes do not happen here: they go through ``service.queries.groups`` with
source ``'scim'``, so the append-only trail records every one of them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

# Tokens ------------------------------------------------------------------------------


class ScimToken(msgspec.Struct, frozen=True):
    id: UUID
    name: str
    created_on: date
    last_used_on: date | None
    revoked_on: date | None


_TOKEN_COLUMNS = "id, name, created_on, last_used_on, revoked_on"


async def insert_token(conn: asyncpg.Connection, *, name: str, token_hash: bytes, created_by: UUID) -> ScimToken:
    row = await conn.fetchrow(
        f"insert into scim_tokens (name, token_hash, created_by) values ($1, $2, $3) returning {_TOKEN_COLUMNS}",
        name, token_hash, created_by,
    )
    assert row is not None
    return ScimToken(**dict(row))


async def select_tokens(conn: asyncpg.Connection) -> list[ScimToken]:
    rows = await conn.fetch(f"select {_TOKEN_COLUMNS} from scim_tokens order by created_on desc, name")
    return [ScimToken(**dict(r)) for r in rows]


async def revoke_token(conn: asyncpg.Connection, *, token_id: UUID) -> ScimToken | None:
    """Revoke (idempotently: the first revocation's day stays); ``None`` when there is no such token."""
    row = await conn.fetchrow(
        f"""update scim_tokens set revoked_on = coalesce(revoked_on, current_date) where id = $1
            returning {_TOKEN_COLUMNS}""",
        token_id,
    )
    return None if row is None else ScimToken(**dict(row))


async def use_token(conn: asyncpg.Connection, *, token_hash: bytes) -> UUID | None:
    """The live token's id, noting today as its last use (written once a day, not per request)."""
    return await conn.fetchval(
        """
        with live as (
            select id from scim_tokens where token_hash = $1 and revoked_on is null
        ), noted as (
            update scim_tokens set last_used_on = current_date
            where id in (select id from live) and last_used_on is distinct from current_date
        )
        select id from live
        """,
        token_hash,
    )


# Users -------------------------------------------------------------------------------


class ScimUser(msgspec.Struct, frozen=True):
    """What the directory wrote, plus the account's own active flag."""

    id: UUID
    user_name: str
    external_id: str | None
    display_name: str | None
    name: dict[str, Any] | None
    emails: list[dict[str, Any]]
    active: bool | None
    created_at: datetime
    updated_at: datetime
    preferred_language: str | None = None


class UserFields(msgspec.Struct, frozen=True):
    """The directory's attributes of a user and what the account is derived to be."""

    user_name: str
    external_id: str | None
    display_name: str | None
    name: dict[str, Any] | None
    emails: list[dict[str, Any]]
    active: bool | None
    account_email: str
    account_name: str
    account_active: bool
    preferred_language: str | None = None
    # A language Candor speaks, from preferredLanguage: the account's unless its member chose one.
    account_language: str | None = None


_USER_SELECT = """
    select u.account_id as id, u.user_name, u.external_id, u.display_name, u.name, u.emails, u.active,
           u.created_at, u.updated_at, u.preferred_language
    from scim_users u
"""


def _user(row: asyncpg.Record | None) -> ScimUser | None:
    return None if row is None else ScimUser(**dict(row))


async def select_user(conn: asyncpg.Connection, *, account_id: UUID, lock: bool = False) -> ScimUser | None:
    return _user(await conn.fetchrow(_USER_SELECT + " where u.account_id = $1" + (" for update" if lock else ""),
                                     account_id))


async def select_users(
    conn: asyncpg.Connection, *, equals: dict[str, str], offset: int, limit: int
) -> tuple[int, list[ScimUser]]:
    """Users matching every ``equals`` condition (userName without regard to case),
    ordered by creation: (how many match, the page asked for)."""
    where = """
        where ($1::text is null or lower(u.user_name) = lower($1))
          and ($2::text is null or u.external_id = $2)
          and ($3::text is null or u.display_name = $3)
          and ($4::uuid is null or u.account_id = $4)
    """
    args = (equals.get("userName"), equals.get("externalId"), equals.get("displayName"), _uuid(equals.get("id")))
    if equals.get("id") is not None and args[3] is None:
        return 0, []
    total = int(await conn.fetchval("select count(*) from scim_users u" + where, *args) or 0)
    rows = await conn.fetch(_USER_SELECT + where + " order by u.created_at, u.account_id offset $5 limit $6",
                            *args, offset, limit)
    return total, [ScimUser(**dict(r)) for r in rows]


def _uuid(text: str | None) -> UUID | None:
    try:
        return None if text is None else UUID(text)
    except ValueError:
        return None


async def select_linkable_account(conn: asyncpg.Connection, *, email: str) -> tuple[UUID, bool] | None:
    """An account with this email: (its id, whether the directory already manages it)."""
    row = await conn.fetchrow(
        """select a.id, exists (select 1 from scim_users u where u.account_id = a.id) as linked
           from accounts a where a.email = $1""",
        email,
    )
    return None if row is None else (row["id"], row["linked"])


async def user_name_taken(conn: asyncpg.Connection, *, user_name: str, other_than: UUID | None = None) -> bool:
    return bool(await conn.fetchval(
        "select exists (select 1 from scim_users where lower(user_name) = lower($1) and account_id is distinct from $2)",
        user_name, other_than,
    ))


# A directory account has no password: this is no argon2 hash, so no password matches it.
NO_PASSWORD = "!scim"


async def insert_account(conn: asyncpg.Connection, *, account_id: UUID, fields: UserFields) -> None:
    """A new member account for the directory. Raises UniqueViolationError on a taken email."""
    await conn.execute(
        """insert into accounts (id, email, display_name, password_hash, roles, active, language)
           values ($1, $2, $3, $4, '{member}', $5, $6)""",
        account_id, fields.account_email, fields.account_name, NO_PASSWORD, fields.account_active,
        fields.account_language,
    )


async def update_account(conn: asyncpg.Connection, *, account_id: UUID, fields: UserFields) -> None:
    """Email, name and active flag as the directory says (roles stay the admin's), and its
    language unless the member chose one. Raises UniqueViolationError on a taken email."""
    await conn.execute(
        """update accounts set email = $2, display_name = $3, active = $4,
                  language = case when language_chosen or $5::text is null then language else $5 end
           where id = $1""",
        account_id, fields.account_email, fields.account_name, fields.account_active, fields.account_language,
    )


async def upsert_user(conn: asyncpg.Connection, *, account_id: UUID, fields: UserFields) -> ScimUser:
    row = await conn.fetchrow(
        """
        insert into scim_users (account_id, user_name, external_id, display_name, name, emails, active,
                                preferred_language)
        values ($1, $2, $3, $4, $5, $6, $7, $8)
        on conflict (account_id) do update set
            user_name = excluded.user_name, external_id = excluded.external_id,
            display_name = excluded.display_name, name = excluded.name, emails = excluded.emails,
            active = excluded.active, preferred_language = excluded.preferred_language, updated_at = now()
        returning account_id as id, user_name, external_id, display_name, name, emails, active, created_at, updated_at,
                  preferred_language
        """,
        account_id, fields.user_name, fields.external_id, fields.display_name, fields.name, fields.emails,
        fields.active, fields.preferred_language,
    )
    assert row is not None
    return ScimUser(**dict(row))


async def unlink_user(conn: asyncpg.Connection, *, account_id: UUID) -> bool:
    """The directory forgets the account (which stays, deactivated, for the trail)."""
    status = await conn.execute("delete from scim_users where account_id = $1", account_id)
    return status != "DELETE 0"


async def is_last_active_admin(conn: asyncpg.Connection, *, account_id: UUID) -> bool:
    """Whether deactivating this account would leave no active admin (nobody could then
    manage accounts or revoke the directory's token)."""
    return bool(await conn.fetchval(
        """select exists (select 1 from accounts where id = $1 and active and 'admin' = any(roles))
              and not exists (select 1 from accounts where id <> $1 and active and 'admin' = any(roles))""",
        account_id,
    ))


async def deactivate_account(conn: asyncpg.Connection, *, account_id: UUID) -> None:
    await conn.execute("update accounts set active = false where id = $1", account_id)


async def select_scim_accounts(conn: asyncpg.Connection, *, account_ids: list[UUID]) -> set[UUID]:
    """Which of these ids are accounts the directory manages."""
    rows = await conn.fetch("select account_id from scim_users where account_id = any($1::uuid[])", account_ids)
    return {r["account_id"] for r in rows}


async def select_managed_groups_of(conn: asyncpg.Connection, *, account_id: UUID) -> list[UUID]:
    rows = await conn.fetch(
        """select m.group_id from group_members m join scim_groups s on s.group_id = m.group_id
           where m.account_id = $1 order by m.group_id""",
        account_id,
    )
    return [r["group_id"] for r in rows]


# Groups ------------------------------------------------------------------------------


class ScimGroup(msgspec.Struct, frozen=True):
    id: UUID
    display_name: str
    external_id: str | None
    members: list[UUID]
    created_at: datetime
    updated_at: datetime


_GROUP_SELECT = """
    select g.id, g.name as display_name, s.external_id, s.created_at, s.updated_at,
           coalesce((select array_agg(m.account_id order by m.account_id) from group_members m
                     where m.group_id = g.id), '{}') as members
    from scim_groups s join groups g on g.id = s.group_id
"""


async def select_group(conn: asyncpg.Connection, *, group_id: UUID, lock: bool = False) -> ScimGroup | None:
    if lock:
        await conn.execute("select 1 from scim_groups where group_id = $1 for update", group_id)
    row = await conn.fetchrow(_GROUP_SELECT + " where s.group_id = $1", group_id)
    return None if row is None else ScimGroup(**dict(row))


async def select_groups(
    conn: asyncpg.Connection, *, equals: dict[str, str], offset: int, limit: int
) -> tuple[int, list[ScimGroup]]:
    where = """
        where ($1::text is null or g.name = $1)
          and ($2::text is null or s.external_id = $2)
          and ($3::uuid is null or s.group_id = $3)
    """
    args = (equals.get("displayName"), equals.get("externalId"), _uuid(equals.get("id")))
    if equals.get("id") is not None and args[2] is None:
        return 0, []
    total = int(await conn.fetchval(
        "select count(*) from scim_groups s join groups g on g.id = s.group_id" + where, *args) or 0)
    rows = await conn.fetch(_GROUP_SELECT + where + " order by s.created_at, s.group_id offset $4 limit $5",
                            *args, offset, limit)
    return total, [ScimGroup(**dict(r)) for r in rows]


async def mark_group(conn: asyncpg.Connection, *, group_id: UUID, external_id: str | None) -> None:
    """The group is (still) the directory's: record or update its external id."""
    await conn.execute(
        """insert into scim_groups (group_id, external_id) values ($1, $2)
           on conflict (group_id) do update set external_id = excluded.external_id, updated_at = now()""",
        group_id, external_id,
    )


async def unmark_group(conn: asyncpg.Connection, *, group_id: UUID) -> None:
    await conn.execute("delete from scim_groups where group_id = $1", group_id)


async def is_managed(conn: asyncpg.Connection, *, group_id: UUID) -> bool:
    return bool(await conn.fetchval("select exists (select 1 from scim_groups where group_id = $1)", group_id))
