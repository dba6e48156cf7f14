"""E-mail through a real SMTP server (aiosmtpd on 127.0.0.1, started here): invitations
when a wave opens, reminders only to members without a token, thread notices to owners,
retries with back-off, STARTTLS/TLS with authentication, and the development mailbox."""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.policy
import ipaddress
import re
import socket
import ssl
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from types import SimpleNamespace

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from litestar.testing import AsyncTestClient

from service import mail
from service.app import create_app
from service.client import thread_call
from service.db import create_pool
from service.queries.mail import WaveMailInfo
from service.settings import Settings, SettingsError
from tests.integration.thread_helpers import new_thread, signed_in
from tests.integration.wave_helpers import MEMBERS, create_wave, make_service, token_for
from tests.support import login, role_email

JOBS_OFF = frozenset({"mail_sender", "mail_notices", "webhook_worker"})
AUDIENCE = [role_email("member"), *MEMBERS[:6]]


# An SMTP server ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Inbox:
    """What the server received, and what it answers to DATA next (then 250)."""

    messages: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)  # recipients answered 550
    logins: list[tuple[str, str]] = field(default_factory=list)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.refuse:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.answers:
            return self.answers.pop(0)
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword):
            self.logins.append((auth_data.login.decode(), auth_data.password.decode()))
            if (auth_data.login, auth_data.password) == (b"candor", b"p@ss word"):
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    def to(self, address: str) -> list[EmailMessage]:
        return [m for rcpt, m in self.messages if rcpt == [address]]


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    box = Inbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield box, controller.port
    controller.stop()


@pytest.fixture
def mail_settings(settings: Settings, inbox) -> Settings:
    """SMTP to the test's server (no TLS: it listens on loopback), jobs driven by the test."""
    return replace(settings, smtp_url=f"smtp+plain://127.0.0.1:{inbox[1]}", mail_from="Candor <candor@test.example>",
                   mail_reminder_days="3,-2", disabled_jobs=JOBS_OFF)


@pytest.fixture
async def mclient(mail_settings: Settings) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(create_app(mail_settings), base_url="http://127.0.0.1:8000") as c:
        yield c


@pytest.fixture
async def pool(settings: Settings):
    pool = await create_pool(settings)  # the test's own loop (the app runs in another)
    yield pool
    await pool.close()


async def outbox(db, kind: str | None = None) -> list[dict]:
    rows = await db.fetch("select * from mail_outbox where $1::text is null or kind = $1 order by recipient", kind)
    return [dict(r) for r in rows]


def parts(message: EmailMessage) -> tuple[str, str]:
    text, page = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None and page is not None
    return text.get_content(), page.get_content()


