"""The UI in English and German: which language a page is shown in, the switcher, the catalogs' completeness
and locale-aware numbers and dates.

German must be complete: the test below extracts every message the templates and page modules use, with the
same mapping ``make i18n-extract`` uses, and fails on any that German lacks, has only as a fuzzy guess, or
translates with different placeholders (a ``{name}`` a translation drops would show up blank, an extra one
would never be filled).
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from jinja2 import Environment

from service import i18n
from tests.support import login

ROOT = Path(__file__).resolve().parents[2]
MAPPING = ROOT / "service" / "locale" / "babel.cfg"
GERMAN = "de-DE,de;q=0.9,en;q=0.4"
CATALOG = re.compile(r'<script type="application/json" id="i18n-catalog">(.*?)</script>', re.S)


def _used_messages() -> dict[str, str]:
    """Every msgid the sources use (singular form for plurals), with where it was first found."""
    with MAPPING.open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords={"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "t": None},
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            found.setdefault(msgid, f"{filename}:{lineno}")
    return found


def _forms(value: object) -> list[str]:
    """A message's id or translation as its list of forms (one, or one per plural form)."""
    return [str(v) for v in value] if isinstance(value, (tuple, list)) else [str(value or "")]


def _placeholders(text: str) -> list[str]:
    return sorted(re.findall(r"\{\w+\}|%\(\w+\)s|%%", text))


def test_every_used_message_has_a_german_translation():
    used = _used_messages()
    assert len(used) > 500, "the extraction found the templates and page modules"
    german = {m.id if isinstance(m.id, str) else m.id[0]: m for m in i18n.catalog("de") if m.id}
    problems = []
    for msgid, where in used.items():
        message = german.get(msgid)
        strings = [] if message is None else _forms(message.string)
        if message is None or not all(strings):
            problems.append(f"untranslated: {msgid!r} ({where})")
        elif message.fuzzy:
            problems.append(f"fuzzy: {msgid!r} ({where})")
        else:
            sources = _forms(message.id)
            for index, text in enumerate(strings):  # German plural n maps to the English form of the same rank
                if _placeholders(sources[min(index, len(sources) - 1)]) != _placeholders(text):
                    problems.append(f"placeholders differ: {msgid!r} -> {text!r}")
    assert not problems, "German is incomplete; run `make i18n-extract` and translate:\n" + "\n".join(problems)


def test_catalogs_hold_no_fuzzy_or_obsolete_entries_for_used_messages():
    used = _used_messages()
    for lang in i18n.SUPPORTED:
        catalog = i18n.catalog(lang)
        fuzzy = [m.id for m in catalog if m.id and m.fuzzy and (m.id if isinstance(m.id, str) else m.id[0]) in used]
        assert not fuzzy, f"{lang}: fuzzy entries {fuzzy}"
        obsolete = [msgid for msgid in catalog.obsolete if msgid in used]
        assert not obsolete, f"{lang}: used messages only in obsolete entries {obsolete}"


@pytest.mark.parametrize(("cookie", "accept", "expected"), [
    (None, None, "en"),
    (None, GERMAN, "de"),
    (None, "de-AT", "de"),
    (None, "fr-FR, de;q=0.8, en;q=0.9", "en"),
    (None, "fr-FR, it", "en"),
    (None, "de;q=0, en", "en"),
    ("en", GERMAN, "en"),
    ("de", "en-GB", "de"),
    ("xx", GERMAN, "de"),
])
def test_the_choice_wins_then_accept_language_then_english(cookie, accept, expected):
    assert i18n.choose_locale(cookie, accept) == expected


async def test_accept_language_german_gives_a_german_page(client):
    response = await client.get("/login", headers={"accept-language": GERMAN})
    html = response.text
    assert '<html lang="de">' in html
    assert "<h1>Anmelden</h1>" in html and "E-Mail-Adresse" in html
    assert "Sign in" not in html.split("<main", 1)[1]
    # The sign-in page runs no module, so it carries no messages; a page that does carries its modules' messages,
    # as JSON that no string can break out of (tests/integration/test_page_catalogs.py: exactly its modules').
    assert not CATALOG.search(html)
    found = CATALOG.search((await client.get("/receipts", headers={"accept-language": GERMAN})).text)
    assert found, "a German page carries its modules' messages"
    catalog = json.loads(found.group(1))
    assert catalog["Something went wrong."] == "Etwas ist schiefgegangen."
    assert "Skip to main content" not in catalog, "only the page modules' messages travel to the browser"


