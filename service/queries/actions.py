"""SQL for action items, their activity log and the dashboard's metrics.

Staff-side only: action items name staff accounts and precise times. The only
anonymous-side tables touched are read as aggregates (threads' first staff answer).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from service.queries import one_row, one_value

STATUSES = ("proposed", "accepted", "in_progress", "done", "wont_do")
OPEN_STATUSES = ("proposed", "accepted", "in_progress")


class Ref(msgspec.Struct, frozen=True):
    id: UUID
    name: str


class ExpectedEffect(msgspec.Struct, frozen=True):
    level: str  # "item" | "dimension"
    key: str
    change: float  # expected (after - before) change of the gap


class ActionItem(msgspec.Struct, frozen=True):
    id: UUID
    title: str
    description: str
    internal_notes: str
    service: Ref
    owner: Ref
    source: str
    campaign_id: UUID | None
    thread_id: UUID | None
    target_level: str
    target_key: str | None
    candidate: dict[str, Any] | None
    due_on: date
    status: str
    wont_do_reason: str | None
    expected: ExpectedEffect | None
    overdue: bool
    sla_action_days: int
    created_by: Ref
    created_at: datetime
    updated_at: datetime
    accepted_at: datetime | None
    started_at: datetime | None
    done_at: datetime | None
    closed_at: datetime | None
    instrument_hash: str | None = None


class Activity(msgspec.Struct, frozen=True):
    at: datetime
    actor: Ref
    kind: str
    from_status: str | None
    to_status: str | None
    changes: dict[str, Any]
    note: str


_SELECT = """
    select a.id, a.title, a.description, a.internal_notes, a.source, a.campaign_id, a.thread_id,
           a.target_level, a.target_key, a.candidate, a.due_on, a.status, a.wont_do_reason,
           a.expected_level, a.expected_key, a.expected_change,
           a.status in ('proposed', 'accepted', 'in_progress') and a.due_on < current_date as overdue,
           a.created_at, a.updated_at, a.accepted_at, a.started_at, a.done_at, a.closed_at,
           s.id as service_id, s.name as service_name, s.sla_action_days,
           o.id as owner_id, o.display_name as owner_name,
           c.id as creator_id, c.display_name as creator_name,
           w.instrument_hash
    from action_items a
    join services s on s.id = a.service_id
    join accounts o on o.id = a.owner_id
    join accounts c on c.id = a.created_by
    left join campaigns w on w.id = a.campaign_id
"""


def _item(row: asyncpg.Record) -> ActionItem:
    d = dict(row)
    level, key, change = d.pop("expected_level"), d.pop("expected_key"), d.pop("expected_change")
    d["expected"] = ExpectedEffect(level=level, key=key, change=change) if level is not None else None
    d["service"] = Ref(id=d.pop("service_id"), name=d.pop("service_name"))
    d["owner"] = Ref(id=d.pop("owner_id"), name=d.pop("owner_name"))
    d["created_by"] = Ref(id=d.pop("creator_id"), name=d.pop("creator_name"))
    return ActionItem(**d)


async def insert_action(
    conn: asyncpg.Connection,
    *,
    title: str,
    description: str,
    service_id: UUID,
    owner_id: UUID,
    source: str,
    campaign_id: UUID | None,
    thread_id: UUID | None,
    target_level: str,
    target_key: str | None,
    candidate: dict[str, Any] | None,
    due_on: date | None,
    expected: ExpectedEffect | None,
    created_by: UUID,
) -> UUID:
    """Insert a proposed item; ``due_on`` defaults to today + the service's ``sla_action_days``."""
    return await one_value(conn,
        """
        insert into action_items (title, description, service_id, owner_id, source, campaign_id, thread_id,
                                  target_level, target_key, candidate, due_on, expected_level, expected_key,
                                  expected_change, created_by)
        select $1, $2, s.id, $4, $5, $6, $7, $8, $9, $10, coalesce($11, current_date + s.sla_action_days),
               $12, $13, $14, $15
        from services s where s.id = $3
        returning id
        """,
        title, description, service_id, owner_id, source, campaign_id, thread_id, target_level, target_key,
        candidate, due_on, expected.level if expected else None, expected.key if expected else None,
        expected.change if expected else None, created_by,
    )


# Who may read an item ($1: the account; null for managers, who read every item): its
# owner, or an owner of its service. The item queries put it in their WHERE.
_VISIBLE_TO = """($1::uuid is null or a.owner_id = $1
                 or exists (select 1 from service_owners so where so.service_id = a.service_id and so.account_id = $1))"""


async def select_action(conn: asyncpg.Connection, *, action_id: UUID, visible_to: UUID | None = None) -> ActionItem | None:
    """The item if ``visible_to`` may read it (see ``_VISIBLE_TO``)."""
    row = await conn.fetchrow(_SELECT + " where a.id = $2 and " + _VISIBLE_TO, visible_to, action_id)
    return None if row is None else _item(row)


