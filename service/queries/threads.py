"""SQL for feedback threads: monthly token keys and issuance, anonymous threads and
messages, staff replies, moderation, the public board, metrics and webhooks.

Issuance queries touch ``thread_token_issuances`` (account, month, count); the
anonymous side (``thread_spent_tokens``, ``threads``, author messages) is reached by
a thread id or a secret hash. No query joins an account to an author message.
Lists are ordered by date and then by random id, never by insertion order.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from service.queries import one_row, outbox, truth

MODERATION_ACTIONS = ("approve-publication", "reject-publication", "withdraw-publication", "hide-message")


class ThreadPeriod(msgspec.Struct, frozen=True):
    period: date
    token_key: bytes
    token_key_id: bytes
    challenge: bytes
    private_key: bytes  # encrypted


class ServiceRef(msgspec.Struct, frozen=True):
    id: UUID
    name: str


class ThreadSummary(msgspec.Struct, frozen=True):
    id: UUID
    service: ServiceRef
    category: str
    title: str
    opened_on: date
    staff_status: str
    resolved: bool
    messages: int
    author_read_seq: int
    publish_requested: bool
    publish_approved: bool
    author_consent: bool
    public: bool


class Message(msgspec.Struct, frozen=True):
    id: UUID
    seq: int
    from_staff: bool
    staff_name: str | None
    body: str
    posted_on: date
    posted_at: datetime | None
    hidden_reason: str | None


class AuditEntry(msgspec.Struct, frozen=True):
    id: UUID
    thread_id: UUID
    message_seq: int | None
    actor: str
    action: str
    reason: str
    at: datetime


class Metrics(msgspec.Struct, frozen=True):
    opened: int
    acknowledged_within_sla: int
    answered: int
    median_hours_to_first_answer: float | None
    resolved: int


class Webhook(msgspec.Struct, frozen=True):
    service_id: UUID
    url: str
    secret: bytes  # encrypted
    active: bool
    updated_at: datetime


class Delivery(msgspec.Struct, frozen=True):
    id: UUID
    service_id: UUID
    thread_id: UUID
    payload: dict[str, Any]
    state: str
    attempts: int
    last_status: int | None
    last_error: str
    next_attempt_at: datetime
    created_at: datetime
    delivered_at: datetime | None


# Keys and issuance ------------------------------------------------------------------------


async def select_period(conn: asyncpg.Connection, *, period: date) -> ThreadPeriod | None:
    row = await conn.fetchrow(
        "select period, token_key, token_key_id, challenge, private_key from thread_periods where period = $1", period
    )
    return None if row is None else ThreadPeriod(**dict(row))


async def select_period_by_key_id(conn: asyncpg.Connection, *, token_key_id: bytes) -> ThreadPeriod | None:
    row = await conn.fetchrow(
        "select period, token_key, token_key_id, challenge, private_key from thread_periods where token_key_id = $1",
        token_key_id,
    )
    return None if row is None else ThreadPeriod(**dict(row))


async def insert_period(conn: asyncpg.Connection, *, keys: ThreadPeriod) -> bool:
    """Keep the first key written for a month: two replicas racing agree on one. True
    when this call's row is the one kept (its transaction then logs the key)."""
    status = await conn.execute(
        """
        insert into thread_periods (period, token_key, token_key_id, challenge, private_key)
        values ($1, $2, $3, $4, $5) on conflict (period) do nothing
        """,
        keys.period, keys.token_key, keys.token_key_id, keys.challenge, keys.private_key,
    )
    return status == "INSERT 0 1"


async def record_issuance(
    conn: asyncpg.Connection, *, period: date, account_id: UUID, count: int, limit: int
) -> int | None:
    """Count ``count`` more tokens for the account this month; None (and nothing
    counted) when that would exceed ``limit``. The upsert's row lock decides races."""
    if count > limit:
        return None
    return await conn.fetchval(
        """
        insert into thread_token_issuances as i (period, account_id, issued) values ($1, $2, $4)
        on conflict (period, account_id) do update set issued = i.issued + $4 where i.issued + $4 <= $3
        returning issued
        """,
        period, account_id, limit, count,
    )


async def select_issued(conn: asyncpg.Connection, *, period: date, account_id: UUID) -> int:
    found = await conn.fetchval(
        "select issued from thread_token_issuances where period = $1 and account_id = $2", period, account_id
    )
    return found or 0


# Anonymous side -----------------------------------------------------------------------------


