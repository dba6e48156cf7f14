"""Instruments and reports in the reader's language; answers that never carry one."""

from __future__ import annotations

import msgspec
import pytest

from instruments import instrument_hash, load_builtin
from service.client import redeem
from service.db import init_connection
from service.instruments import sync_builtin_instruments
from service.queries import instruments as instruments_q
from tests.integration.wave_helpers import MEMBERS, answers_for, create_wave, token_for
from tests.support import login, role_email

SERVQUAL = load_builtin("servqual")
GERMAN = SERVQUAL.localized("de")
DE_WORDING = {i.key: i.statements["perception"] for i in GERMAN.items}
EN_WORDING = {i.key: i.statements["perception"] for i in SERVQUAL.items}
DE_TITLES = {d.key: d.title for d in GERMAN.dimensions}
SERVQUAL_TITLES = {d.key: d.title for d in SERVQUAL.dimensions}


async def test_an_instrument_in_german(client):
    await login(client, "member")
    body = (await client.get("/api/instruments/servqual?lang=de")).json()
    assert body["languages"] == ["en", "de"]
    instrument = body["instrument"]
    assert instrument["language"] == "de" and instrument["translations"] == {}
    assert instrument["title"] == GERMAN.title
    assert {i["key"]: i["statements"]["perception"] for i in instrument["items"]} == DE_WORDING
    assert [d["title"] for d in instrument["dimensions"]] == list(DE_TITLES.values())
    assert instrument["scale"]["points"] == 7 and instrument["format"] == "expectation-perception"
    # The language changes nothing a response is checked against.
    assert [i["key"] for i in instrument["items"]] == [i.key for i in SERVQUAL.items]
    assert (await client.get("/api/instruments/servqual?lang=DE")).json()["instrument"]["language"] == "de"
    english = (await client.get("/api/instruments/servqual?lang=en")).json()["instrument"]
    assert {i["key"]: i["statements"]["perception"] for i in english["items"]} == EN_WORDING


async def test_without_lang_the_whole_document_is_served(client):
    await login(client, "member")
    body = (await client.get("/api/instruments/servqual")).json()
    assert body["languages"] == ["en", "de"]
    assert body["instrument"]["language"] == "en"
    assert body["instrument"]["translations"]["de"]["items"]["q07"]["perception"] == DE_WORDING["q07"]
    pulse = (await client.get("/api/instruments/servperf?lang=de")).json()
    assert pulse["instrument"]["items"][0]["statements"]["perception"] == DE_WORDING["q01"]


@pytest.mark.parametrize("lang", ["fr", "de-AT", "xx-!"])
async def test_an_unoffered_language_is_a_400_naming_lang(client, lang):
    await login(client, "member")
    response = await client.get("/api/instruments/servqual", params={"lang": lang})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["errors"][0]["field"] == "lang" and "en, de" in problem["errors"][0]["reason"]


async def test_an_answer_carrying_a_language_is_refused_and_none_is_stored(client, db):
    wave = await create_wave(client, db, instrument="servqual")
    stored = await token_for(client, wave["id"], role_email("member"))
    for field in ("lang", "language"):
        refused = await redeem(client, stored, {**answers_for("servqual"), field: "de"})
        assert refused.status_code == 422, refused.text
        assert [e["field"] for e in refused.json()["errors"]] == [field]
    # The token was not spent by the refusals; the same answers without a language go through.
    assert (await redeem(client, stored, answers_for("servqual"))).status_code == 201
    columns = {r["column_name"] for r in await db.fetch(
        "select column_name from information_schema.columns where table_name = 'responses'")}
    assert not {c for c in columns if "lang" in c or "locale" in c}
    row = await db.fetchrow("select * from responses where campaign_id = $1", wave["id"])
    assert "de" not in str(dict(row)["comments"]) and "lang" not in str(dict(row))