def later(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


# Invitations -------------------------------------------------------------------------------


async def test_opening_a_wave_invites_each_audience_member_once(mclient, db, mail_settings, pool, inbox):
    box, _ = inbox
    wave = await create_wave(mclient, db, size=7)
    queued = await outbox(db)
    assert sorted(r["recipient"] for r in queued) == sorted(AUDIENCE)
    assert {(r["kind"], r["state"]) for r in queued} == {("invitation", "pending")}

    assert await mail.send_due(pool, mail_settings) == 7
    assert await mail.send_due(pool, mail_settings, now=later(3600)) == 0  # nothing twice
    assert sorted(rcpt[0] for rcpt, _ in box.messages) == sorted(AUDIENCE)
    assert all(len(rcpt) == 1 for rcpt, _ in box.messages)  # one recipient per message: no audience list
    link = f"{mail_settings.origin}/surveys/{wave['id']}"
    for _, message in box.messages:
        assert message["From"] == "Candor <candor@test.example>"
        assert message["Subject"] == "Survey open: Spring pulse"
        assert message["Auto-Submitted"] == "auto-generated"
        text, page = parts(message)
        assert link in text and f'<a href="{link}">{link}</a>' in page
        # No tracking: no images or other resources, every link is written out as it goes.
        assert not re.search(r"<(img|link|script|iframe)\b|src=|url\(", page, re.I)
        assert set(re.findall(r'href="([^"]+)"', page)) == {link}
        assert set(re.findall(r"https?://\S+", text)) == {link}
    assert {r["state"] for r in await outbox(db)} == {"sent"}
    assert {r["sent_on"] for r in await outbox(db)} == {date.today()}


async def test_the_job_sends_batch_after_batch_in_one_round(mclient, db, mail_settings, pool, inbox, monkeypatch):
    monkeypatch.setattr(mail, "BATCH_SIZE", 3)
    await create_wave(mclient, db, size=7)
    app = SimpleNamespace(state=SimpleNamespace(pool=pool, settings=mail_settings))
    await mail.send_mail(app)
    assert len(inbox[0].messages) == 7


async def test_a_wave_that_fails_to_open_invites_nobody(mclient, db):
    wave = await create_wave(mclient, db, size=4, k_scores=5, open_it=False)
    opened = await mclient.post(f"/api/campaigns/{wave['id']}/open")
    assert opened.status_code == 409
    assert await outbox(db) == []


# Reminders ---------------------------------------------------------------------------------


async def test_reminders_go_only_to_members_without_a_token_who_did_not_opt_out(mclient, db, mail_settings, pool):
    wave = await create_wave(mclient, db, size=7)
    opens_on = date.fromisoformat(wave["opens_on"])
    await token_for(mclient, wave["id"], MEMBERS[0])  # fetched: it is not known whether m1 answered
    mclient.cookies.clear()
    await login(mclient, "member")
    assert (await mclient.get("/api/me/mail")).json() == {"reminders": True, "delivery": "smtp"}
    assert (await mclient.put("/api/me/mail", json={"reminders": False})).json()["reminders"] is False

    # Before the day: nothing. On the day, twice and from two "replicas" at once: once.
    assert await mail.queue_reminders(pool, mail_settings, day=opens_on + timedelta(days=2)) == 0
    second = await create_pool(mail_settings)
    try:
        counts = await asyncio.gather(
            mail.queue_reminders(pool, mail_settings, day=opens_on + timedelta(days=3)),
            mail.queue_reminders(second, mail_settings, day=opens_on + timedelta(days=3)),
        )
    finally:
        await second.close()
    assert sorted(counts) == [0, 5]
    assert await mail.queue_reminders(pool, mail_settings, day=opens_on + timedelta(days=4)) == 0
    reminded = [r["recipient"] for r in await outbox(db, "reminder")]
    assert reminded == sorted(set(AUDIENCE) - {MEMBERS[0], role_email("member")})
    # Opting out of reminders keeps the invitation.
    assert len(await outbox(db, "invitation")) == 7

    # Two days before closing: the next reminder, to the same people (m2 fetched meanwhile).
    await token_for(mclient, wave["id"], MEMBERS[1])
    closes_on = date.fromisoformat(wave["closes_on"])
    assert await mail.queue_reminders(pool, mail_settings, day=closes_on - timedelta(days=2)) == 4
    assert await mail.queue_reminders(pool, mail_settings, day=closes_on) == 0
    text = (await outbox(db, "reminder"))[0]["text_body"]
    assert "does not know who answered" in text and f"/surveys/{wave['id']}" in text


async def test_a_closed_wave_reminds_nobody(mclient, db, mail_settings, pool):
    wave = await create_wave(mclient, db, size=7)
    assert (await mclient.post(f"/api/campaigns/{wave['id']}/close")).status_code == 200
    assert await mail.queue_reminders(pool, mail_settings,
                                      day=date.fromisoformat(wave["opens_on"]) + timedelta(days=3)) == 0


def test_reminder_days_count_from_the_later_of_opening_and_invitation():
    wave = WaveMailInfo(id=uuid.uuid4(), title="t", service_name="s", opens_on=date(2026, 3, 1),
                             closes_on=date(2026, 3, 20), invited_on=date(2026, 3, 5))
    assert mail.due_offsets(wave, (3, 7, -2), date(2026, 3, 7)) == []
    assert mail.due_offsets(wave, (3, 7, -2), date(2026, 3, 8)) == [3]
    assert mail.due_offsets(wave, (3, 7, -2), date(2026, 3, 18)) == [3, 7, -2]
    assert mail.due_offsets(wave, (3,), date(2026, 3, 21)) == []  # closed


def test_both_parts_say_the_same_and_the_html_part_escapes_what_it_quotes():
    text, page = mail.render("A <b>subject</b>", ["Title: “<script>x</script>” & more",
                                                  mail.Items([("Thread <i>", "https://c.example/t?a=1&b=2")])])
    assert "Title: “<script>x</script>” & more" in text and "https://c.example/t?a=1&b=2" in text
    assert "<script>" not in page and "&lt;script&gt;" in page and "<i>" not in page
    assert '<a href="https://c.example/t?a=1&amp;b=2">https://c.example/t?a=1&amp;b=2</a>' in page
    assert "<title>A &lt;b&gt;subject&lt;/b&gt;</title>" in page


# Failures and retries ----------------------------------------------------------------------


async def test_a_refusing_or_absent_server_is_retried_with_back_off_and_nothing_is_lost(
    mclient, db, mail_settings, pool, inbox
):
    box, _ = inbox
    await create_wave(mclient, db, size=7)
    box.answers = ["451 4.3.0 Try again later"] * 7
    start = datetime.now(UTC)
    assert await mail.send_due(pool, mail_settings, now=start) == 7
    rows = await outbox(db)
    assert {(r["state"], r["attempts"]) for r in rows} == {("pending", 1)}
    assert all("451" in r["last_error"] for r in rows)
    assert {r["next_attempt_at"] for r in rows} == {start + timedelta(seconds=mail.BACKOFF_SECONDS)}

    # The server goes away: the second attempt fails too, and waits twice as long.
    down = replace(mail_settings, smtp_url=f"smtp+plain://127.0.0.1:{free_port()}")
    second = start + timedelta(seconds=mail.BACKOFF_SECONDS)
    assert await mail.send_due(pool, down, now=second - timedelta(seconds=1)) == 0  # not due yet
    assert await mail.send_due(pool, down, now=second) == 7
    rows = await outbox(db)
    assert {(r["state"], r["attempts"]) for r in rows} == {("pending", 2)}
    assert all("ConnectionRefused" in r["last_error"] for r in rows)
    assert {r["next_attempt_at"] for r in rows} == {second + timedelta(seconds=2 * mail.BACKOFF_SECONDS)}
    assert box.messages == []

    # Back: everything arrives, once.
    assert await mail.send_due(pool, mail_settings, now=second + timedelta(seconds=2 * mail.BACKOFF_SECONDS)) == 7
    assert sorted(rcpt[0] for rcpt, _ in box.messages) == sorted(AUDIENCE)
    assert {(r["state"], r["last_error"]) for r in await outbox(db)} == {("sent", "")}


async def test_a_recipient_refused_for_good_is_given_up_the_others_are_sent(mclient, db, mail_settings, pool, inbox):
    box, _ = inbox
    box.refuse = {MEMBERS[2]}
    await create_wave(mclient, db, size=7)
    assert await mail.send_due(pool, mail_settings) == 7
    states = {r["recipient"]: (r["state"], r["last_error"][:8]) for r in await outbox(db)}
    assert states.pop(MEMBERS[2]) == ("failed", "SMTP 550")
    assert set(states.values()) == {("sent", "")}
    assert len(box.messages) == 6


async def test_mail_is_given_up_after_the_last_attempt(mclient, db, mail_settings, pool):
    await create_wave(mclient, db, size=7)
    down = replace(mail_settings, smtp_url=f"smtp+plain://127.0.0.1:{free_port()}")
    now = datetime.now(UTC)
    for _ in range(mail.MAX_ATTEMPTS):
        assert await mail.send_due(pool, down, now=now) == 7
        now += timedelta(days=1)
    assert {(r["state"], r["attempts"]) for r in await outbox(db)} == {("failed", mail.MAX_ATTEMPTS)}


# TLS ---------------------------------------------------------------------------------------


def _certificate(tmp_path: Path) -> tuple[ssl.SSLContext, Path]:
    """A self-signed certificate for 127.0.0.1: the server's context and the PEM to trust."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_path, key_path)
    return server, cert_path


@pytest.mark.parametrize("scheme", ["smtp", "smtps"])
# aiosmtpd warns about AUTH without STARTTLS; on smtps the whole connection is TLS.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
async def test_tls_with_authentication(mclient, db, mail_settings, pool, tmp_path, scheme):
    """smtp:// upgrades with STARTTLS before it authenticates, smtps:// speaks TLS from the
    start; the certificate is checked (a CA the URL names is trusted, nothing else)."""
    server_tls, cert = _certificate(tmp_path)
    box = Inbox()
    options = ({"tls_context": server_tls, "require_starttls": True} if scheme == "smtp"
               # aiosmtpd counts only STARTTLS as TLS for AUTH; this connection is TLS from the start.
               else {"ssl_context": server_tls, "auth_require_tls": False})
    controller = Controller(box, hostname="127.0.0.1", port=free_port(), authenticator=box.authenticate,
                            auth_required=True, **options)
    controller.start()
    try:
        await create_wave(mclient, db, size=7)
        base = f"{scheme}://candor:p%40ss%20word@127.0.0.1:{controller.port}"
        untrusted = replace(mail_settings, smtp_url=base)
        assert await mail.send_due(pool, untrusted) == 7
        assert box.messages == [] and box.logins == []  # no password to a server whose certificate fails
        assert {r["state"] for r in await outbox(db)} == {"pending"}
        assert all("CERTIFICATE_VERIFY_FAILED" in r["last_error"] for r in await outbox(db))

        trusted = replace(mail_settings, smtp_url=f"{base}?cafile={cert}")
        assert await mail.send_due(pool, trusted, now=later(mail.BACKOFF_SECONDS + 1)) == 7
        assert len(box.messages) == 7 and set(box.logins) == {("candor", "p@ss word")}
    finally:
        controller.stop()


async def test_starttls_is_required_never_skipped(mclient, db, mail_settings, pool, inbox):
    """A server that offers no STARTTLS (or an attacker who strips it) gets nothing."""
    box, port = inbox
    await create_wave(mclient, db, size=7)
    assert await mail.send_due(pool, replace(mail_settings, smtp_url=f"smtp://127.0.0.1:{port}")) == 7
    assert box.messages == []
    assert all("STARTTLS" in r["last_error"].upper() for r in await outbox(db))


@pytest.mark.parametrize(("url", "reason"), [
    ("http://mail.example.org", "scheme"),
    ("smtp+plain://user:pw@mail.example.org", "in clear"),
    ("smtp://mail.example.org:99999", "port"),
    ("smtp://", "no host"),
    ("smtp://mail.example.org/path", "path"),
])
def test_unusable_smtp_urls_stop_start_up(settings, url, reason):
    with pytest.raises(SettingsError, match=reason):
        create_app(replace(settings, smtp_url=url))


def test_bad_reminder_days_and_sender_stop_start_up(settings):
    with pytest.raises(SettingsError) as raised:
        create_app(replace(settings, mail_reminder_days="3,x,0", mail_from="nobody"))
    assert "CANDOR_MAIL_REMINDER_DAYS" in str(raised.value) and "CANDOR_MAIL_FROM" in str(raised.value)
    assert mail.parse_reminder_days(" 7, 3,-1,,3") == (-1, 3, 7)
    assert Settings.from_env({"CANDOR_SMTP_URL": "smtps://a:b@mx.example.org"}).smtp_url == "smtps://a:b@mx.example.org"
    assert "a:b" not in repr(Settings.from_env({"CANDOR_SMTP_URL": "smtps://a:b@mx.example.org"}))


# Thread notices ----------------------------------------------------------------------------


class Rounds:
    """Thread-notice rounds one scrub window apart (a round runs at most once a window)."""

    def __init__(self, pool, settings: Settings) -> None:
        self.pool, self.settings, self.now = pool, settings, datetime.now(UTC)

    async def next(self) -> int:
        self.now += timedelta(minutes=self.settings.scrub_window_minutes)
        return await mail.queue_thread_notices(self.pool, self.settings, now=self.now)


async def test_owners_hear_of_new_threads_and_author_replies_and_nothing_names_the_author(
    mclient, db, mail_settings, pool, inbox
):
    box, _ = inbox
    service_id = await make_service(db)
    thread_id, secret = await new_thread(mclient, service_id, title="Printer jams", body="Every single morning.")
    # The author's request wrote nothing about mail: the notice comes from the periodic job.
    assert await outbox(db) == [] and await db.fetchval("select count(*) from mail_thread_notices") == 0

    rounds = Rounds(pool, mail_settings)
    assert await rounds.next() == 1
    assert await rounds.next() == 0
    reply = await thread_call(mclient, "POST", "/messages", secret, {"body": "Still jamming today."})
    assert reply.status_code == 201
    assert await rounds.next() == 1
    # A staff answer is no news for the owners.
    await signed_in(mclient, "owner")
    assert (await mclient.post(f"/api/threads/{thread_id}/messages", json={"body": "On it"})).status_code == 201
    assert await rounds.next() == 0

    assert await mail.send_due(pool, mail_settings) == 2
    first, second = box.to(role_email("owner"))
    link = f"{mail_settings.origin}/threads/staff/{thread_id}"
    assert "New thread in Service Desk: “Printer jams”" in parts(first)[0] and link in parts(first)[0]
    assert "The author wrote again" in parts(second)[0] and link in parts(second)[1]
    assert [rcpt for rcpt, _ in box.messages] == [[role_email("owner")]] * 2  # the author gets nothing

    member = await db.fetchrow("select id, display_name from accounts where email = $1", role_email("member"))
    secret_hash = await db.fetchval("select encode(secret_hash, 'hex') from threads")
    identifying = [secret, "-".join(secret.split()), secret_hash, role_email("member"), str(member["id"]),
                   "Every single morning", "Still jamming"]
    sent = [m.as_string() for _, m in box.messages]
    stored = [" ".join(str(v) for v in row.values()) for row in await outbox(db)]
    for text in sent + stored:
        assert not any(value in text for value in identifying), text


async def test_notices_go_to_the_services_owners_only(mclient, db, mail_settings, pool):
    mine = await make_service(db, "Mine")
    other = await db.fetchval("insert into services (name) values ('Nobody''s') returning id")
    await new_thread(mclient, mine, title="For the owner")
    await new_thread(mclient, str(other), title="For nobody")
    assert await Rounds(pool, mail_settings).next() == 1
    [row] = await outbox(db)
    assert row["recipient"] == role_email("owner") and "For the owner" in row["text_body"]
    assert "For nobody" not in row["text_body"]
    assert await db.fetchval("select count(*) from mail_thread_notices") == 2  # both are no longer news


async def test_one_round_per_scrub_window_whichever_replica_asks(mclient, db, mail_settings, pool):
    """Notices say at most which window something arrived in, even with several replicas."""
    service_id = await make_service(db)
    _, secret = await new_thread(mclient, service_id)
    start = datetime.now(UTC)
    second = await create_pool(mail_settings)
    try:
        counts = await asyncio.gather(mail.queue_thread_notices(pool, mail_settings, now=start),
                                      mail.queue_thread_notices(second, mail_settings, now=start))
    finally:
        await second.close()
    assert sorted(counts) == [0, 1]
    assert (await thread_call(mclient, "POST", "/messages", secret, {"body": "Again"})).status_code == 201
    window = timedelta(minutes=mail_settings.scrub_window_minutes)
    assert await mail.queue_thread_notices(pool, mail_settings, now=start + window - timedelta(seconds=1)) == 0
    assert await mail.queue_thread_notices(pool, mail_settings, now=start + window) == 1


# Opting out --------------------------------------------------------------------------------


async def test_opting_out_needs_a_session_and_csrf_and_a_valid_body(mclient):
    assert (await mclient.get("/api/me/mail")).status_code == 401
    await login(mclient, "member")
    token = mclient.headers.pop("x-csrf-token")
    assert (await mclient.put("/api/me/mail", json={"reminders": False})).status_code == 403
    mclient.headers["x-csrf-token"] = token
    bad = await mclient.put("/api/me/mail", json={"reminders": False, "invitations": False})
    assert bad.status_code == 422 and "invitations" in bad.text
    assert (await mclient.put("/api/me/mail", json={"reminders": False})).status_code == 200
    assert (await mclient.get("/api/me/mail")).json()["reminders"] is False
    assert (await mclient.put("/api/me/mail", json={"reminders": True})).json()["reminders"] is True


# The development mailbox -------------------------------------------------------------------


@pytest.fixture
async def dev_client(settings: Settings) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(create_app(replace(settings, disabled_jobs=JOBS_OFF)),
                               base_url="http://127.0.0.1:8000") as c:
        yield c


async def test_without_smtp_mail_is_held_for_the_admins_mailbox(dev_client, db, settings, pool, inbox):
    box, _ = inbox
    wave = await create_wave(dev_client, db, size=7)
    assert {(r["kind"], r["state"]) for r in await outbox(db)} == {("invitation", "held")}
    assert await mail.send_due(pool, settings, now=later(3600)) == 0
    assert box.messages == []

    dev_client.cookies.clear()
    assert (await dev_client.get("/admin/mailbox", follow_redirects=False)).status_code == 303
    for role in ("member", "owner", "manager", "moderator"):
        await signed_in(dev_client, role)
        assert (await dev_client.get("/admin/mailbox")).status_code == 403, role
    await signed_in(dev_client, "admin")
    page = await dev_client.get("/admin/mailbox")
    assert page.status_code == 200
    assert "Development mailbox" in page.text and "Survey open: Spring pulse" in page.text
    assert MEMBERS[3] in page.text and f"/surveys/{wave['id']}" in page.text
    assert "<iframe sandbox=\"\"" in page.text  # the HTML part is shown inert


async def test_production_without_smtp_queues_nothing_and_says_so(settings, db, pool):
    production = replace(settings, environment="production", public_url="https://candor.test.example",
                         disabled_jobs=JOBS_OFF)
    assert mail.mode(production) == "off"
    async with AsyncTestClient(create_app(production), base_url="https://candor.test.example") as client:
        await create_wave(client, db, size=7)
        assert await outbox(db) == []
        await signed_in(client, "admin")
        page = await client.get("/admin/mailbox")
        assert page.status_code == 200 and "Mail is off" in page.text


async def test_old_mail_is_purged_pending_mail_is_kept(mclient, db, mail_settings, pool):
    await create_wave(mclient, db, size=7)
    assert await mail.send_due(pool, mail_settings) == 7
    await db.execute("update mail_outbox set queued_on = current_date - $1::integer, state = case "
                     "when recipient = $2 then 'pending' else state end",
                     mail.RETENTION_DAYS + 1, MEMBERS[0])
    assert await mail.purge_mail(pool) == 6
    assert [r["recipient"] for r in await outbox(db)] == [MEMBERS[0]]
