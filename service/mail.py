"""E-mail: wave invitations, reminders and thread notices, through an outbox.

**Outbox.** Mail is written to ``mail_outbox`` in the transaction that decides it
(opening a wave queues its invitations, so a wave that fails to open mails nobody) and
sent by a housekeeping job (:func:`send_mail`), never inside a request: an SMTP server
that is slow or down delays mail, never a page. Rows are claimed with SKIP LOCKED and a
lease, as webhook deliveries are, so replicas share the work; a transient failure is
retried with exponential back-off, a recipient the server refuses for good is given up.

**Who gets what.** Opening a wave: every member of its audience. Reminders, on the days
``CANDOR_MAIL_REMINDER_DAYS`` names: only audience members with no ``token_issuances``
row for the wave (their browser has not fetched their token) who have not opted out.
Candor never knows who answered, and the reminder says exactly what it knows. Thread
notices: the owners of a service, when one of its threads is new or its author wrote
again. Authors are anonymous and get nothing.

**Thread notices come from a periodic job, not from the author's request**
(:func:`queue_thread_notices`, one round per ``scrub_window_minutes`` across all replicas).
A row written in the author's transaction would share its transaction id and carry the
moment it was posted next to the thread; found by the job, the notice says only that
something arrived in the last window, which the arrival-order pass already allows
(DESIGN.md, invariant 3).
Notices carry the thread's title and link, never a message's text.

**Without SMTP.** ``CANDOR_SMTP_URL`` unset: in development and tests mail is queued as
'held' and shown to admins on ``/admin/mailbox`` instead of being sent; in production
nothing is queued (mail is off) and that page says so. A message has a text and an
HTML part built from the same blocks, with absolute links from ``Settings.origin``
written out as they are: no images, no tracking, no rewritten links.

**In the recipient's language.** Each message is written, when it is queued, in its
recipient's language (``accounts.language``: their own choice on the language switcher,
else the language their browser used when they signed in or their directory's
preferredLanguage; unknown: ``CANDOR_DEFAULT_LANGUAGE``), through the UI's gettext
catalogs, with dates and numbers in that locale; the outbox keeps that language, and the
message goes out with it as ``Content-Language`` and ``<html lang>``. Composing at
queueing keeps the outbox, and the development mailbox, exactly what is sent.
"""

from __future__ import annotations

import asyncio
import html
import logging
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Any, Literal, NamedTuple
from urllib.parse import parse_qs, unquote, urlsplit
from uuid import UUID

from service import i18n
from service.queries import mail as q
from service.queries.mail import Addressee, NewMail, OutboxMail, ThreadNews, WaveMailInfo
from service.settings import Settings, SettingsError

log = logging.getLogger("candor.mail")

MAX_ATTEMPTS = 10
BACKOFF_SECONDS = 60  # 1, 2, 4 … 256 min between attempts: about eight and a half hours in all
SEND_INTERVAL_SECONDS = 10
# A claimed batch whose worker died before recording the outcome is tried again after this.
LEASE_SECONDS = 600
BATCH_SIZE = 50
MAX_BATCHES_PER_ROUND = 20
SMTP_TIMEOUT_SECONDS = 30
# Sent, held and given-up mail is deleted after this many days.
RETENTION_DAYS = 30
DEFAULT_PORTS = {"smtp": 587, "smtps": 465, "smtp+plain": 25}

Mode = Literal["smtp", "mailbox", "off"]
Security = Literal["starttls", "tls", "plain"]
_SECURITY: dict[str, Security] = {"smtp": "starttls", "smtps": "tls", "smtp+plain": "plain"}


# Settings ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SmtpTarget:
    # starttls: smtp:// (STARTTLS required); tls: smtps:// (implicit TLS); plain: smtp+plain://
    # (a relay on the same host or network, no credentials).
    security: Security
    host: str
    port: int
    username: str
    password: str
    cafile: str | None  # a CA bundle to trust instead of the system's (a private relay's CA)