async def lock_action(conn: asyncpg.Connection, *, action_id: UUID, visible_to: UUID | None = None) -> ActionItem | None:
    """The item if ``visible_to`` may read it, its row locked until the transaction ends
    (concurrent edits queue up)."""
    if await conn.fetchval("select a.id from action_items a where a.id = $2 and " + _VISIBLE_TO + " for update",
                           visible_to, action_id) is None:
        return None
    return await select_action(conn, action_id=action_id)


async def select_actions(
    conn: asyncpg.Connection,
    *,
    visible_to: UUID | None,
    service_id: UUID | None = None,
    owner_id: UUID | None = None,
    status: str | None = None,
    overdue: bool | None = None,
) -> list[ActionItem]:
    """Items matching the filters; ``visible_to`` (an owner's account) limits them to items
    that account owns or that belong to a service it owns. ``None``: all (managers)."""
    rows = await conn.fetch(
        _SELECT
        + " where "
        + _VISIBLE_TO
        + """
          and ($2::uuid is null or a.service_id = $2)
          and ($3::uuid is null or a.owner_id = $3)
          and ($4::text is null or a.status = $4)
          and ($5::boolean is null
               or $5 = (a.status in ('proposed', 'accepted', 'in_progress') and a.due_on < current_date))
        order by a.due_on, a.created_at, a.id
        """,
        visible_to, service_id, owner_id, status, overdue,
    )
    return [_item(r) for r in rows]


async def select_public_actions(conn: asyncpg.Connection) -> list[ActionItem]:
    """Accepted, in-progress and done items: what members see on "you said, we did"."""
    rows = await conn.fetch(
        _SELECT + """ where a.status in ('accepted', 'in_progress', 'done')
                      order by a.status = 'done' desc, coalesce(a.done_at, a.accepted_at) desc, a.id"""
    )
    return [_item(r) for r in rows]


_EDITABLE = ("title", "description", "internal_notes", "owner_id", "due_on",
             "expected_level", "expected_key", "expected_change")


async def update_action(conn: asyncpg.Connection, *, action_id: UUID, changes: dict[str, Any]) -> None:
    """Set the named columns (only those in ``_EDITABLE``; the trigger guards the locks)."""
    columns = [c for c in _EDITABLE if c in changes]
    if not columns:
        return
    assignments = ", ".join(f"{c} = ${i}" for i, c in enumerate(columns, start=2))
    await conn.execute(f"update action_items set {assignments} where id = $1",
                       action_id, *(changes[c] for c in columns))


async def update_status(conn: asyncpg.Connection, *, action_id: UUID, status: str, reason: str | None) -> None:
    await conn.execute(
        "update action_items set status = $2, wont_do_reason = $3 where id = $1", action_id, status, reason
    )


async def insert_activity(
    conn: asyncpg.Connection,
    *,
    action_id: UUID,
    actor_id: UUID,
    kind: str,
    from_status: str | None = None,
    to_status: str | None = None,
    changes: dict[str, Any] | None = None,
    note: str = "",
) -> None:
    await conn.execute(
        """
        insert into action_activity (action_id, actor_id, kind, from_status, to_status, changes, note)
        values ($1, $2, $3, $4, $5, $6, $7)
        """,
        action_id, actor_id, kind, from_status, to_status, changes or {}, note,
    )


async def select_activity(conn: asyncpg.Connection, *, action_id: UUID) -> list[Activity]:
    rows = await conn.fetch(
        """
        select v.at, v.kind, v.from_status, v.to_status, v.changes, v.note, a.id as actor_id,
               a.display_name as actor_name
        from action_activity v join accounts a on a.id = v.actor_id
        where v.action_id = $1
        order by v.at, v.id
        """,
        action_id,
    )
    out = []
    for r in rows:
        d = dict(r)
        d["actor"] = Ref(id=d.pop("actor_id"), name=d.pop("actor_name"))
        out.append(Activity(**d))
    return out


async def select_service_owner_ids(conn: asyncpg.Connection, *, service_id: UUID) -> list[UUID]:
    rows = await conn.fetch(
        """
        select so.account_id from service_owners so join accounts a on a.id = so.account_id
        where so.service_id = $1 and a.active and 'owner' = any(a.roles) order by a.display_name
        """,
        service_id,
    )
    return [r["account_id"] for r in rows]


async def select_service_name(conn: asyncpg.Connection, *, service_id: UUID) -> str | None:
    return await conn.fetchval("select name from services where id = $1", service_id)


async def select_thread_service(conn: asyncpg.Connection, *, thread_id: UUID) -> UUID | None:
    """The service of a thread, or ``None`` (no such thread, or no threads table yet)."""
    if not await conn.fetchval("select to_regclass('public.threads') is not null"):
        return None
    return await conn.fetchval("select service_id from threads where id = $1", thread_id)


class Baseline(msgspec.Struct, frozen=True):
    id: UUID
    title: str
    service_id: UUID
    instrument_hash: str
    status: str
    closes_on: date
    created_at: datetime
    k_scores: int


