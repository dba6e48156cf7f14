"""SQL for OpenID Connect sign-in: flows under way, accounts by (issuer, subject), the
groups a sign-in's claims manage, and the ID token kept for signing out."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from service.queries.accounts import _COLUMNS, Account, _account

# An account the provider created has no password: this is no argon2 hash, so no
# password matches it (sign-in answers as for a wrong password).
NO_PASSWORD = "!oidc"


# Flows --------------------------------------------------------------------------------


async def insert_flow(
    conn: asyncpg.Connection, *, state_hash: bytes, nonce: str, code_verifier: str, lifetime_minutes: int
) -> None:
    """Store a new flow; flows older than their lifetime go at the same time (a browser
    that never came back leaves no row for long)."""
    await conn.execute(
        "delete from oidc_flows where created_at <= now() - make_interval(mins => $1)", lifetime_minutes
    )
    await conn.execute(
        "insert into oidc_flows (state_hash, nonce, code_verifier) values ($1, $2, $3)",
        state_hash, nonce, code_verifier,
    )


async def take_flow(
    conn: asyncpg.Connection, *, state_hash: bytes, lifetime_minutes: int
) -> tuple[str, str] | None:
    """(nonce, code verifier) of the live flow, deleted in the same statement: a state
    is good for one callback. ``None`` for an unknown, used or expired state."""
    row = await conn.fetchrow(
        """
        delete from oidc_flows where state_hash = $1
        returning nonce, code_verifier, created_at > now() - make_interval(mins => $2) as live
        """,
        state_hash, lifetime_minutes,
    )
    if row is None or not row["live"]:
        return None
    return row["nonce"], row["code_verifier"]


# Accounts -----------------------------------------------------------------------------


async def select_account_by_subject(conn: asyncpg.Connection, *, issuer: str, subject: str) -> Account | None:
    return _account(await conn.fetchrow(
        f"select {_COLUMNS} from accounts where oidc_issuer = $1 and oidc_subject = $2", issuer, subject
    ))


async def link_account(conn: asyncpg.Connection, *, email: str, issuer: str, subject: str) -> Account | None:
    """Tie the local account with ``email`` to (issuer, subject), once: ``None`` when there
    is no such account or it is tied to a subject already."""
    return _account(await conn.fetchrow(
        f"""
        update accounts set oidc_issuer = $2, oidc_subject = $3
        where email = $1 and oidc_subject is null
        returning {_COLUMNS}
        """,
        email.lower(), issuer, subject,
    ))


async def insert_account(
    conn: asyncpg.Connection, *, email: str, display_name: str, issuer: str, subject: str, roles: list[str]
) -> Account | None:
    """A new account known by (issuer, subject); ``None`` when the email is taken."""
    return _account(await conn.fetchrow(
        f"""
        insert into accounts (email, display_name, password_hash, roles, oidc_issuer, oidc_subject)
        values ($1, $2, $3, $4, $5, $6)
        on conflict do nothing
        returning {_COLUMNS}
        """,
        email.lower(), display_name, NO_PASSWORD, sorted(set(roles)), issuer, subject,
    ))


# Groups -------------------------------------------------------------------------------


async def select_groups_named(conn: asyncpg.Connection, *, names: list[str]) -> dict[str, UUID]:
    """Lower-cased name -> id of the groups named in ``names`` (compared without case),
    leaving out groups the directory manages (SCIM): their members are the directory's."""
    rows = await conn.fetch(
        """
        select g.id, lower(g.name) as key from groups g
        where lower(g.name) = any($1::text[])
          and not exists (select 1 from scim_groups s where s.group_id = g.id)
        """,
        [n.lower() for n in names],
    )
    return {r["key"]: r["id"] for r in rows}


async def select_memberships(conn: asyncpg.Connection, *, account_id: UUID) -> tuple[set[UUID], set[UUID]]:
    """(every group the account is in, those of them whose latest change for this account
    came from sign-in claims). Only the second set is the provider's to take away: a
    membership an admin or the directory gave stays when the claim does not name it."""
    rows = await conn.fetch(
        """
        select m.group_id,
               (select t.source from group_membership_audit t
                where t.group_id = m.group_id and t.account_id = m.account_id
                order by t.seq desc limit 1) = 'oidc' as by_claims
        from group_members m
        where m.account_id = $1 and not exists (select 1 from scim_groups s where s.group_id = m.group_id)
        """,
        account_id,
    )
    return {r["group_id"] for r in rows}, {r["group_id"] for r in rows if r["by_claims"]}


async def lock_group(conn: asyncpg.Connection, *, group_id: UUID) -> bool:
    """Hold the group's row until the transaction ends, so its members are read and
    replaced without another change in between; False when it is gone."""
    return await conn.fetchval("select true from groups where id = $1 for update", group_id) or False


# Sessions -----------------------------------------------------------------------------


async def insert_session_token(conn: asyncpg.Connection, *, session_hash: bytes, id_token: str) -> None:
    await conn.execute(
        "insert into oidc_sessions (session_hash, id_token) values ($1, $2)", session_hash, id_token
    )


async def select_session_token(conn: asyncpg.Connection, *, session_hash: bytes) -> str | None:
    return await conn.fetchval("select id_token from oidc_sessions where session_hash = $1", session_hash)
