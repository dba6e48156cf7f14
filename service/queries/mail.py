"""SQL for e-mail: the outbox, reminder opt-outs, and the bookkeeping that makes each
invitation, reminder and thread notice go out once.

Every query here is identity-side: recipients are accounts' addresses. The thread
notice queries read threads (their title, service and message numbers) but never a
message's text, and nothing written here joins an account to an author.
"""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

import asyncpg
import msgspec

from service.queries import outbox


class OutboxMail(msgspec.Struct, frozen=True):
    id: UUID
    recipient: str
    kind: str
    subject: str
    text_body: str
    html_body: str
    state: str
    attempts: int
    next_attempt_at: datetime
    last_error: str
    queued_on: date
    sent_on: date | None
    language: str  # what the message is written in: its Content-Language


_MAIL = ("id, recipient, kind, subject, text_body, html_body, state, attempts, next_attempt_at, last_error, "
         "queued_on, sent_on, language")


class NewMail(msgspec.Struct, frozen=True):
    recipient: str
    kind: str
    subject: str
    text_body: str
    html_body: str
    language: str


class Addressee(msgspec.Struct, frozen=True):
    email: str
    display_name: str
    # The member's language for mail; None: not known, the organisation's default applies.
    language: str | None = None


class WaveMailInfo(msgspec.Struct, frozen=True):
    id: UUID
    title: str
    service_name: str
    opens_on: date
    closes_on: date
    # The day its invitations were queued (None: opened before mail existed).
    invited_on: date | None


class ThreadNews(msgspec.Struct, frozen=True):
    thread_id: UUID
    service_id: UUID
    service_name: str
    title: str
    # None: the owners have not been told about this thread at all (it is new).
    notified_seq: int | None
    top_seq: int


class ThreadNotice(msgspec.Struct, frozen=True):
    """Who to tell about which thread: an owner's address and the news."""

    email: str
    display_name: str
    news: ThreadNews


_OUTBOX = """id, recipient, kind, subject, text_body, html_body, state, attempts, next_attempt_at, last_error,
             queued_on, sent_on, language"""


# Queueing ----------------------------------------------------------------------------------------


async def insert_mails(conn: asyncpg.Connection, *, mails: list[NewMail], state: str) -> int:
    """Queue ``mails`` as ``state`` ('pending' to be sent, 'held' for the development mailbox)."""
    if not mails:
        return 0
    status = await conn.execute(
        """
        insert into mail_outbox (recipient, kind, subject, text_body, html_body, language, state)
        select r, k, s, t, h, l, $7
        from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) as m(r, k, s, t, h, l)
        """,
        [m.recipient for m in mails], [m.kind for m in mails], [m.subject for m in mails],
        [m.text_body for m in mails], [m.html_body for m in mails], [m.language for m in mails], state,
    )
    return int(status.split()[-1])


async def select_wave(conn: asyncpg.Connection, *, campaign_id: UUID) -> WaveMailInfo | None:
    row = await conn.fetchrow(
        """
        select c.id, c.title, s.name as service_name, c.opens_on, c.closes_on, i.queued_on as invited_on
        from campaigns c join services s on s.id = c.service_id
        left join mail_wave_invitations i on i.campaign_id = c.id
        where c.id = $1
        """,
        campaign_id,
    )
    return None if row is None else WaveMailInfo(**dict(row))


async def insert_wave_invitation(conn: asyncpg.Connection, *, campaign_id: UUID, queued_on: date) -> bool:
    """Record that the wave's invitations are queued; False when they already were."""
    return bool(await conn.fetchval(
        """
        insert into mail_wave_invitations (campaign_id, queued_on) values ($1, $2)
        on conflict (campaign_id) do nothing returning true
        """,
        campaign_id, queued_on,
    ))


async def select_audience(conn: asyncpg.Connection, *, campaign_id: UUID) -> list[Addressee]:
    """The wave's audience as it was snapshot when it opened (active accounts)."""
    rows = await conn.fetch(
        """
        select a.email, a.display_name, a.language from campaign_audience ca join accounts a on a.id = ca.account_id
        where ca.campaign_id = $1 and a.active order by a.email
        """,
        campaign_id,
    )
    return [Addressee(**dict(r)) for r in rows]


# Reminders ---------------------------------------------------------------------------------------


async def select_open_waves(conn: asyncpg.Connection) -> list[WaveMailInfo]:
    rows = await conn.fetch(
        """
        select c.id, c.title, s.name as service_name, c.opens_on, c.closes_on, i.queued_on as invited_on
        from campaigns c join services s on s.id = c.service_id
        left join mail_wave_invitations i on i.campaign_id = c.id
        where c.status = 'open'
        """
    )
    return [WaveMailInfo(**dict(r)) for r in rows]


async def claim_reminders(
    conn: asyncpg.Connection, *, campaign_id: UUID, day_offsets: list[int], queued_on: date
) -> list[int]:
    """Mark the wave's due reminder offsets as queued; the ones this call marked (a
    concurrent or earlier run that marked one already gets nothing for it)."""
    rows = await conn.fetch(
        """
        insert into mail_wave_reminders (campaign_id, day_offset, queued_on)
        select $1, o, $3 from unnest($2::integer[]) as o
        on conflict (campaign_id, day_offset) do nothing
        returning day_offset
        """,
        campaign_id, day_offsets, queued_on,
    )
    return [r["day_offset"] for r in rows]