async def open_thread(
    conn: asyncpg.Connection,
    *,
    period: date,
    nonce: bytes,
    thread_id: UUID,
    service_id: UUID,
    secret_hash: bytes,
    category: str,
    title: str,
    body: str,
    opened_on: date,
) -> bool:
    """Spend the nonce, create the thread and its first message in one statement.
    False when the nonce was spent already (the primary key decides races)."""
    stored = await conn.fetchval(
        """
        with spent as (
            insert into thread_spent_tokens (period, nonce) values ($1, $2)
            on conflict do nothing
            returning period
        ), thread as (
            insert into threads (id, service_id, secret_hash, category, title, opened_on, author_read_seq)
            select $3, $4, $5, $6, $7, $9, 1 from spent
            returning id
        )
        insert into thread_messages (thread_id, seq, from_staff, body, posted_on)
        select id, 1, false, $8, $9 from thread
        returning true
        """,
        period, nonce, thread_id, service_id, secret_hash, category, title, body, opened_on,
    )
    return bool(stored)


async def select_thread_id_by_secret(conn: asyncpg.Connection, *, secret_hash: bytes) -> UUID | None:
    return await conn.fetchval("select id from threads where secret_hash = $1", secret_hash)


_SUMMARY = """
    select t.id, t.category, t.title, t.opened_on, t.staff_status, t.resolved, t.author_read_seq,
           t.publish_requested, t.publish_approved, t.author_consent,
           (t.publish_approved and t.author_consent) as public,
           (select count(*) from thread_messages m where m.thread_id = t.id) as messages,
           s.id as service_id, s.name as service_name
    from threads t join services s on s.id = t.service_id
"""


def _summary(row: asyncpg.Record) -> ThreadSummary:
    data = dict(row)
    data["service"] = ServiceRef(id=data.pop("service_id"), name=data.pop("service_name"))
    data.pop("rank", None)
    return ThreadSummary(**data)


async def select_thread(conn: asyncpg.Connection, *, thread_id: UUID) -> ThreadSummary | None:
    row = await conn.fetchrow(_SUMMARY + " where t.id = $1", thread_id)
    return None if row is None else _summary(row)


async def lock_thread(conn: asyncpg.Connection, *, thread_id: UUID) -> ThreadSummary | None:
    """The thread, row-locked for the rest of the transaction (message numbering, state changes)."""
    if await conn.fetchval("select id from threads where id = $1 for update", thread_id) is None:
        return None
    return await select_thread(conn, thread_id=thread_id)


async def select_messages(conn: asyncpg.Connection, *, thread_id: UUID) -> list[Message]:
    rows = await conn.fetch(
        """
        select m.id, m.seq, m.from_staff, a.display_name as staff_name, m.body, m.posted_on, m.posted_at,
               m.hidden_reason
        from thread_messages m left join accounts a on a.id = m.staff_id
        where m.thread_id = $1 order by m.seq
        """,
        thread_id,
    )
    return [Message(**dict(r)) for r in rows]


async def insert_message(
    conn: asyncpg.Connection, *, thread_id: UUID, body: str, staff_id: UUID | None
) -> tuple[UUID, int]:
    """Append a message as number max+1 of its thread (lock the thread first). An
    author's message gets the day only; a staff message its writer and the moment."""
    row = await one_row(conn,
        """
        insert into thread_messages (thread_id, seq, from_staff, staff_id, body, posted_on, posted_at)
        select $1, coalesce(max(seq), 0) + 1, $2::uuid is not null, $2, $3, current_date,
               case when $2::uuid is null then null else now() end
        from thread_messages where thread_id = $1
        returning id, seq
        """,
        thread_id, staff_id, body,
    )
    return row["id"], row["seq"]


async def mark_read(conn: asyncpg.Connection, *, thread_id: UUID, seq: int) -> None:
    await conn.execute(
        "update threads set author_read_seq = greatest(author_read_seq, $2) where id = $1", thread_id, seq
    )


async def update_thread(conn: asyncpg.Connection, *, thread_id: UUID, changes: dict[str, Any]) -> None:
    """Set columns from a fixed allow-list."""
    allowed = ("staff_status", "resolved", "publish_requested", "publish_approved", "author_consent")
    columns = [c for c in allowed if c in changes]
    if not columns:
        return
    assignments = ", ".join(f"{c} = ${i + 2}" for i, c in enumerate(columns))
    await conn.execute(f"update threads set {assignments} where id = $1", thread_id, *(changes[c] for c in columns))


async def hide_message(conn: asyncpg.Connection, *, thread_id: UUID, seq: int, reason: str) -> UUID | None:
    return await conn.fetchval(
        "update thread_messages set hidden_reason = $3 where thread_id = $1 and seq = $2 returning id",
        thread_id, seq, reason,
    )


# Staff side ---------------------------------------------------------------------------------


async def insert_audit(
    conn: asyncpg.Connection, *, thread_id: UUID, actor_id: UUID, action: str, reason: str = "",
    message_id: UUID | None = None,
) -> None:
    await conn.execute(
        "insert into thread_audit (thread_id, message_id, actor_id, action, reason) values ($1, $2, $3, $4, $5)",
        thread_id, message_id, actor_id, action, reason,
    )


