"""Problems in the reader's language: a German reader gets German titles, details and field reasons.

The language is the reader's choice (the ``candor_lang`` cookie), else ``Accept-Language``, else English; the
answer says which with ``Content-Language``. ``type``, ``status`` and each ``field`` never change. Anonymous
endpoints get their language from ``Accept-Language`` only for that answer: nothing is set or kept.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import msgspec
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg

from crypto.tokens import Token, format_authorization
from instruments.errors import N_, FieldError
from service import i18n
from service.client import _b64
from service.errors import TITLES
from tests.integration.wave_helpers import answers_for, create_wave, token_for
from tests.support import login, role_email

ROOT = Path(__file__).resolve().parents[2]
PROBLEM = "application/problem+json"


def _german(client) -> None:
    client.cookies.set("candor_lang", "de")


async def _submit(client, stored, answers, headers: dict[str, str]):
    """The survey's submission as the browser sends it: no cookie, the token, and the browser's own headers."""
    request = client.build_request(
        "POST", f"/anon/campaigns/{stored.campaign_id}/responses", content=msgspec.json.encode(answers),
        headers={"content-type": "application/json",
                 "authorization": format_authorization(Token.decode(_b64(stored.token))), **headers})
    request.headers.pop("cookie", None)
    return await client.send(request)


async def test_a_404_in_german_with_the_cookie(client):
    _german(client)
    response = await client.get("/no/such/thing")
    assert response.status_code == 404 and response.headers["content-type"] == PROBLEM
    assert response.headers["content-language"] == "de"
    body = response.json()
    assert body == {"type": "/problems/not-found", "title": "Nicht gefunden", "status": 404,
                    "detail": "Unter dieser Adresse gibt es nichts"}


async def test_english_without_cookie_or_accept_language(client):
    response = await client.get("/no/such/thing")
    assert response.headers["content-language"] == "en"
    assert response.json()["title"] == "Not found"
    assert response.json()["detail"] == "No resource at this address"


async def test_a_detail_with_parameters_keeps_them_in_german(client):
    await login(client, "admin")
    _german(client)
    missing = "00000000-0000-4000-8000-000000000000"
    body = (await client.get(f"/api/groups/{missing}")).json()
    assert body["title"] == "Nicht gefunden"
    assert body["detail"] == f"Keine Gruppe {missing}"


async def test_a_closed_wave_refuses_in_german(client, db):
    wave = await create_wave(client, db)
    stored = await token_for(client, wave["id"], role_email("member"))
    client.cookies.clear()
    await login(client, "manager")
    assert (await client.post(f"/api/campaigns/{wave['id']}/close")).status_code == 200
    response = await _submit(client, stored, answers_for("pulse"), {"accept-language": "de-DE,de;q=0.9"})
    assert response.status_code == 409
    body = response.json()
    assert body["type"] == "/problems/campaign-closed"
    assert body["title"] == "Die Umfragewelle nimmt dies nicht an"
    assert body["detail"] == "Diese Umfragewelle ist geschlossen"
    assert response.headers["content-language"] == "de"
    # Closing again is a conflict whose detail names the wave's status, said in German around it.
    _german(client)
    again = (await client.post(f"/api/campaigns/{wave['id']}/close")).json()
    assert again["title"] == "Konflikt"
    assert again["detail"] == "Die Welle ist closed; nur eine offene Welle kann geschlossen werden"


async def test_a_bad_survey_answer_names_the_field_with_a_german_reason(client, db):
    wave = await create_wave(client, db)
    stored = await token_for(client, wave["id"], role_email("member"))
    bad = answers_for("pulse")
    bad["items"]["q07"]["perception"] = 9
    bad["items"]["q11"]["perception"] = "sehr gut"
    german = await _submit(client, stored, bad, {"accept-language": "de-DE,de;q=0.9,en;q=0.4"})
    assert german.status_code == 422
    assert german.headers["content-language"] == "de"
    # The anonymous endpoint stays cookie-less: the language was read for this answer, nothing set.
    assert "set-cookie" not in german.headers
    body = german.json()
    assert body["title"] == "Die Anfrage enthält ungültige Felder"
    assert body["detail"] == "2 Antwort(en) müssen korrigiert werden; Ihr Token wurde nicht verbraucht"
    reasons = {e["field"]: e["reason"] for e in body["errors"]}
    assert reasons == {"items.q07.perception": "muss zwischen 1 und 7 liegen, nicht 9",
                       "items.q11.perception": "muss eine ganze Zahl von 1 bis 7 sein, nicht Text"}
    # The same answers without a language: English, word for word as before.
    english = (await _submit(client, stored, bad, {})).json()
    assert {e["field"]: e["reason"] for e in english["errors"]} == {
        "items.q07.perception": "must be from 1 to 7, not 9",
        "items.q11.perception": "must be a whole number from 1 to 7, not text"}
    # Anonymous endpoints read no cookie at all, not even the language choice: only the request's own header.
    cookie = await _submit(client, stored, bad, {"cookie": "candor_lang=de"})
    assert cookie.headers["content-language"] == "en"
    assert cookie.json()["errors"][0]["reason"] == "must be from 1 to 7, not 9"
    # Nothing was spent: the token still answers once the answers are right.
    assert (await _submit(client, stored, answers_for("pulse"), {})).status_code == 201


async def test_msgspec_type_errors_are_said_in_german(client):
    await login(client, "manager")
    _german(client)
    response = await client.post("/api/services", json={"name": "Wiki", "sla_action_days": "soon"})
    assert response.status_code == 422
    body = response.json()
    assert body["detail"] == "1 Feld(er) sind ungültig"
    assert body["errors"] == [{"field": "sla_action_days", "reason": "`int` erwartet, `str` erhalten"}]
    missing = (await client.post("/api/services", json={})).json()
    assert missing["errors"] == [{"field": "name", "reason": "Im Objekt fehlt das Pflichtfeld `name`"}]


async def test_an_anonymous_endpoint_answers_in_the_accept_language(client):
    client.cookies.clear()
    response = await client.post("/anon/threads", json={"title": 5}, headers={"accept-language": "de"})
    assert response.status_code == 422, response.text
    assert response.headers["content-language"] == "de" and "set-cookie" not in response.headers
    reasons = {e["field"]: e["reason"] for e in response.json()["errors"]}
    assert reasons and all(not r.startswith(("Expected", "Object")) for r in reasons.values()), reasons


async def test_an_unmatched_msgspec_message_stays_english(client):
    await login(client, "manager")
    _german(client)
    # A well-formed body that is not an object: Litestar's own decoding message, not one of msgspec's shapes.
    response = await client.post("/api/services", content=b"[1, 2]", headers={"content-type": "application/json"})
    assert response.status_code in (400, 422)
    assert response.json()["title"] in ("Die Anfrage enthält ungültige Felder", "Der Inhalt der Anfrage ist nicht "
                                        "wohlgeformt")


def test_parameters_are_written_the_reader_way():
    message = N_("This survey wave opens on {date}", date=date(2026, 3, 2))
    assert message == "This survey wave opens on 2026-03-02"
    assert i18n.localize(message, "en") == "This survey wave opens on 2026-03-02"
    assert i18n.localize(message, "de") == "Diese Umfragewelle beginnt am 02.03.2026"
    count = N_("{length} characters; at most {limit} are allowed", length=12345, limit=10000)
    assert i18n.localize(count, "de") == "12.345 Zeichen; höchstens 10.000 sind erlaubt"
    # A message inside a message is said in the same language.
    nested = N_("must be text, not {kind}", kind=N_("a list"))
    assert i18n.localize(nested, "de") == "muss Text sein, nicht eine Liste"
    # Unmarked text (and a template nobody translated) stays as written; the result is always a plain str.
    assert i18n.localize("No such thing {x}", "de") == "No such thing {x}"
    assert type(i18n.localize(message, "de")) is str
    # A reason keeps its English for code that only reads it.
    assert FieldError(field="a", reason=nested).reason == "must be text, not a list"


_PLACEHOLDER = re.compile(r"\{[^{}]*\}")


def test_every_problem_template_has_german_with_the_same_placeholders():
    """The N_-marked templates of service/ and instruments/ (details, reasons, titles), extracted as `make
    i18n-extract` does: each has a German translation that keeps every placeholder, conversions included."""
    with (ROOT / "service" / "locale" / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    german = {m.id: m for m in i18n.catalog("de") if isinstance(m.id, str) and m.id}
    found, problems = 0, []
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords={"N_": None},
    ):
        if not filename.startswith(("service/", "instruments/")) or filename in ("service/audit.py",):
            continue
        assert isinstance(message, str), "N_ takes one template"
        found += 1
        entry = german.get(message)
        if entry is None or not entry.string or entry.fuzzy:
            problems.append(f"untranslated: {message!r} ({filename}:{lineno})")
        elif sorted(_PLACEHOLDER.findall(message)) != sorted(_PLACEHOLDER.findall(str(entry.string))):
            problems.append(f"placeholders differ: {message!r} -> {entry.string!r}")
    assert found > 200, "the extraction found the marked problem texts"
    assert not problems, "\n".join(problems)
    assert all(i18n.localize(title, "de") != title for title in TITLES.values())


@pytest.mark.parametrize("accept", ["de", "de-AT,en;q=0.5", "fr, de;q=0.8"])
async def test_accept_language_variants_choose_german(client, accept):
    response = await client.get("/no/such/thing", headers={"accept-language": accept})
    assert response.headers["content-language"] == "de"
    assert response.json()["title"] == "Nicht gefunden"
