"""SQL for `candor audit`: catalog and settings reads, arrival-order samples, sessions,
and the one-row store of the latest result.

Everything but :func:`upsert_audit_result` only reads, so the audit can run on a
read-only connection (``default_transaction_read_only``), a standby or a restored dump.
Table names come from the fixed lists in :mod:`service.audit`, never from input.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg
import msgspec

from service.queries import count, truth


class ColumnInfo(msgspec.Struct, frozen=True):
    table: str
    column: str
    declared_type: str
    # Every type the column is made of: itself, the base of a domain, the element of an
    # array, the subtype of a range, the fields of a composite (so timestamptz[] or a
    # domain over timestamp cannot hide).
    component_types: list[str]
    identity: bool
    generated: bool
    default: str | None


class TriggerInfo(msgspec.Struct, frozen=True):
    table: str
    trigger: str
    function: str
    source: str


class OrderSample(msgspec.Struct, frozen=True):
    """One row's position on disk and in transaction order, and the group it belongs to."""

    group: str
    block: int
    item: int
    # age(xmin): how many transactions ago the row version was written (larger = older).
    age: int
    # Rewritten by an arrival-order pass; None when the table has no ``scrubbed`` column.
    scrubbed: bool | None


class AuditResult(msgspec.Struct, frozen=True):
    checked_on: date
    ok: bool
    result: dict[str, Any]


async def select_settings(conn: asyncpg.Connection, *, names: list[str]) -> dict[str, str | None]:
    """``current_setting`` for each name (``None`` for one this server does not know)."""
    rows = await conn.fetch(
        "select name, current_setting(name, true) as value from unnest($1::text[]) as name", names
    )
    return {r["name"]: r["value"] for r in rows}


async def select_role_database_settings(conn: asyncpg.Connection) -> list[tuple[str, str]]:
    """``ALTER ROLE/DATABASE … SET`` entries that apply to this role in this database.

    They take effect at the next connection, so a change made after this session
    started is seen here even when ``current_setting`` does not show it yet.
    """
    rows = await conn.fetch(
        """
        select case when s.setrole = 0 and s.setdatabase = 0 then 'all roles, all databases'
                    when s.setrole = 0 then 'database ' || current_database()
                    when s.setdatabase = 0 then 'role ' || current_user
                    else 'role ' || current_user || ' in database ' || current_database() end as scope,
               entry
        from pg_db_role_setting s
        cross join lateral unnest(s.setconfig) as entry
        where s.setrole in (0, (select oid from pg_roles where rolname = current_user))
          and s.setdatabase in (0, (select oid from pg_database where datname = current_database()))
        """
    )
    return [(r["scope"], r["entry"]) for r in rows]


async def select_tables(conn: asyncpg.Connection, *, tables: list[str]) -> set[str]:
    rows = await conn.fetch(
        """
        select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = current_schema() and c.relkind in ('r', 'p') and c.relname = any($1::text[])
        """,
        tables,
    )
    return {r["relname"] for r in rows}


async def select_columns(conn: asyncpg.Connection, *, tables: list[str]) -> list[ColumnInfo]:
    """Every live column of ``tables`` as the catalog has it (a column added later is included)."""
    rows = await conn.fetch(
        """
        with recursive cols as (
            select c.relname, a.attname, a.attnum, a.atttypid, format_type(a.atttypid, a.atttypmod) as declared,
                   a.attidentity <> '' as identity, a.attgenerated <> '' as generated,
                   pg_get_expr(d.adbin, d.adrelid) as default_expr
            from pg_attribute a
            join pg_class c on c.oid = a.attrelid
            join pg_namespace n on n.oid = c.relnamespace
            left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
            where n.nspname = current_schema() and c.relname = any($1::text[])
              and a.attnum > 0 and not a.attisdropped
        ), parts (relname, attname, type_id, depth) as (
            select relname, attname, atttypid, 0 from cols
            union all
            select p.relname, p.attname, inner_type.id, p.depth + 1
            from parts p
            join pg_type t on t.oid = p.type_id
            cross join lateral (
                select t.typbasetype as id where t.typtype = 'd'
                union all select t.typelem where t.typelem <> 0 and t.typsubscript = 'array_subscript_handler'::regproc
                union all select r.rngsubtype from pg_range r where r.rngtypid = t.oid or r.rngmultitypid = t.oid
                union all select f.atttypid from pg_attribute f
                          where t.typtype = 'c' and f.attrelid = t.typrelid and f.attnum > 0 and not f.attisdropped
            ) as inner_type
            where p.depth < 8
        )
        select c.relname as table, c.attname as column, c.declared as declared_type,
               (select array_agg(distinct t.typname::text) from parts p join pg_type t on t.oid = p.type_id
                where p.relname = c.relname and p.attname = c.attname) as component_types,
               c.identity, c.generated, c.default_expr as default
        from cols c
        order by c.relname, c.attnum
        """,
        tables,
    )
    return [ColumnInfo(**dict(r)) for r in rows]