async def select_audit(
    conn: asyncpg.Connection, *, thread_id: UUID | None, moderation_only: bool, limit: int = 200
) -> list[AuditEntry]:
    rows = await conn.fetch(
        """
        select l.id, l.thread_id, m.seq as message_seq, a.display_name as actor, l.action, l.reason, l.at
        from thread_audit l join accounts a on a.id = l.actor_id
        left join thread_messages m on m.id = l.message_id
        where ($1::uuid is null or l.thread_id = $1) and (not $2 or l.action = any($3::text[]))
        order by l.at desc, l.id limit $4
        """,
        thread_id, moderation_only, list(MODERATION_ACTIONS), limit,
    )
    return [AuditEntry(**dict(r)) for r in rows]


async def service_accepts_threads(conn: asyncpg.Connection, *, service_id: UUID) -> bool:
    return await truth(conn, "select exists (select 1 from services where id = $1 and not archived)", service_id)


_MATCHES = """
    ($Q = '' or t.search @@ websearch_to_tsquery('english', $Q)
     or exists (select 1 from thread_messages m where m.thread_id = t.id and m.hidden_reason is null
                and m.search @@ websearch_to_tsquery('english', $Q)))
"""


async def select_inbox(
    conn: asyncpg.Connection,
    *,
    account_id: UUID,
    all_services: bool,
    service_id: UUID | None,
    query: str,
    awaiting_publication: bool,
) -> list[ThreadSummary]:
    """Threads of the services the account owns (every service when ``all_services``),
    matching ``query``; new ones first, then by day, then by random id."""
    rows = await conn.fetch(
        _SUMMARY
        + """
        where ($2 or exists (select 1 from service_owners o where o.service_id = t.service_id and o.account_id = $1))
          and ($3::uuid is null or t.service_id = $3)
          and (not $5 or ((t.publish_requested or t.author_consent) and not t.publish_approved))
          and """
        + _MATCHES.replace("$Q", "$4")
        + " order by (t.staff_status = 'new') desc, t.opened_on desc, t.id limit 500",
        account_id, all_services, service_id, query, awaiting_publication,
    )
    return [_summary(r) for r in rows]


async def select_board(conn: asyncpg.Connection, *, query: str) -> list[ThreadSummary]:
    """Published threads (moderator approval and author consent) matching ``query``."""
    rows = await conn.fetch(
        _SUMMARY
        + " where t.publish_approved and t.author_consent and "
        + _MATCHES.replace("$Q", "$1")
        + " order by t.opened_on desc, t.id limit 500",
        query,
    )
    return [_summary(r) for r in rows]


async def select_metrics(conn: asyncpg.Connection, *, service_id: UUID, since: date | None) -> Metrics:
    """Threads opened, acknowledged within the SLA, answered, median hours to the first
    staff answer, resolved. An anonymous thread has only its opening day, so times are
    measured from the start of that day (UTC): never shorter than the truth."""
    row = await conn.fetchrow(
        """
        with t as (
            select th.resolved, th.opened_on::timestamp at time zone 'UTC' as opened,
                   least((select min(a.at) from thread_audit a
                          where a.thread_id = th.id and a.action in ('acknowledge', 'answer')),
                         (select min(m.posted_at) from thread_messages m where m.thread_id = th.id and m.from_staff))
                       as first_response,
                   (select min(m.posted_at) from thread_messages m where m.thread_id = th.id and m.from_staff)
                       as first_answer
            from threads th where th.service_id = $1 and ($2::date is null or th.opened_on >= $2)
        )
        select count(*) as opened,
               count(*) filter (where first_response <= opened + make_interval(hours => s.sla_first_answer_hours))
                   as acknowledged_within_sla,
               count(first_answer) as answered,
               percentile_cont(0.5) within group (order by extract(epoch from first_answer - opened) / 3600.0)
                   filter (where first_answer is not null) as median_hours_to_first_answer,
               count(*) filter (where resolved) as resolved
        from t, services s where s.id = $1
        group by s.sla_first_answer_hours
        """,
        service_id, since,
    )
    if row is None:
        return Metrics(opened=0, acknowledged_within_sla=0, answered=0, median_hours_to_first_answer=None, resolved=0)
    data = dict(row)
    if data["median_hours_to_first_answer"] is not None:
        data["median_hours_to_first_answer"] = round(float(data["median_hours_to_first_answer"]), 2)
    return Metrics(**data)


# Secret-guess throttle ----------------------------------------------------------------------


async def select_secret_failures(conn: asyncpg.Connection) -> int:
    found = await conn.fetchval(
        "select failures from thread_secret_failures where minute = date_trunc('minute', now())"
    )
    return found or 0