async def _closed_servqual_wave(client, db) -> dict:
    wave = await create_wave(client, db, instrument="servqual", k_scores=5)
    for i, email in enumerate([role_email("member"), *MEMBERS][:6]):
        answers = answers_for("servqual", 6)
        for n, item in enumerate(answers["items"].values()):
            item["perception"] = 1 + (i + n) % 7
        answers["satisfaction"] = {"overall": 1 + i % 7}
        stored = await token_for(client, wave["id"], email)
        assert (await redeem(client, stored, answers)).status_code == 201
    client.cookies.clear()
    await login(client, "manager")
    assert (await client.post(f"/api/campaigns/{wave['id']}/close")).status_code == 200
    return wave


def _numbers(report: dict) -> list:
    return [(r["key"], r.get("mean_gap"), r.get("ci_low"), r.get("p_bh")) for r in report["items"] + report["dimensions"]]


async def test_the_report_in_the_readers_language(client, db):
    wave = await _closed_servqual_wave(client, db)
    url = f"/api/campaigns/{wave['id']}/report"
    english = (await client.get(url)).json()
    german = (await client.get(url, params={"lang": "de"})).json()
    assert {r["key"]: r["wording"] for r in english["items"]} == EN_WORDING
    assert {r["key"]: r["wording"] for r in german["items"]} == DE_WORDING
    assert {r["key"]: r["title"] for r in german["dimensions"]} == DE_TITLES
    assert german["instrument"]["title"] == GERMAN.title
    for focus in german["summary"]["focus"]:
        assert focus["wording"] == {**DE_WORDING, **DE_TITLES}[focus["key"]]
        assert focus["dimension_title"] == DE_TITLES[focus["dimension"]]
    assert all(s["wording"] == DE_WORDING[s["key"]] for s in german["summary"]["strengths"])
    if isinstance(german["drivers"], dict) and "rows" in german["drivers"]:
        assert german["drivers"]["outcome_wording"] == GERMAN.satisfaction[0].statement
        assert all(r["title"] == DE_TITLES[r["key"]] for r in german["drivers"]["rows"])
    # The same statistics: only the words changed.
    assert _numbers(german) == _numbers(english)
    # English again afterwards: localizing never altered the cached report.
    assert (await client.get(url)).json() == english


def _leaves(value, path=""):
    """Every number and flag of a report by its path (the statistics, whatever the language)."""
    if isinstance(value, dict):
        return [leaf for key, v in sorted(value.items()) for leaf in _leaves(v, f"{path}/{key}")]
    if isinstance(value, list):
        return [leaf for i, v in enumerate(value) for leaf in _leaves(v, f"{path}/{i}")]
    return [(path, value)] if isinstance(value, int | float | bool) or value is None else []


async def test_the_reports_own_sentences_in_german_with_the_same_numbers(client, db):
    wave = await _closed_servqual_wave(client, db)
    url = f"/api/campaigns/{wave['id']}/report"
    english = (await client.get(url)).json()
    german = (await client.get(url, params={"lang": "de"})).json()
    assert english["gap_definition"].startswith("gap = perception")
    assert german["gap_definition"] == "Lücke = Wahrnehmung − Erwartung (negativ: unter den Erwartungen)"
    assert german["summary"]["response_rate"]["text"].startswith("mindestens 5 ")
    strengths = german["summary"]["strengths"]
    assert strengths and all(s["evidence"].startswith(("Lücke ", "Wahrnehmung ")) for s in strengths)
    # German numbers: a decimal comma, a true minus sign, "95-%-KI".
    first = strengths[0]
    assert f"{abs(first['mean']):.2f}".replace(".", ",") in first["evidence"]
    assert "95\u00a0%-KI" in first["evidence"] and "CI" not in first["evidence"]
    assert english["summary"]["strengths"][0]["evidence"].startswith(("Gap ", "Perception "))
    for focus in german["summary"]["focus"]:
        assert "Wichtigkeitsgewicht" in focus["evidence"] and "−" in focus["evidence"]
    assert "Begriffe nach TF-IDF" in german["themes"]["method"] if "method" in german["themes"] else True
    assert german["candidates"], "the wave's answers make at least one gap significant"
    for de, en in zip(german["candidates"], english["candidates"], strict=True):
        assert "signifikant nach" in de["reason"] and "Wahrnehmung" in de["reason"], de["reason"]
        assert "significant after" in en["reason"] and "significant after" not in de["reason"]
        dimension = DE_TITLES[de["dimension"]]
        assert dimension in de["reason"] and SERVQUAL_TITLES[de["dimension"]] not in de["reason"], de["reason"]
    # The same statistics: only the words changed.
    assert _leaves(german) == _leaves(english)
    # And English afterwards is still English: each language's report is cached on its own.
    assert (await client.get(url)).json() == english