def parse_smtp_url(url: str) -> SmtpTarget:
    """``smtp://user:password@host:587`` (STARTTLS), ``smtps://…:465`` (TLS) or
    ``smtp+plain://host:25``; ``?cafile=/path`` trusts that CA. ValueError says why not."""
    parts = urlsplit(url)
    security = _SECURITY.get(parts.scheme)
    if security is None:
        raise ValueError("the scheme must be smtp (STARTTLS), smtps (TLS) or smtp+plain")
    try:
        port = parts.port or DEFAULT_PORTS[parts.scheme]
    except ValueError:
        raise ValueError("the port is not a number between 1 and 65535") from None
    if not parts.hostname:
        raise ValueError("the URL names no host")
    if parts.path not in ("", "/"):
        raise ValueError("the URL has a path; only ?cafile= may follow the host")
    query = parse_qs(parts.query)
    if set(query) - {"cafile"}:
        raise ValueError("the only query parameter is cafile")
    username, password = unquote(parts.username or ""), unquote(parts.password or "")
    if security == "plain" and (username or password):
        raise ValueError("smtp+plain would send the password in clear: use smtp:// (STARTTLS) or smtps://")
    return SmtpTarget(security=security, host=parts.hostname, port=port, username=username, password=password,
                      cafile=query["cafile"][-1] if "cafile" in query else None)


def parse_reminder_days(text: str) -> tuple[int, ...]:
    """``"3,7,-1"``: 3 and 7 days after a wave opens, 1 day before it closes; ``""``: none."""
    days: list[int] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            day = int(part)
        except ValueError:
            raise ValueError(f"{part!r} is not a whole number of days") from None
        if day == 0 or not -365 <= day <= 365:
            raise ValueError("each day must be 1…365 (after opening) or -1…-365 (before closing)")
        days.append(day)
    return tuple(sorted(set(days)))


def check_mail_settings(settings: Settings) -> None:
    """Refuse to start with a mail setting that cannot work (all problems at once)."""
    invalid = []
    if settings.smtp_url:
        try:
            parse_smtp_url(settings.smtp_url)
        except ValueError as exc:
            invalid.append(f"CANDOR_SMTP_URL: {exc}")
    if settings.mail_from and "@" not in parseaddr(settings.mail_from)[1]:
        invalid.append("CANDOR_MAIL_FROM must be an address, e.g. Candor <candor@example.org>")
    try:
        parse_reminder_days(settings.mail_reminder_days)
    except ValueError as exc:
        invalid.append(f"CANDOR_MAIL_REMINDER_DAYS: {exc}")
    if settings.default_language not in i18n.SUPPORTED:
        invalid.append(f"CANDOR_DEFAULT_LANGUAGE must be one of {', '.join(i18n.SUPPORTED)}")
    if invalid:
        raise SettingsError(invalid=invalid)


def mode(settings: Settings) -> Mode:
    """smtp: sent; mailbox: kept for the admins' development mailbox; off: not queued."""
    if settings.smtp_url:
        return "smtp"
    return "off" if settings.environment == "production" else "mailbox"


def _origin_host(settings: Settings) -> str:
    return urlsplit(settings.origin).hostname or "localhost"


def sender(settings: Settings) -> str:
    return settings.mail_from or f"Candor <candor@{_origin_host(settings)}>"


# Languages -----------------------------------------------------------------------------------


def recipient_language(settings: Settings, person: Addressee) -> str:
    """The language a person's mail is written in: theirs, else the organisation's."""
    return person.language if person.language in i18n.SUPPORTED else settings.default_language