async def record_secret_failure(conn: asyncpg.Connection) -> None:
    await conn.execute(
        """
        insert into thread_secret_failures as f (minute, failures) values (date_trunc('minute', now()), 1)
        on conflict (minute) do update set failures = f.failures + 1
        """
    )
    await conn.execute("delete from thread_secret_failures where minute < now() - interval '1 hour'")


# Webhooks -----------------------------------------------------------------------------------


async def upsert_webhook(
    conn: asyncpg.Connection, *, service_id: UUID, url: str, secret: bytes, active: bool, updated_by: UUID
) -> None:
    await conn.execute(
        """
        insert into service_webhooks (service_id, url, secret, active, updated_by) values ($1, $2, $3, $4, $5)
        on conflict (service_id) do update set url = excluded.url, secret = excluded.secret,
            active = excluded.active, updated_by = excluded.updated_by, updated_at = now()
        """,
        service_id, url, secret, active, updated_by,
    )


async def select_webhook(conn: asyncpg.Connection, *, service_id: UUID) -> Webhook | None:
    row = await conn.fetchrow(
        "select service_id, url, secret, active, updated_at from service_webhooks where service_id = $1", service_id
    )
    return None if row is None else Webhook(**dict(row))


_DELIVERY = """id, service_id, thread_id, payload, state, attempts, last_status, last_error, next_attempt_at,
               created_at, delivered_at"""


async def insert_delivery(
    conn: asyncpg.Connection, *, service_id: UUID, thread_id: UUID, requested_by: UUID, payload: dict[str, Any]
) -> Delivery:
    row = await one_row(conn,
        f"""
        insert into webhook_deliveries (service_id, thread_id, requested_by, payload) values ($1, $2, $3, $4)
        returning {_DELIVERY}
        """,
        service_id, thread_id, requested_by, payload,
    )
    return Delivery(**dict(row))


async def select_deliveries(conn: asyncpg.Connection, *, service_id: UUID, limit: int = 100) -> list[Delivery]:
    rows = await conn.fetch(
        f"select {_DELIVERY} from webhook_deliveries where service_id = $1 order by created_at desc, id limit $2",
        service_id, limit,
    )
    return [Delivery(**dict(r)) for r in rows]


async def select_webhooks(conn: asyncpg.Connection, *, service_ids: list[UUID]) -> dict[UUID, Webhook]:
    rows = await conn.fetch(
        "select service_id, url, secret, active, updated_at from service_webhooks where service_id = any($1::uuid[])",
        service_ids,
    )
    return {r["service_id"]: Webhook(**dict(r)) for r in rows}


async def claim_due_deliveries(
    conn: asyncpg.Connection, *, now: datetime, lease_until: datetime, max_attempts: int, limit: int = 20
) -> list[Delivery]:
    """Claim pending deliveries whose time has come (skipping rows another replica holds):
    count the attempt and lease the row until ``lease_until``, so the caller can commit
    before it sends anything and no other worker takes the row meanwhile. A row whose
    lease ran out after its last attempt (its worker died) is given up instead and
    returned as 'failed'."""
    rows = await outbox.claim_due(conn, table="webhook_deliveries", columns=_DELIVERY, now=now,
                                  lease_until=lease_until, max_attempts=max_attempts, limit=limit)
    return [Delivery(**dict(r)) for r in rows]


async def record_attempt(
    conn: asyncpg.Connection,
    *,
    delivery_id: UUID,
    attempt: int,
    state: str,
    status: int | None,
    error: str,
    next_attempt_at: datetime | None,
    now: datetime,
) -> bool:
    """Record the outcome of attempt number ``attempt``; False (nothing written) when the
    row has moved on meanwhile (its lease ran out and another worker claimed it)."""
    recorded = await conn.fetchval(
        """
        update webhook_deliveries set state = $2, last_status = $3, last_error = $4,
               next_attempt_at = coalesce($5, next_attempt_at),
               delivered_at = case when $2 = 'delivered' then $6 else delivered_at end
        where id = $1 and state = 'pending' and attempts = $7
        returning true
        """,
        delivery_id, state, status, error, next_attempt_at, now, attempt,
    )
    return bool(recorded)


# Purging ------------------------------------------------------------------------------------


async def delete_past_secret_failures(conn: asyncpg.Connection) -> int:
    """Failure counts of minutes that are over: the throttle reads only the current one."""
    status = await conn.execute("delete from thread_secret_failures where minute < date_trunc('minute', now())")
    return int(status.split()[-1])


async def delete_old_deliveries(conn: asyncpg.Connection, *, retention_days: int) -> int:
    """Delivery-log rows older than the retention that are delivered or given up on
    (pending ones are still work)."""
    status = await conn.execute(
        """
        delete from webhook_deliveries
        where state in ('delivered', 'failed') and created_at < now() - make_interval(days => $1)
        """,
        retention_days,
    )
    return int(status.split()[-1])