async def select_check_constraints(conn: asyncpg.Connection, *, table: str) -> list[str]:
    rows = await conn.fetch(
        """
        select pg_get_constraintdef(k.oid) as definition
        from pg_constraint k join pg_class c on c.oid = k.conrelid join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = current_schema() and c.relname = $1 and k.contype = 'c'
        """,
        table,
    )
    return [r["definition"] for r in rows]


async def count_author_messages_with_time(conn: asyncpg.Connection) -> int:
    """Author (non-staff) messages that carry a time of day: there must be none."""
    return await count(conn, "select count(*) from thread_messages where not from_staff and posted_at is not null")


async def select_triggers(conn: asyncpg.Connection, *, tables: list[str]) -> list[TriggerInfo]:
    rows = await conn.fetch(
        """
        select c.relname as table, g.tgname as trigger, p.proname as function, coalesce(p.prosrc, '') as source
        from pg_trigger g
        join pg_class c on c.oid = g.tgrelid
        join pg_namespace n on n.oid = c.relnamespace
        join pg_proc p on p.oid = g.tgfoid
        where n.nspname = current_schema() and c.relname = any($1::text[]) and not g.tgisinternal
        """,
        tables,
    )
    return [TriggerInfo(**dict(r)) for r in rows]


async def has_column(conn: asyncpg.Connection, *, table: str, column: str) -> bool:
    return await truth(conn,
        """
        select exists (
            select 1 from information_schema.columns
            where table_schema = current_schema() and table_name = $1 and column_name = $2
        )
        """,
        table, column,
    )


# The rows whose order is examined, per anonymous table: the group each belongs to and
# the filter that selects anonymous rows. Constants only; no value is ever spliced in.
ORDER_SOURCES: dict[str, tuple[str, str]] = {
    "responses": ("campaign_id::text", "true"),
    "spent_tokens": ("campaign_id::text", "true"),
    "threads": ("'threads'", "true"),
    "thread_messages": ("'threads'", "not from_staff"),
    "thread_spent_tokens": ("'threads'", "true"),
    "token_issuances": ("campaign_id::text", "true"),
    "thread_token_issuances": ("'threads'", "true"),
}


async def select_order_samples(conn: asyncpg.Connection, *, table: str, with_flag: bool) -> list[OrderSample]:
    """Each row's physical position (ctid block, item), transaction age (``age(xmin)``)
    and, ``with_flag``, whether an arrival-order pass rewrote it."""
    group, condition = ORDER_SOURCES[table]
    flag = "scrubbed" if with_flag else "null::boolean"
    rows = await conn.fetch(
        f"""
        select {group} as group, (ctid::text::point)[0]::bigint as block, (ctid::text::point)[1]::integer as item,
               age(xmin)::bigint as age, {flag} as scrubbed
        from {table} where {condition}
        """  # noqa: S608 - table, group and condition come from ORDER_SOURCES
    )
    return [OrderSample(**dict(r)) for r in rows]


async def select_wave_statuses(conn: asyncpg.Connection) -> dict[str, str]:
    return {r["id"]: r["status"] for r in await conn.fetch("select id::text as id, status from campaigns")}


async def count_expired_sessions(
    conn: asyncpg.Connection, *, idle_minutes: int, absolute_hours: int, grace_minutes: int
) -> int:
    """Sessions past their idle or absolute expiry by more than ``grace_minutes``."""
    return await count(conn,
        """
        select count(*) from sessions
        where last_seen_at < now() - make_interval(mins => $1::integer + $3::integer)
           or created_at < now() - make_interval(hours => $2::integer, mins => $3::integer)
        """,
        idle_minutes, absolute_hours, grace_minutes,
    )


async def upsert_audit_result(conn: asyncpg.Connection, *, checked_on: date, ok: bool, result: dict[str, Any]) -> None:
    await conn.execute(
        """
        insert into audit_results (checked_on, ok, result) values ($1, $2, $3::text::jsonb)
        on conflict (singleton) do update set checked_on = excluded.checked_on, ok = excluded.ok, result = excluded.result
        """,
        checked_on, ok, msgspec.json.encode(result).decode(),
    )


async def select_audit_result(conn: asyncpg.Connection) -> AuditResult | None:
    row = await conn.fetchrow("select checked_on, ok, result::text as result from audit_results")
    if row is None:
        return None
    return AuditResult(checked_on=row["checked_on"], ok=row["ok"], result=msgspec.json.decode(row["result"]))