class Writer:
    """Writes one message in one language: its translations, its dates and numbers."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        translations = i18n.translations(lang)
        self.gettext, self.ngettext = translations.gettext, translations.ngettext

    def day(self, value: date) -> str:
        # English keeps the ISO dates the pages show; German writes "15. März 2026".
        return i18n.locale_date(value, self.lang, "long")

    def number(self, value: int) -> str:
        return i18n.locale_number(value, self.lang)


# Messages ------------------------------------------------------------------------------------
#
# Each message is composed when it is queued, in its recipient's language, so the outbox (and
# the development mailbox) holds exactly what is sent. Names, wave and thread titles are quoted
# as they are stored, never translated.


class Link(NamedTuple):
    url: str


class Items(NamedTuple):
    entries: list[tuple[str, str]]  # (what, link)


Block = str | Link | Items


def render(subject: str, blocks: Sequence[Block], lang: str = i18n.DEFAULT_LOCALE) -> tuple[str, str]:
    """The text and HTML parts of one message, from the same blocks. Links are written
    out as they are, in both parts."""
    text: list[str] = []
    body: list[str] = []
    for block in blocks:
        if isinstance(block, Link):
            text.append(block.url)
            body.append(f'<p><a href="{html.escape(block.url)}">{html.escape(block.url)}</a></p>')
        elif isinstance(block, Items):
            text.append("\n".join(f"- {what}\n  {url}" for what, url in block.entries))
            body.append("<ul>" + "".join(
                f'<li>{html.escape(what)}<br><a href="{html.escape(url)}">{html.escape(url)}</a></li>'
                for what, url in block.entries) + "</ul>")
        else:
            text.append(block)
            body.append(f"<p>{html.escape(block)}</p>")
    page = (f'<!doctype html>\n<html lang="{html.escape(lang)}"><head><meta charset="utf-8">'
            f"<title>{html.escape(subject)}</title></head>\n<body>\n" + "\n".join(body) + "\n</body></html>\n")
    return "\n\n".join(text) + "\n", page


def _mail(person: Addressee, write: Writer, kind: str, subject: str, blocks: Sequence[Block]) -> NewMail:
    text, page = render(subject, blocks, write.lang)
    return NewMail(recipient=person.email, kind=kind, subject=subject, text_body=text, html_body=page,
                   language=write.lang)


def invitation(settings: Settings, wave: WaveMailInfo, person: Addressee) -> NewMail:
    write = Writer(recipient_language(settings, person))
    _ = write.gettext
    return _mail(person, write, "invitation", _("Survey open: %(title)s") % {"title": wave.title}, [
        _("Hello %(name)s,") % {"name": person.display_name},
        _("the survey “%(title)s” about %(service)s is open from %(opens)s until %(closes)s, "
          "and you are in its audience.") % {"title": wave.title, "service": wave.service_name,
                                             "opens": write.day(wave.opens_on), "closes": write.day(wave.closes_on)},
        _("Your answer is anonymous by construction: it carries a blind token, never your name, "
          "and Candor cannot tell who answered."),
        _("Answer it here:"),
        Link(f"{settings.origin}/surveys/{wave.id}"),
    ])


def reminder(settings: Settings, wave: WaveMailInfo, person: Addressee) -> NewMail:
    write = Writer(recipient_language(settings, person))
    _ = write.gettext
    subject = _("Reminder: %(title)s is open until %(closes)s") % {"title": wave.title,
                                                                    "closes": write.day(wave.closes_on)}
    return _mail(person, write, "reminder", subject, [
        _("Hello %(name)s,") % {"name": person.display_name},
        _("the survey “%(title)s” about %(service)s is open until %(closes)s.") % {
            "title": wave.title, "service": wave.service_name, "closes": write.day(wave.closes_on)},
        _("This reminder goes to the people in its audience for whom no anonymous token has been fetched yet "
          "(your browser fetches it when you sign in). That is all Candor knows: it does not know who answered, "
          "and never will."),
        _("Answer it here:"),
        Link(f"{settings.origin}/surveys/{wave.id}"),
        _("You can switch reminders off on your Candor home page (invitations to new surveys still come):"),
        Link(f"{settings.origin}/"),
    ])


def thread_notice(settings: Settings, person: Addressee, news: Sequence[ThreadNews]) -> NewMail:
    write = Writer(recipient_language(settings, person))
    _ = write.gettext
    entries = [
        ((_("New thread in %(service)s: “%(title)s”") if n.notified_seq is None
          else _("The author wrote again in %(service)s: “%(title)s”")) % {"service": n.service_name, "title": n.title},
         f"{settings.origin}/threads/staff/{n.thread_id}")
        for n in news
    ]
    count = len(entries)
    subject = write.ngettext("Feedback: %(num)s thread with news", "Feedback: %(num)s threads with news",
                             count) % {"num": write.number(count)}
    return _mail(person, write, "thread-notice", subject, [
        _("Hello %(name)s,") % {"name": person.display_name},
        _("there is news in the feedback threads of the services you own:"),
        Items(entries),
        _("Authors are anonymous: answer them in Candor. Replying to this e-mail reaches no one."),
    ])


# Queueing ------------------------------------------------------------------------------------


async def queue(conn: Any, settings: Settings, mails: list[NewMail]) -> int:
    """Write ``mails`` to the outbox: to be sent (SMTP configured), held for the
    development mailbox, or not at all (production without SMTP)."""
    current = mode(settings)
    if current == "off":
        return 0
    return await q.insert_mails(conn, mails=mails, state="pending" if current == "smtp" else "held")


def today() -> date:
    return datetime.now(UTC).date()


async def queue_invitations(db: Any, settings: Settings, *, campaign_id: UUID) -> int:
    """Called in the transaction that opens the wave, after its audience snapshot: one
    invitation per audience member. Nothing is queued twice for a wave."""
    if not await q.insert_wave_invitation(db, campaign_id=campaign_id, queued_on=today()):
        return 0
    wave = await q.select_wave(db, campaign_id=campaign_id)
    if wave is None:
        return 0
    return await queue(db, settings, [invitation(settings, wave, p)
                                      for p in await q.select_audience(db, campaign_id=campaign_id)])


def due_offsets(wave: WaveMailInfo, offsets: Sequence[int], day: date) -> list[int]:
    """The reminder offsets whose day has come for an open wave: after the day its
    invitations went out, not after it closes. Positive: days after the wave opens (or
    was invited, if later); negative: days before it closes."""
    invited = wave.invited_on or wave.opens_on
    start = max(wave.opens_on, invited)
    due = []
    for offset in offsets:
        target = start + timedelta(days=offset) if offset > 0 else wave.closes_on + timedelta(days=offset)
        if invited < target <= day <= wave.closes_on:
            due.append(offset)
    return due


async def queue_reminders(pool: Any, settings: Settings, *, day: date | None = None) -> int:
    """Queue the reminders that are due; how many mails were queued.

    For each open wave, the due offsets are claimed in ``mail_wave_reminders`` and the
    mail queued in the same transaction: a second run, or a second replica running at
    the same moment, claims nothing and queues nothing. Offsets missed while no job ran
    are claimed together and remind once."""
    day = day or today()
    offsets = parse_reminder_days(settings.mail_reminder_days)
    if not offsets:
        return 0
    queued = 0
    async with pool.acquire() as conn:
        waves = await q.select_open_waves(conn)
    for wave in waves:
        due = due_offsets(wave, offsets, day)
        if not due:
            continue
        async with pool.acquire() as conn, conn.transaction():
            if not await q.claim_reminders(conn, campaign_id=wave.id, day_offsets=due, queued_on=day):
                continue
            people = await q.select_reminder_recipients(conn, campaign_id=wave.id)
            queued += await queue(conn, settings, [reminder(settings, wave, p) for p in people])
    return queued


async def queue_thread_notices(pool: Any, settings: Settings, *, now: datetime | None = None) -> int:
    """One mail per owner listing their services' threads that are new or where the
    author wrote again since the last round; how many mails were queued. A round runs at
    most once per scrub window, however many replicas call this."""
    async with pool.acquire() as conn, conn.transaction():
        if not await q.start_notice_round(conn, now=now or datetime.now(UTC),
                                          every_minutes=settings.scrub_window_minutes):
            return 0
        news = await q.claim_thread_news(conn)
        if not news:
            return 0
        owners = await q.select_service_owners(conn, service_ids=list({n.service_id for n in news}))
        per_owner: dict[str, tuple[Addressee, list[ThreadNews]]] = {}
        for item in sorted(news, key=lambda n: (n.service_name, n.title, n.thread_id)):
            for person in owners.get(item.service_id, []):
                per_owner.setdefault(person.email, (person, []))[1].append(item)
        return await queue(conn, settings, [thread_notice(settings, person, items)
                                            for person, items in per_owner.values()])


async def purge_mail(pool: Any) -> int:
    async with pool.acquire() as conn:
        return await q.delete_old_mail(conn, retention_days=RETENTION_DAYS)


async def queue_notices(app: Any) -> None:
    """Background job (every ``scrub_window_minutes``): reminders, thread notices, and
    the purge of old mail."""
    pool, settings = app.state.pool, app.state.settings
    await queue_reminders(pool, settings)
    await queue_thread_notices(pool, settings)
    await purge_mail(pool)


# Sending -------------------------------------------------------------------------------------


def build_message(settings: Settings, mail: OutboxMail) -> EmailMessage:
    """The message as it goes out: one recipient, text and HTML alternatives. The
    Message-ID is the outbox row's, so a retried message is recognisably the same."""
    message = EmailMessage()
    message["From"] = sender(settings)
    message["To"] = mail.recipient
    message["Subject"] = mail.subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = f"<{mail.id}@{_origin_host(settings)}>"
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies
    message.set_content(mail.text_body)
    message.add_alternative(mail.html_body, subtype="html")
    # After the parts: setting content clears every Content-* header (RFC 3282's too).
    message["Content-Language"] = mail.language
    return message