async def test_english_is_the_default_and_carries_no_catalog(client):
    html = (await client.get("/login")).text
    assert '<html lang="en">' in html and "<h1>Sign in</h1>" in html
    assert 'id="i18n-catalog"' not in html


async def test_the_language_cookie_wins_over_accept_language(client):
    client.cookies.set("candor_lang", "en")
    html = (await client.get("/login", headers={"accept-language": GERMAN})).text
    assert '<html lang="en">' in html and "<h1>Sign in</h1>" in html
    client.cookies.set("candor_lang", "de")
    html = (await client.get("/login", headers={"accept-language": "en-GB"})).text
    assert '<html lang="de">' in html and "<h1>Anmelden</h1>" in html


async def test_the_switcher_sets_a_plain_cookie_and_returns_to_the_page(client):
    html = (await client.get("/receipts")).text
    link = re.search(r'<a href="(/language\?[^"]+)" lang="de"', html)
    assert link, "the header offers German"
    response = await client.get(link.group(1).replace("&amp;", "&"), follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/receipts"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("candor_lang=de;") and "SameSite=lax" in cookie and "Path=/" in cookie
    html = (await client.get("/receipts")).text
    assert '<html lang="de">' in html and "Ihre Quittungen" in html
    # The switcher back to English is offered in English words, whatever the page's language.
    assert re.search(r'<a href="/language\?[^"]*lang=en[^"]*"[^>]*>English</a>', html)


@pytest.mark.parametrize("back", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "/ok\r\nX-Evil: 1"])
async def test_the_switcher_never_redirects_to_another_site(client, back):
    response = await client.get("/language", params={"lang": "de", "back": back}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/"


async def test_an_unknown_language_clears_the_choice(client):
    response = await client.get("/language", params={"lang": "xx", "back": "/login"}, follow_redirects=False)
    assert response.status_code == 303
    assert re.search(r"candor_lang=\"?\"?;", response.headers["set-cookie"]) and "Max-Age=0" in response.headers["set-cookie"]


async def test_signed_in_pages_are_german_with_german_numbers(client):
    await login(client, "admin")
    client.cookies.set("candor_lang", "de")
    html = (await client.get("/")).text
    assert "Angemeldet als" in html and "Abmelden" in html
    assert re.search(r"\d+ Konten?, \d+ Gruppen?, \d+ Dienste?\.", html), "plural forms per German rules"
    assert "Sign out" not in html


def _render(source: str, lang: str, **values) -> str:
    environment = Environment(autoescape=True)
    i18n.install(environment)
    return environment.from_string(source).render(locale=lang, **values)


@pytest.mark.parametrize(("lang", "number", "signed", "day", "percent"), [
    ("en", "1,234.5", "+0.40", "2026-12-17", "42%"),
    ("de", "1.234,5", "+0,40", "17.12.2026", "42\xa0%"),
])
def test_numbers_and_dates_follow_the_locale(lang, number, signed, day, percent):
    assert _render("{{ n|number(1) }}", lang, n=1234.5) == number
    assert _render("{{ n|signed(2) }}", lang, n=0.4) == signed
    assert _render("{{ d|date }}", lang, d=date(2026, 12, 17)) == day
    assert _render("{{ p|percent }}", lang, p=0.42) == percent


def test_translated_text_escapes_what_it_is_given():
    html = _render('{{ _("Hello, %(name)s", name=who) }}', "de", who="<b>Eve</b>")
    assert html == "Hallo, &lt;b&gt;Eve&lt;/b&gt;"


def test_the_page_catalog_cannot_close_its_script_element():
    rendered = str(i18n._json_for_script({"x": "</script><script>alert(1)</script>"}))  # pyright: ignore[reportPrivateUsage]
    assert "</script>" not in rendered and "<" not in rendered
    assert json.loads(rendered) == {"x": "</script><script>alert(1)</script>"}
