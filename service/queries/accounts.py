"""SQL for accounts, sessions and login throttling."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec

from service.queries import count, one_row

ROLES = ("member", "owner", "manager", "moderator", "admin")


class Account(msgspec.Struct, frozen=True):
    id: UUID
    email: str
    display_name: str
    roles: list[str]
    active: bool
    created_at: datetime
    #: The language the member reads Candor in (migration 0016): chosen, or learnt at sign-in or from SCIM.
    language: str | None = None


_COLUMNS = "id, email, display_name, roles, active, created_at, language"


def _account(row: asyncpg.Record | None) -> Account | None:
    return None if row is None else Account(**dict(row))


async def insert_account(
    conn: asyncpg.Connection, *, email: str, display_name: str, password_hash: str, roles: list[str]
) -> Account | None:
    """Insert an account; ``None`` when the email is taken."""
    row = await conn.fetchrow(
        f"""
        insert into accounts (email, display_name, password_hash, roles)
        values ($1, $2, $3, $4)
        on conflict (email) do nothing
        returning {_COLUMNS}
        """,
        email.lower(), display_name, password_hash, sorted(set(roles)),
    )
    return _account(row)


async def select_account(conn: asyncpg.Connection, *, account_id: UUID) -> Account | None:
    return _account(await conn.fetchrow(f"select {_COLUMNS} from accounts where id = $1", account_id))


async def select_accounts(conn: asyncpg.Connection) -> list[Account]:
    rows = await conn.fetch(f"select {_COLUMNS} from accounts order by email")
    return [Account(**dict(r)) for r in rows]


async def select_login(conn: asyncpg.Connection, *, email: str) -> tuple[Account, str] | None:
    row = await conn.fetchrow(
        f"select {_COLUMNS}, password_hash from accounts where email = $1", email.lower()
    )
    if row is None:
        return None
    data = dict(row)
    password_hash = data.pop("password_hash")
    return Account(**data), password_hash


async def update_account(
    conn: asyncpg.Connection,
    *,
    account_id: UUID,
    display_name: str | None = None,
    roles: list[str] | None = None,
    active: bool | None = None,
    password_hash: str | None = None,
) -> Account | None:
    row = await conn.fetchrow(
        f"""
        update accounts set
            display_name  = coalesce($2, display_name),
            roles         = coalesce($3, roles),
            active        = coalesce($4, active),
            password_hash = coalesce($5, password_hash)
        where id = $1
        returning {_COLUMNS}
        """,
        account_id, display_name, sorted(set(roles)) if roles is not None else None, active, password_hash,
    )
    return _account(row)


async def count_accounts(conn: asyncpg.Connection) -> int:
    return await count(conn, "select count(*) from accounts")


async def choose_language(conn: asyncpg.Connection, *, account_id: UUID, language: str) -> None:
    """The member's own choice of language (for mail): it wins over any inferred one."""
    await conn.execute("update accounts set language = $2, language_chosen = true where id = $1",
                       account_id, language)


async def infer_language(conn: asyncpg.Connection, *, account_id: UUID, language: str) -> None:
    """A language from the browser at sign-in: only where none is known yet."""
    await conn.execute("update accounts set language = $2 where id = $1 and language is null", account_id, language)


# Sessions ---------------------------------------------------------------------------


class SessionAccount(msgspec.Struct, frozen=True):
    account: Account
    csrf_token: str


async def insert_session(
    conn: asyncpg.Connection, *, token_hash: bytes, account_id: UUID, csrf_token: str
) -> None:
    await conn.execute(
        "insert into sessions (token_hash, account_id, csrf_token) values ($1, $2, $3)",
        token_hash, account_id, csrf_token,
    )


async def touch_session(
    conn: asyncpg.Connection, *, token_hash: bytes, idle_minutes: int, absolute_hours: int
) -> SessionAccount | None:
    """The live session for ``token_hash`` (sliding its idle expiry in 5-minute steps), or ``None``.

    A session past its idle or absolute expiry, or of a deactivated account, is dead;
    dead rows are removed here so they cannot be revived.
    """
    # Session times are stored in 5-minute steps (a trigger coarsens every write): a
    # finer time would be a clock of the person's activity, and with the row's
    # transaction id a map from transaction ids to wall time. Idle time counts from the
    # end of the step last seen in, the absolute limit from the start of the sign-in step.
    row = await conn.fetchrow(
        """
        with live as (
            select s.csrf_token, a.id, a.email, a.display_name, a.roles, a.active, a.created_at, a.language
            from sessions s join accounts a on a.id = s.account_id
            where s.token_hash = $1 and a.active
              and s.last_seen_at + interval '5 minutes' > now() - make_interval(mins => $2)
              and s.created_at > now() - make_interval(hours => $3)
        ), touched as (
            update sessions set last_seen_at = coarse_time(now())
            where token_hash = $1 and last_seen_at < coarse_time(now())
              and exists (select 1 from live)
        )
        select * from live
        """,
        token_hash, idle_minutes, absolute_hours,
    )
    if row is None:
        await conn.execute("delete from sessions where token_hash = $1", token_hash)
        return None
    data = dict(row)
    csrf = data.pop("csrf_token")
    return SessionAccount(account=Account(**data), csrf_token=csrf)


async def delete_session(conn: asyncpg.Connection, *, token_hash: bytes) -> None:
    await conn.execute("delete from sessions where token_hash = $1", token_hash)


async def delete_account_sessions(conn: asyncpg.Connection, *, account_id: UUID) -> None:
    await conn.execute("delete from sessions where account_id = $1", account_id)


async def delete_expired_sessions(conn: asyncpg.Connection, *, idle_minutes: int, absolute_hours: int) -> int:
    """Remove every session past its idle or absolute expiry (as ``touch_session``
    judges them) or of a deactivated account; the number removed."""
    status = await conn.execute(
        """
        delete from sessions s
        where s.last_seen_at + interval '5 minutes' <= now() - make_interval(mins => $1)
           or s.created_at <= now() - make_interval(hours => $2)
           or not exists (select 1 from accounts a where a.id = s.account_id and a.active)
        """,
        idle_minutes, absolute_hours,
    )
    return int(status.split()[-1])


# Login throttling -------------------------------------------------------------------


async def record_login_attempt(
    conn: asyncpg.Connection, *, email_key: bytes, window_minutes: int
) -> tuple[int, float]:
    """Count an attempt before its password is checked: (attempts in the current
    window, seconds until the window ends). The row stays locked until the transaction
    ends, so parallel attempts for one email are counted one after another."""
    row = await one_row(conn,
        """
        insert into login_throttle (email_key, failures, window_started) values ($1, 1, now())
        on conflict (email_key) do update set
            failures = case when login_throttle.window_started > now() - make_interval(mins => $2)
                            then login_throttle.failures + 1 else 1 end,
            window_started = case when login_throttle.window_started > now() - make_interval(mins => $2)
                                  then login_throttle.window_started else now() end
        returning failures,
                  extract(epoch from window_started + make_interval(mins => $2) - now())::float8 as remaining
        """,
        email_key, window_minutes,
    )
    return row["failures"], max(row["remaining"], 0.0)


async def clear_login_failures(conn: asyncpg.Connection, *, email_key: bytes) -> None:
    await conn.execute("delete from login_throttle where email_key = $1", email_key)


async def delete_ended_throttles(conn: asyncpg.Connection, *, window_minutes: int) -> int:
    """Remove the throttle rows whose window has ended (a new failure starts a new one)."""
    status = await conn.execute(
        "delete from login_throttle where window_started <= now() - make_interval(mins => $1)", window_minutes
    )
    return int(status.split()[-1])