class Outcome(NamedTuple):
    error: str  # '' when sent
    final: bool  # retrying cannot help (the server refused the recipient for good)


def _connect(target: SmtpTarget, local_hostname: str) -> smtplib.SMTP:
    context = ssl.create_default_context(cafile=target.cafile)
    smtp: smtplib.SMTP
    if target.security == "tls":
        smtp = smtplib.SMTP_SSL(target.host, target.port, local_hostname=local_hostname,
                                timeout=SMTP_TIMEOUT_SECONDS, context=context)
    else:
        smtp = smtplib.SMTP(target.host, target.port, local_hostname=local_hostname, timeout=SMTP_TIMEOUT_SECONDS)
    try:
        smtp.ehlo()
        if target.security == "starttls":
            # Refused rather than sent in clear when the server does not offer STARTTLS.
            smtp.starttls(context=context)
            smtp.ehlo()
        if target.username:
            smtp.login(target.username, target.password)
    except BaseException:
        smtp.close()
        raise
    return smtp


def _reply(code: int, text: bytes | str) -> str:
    return f"SMTP {code} {text.decode(errors='replace') if isinstance(text, bytes) else text}"


def _failure(exc: Exception) -> Outcome:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        text = "; ".join(_reply(code, reply) for code, reply in exc.recipients.values())
        return Outcome(text[:500], all(code >= 500 for code in codes))
    if isinstance(exc, smtplib.SMTPResponseException):
        return Outcome(_reply(exc.smtp_code, exc.smtp_error)[:500], False)
    return Outcome(f"{type(exc).__name__}: {exc}"[:500], False)


