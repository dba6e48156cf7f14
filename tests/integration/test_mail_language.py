"""Mail in each recipient's language, through a real SMTP server (aiosmtpd on 127.0.0.1,
started here): the member's language is what they chose on the switcher, else what
their browser used at sign-in, else their directory's preferredLanguage, else the
organisation's; each message carries it as Content-Language and ``<html lang>``."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage

import httpx
import pytest
from aiosmtpd.controller import Controller
from babel.dates import format_date
from litestar.testing import AsyncTestClient

from service import mail
from service.app import create_app
from service.db import create_pool
from service.scim import SCIM_JSON, USER_SCHEMA
from service.settings import Settings, SettingsError
from tests.integration.oidc_helpers import fake_provider, finish, oidc_settings, serve_app, start_sign_in
from tests.integration.thread_helpers import new_thread, signed_in
from tests.integration.wave_helpers import MEMBERS, create_wave, make_service, token_for
from tests.support import PASSWORD, login, role_email

JOBS_OFF = frozenset({"mail_sender", "mail_notices", "webhook_worker"})
GERMAN_BROWSER = "de-DE,de;q=0.9,en;q=0.4"


@dataclass
class Inbox:
    messages: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    port: int = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 OK"

    def one_to(self, address: str) -> EmailMessage:
        [message] = [m for rcpt, m in self.messages if rcpt == [address]]
        return message


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    box = Inbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    box.port = controller.port
    yield box
    controller.stop()


@pytest.fixture
def mail_settings(settings: Settings, inbox: Inbox) -> Settings:
    return replace(settings, smtp_url=f"smtp+plain://127.0.0.1:{inbox.port}", mail_from="Candor <candor@test.example>",
                   mail_reminder_days="3", disabled_jobs=JOBS_OFF)


@pytest.fixture
async def mclient(mail_settings: Settings) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(create_app(mail_settings), base_url="http://127.0.0.1:8000") as c:
        yield c


@pytest.fixture
async def pool(settings: Settings):
    pool = await create_pool(settings)
    yield pool
    await pool.close()


def parts(message: EmailMessage) -> tuple[str, str]:
    text, page = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None and page is not None
    # As sent: SMTP lines end in CRLF.
    return text.get_content().replace("\r\n", "\n"), page.get_content().replace("\r\n", "\n")


async def set_language(db, address: str, language: str | None) -> None:
    await db.execute("update accounts set language = $2 where email = $1", address, language)


async def language_of(db, address: str) -> tuple[str | None, bool]:
    row = await db.fetchrow("select language, language_chosen from accounts where email = $1", address)
    return row["language"], row["language_chosen"]


def german_day(day: date) -> str:
    return format_date(day, format="long", locale="de")  # "15. März 2026"


# Invitations, reminders and notices ---------------------------------------------------------


async def test_each_invitation_is_written_in_its_recipients_language(mclient, db, mail_settings, pool, inbox):
    wave = await create_wave(mclient, db, size=7, open_it=False, title="Frühjahrsumfrage <IT>")
    german, english, unknown = MEMBERS[0], MEMBERS[1], MEMBERS[2]
    await set_language(db, german, "de")
    await set_language(db, english, "en")
    assert (await mclient.post(f"/api/campaigns/{wave['id']}/open")).status_code == 200
    assert await mail.send_due(pool, mail_settings) == 7
    opens, closes = date.fromisoformat(wave["opens_on"]), date.fromisoformat(wave["closes_on"])
    link = f"{mail_settings.origin}/surveys/{wave['id']}"

    message = inbox.one_to(german)
    text, page = parts(message)
    assert message["Subject"] == "Umfrage geöffnet: Frühjahrsumfrage <IT>"  # the title as stored, not translated
    assert message["Content-Language"] == "de"
    assert text.startswith(f"Hallo {german},\n\ndie Umfrage „Frühjahrsumfrage <IT>“ zu ")
    assert f"vom {german_day(opens)} bis zum {german_day(closes)} geöffnet" in text
    assert "Ihre Antwort ist von Grund auf anonym" in text and "Hier können Sie antworten:" in text
    assert closes.isoformat() not in text and "Survey" not in text and "Hello" not in text
    assert page.startswith('<!doctype html>\n<html lang="de">') and "Umfrage geöffnet: Frühjahrsumfrage &lt;IT&gt;" in page
    assert "Ihre Antwort ist von Grund auf anonym" in page and f'<a href="{link}">{link}</a>' in page

    for address in (english, unknown):  # no language known: the organisation's, English by default
        message = inbox.one_to(address)
        text, page = parts(message)
        assert message["Subject"] == "Survey open: Frühjahrsumfrage <IT>"
        assert message["Content-Language"] == "en"
        assert f"is open from {opens.isoformat()} until {closes.isoformat()}" in text and link in text
        assert page.startswith('<!doctype html>\n<html lang="en">') and "Umfrage" not in text
    stored = {r["recipient"]: r["language"] for r in await db.fetch("select recipient, language from mail_outbox")}
    assert stored[german] == "de" and stored[english] == stored[unknown] == "en"


async def test_the_organisations_language_is_for_members_whose_language_is_unknown(settings, db, pool, inbox):
    german_org = replace(settings, smtp_url=f"smtp+plain://127.0.0.1:{inbox.port}", disabled_jobs=JOBS_OFF,
                         default_language="de")
    async with AsyncTestClient(create_app(german_org), base_url="http://127.0.0.1:8000") as client:
        wave = await create_wave(client, db, size=7, open_it=False)
        await set_language(db, MEMBERS[1], "en")
        assert (await client.post(f"/api/campaigns/{wave['id']}/open")).status_code == 200
    assert await mail.send_due(pool, german_org) == 7
    assert inbox.one_to(MEMBERS[0])["Subject"] == "Umfrage geöffnet: Spring pulse"
    assert inbox.one_to(MEMBERS[0])["Content-Language"] == "de"
    assert inbox.one_to(MEMBERS[1])["Subject"] == "Survey open: Spring pulse"  # their own language wins


def test_an_unsupported_organisation_language_stops_start_up(settings):
    with pytest.raises(SettingsError) as refused:
        mail.check_mail_settings(replace(settings, default_language="fr"))
    assert "CANDOR_DEFAULT_LANGUAGE" in str(refused.value.invalid)
    assert Settings.from_env({"CANDOR_DEFAULT_LANGUAGE": "DE"}).default_language == "de"


async def test_reminders_go_in_each_language_and_only_to_members_without_a_token(mclient, db, mail_settings, pool,
                                                                               inbox):
    wave = await create_wave(mclient, db, size=7)
    await set_language(db, MEMBERS[0], "de")
    await set_language(db, MEMBERS[1], "de")
    await token_for(mclient, wave["id"], MEMBERS[1])  # fetched: no reminder, in any language
    day = date.fromisoformat(wave["opens_on"]) + timedelta(days=3)
    assert await mail.queue_reminders(pool, mail_settings, day=day) == 6
    reminded = await db.fetch("select recipient, language, subject, text_body from mail_outbox where kind = 'reminder'")
    assert MEMBERS[1] not in {r["recipient"] for r in reminded}
    by_address = {r["recipient"]: r for r in reminded}
    closes = date.fromisoformat(wave["closes_on"])
    german = by_address[MEMBERS[0]]
    assert german["language"] == "de" and german["subject"] == f"Erinnerung: Spring pulse ist bis zum {german_day(closes)} geöffnet"
    # It says what Candor knows, in German: no token fetched; who answered is unknown.
    assert "noch kein anonymes Token abgeholt" in german["text_body"]
    assert "Es weiß nicht, wer geantwortet hat" in german["text_body"]
    english = by_address[MEMBERS[2]]
    assert english["language"] == "en" and english["subject"] == f"Reminder: Spring pulse is open until {closes.isoformat()}"
    assert "does not know who answered" in english["text_body"]


async def test_a_german_owner_hears_of_threads_in_german(mclient, db, mail_settings, pool, inbox):
    await set_language(db, role_email("owner"), "de")
    service_id = await make_service(db)
    thread_id, _ = await new_thread(mclient, service_id, title="Drucker klemmt")
    assert await mail.queue_thread_notices(pool, mail_settings, now=datetime.now(UTC)) == 1
    assert await mail.send_due(pool, mail_settings) == 1
    message = inbox.one_to(role_email("owner"))
    text, page = parts(message)
    assert message["Subject"] == "Feedback: 1 Thread mit Neuigkeiten"
    assert message["Content-Language"] == "de" and page.startswith('<!doctype html>\n<html lang="de">')
    assert "Neuer Thread zu Service Desk: „Drucker klemmt“" in text
    assert f"{mail_settings.origin}/threads/staff/{thread_id}" in text
    assert "Die Verfasser sind anonym" in text and "Neuer Thread zu Service Desk: „Drucker klemmt“" in page



# The member's language: the switcher, sign-in, the directory ---------------------------------


async def test_the_switcher_stores_the_language_of_a_signed_in_member_only(client, db):
    accounts_before = await db.fetch("select id, language, language_chosen from accounts order by id")
    switched = await client.get("/language", params={"lang": "de", "back": "/privacy"}, follow_redirects=False)
    assert switched.status_code == 303 and "candor_lang=de" in switched.headers["set-cookie"]
    # An anonymous visitor's choice is their browser's cookie, nothing more.
    assert await db.fetch("select id, language, language_chosen from accounts order by id") == accounts_before

    client.cookies.clear()
    await login(client, "member")
    assert await language_of(db, role_email("member")) == (None, False)  # no browser language at sign-in
    assert (await client.get("/language", params={"lang": "de"}, follow_redirects=False)).status_code == 303
    assert await language_of(db, role_email("member")) == ("de", True)
    # A language Candor does not speak clears the cookie and leaves the member's language alone.
    assert (await client.get("/language", params={"lang": "fr"}, follow_redirects=False)).status_code == 303
    assert await language_of(db, role_email("member")) == ("de", True)
    # A link on another site cannot change what the member's mail is written in.
    forged = await client.get("/language", params={"lang": "en"}, headers={"sec-fetch-site": "cross-site"},
                              follow_redirects=False)
    assert forged.status_code == 303 and "candor_lang=en" in forged.headers["set-cookie"]
    assert await language_of(db, role_email("member")) == ("de", True)
    same_site = await client.get("/language", params={"lang": "en"}, headers={"sec-fetch-site": "same-origin"},
                                 follow_redirects=False)
    assert same_site.status_code == 303
    assert await language_of(db, role_email("member")) == ("en", True)
    others = await db.fetch("select id, language, language_chosen from accounts where email <> $1 order by id",
                            role_email("member"))
    assert all(r["language"] is None for r in others)


async def api_sign_in(client, address: str, **headers: str) -> None:
    client.cookies.clear()
    response = await client.post("/api/auth/login", json={"email": address, "password": PASSWORD}, headers=headers)
    assert response.status_code == 200, response.text


async def test_sign_in_fills_an_unknown_language_from_the_browser_and_overrides_no_choice(client, db):
    member, owner, admin = role_email("member"), role_email("owner"), role_email("admin")
    # The switcher's cookie, on the sign-in form.
    client.cookies.set("candor_lang", "de")
    form = await client.post("/login", data={"email": member, "password": PASSWORD}, follow_redirects=False)
    assert form.status_code == 303
    assert await language_of(db, member) == ("de", False)
    # Known now: a later sign-in from an English browser does not change it.
    await api_sign_in(client, member, **{"accept-language": "en-GB,en;q=0.9"})
    assert await language_of(db, member) == ("de", False)

    # Accept-Language alone (de-AT finds de); a language Candor does not speak leaves it unknown.
    await api_sign_in(client, owner, **{"accept-language": "fr-FR,fr;q=0.9"})
    assert await language_of(db, owner) == (None, False)
    await api_sign_in(client, owner, **{"accept-language": "de-AT"})
    assert await language_of(db, owner) == ("de", False)

    # A member's own choice stays whatever browser they sign in from.
    await api_sign_in(client, admin)
    assert (await client.get("/language", params={"lang": "en"}, follow_redirects=False)).status_code == 303
    client.cookies.clear()
    await api_sign_in(client, admin, **{"accept-language": GERMAN_BROWSER})
    assert await language_of(db, admin) == ("en", True)


async def test_sign_in_through_the_identity_provider_fills_the_language(settings, db):
    with fake_provider() as provider, serve_app(oidc_settings(settings, provider.issuer)) as app:
        async with httpx.AsyncClient(timeout=15, headers={"accept-language": GERMAN_BROWSER}) as http:
            callback = (await http.get(await start_sign_in(http, app))).headers["location"]
            assert (await finish(http, callback)).status_code == 303
    assert await language_of(db, "pat@corp.example") == ("de", False)


SCIM = "/scim/v2"


async def scim_token(client) -> dict[str, str]:
    await login(client, "admin")
    created = await client.post("/api/admin/scim-tokens", json={"name": "directory"})
    assert created.status_code == 201, created.text
    client.cookies.clear()
    client.headers.pop("x-csrf-token", None)
    return {"authorization": f"Bearer {created.json()['token']}", "content-type": SCIM_JSON}


async def test_the_directorys_preferred_language_is_kept_and_fills_the_members(client, db):
    headers = await scim_token(client)
    body = {"schemas": [USER_SCHEMA], "userName": "kim@corp.example", "preferredLanguage": "de-CH, en;q=0.5"}
    created = await client.post(f"{SCIM}/Users", json=body, headers=headers)
    assert created.status_code == 201, created.text
    user = created.json()
    assert user["preferredLanguage"] == "de-CH, en;q=0.5"  # returned as the directory wrote it
    assert (await client.get(f"{SCIM}/Users/{user['id']}", headers=headers)).json()["preferredLanguage"] == \
        "de-CH, en;q=0.5"
    assert await language_of(db, "kim@corp.example") == ("de", False)

    # The directory corrects an inferred language; one Candor does not speak changes nothing.
    patch = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
             "Operations": [{"op": "replace", "path": "preferredLanguage", "value": "en-US"}]}
    assert (await client.patch(f"{SCIM}/Users/{user['id']}", json=patch, headers=headers)).status_code == 200
    assert await language_of(db, "kim@corp.example") == ("en", False)
    replaced = await client.put(f"{SCIM}/Users/{user['id']}", headers=headers,
                                json={**body, "preferredLanguage": "fr"})
    assert replaced.status_code == 200 and replaced.json()["preferredLanguage"] == "fr"
    assert await language_of(db, "kim@corp.example") == ("en", False)

    # The member's own choice is theirs: the directory does not override it.
    await db.execute("update accounts set language = 'en', language_chosen = true where email = $1",
                     "kim@corp.example")
    assert (await client.put(f"{SCIM}/Users/{user['id']}", headers=headers, json=body)).status_code == 200
    assert await language_of(db, "kim@corp.example") == ("en", True)
    too_long = await client.put(f"{SCIM}/Users/{user['id']}", headers=headers,
                                json={**body, "preferredLanguage": "de-CH," * 40})
    assert too_long.status_code == 400 and "preferredLanguage" in too_long.json()["detail"]
    schema = (await client.get(f"{SCIM}/Schemas/{USER_SCHEMA}", headers=headers)).json()
    assert "preferredLanguage" in {a["name"] for a in schema["attributes"]}


# The development mailbox ---------------------------------------------------------------------


async def test_the_mailbox_shows_each_mail_in_its_language(settings, db):
    async with AsyncTestClient(create_app(replace(settings, disabled_jobs=JOBS_OFF)),
                               base_url="http://127.0.0.1:8000") as client:
        wave = await create_wave(client, db, size=7, open_it=False)
        await set_language(db, MEMBERS[0], "de")
        assert (await client.post(f"/api/campaigns/{wave['id']}/open")).status_code == 200
        await signed_in(client, "admin")
        page = (await client.get("/admin/mailbox")).text
    cards = page.split('<li class="card mail"')[1:]
    german = [c for c in cards if MEMBERS[0] in c]
    assert len(cards) == 7 and len(german) == 1
    assert 'data-language="de"' in german[0] and "Content-Language: de" in german[0]
    assert '<h3 lang="de">Umfrage geöffnet: Spring pulse</h3>' in german[0]
    assert "&lt;html lang=&#34;de&#34;&gt;" in german[0] or "&lt;html lang=&quot;de&quot;&gt;" in german[0]
    assert all('data-language="en"' in c and "Survey open: Spring pulse" in c for c in cards if c not in german)


async def test_a_members_language_follows_them_to_a_browser_without_the_cookie(client, db):
    await db.execute("update accounts set language = 'de', language_chosen = true where email = $1",
                     role_email("member"))
    client.cookies.clear()
    await login(client, "member")
    client.cookies.delete("candor_lang")
    page = await client.get("/privacy", headers={"accept-language": "en"})
    assert page.status_code == 200 and '<html lang="de"' in page.text
    # This browser's own choice still wins over the account's.
    client.cookies.set("candor_lang", "en")
    assert '<html lang="en"' in (await client.get("/privacy", headers={"accept-language": "en"})).text
    # Signed out, the page is the browser's again.
    client.cookies.clear()
    assert '<html lang="en"' in (await client.get("/privacy", headers={"accept-language": "en"})).text