async def test_the_report_follows_the_readers_ui_language(client, db):
    wave = await _closed_servqual_wave(client, db)
    url = f"/api/campaigns/{wave['id']}/report"
    by_header = (await client.get(url, headers={"accept-language": "de-DE,de;q=0.9"})).json()
    assert {r["key"]: r["wording"] for r in by_header["items"]} == DE_WORDING
    client.cookies.set("candor_lang", "de")
    assert {r["key"]: r["wording"] for r in (await client.get(url)).json()["items"]} == DE_WORDING
    # An explicit ?lang= wins over the UI language.
    assert {r["key"]: r["wording"] for r in (await client.get(url, params={"lang": "en"})).json()["items"]} == EN_WORDING
    refused = await client.get(url, params={"lang": "fr"})
    assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "lang"


async def test_a_chart_in_german(client, db):
    wave = await _closed_servqual_wave(client, db)
    svg = (await client.get(f"/api/campaigns/{wave['id']}/charts/dimension-gaps", params={"lang": "de"})).text
    assert "Zuverlässigkeit" in svg and "Reliability" not in svg


async def test_exports_in_german(client, db):
    wave = await _closed_servqual_wave(client, db)
    base = f"/api/campaigns/{wave['id']}/export"
    csv_de = (await client.get(f"{base}/csv", params={"lang": "de"})).text
    csv_en = (await client.get(f"{base}/csv")).text
    assert DE_WORDING["q05"] in csv_de and EN_WORDING["q05"] not in csv_de
    assert EN_WORDING["q05"] in csv_en
    json_de = (await client.get(f"{base}/json", headers={"accept-language": "de"})).json()
    assert json_de["instrument"]["title"] == GERMAN.title
    # The candidate reasons are the German report's, as on the report page.
    report_de = (await client.get(f"/api/campaigns/{wave['id']}/report", params={"lang": "de"})).json()
    assert [c["reason"] for c in json_de["candidates"]] == [c["reason"] for c in report_de["candidates"]]
    assert all("signifikant nach" in c["reason"] for c in json_de["candidates"])
    refused = await client.get(f"{base}/csv", params={"lang": "xx"})
    assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "lang"


async def test_waves_on_the_english_only_version_keep_it(db):
    """The German translation made the built-ins a new version (1.1); a wave opened on 1.0
    still reads the 1.0 document it was opened with, and start-up sync accepts both."""
    await init_connection(db)
    old = msgspec.structs.replace(SERVQUAL, version="1.0", languages=(), translations={})
    summary, _ = await instruments_q.insert_instrument(db, instrument=old, builtin=True, uploaded_by=None)
    assert summary is not None and summary.hash == instrument_hash(old) != instrument_hash(SERVQUAL)
    await sync_builtin_instruments(db)
    kept = await instruments_q.select_instrument_by_hash(db, digest=instrument_hash(old))
    assert kept is not None and kept == old and kept.offered_languages == ("en",)
    current = await instruments_q.select_instrument_by_hash(db, digest=instrument_hash(SERVQUAL))
    assert current is not None and current.offered_languages == ("en", "de")