def send_batch(target: SmtpTarget, local_hostname: str, messages: Sequence[EmailMessage]) -> list[Outcome]:
    """Send each message on one connection (opened again after a broken one); runs in a
    worker thread. When no connection can be made, the rest of the batch waits."""
    outcomes: list[Outcome] = []
    smtp: smtplib.SMTP | None = None
    try:
        for message in messages:
            try:
                if smtp is None:
                    smtp = _connect(target, local_hostname)
            except Exception as exc:  # noqa: BLE001 - recorded on every message of the batch
                outcomes.extend([_failure(exc)] * (len(messages) - len(outcomes)))
                break
            try:
                smtp.send_message(message)
            except smtplib.SMTPResponseException as exc:  # the server answered; the connection is usable
                outcomes.append(_failure(exc))
            except smtplib.SMTPRecipientsRefused as exc:
                outcomes.append(_failure(exc))
            except Exception as exc:  # noqa: BLE001 - recorded on this message; reconnect for the next
                outcomes.append(_failure(exc))
                smtp.close()
                smtp = None
            else:
                outcomes.append(Outcome("", False))
    finally:
        if smtp is not None:
            try:
                smtp.quit()
            except Exception:  # noqa: BLE001 - everything was sent already
                smtp.close()
    return outcomes


def next_attempt(attempts_done: int, now: datetime) -> datetime | None:
    """When to try again after ``attempts_done`` failed attempts; None: give up."""
    if attempts_done >= MAX_ATTEMPTS:
        return None
    return now + timedelta(seconds=BACKOFF_SECONDS * 2 ** (attempts_done - 1))


async def send_due(pool: Any, settings: Settings, *, now: datetime | None = None) -> int:
    """Send the pending mail whose time has come; how many rows were claimed.

    A short transaction claims a batch (attempt counted, row leased) and commits; SMTP
    runs in a worker thread with no connection held; each outcome is recorded on its
    own row, and a transient failure is tried again later with back-off."""
    if mode(settings) != "smtp":
        return 0
    now = now or datetime.now(UTC)
    target = parse_smtp_url(settings.smtp_url)
    async with pool.acquire() as conn, conn.transaction():
        claimed = await q.claim_due_mail(conn, now=now, lease_until=now + timedelta(seconds=LEASE_SECONDS),
                                         max_attempts=MAX_ATTEMPTS, limit=BATCH_SIZE)
    sending = [m for m in claimed if m.state == "pending"]
    if not sending:
        return len(claimed)
    messages = [build_message(settings, m) for m in sending]
    try:
        outcomes = await asyncio.to_thread(send_batch, target, _origin_host(settings), messages)
    except Exception as exc:  # noqa: BLE001 - the whole batch is tried again
        outcomes = [_failure(exc)] * len(sending)
    async with pool.acquire() as conn:
        for mail, outcome in zip(sending, outcomes, strict=True):
            retry_at = None if outcome.final or not outcome.error else next_attempt(mail.attempts, now)
            state = "sent" if not outcome.error else ("pending" if retry_at else "failed")
            if outcome.error:
                log.warning("mail %s attempt %d: %s", mail.id, mail.attempts, outcome.error)
            await q.record_mail_attempt(conn, mail_id=mail.id, attempt=mail.attempts, state=state,
                                        error=outcome.error, next_attempt_at=retry_at)
    return len(claimed)


async def send_mail(app: Any) -> None:
    """Background job (every ``SEND_INTERVAL_SECONDS``): :func:`send_due`, batch after
    batch while full ones come (a large wave's invitations), at most ``MAX_BATCHES_PER_ROUND``."""
    for _ in range(MAX_BATCHES_PER_ROUND):
        if await send_due(app.state.pool, app.state.settings) < BATCH_SIZE:
            return