async def select_reminder_recipients(conn: asyncpg.Connection, *, campaign_id: UUID) -> list[Addressee]:
    """The audience members who have not fetched their token for the wave (no issuance
    row) and have not opted out of reminders. Who answered is unknown and stays so."""
    rows = await conn.fetch(
        """
        select a.email, a.display_name, a.language from campaign_audience ca join accounts a on a.id = ca.account_id
        where ca.campaign_id = $1 and a.active
          and not exists (select 1 from token_issuances ti where ti.campaign_id = ca.campaign_id
                                                            and ti.account_id = ca.account_id)
          and not exists (select 1 from mail_reminder_opt_outs o where o.account_id = ca.account_id)
        order by a.email
        """,
        campaign_id,
    )
    return [Addressee(**dict(r)) for r in rows]


async def select_reminders_opted_out(conn: asyncpg.Connection, *, account_id: UUID) -> bool:
    return bool(await conn.fetchval(
        "select exists (select 1 from mail_reminder_opt_outs where account_id = $1)", account_id
    ))


async def set_reminders_opted_out(conn: asyncpg.Connection, *, account_id: UUID, opted_out: bool) -> None:
    if opted_out:
        await conn.execute(
            "insert into mail_reminder_opt_outs (account_id) values ($1) on conflict do nothing", account_id
        )
    else:
        await conn.execute("delete from mail_reminder_opt_outs where account_id = $1", account_id)


# Thread notices ----------------------------------------------------------------------------------


async def start_notice_round(conn: asyncpg.Connection, *, now: datetime, every_minutes: int) -> bool:
    """Whether this caller runs the thread-notice round now: none ran in the last
    ``every_minutes`` (in any replica). The row lock makes a concurrent caller wait and
    then find the round taken."""
    return bool(await conn.fetchval(
        """
        insert into mail_notice_rounds (singleton, last_run) values (true, $1)
        on conflict (singleton) do update set last_run = excluded.last_run
        where mail_notice_rounds.last_run <= $1 - make_interval(mins => $2)
        returning true
        """,
        now, every_minutes,
    ))


async def claim_thread_news(conn: asyncpg.Connection) -> list[ThreadNews]:
    """Threads with an author message the owners were not told about, each moved on to
    its last message number; only the threads this call moved (a concurrent run that
    got there first has them). Message texts are not read."""
    rows = await conn.fetch(
        """
        with news as (
            select t.id as thread_id, t.service_id, s.name as service_name, t.title,
                   n.notified_seq, max(m.seq) as top_seq
            from threads t
            join services s on s.id = t.service_id
            join thread_messages m on m.thread_id = t.id
            left join mail_thread_notices n on n.thread_id = t.id
            group by t.id, s.name, n.notified_seq
            having bool_or(not m.from_staff and m.seq > coalesce(n.notified_seq, 0))
        ), moved as (
            insert into mail_thread_notices (thread_id, notified_seq)
            select thread_id, top_seq from news
            on conflict (thread_id) do update set notified_seq = excluded.notified_seq
            where mail_thread_notices.notified_seq < excluded.notified_seq
            returning thread_id
        )
        select news.* from news join moved using (thread_id)
        """
    )
    return [ThreadNews(**dict(r)) for r in rows]


async def select_service_owners(conn: asyncpg.Connection, *, service_ids: list[UUID]) -> dict[UUID, list[Addressee]]:
    rows = await conn.fetch(
        """
        select o.service_id, a.email, a.display_name, a.language
        from service_owners o join accounts a on a.id = o.account_id
        where o.service_id = any($1::uuid[]) and a.active and 'owner' = any(a.roles)
        order by a.email
        """,
        service_ids,
    )
    owners: dict[UUID, list[Addressee]] = {}
    for r in rows:
        owners.setdefault(r["service_id"], []).append(
            Addressee(email=r["email"], display_name=r["display_name"], language=r["language"]))
    return owners


# Sending -----------------------------------------------------------------------------------------


async def claim_due_mail(
    conn: asyncpg.Connection, *, now: datetime, lease_until: datetime, max_attempts: int, limit: int = 50
) -> list[OutboxMail]:
    """Claim pending mail whose time has come (skipping rows another replica holds):
    count the attempt and lease the row until ``lease_until``, so the caller can commit
    before it talks SMTP. A row whose lease ran out after its last attempt is given up
    and returned as 'failed'."""
    rows = await outbox.claim_due(conn, table="mail_outbox", columns=_MAIL, now=now, lease_until=lease_until,
                                  max_attempts=max_attempts, limit=limit)
    return [OutboxMail(**dict(r)) for r in rows]


async def record_mail_attempt(
    conn: asyncpg.Connection, *, mail_id: UUID, attempt: int, state: str, error: str,
    next_attempt_at: datetime | None,
) -> bool:
    """Record the outcome of attempt number ``attempt``; False when the row moved on
    meanwhile (its lease ran out and another worker claimed it)."""
    return bool(await conn.fetchval(
        """
        update mail_outbox set state = $2, last_error = $3, next_attempt_at = coalesce($4, next_attempt_at),
               sent_on = case when $2 = 'sent' then current_date else sent_on end
        where id = $1 and state = 'pending' and attempts = $5
        returning true
        """,
        mail_id, state, error, next_attempt_at, attempt,
    ))


async def select_outbox(conn: asyncpg.Connection, *, limit: int = 200) -> list[OutboxMail]:
    rows = await conn.fetch(f"select {_OUTBOX} from mail_outbox order by queued_on desc, next_attempt_at desc, id "
                            "limit $1", limit)
    return [OutboxMail(**dict(r)) for r in rows]


async def delete_old_mail(conn: asyncpg.Connection, *, retention_days: int) -> int:
    """Sent, held and given-up mail older than the retention (pending mail is still work)."""
    status = await conn.execute(
        "delete from mail_outbox where state <> 'pending' and queued_on < current_date - $1::integer", retention_days
    )
    return int(status.split()[-1])