_WAVE = "select id, title, service_id, instrument_hash, status, closes_on, created_at, k_scores from campaigns"


async def select_wave(conn: asyncpg.Connection, *, campaign_id: UUID) -> Baseline | None:
    row = await conn.fetchrow(_WAVE + " where id = $1", campaign_id)
    return None if row is None else Baseline(**dict(row))


async def select_later_wave(conn: asyncpg.Connection, *, baseline: Baseline) -> Baseline | None:
    """The latest closed wave of the same instrument version for the same service that
    closed after the baseline (ties on the closing date: created later)."""
    row = await conn.fetchrow(
        _WAVE
        + """
        where service_id = $1 and instrument_hash = $2 and status = 'closed' and id <> $3
          and (closes_on, created_at) > ($4::date, $5::timestamptz)
        order by closes_on desc, created_at desc limit 1
        """,
        baseline.service_id, baseline.instrument_hash, baseline.id, baseline.closes_on, baseline.created_at,
    )
    return None if row is None else Baseline(**dict(row))


async def select_closed_waves(conn: asyncpg.Connection, *, service_id: UUID | None = None) -> list[tuple[Ref, Baseline]]:
    """Closed waves with their service, oldest first: the score-across-waves series."""
    rows = await conn.fetch(
        """
        select c.id, c.title, c.service_id, c.instrument_hash, c.status, c.closes_on, c.created_at, c.k_scores,
               s.name as service_name
        from campaigns c join services s on s.id = c.service_id
        where c.status = 'closed' and ($1::uuid is null or c.service_id = $1)
        order by lower(s.name), s.id, c.closes_on, c.created_at
        """,
        service_id,
    )
    out = []
    for r in rows:
        d = dict(r)
        name = d.pop("service_name")
        out.append((Ref(id=d["service_id"], name=name), Baseline(**d)))
    return out


class ActionMetrics(msgspec.Struct, frozen=True):
    total: int
    by_status: dict[str, int]
    overdue: int
    sla_due: int
    sla_met: int
    due_total: int
    due_met: int


async def select_metrics(
    conn: asyncpg.Connection, *, service_id: UUID | None = None, owner_id: UUID | None = None
) -> ActionMetrics:
    """Counts behind the dashboard's percentages; see service.actions.METRIC_DEFINITIONS."""
    row = await one_row(conn,
        """
        with a as (
            select a.status, a.created_at, a.accepted_at, a.done_at, a.due_on,
                   a.created_at + make_interval(days => s.sla_action_days) as sla_end
            from action_items a join services s on s.id = a.service_id
            where ($1::uuid is null or a.service_id = $1) and ($2::uuid is null or a.owner_id = $2)
        )
        select count(*) as total,
               count(*) filter (where status = 'proposed') as proposed,
               count(*) filter (where status = 'accepted') as accepted,
               count(*) filter (where status = 'in_progress') as in_progress,
               count(*) filter (where status = 'done') as done,
               count(*) filter (where status = 'wont_do') as wont_do,
               count(*) filter (where status in ('proposed', 'accepted', 'in_progress')
                                  and due_on < current_date) as overdue,
               count(*) filter (where status <> 'wont_do'
                                  and (accepted_at is not null or now() > sla_end)) as sla_due,
               count(*) filter (where status <> 'wont_do' and accepted_at <= sla_end) as sla_met,
               count(*) filter (where status = 'done'
                                  or (status in ('proposed', 'accepted', 'in_progress')
                                      and due_on < current_date)) as due_total,
               count(*) filter (where status = 'done' and done_at::date <= due_on) as due_met
        from a
        """,
        service_id, owner_id,
    )
    d = dict(row)
    return ActionMetrics(
        total=d["total"], by_status={s: d[s] for s in STATUSES}, overdue=d["overdue"],
        sla_due=d["sla_due"], sla_met=d["sla_met"], due_total=d["due_total"], due_met=d["due_met"],
    )


async def select_first_answer_times(
    conn: asyncpg.Connection, *, service_id: UUID | None = None
) -> tuple[int, int, float | None] | None:
    """``(threads, answered, median hours to the first staff answer)``, or ``None`` when
    the threads tables do not exist. Threads keep only their opening *date* (anonymity),
    so the time runs from the start of that day (UTC) to the first staff message."""
    exists = await conn.fetchval(
        "select to_regclass('public.threads') is not null and to_regclass('public.thread_messages') is not null"
    )
    if not exists:
        return None
    row = await one_row(conn,
        """
        select count(*) as threads, count(f.first_at) as answered,
               percentile_cont(0.5) within group (
                   order by extract(epoch from f.first_at - t.opened_on::timestamptz) / 3600.0
               ) filter (where f.first_at is not null) as median_hours
        from threads t
        left join lateral (select min(m.posted_at) as first_at from thread_messages m
                           where m.thread_id = t.id and m.from_staff) f on true
        where $1::uuid is null or t.service_id = $1
        """,
        service_id,
    )
    median = row["median_hours"]
    return row["threads"], row["answered"], float(median) if median is not None else None
