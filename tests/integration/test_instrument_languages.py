"""Instruments and reports in the reader's language; answers that never carry one."""

from __future__ import annotations

import re
import uuid
from datetime import date

import msgspec
import pytest

from instruments import instrument_hash, load_builtin
from service.client import redeem
from service.db import init_connection
from service.instruments import sync_builtin_instruments
from service.queries import instruments as instruments_q
from tests.integration.test_actions import BAD, GOOD, as_role, candidate_item, closed_wave, move, servqual_answers
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


async def _closed_wave(client, db, answer_sets: list[dict], *, instrument: str = "servqual", **wave) -> dict:
    """A wave (k = 5) one audience member after another answered with ``answer_sets``, closed by the manager."""
    created = await create_wave(client, db, instrument=instrument, k_scores=5, **wave)
    for email, answers in zip([role_email("member"), *MEMBERS], answer_sets, strict=False):
        stored = await token_for(client, created["id"], email)
        assert (await redeem(client, stored, answers)).status_code == 201
    client.cookies.clear()
    await login(client, "manager")
    closed = await client.post(f"/api/campaigns/{created['id']}/close")
    assert closed.status_code == 200, closed.text
    return closed.json()


async def _closed_servqual_wave(client, db) -> dict:
    answer_sets = []
    for i in range(6):
        answers = answers_for("servqual", 6)
        for n, item in enumerate(answers["items"].values()):
            item["perception"] = 1 + (i + n) % 7
        answers["satisfaction"] = {"overall": 1 + i % 7}
        answer_sets.append(answers)
    return await _closed_wave(client, db, answer_sets)


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
    # The priority rule, stated once for the report and once for the summary, and applied in each focus area.
    assert english["priority_formula"].startswith("priority = importance weight × max(0, −upper bound")
    assert german["priority_formula"].startswith("Priorität = Wichtigkeitsgewicht × max(0, −obere Grenze")
    assert german["summary"]["priority_formula"] == german["priority_formula"]
    assert "importance" not in german["priority_formula"] and "ranked" not in german["priority_formula"]
    for focus in german["summary"]["focus"]:
        assert "Priorität = Gewicht × max(0, −obere Grenze) = " in focus["evidence"], focus["evidence"]
        assert f"{focus['priority']:.2f}".replace(".", ",") in focus["evidence"]
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


# An IT experience wave (measures, no SERVQUAL items): eight people answer satisfaction, effort, minutes
# lost and, all but one, the recommendation question.
EXPERIENCE_ANSWERS = [(5, 7, 0, 10), (4, 6, 15, 9), (4, 5, 30, 8), (3, 4, 0, 7), (2, 2, 240, 3), (5, 6, 10, 10),
                      (4, 5, 45, None), (1, 1, 600, 0)]


async def test_the_experience_section_in_german_with_the_same_numbers(client, db):
    answer_sets = []
    for csat, effort, minutes, recommend in EXPERIENCE_ANSWERS:
        measures = {"csat": csat, "effort": effort, "time_lost": minutes}
        if recommend is not None:
            measures["recommend"] = recommend
        answer_sets.append({"items": {}, "measures": measures, "comments": {}})
    wave = await _closed_wave(client, db, answer_sets, instrument="it-experience", size=8, k_comments=5,
                              title="IT experience")
    url = f"/api/campaigns/{wave['id']}/report"
    english = (await client.get(url)).json()
    german = (await client.get(url, headers={"accept-language": "de-DE,de;q=0.9"})).json()

    rows = {r["key"]: r for r in german["experience"]["measures"]}
    en_rows = {r["key"]: r for r in english["experience"]["measures"]}
    assert en_rows["csat"]["share"]["label"] == "satisfied (4 or 5 of 5)"
    assert en_rows["csat"]["share"]["method"] == "Wilson score interval"
    assert rows["csat"]["share"]["label"] == "zufrieden (4 oder 5 von 5)"
    assert rows["csat"]["share"]["method"] == "Wilson-Score-Intervall"
    assert rows["csat"]["mean"]["label"] == "Mittelwert" and rows["csat"]["mean"]["method"] == "Mittelwert mit t-Intervall"
    assert rows["effort"]["share"]["label"] == "leicht (Zustimmung: 5, 6 oder 7 von 7)"
    minutes = rows["time_lost"]
    assert minutes["mean"]["label"] == "mittlere verlorene Minuten"
    assert minutes["mean"]["method"].startswith("Perzentil-Bootstrap des Mittelwerts (10000 Stichproben")
    assert minutes["hours_per_month"]["formula"].startswith("Verlorene Stunden pro Monat = ")
    assert en_rows["time_lost"]["hours_per_month"]["formula"].startswith("Hours lost per month = ")
    assert rows["recommend"]["nps"]["method"].startswith("Normalverteilungsintervall")
    # Every caveat is German, the minutes' with a German thousands separator.
    assert "10.000 Stichproben" in minutes["caveat"] and "10,000 resamples" in en_rows["time_lost"]["caveat"]
    for key, row in rows.items():
        assert row["caveat"] != en_rows[key]["caveat"] and " the " not in row["caveat"], row["caveat"]
    # The measures-only frame around it: its notes in German too.
    assert german["notes"] == ["dieses Instrument hat nur Messgrößen der IT-Erfahrung: Seine Ergebnisse stehen im "
                               "Abschnitt IT-Erfahrung"]
    assert german["overall"]["note"] == "keine SERVQUAL-Items, daher kein Gesamtwert"
    assert german["missing_data"]["statement"].startswith("keine SERVQUAL-Items")
    assert english["notes"] == ["this instrument has only IT experience measures: its results are the experience "
                                "section"]
    # The same statistics: only the words changed.
    assert _leaves(german) == _leaves(english)
    assert german["experience"]["n"] == 8 and minutes["hours_per_month"]["audience"] == 8


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
    url = f"/api/campaigns/{wave['id']}/charts/dimension-gaps"
    svg = (await client.get(url, params={"lang": "de"})).text
    assert "Zuverlässigkeit" in svg and "Reliability" not in svg
    # The chart's own words too: its title, axis and description, numbers with a decimal comma.
    assert "Lücke je Dimension" in svg and "Lücke (95-%-KI)" in svg and "95-%-Intervall" in svg
    assert "Gap per dimension" not in svg and "gap (95% CI)" not in svg and "interval" not in svg
    # The reader's language without ?lang=, from the page language; English stays as it was.
    by_header = (await client.get(url, headers={"accept-language": "de-DE,de;q=0.9"})).text
    assert "Lücke (95-%-KI)" in by_header
    english = (await client.get(url)).text
    assert "Gap per dimension" in english and "gap (95% CI)" in english and "Lücke" not in english
    ipa = (await client.get(f"/api/campaigns/{wave['id']}/charts/importance-performance", params={"lang": "de"})).text
    assert "Wichtigkeits-Leistungs-Analyse" in ipa and "Gewicht (Anteil der Punkte)" in ipa


GERMAN_REASON, ENGLISH_REASON = "weniger als k=5 Antworten", "fewer than k=5 responses"


def _reasons(value, path=""):
    """Every suppression reason of a report by its path."""
    if isinstance(value, dict):
        found = [(path, value["reason"])] if value.get("suppressed") is True and "reason" in value else []
        return found + [r for key, v in sorted(value.items()) for r in _reasons(v, f"{path}/{key}")]
    if isinstance(value, list):
        return [r for i, v in enumerate(value) for r in _reasons(v, f"{path}/{i}")]
    return []


async def _closed_small_wave(client, db) -> dict:
    """A SERVQUAL wave three people answered (k = 5): its whole report is suppressed."""
    return await _closed_wave(client, db, [answers_for("servqual", 6)] * 3)


async def test_a_suppressed_report_says_why_in_german(client, db):
    wave = await _closed_small_wave(client, db)
    url = f"/api/campaigns/{wave['id']}/report"
    english = (await client.get(url)).json()
    german = (await client.get(url, params={"lang": "de"})).json()
    assert german["suppressed"] is True
    assert german["n"] == {"suppressed": True, "reason": GERMAN_REASON}
    assert english["n"] == {"suppressed": True, "reason": ENGLISH_REASON}
    reasons = dict(_reasons(german))
    assert len(reasons) > 30, "items, dimensions, overall, importance, summary, drivers, themes"
    # The comments' marker too, made by the service (service.reports.fetch_comments) outside the analysis.
    assert "/comments" in reasons
    assert set(reasons.values()) <= {GERMAN_REASON, "weniger als k=10 Antworten"}, reasons
    assert {r for _, r in _reasons(english)} <= {ENGLISH_REASON, "fewer than k=10 responses"}
    assert german["missing_data"]["statement"] == GERMAN_REASON
    assert german["notes"] == ["der ganze Bericht ist unterdrückt: weniger als k Antwortende"]
    assert [p for p, _ in _reasons(german)] == [p for p, _ in _reasons(english)]
    assert _leaves(german) == _leaves(english)
    # The chart of it: hatched rows, each saying why in German.
    svg = (await client.get(f"/api/campaigns/{wave['id']}/charts/dimension-gaps", params={"lang": "de"})).text
    assert f"Zuverlässigkeit: unterdrückt ({GERMAN_REASON})" in svg and "fewer than" not in svg


async def test_the_score_trend_chart_in_german(client, db):
    wave = await _closed_small_wave(client, db)
    url = f"/api/actions/score-chart/{wave['service']['id']}/servqual"
    german = (await client.get(url, params={"lang": "de"})).text
    assert "Gesamtlücke (95-%-KI)" in german and "Gesamtlücke über die Befragungswellen" in german
    # The wave below k: the reason the service's series gives in English, said in German.
    assert f"unterdrückt ({GERMAN_REASON})" in german and "fewer than" not in german
    assert "Gesamtlücke (95-%-KI)" in (await client.get(url, headers={"accept-language": "de"})).text
    english = (await client.get(url)).text
    assert "overall gap (95% CI)" in english and f"suppressed ({ENGLISH_REASON})" in english
    # The dashboard page draws the same chart in the page's language.
    client.cookies.set("candor_lang", "de")
    page = (await client.get("/actions")).text
    assert "Gesamtlücke (95-%-KI)" in page and "overall gap (95% CI)" not in page


async def test_the_progress_rounding_in_german(client, db):
    wave = await create_wave(client, db, instrument="servqual", k_scores=5)
    url = f"/api/campaigns/{wave['id']}/progress"
    english = (await client.get(url)).json()
    assert english["rounding"] == ("Counts are rounded down to whole multiples of k = 5 (null: fewer than 5); the true "
                                   "count is at least the number shown and less than it plus 5.")
    german = (await client.get(url, headers={"accept-language": "de-DE,de;q=0.9"})).json()
    assert german["rounding"].startswith("Die Zahlen sind auf ganze Vielfache von k = 5 abgerundet")
    assert german["rounding"].endswith("kleiner als diese plus 5.")
    assert {k: v for k, v in german.items() if k != "rounding"} == {k: v for k, v in english.items() if k != "rounding"}


async def test_the_reports_notes_and_definitions_in_german(client, db):
    """Six identical answer sets: no spread anywhere, so the statistics' notes stand in for tests and alphas."""
    wave = await _closed_wave(client, db, [answers_for("servqual", 5)] * 6)
    url = f"/api/campaigns/{wave['id']}/report"
    english = (await client.get(url)).json()
    german = (await client.get(url, params={"lang": "de"})).json()
    assert {r["note"] for r in german["items"]} == {
        "Varianz null: Alle Antworten sind gleich, daher sind t-Test und d_z nicht definiert"}
    assert {r["note"] for r in english["items"]} == {
        "zero variance: every answer is the same, so the t-test and d_z are undefined"}
    alpha_notes = {b["note"] for d in german["dimensions"] for b in d["reliability"].values()}
    assert alpha_notes == {"Varianz des Gesamtwerts ist null"}, alpha_notes
    assert german["importance"]["source"].startswith("mittlerer Anteil in der Punkteverteilung")
    assert english["importance"]["source"].startswith("mean share of each respondent's allocation")
    assert german["missing_data"]["statement"].startswith("Fehlende Antworten und Antworten „nicht zutreffend“")
    assert "(Erwartung, Wahrnehmung)" in german["missing_data"]["statement"]
    assert german["overall"]["formula"].startswith("ungewichtet = Mittelwert der mittleren Lücken")
    assert german["ipa"]["importance_scale"] == "Gewicht (Anteil der Punkte)"
    assert german["ipa"]["performance"] == "mittlere Wahrnehmung"
    assert _leaves(german) == _leaves(english)


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


# The outcome's sentences, not its verdict (a key the pages name) nor its numbers, follow the reader.
OUTCOME_SENTENCES = ("method", "explanation", "note", "reason")


def _outcome_numbers(outcome: dict) -> dict:
    return {k: v for k, v in outcome.items() if k not in OUTCOME_SENTENCES}


async def _done_item(client, db, before: dict) -> str:
    action_id = (await candidate_item(client, before, expected_change=0.5))["item"]["id"]
    for status in ("accepted", "in_progress", "done"):
        assert (await move(client, action_id, status)).status_code == 200
    return action_id


async def test_an_action_outcome_in_german_with_the_same_numbers(client, db):
    before = await closed_wave(client, db, servqual_answers(8, reliability=BAD), title="Spring")
    action_id = await _done_item(client, db, before)
    url, german = f"/api/actions/{action_id}", {"accept-language": "de-DE,de;q=0.9"}
    waiting = (await client.get(url, headers=german)).json()["outcome"]
    assert waiting["explanation"] == ("Wird gemessen, sobald eine spätere Welle derselben Umfrage für diesen Dienst "
                                      "abgeschlossen wird.")
    assert (await client.get(url)).json()["outcome"]["explanation"] == (
        "Measured when a later wave of the same survey closes for this service.")
    await closed_wave(client, db, servqual_answers(8, reliability=GOOD), like=before, title="Autumn")
    english = (await client.get(url)).json()["outcome"]
    de = (await client.get(url, headers=german)).json()["outcome"]
    assert english["verdict"] == de["verdict"] == "improved"
    assert english["method"].startswith("Change = mean score in the later wave − mean in the baseline wave")
    assert de["method"].startswith("Veränderung = mittlerer Wert in der späteren Welle − Mittelwert in der "
                                   "Vergleichswelle"), de["method"]
    assert "verbessert: Das ganze Intervall liegt über 0" in de["method"] and "interval" not in de["method"]
    assert _outcome_numbers(de) == _outcome_numbers(english)
    # The language cookie too, and the members' "you said, we did" list.
    client.cookies.set("candor_lang", "de")
    assert (await client.get(url)).json()["outcome"]["method"] == de["method"]
    await as_role(client, "member")
    public = (await client.get("/api/you-said-we-did", headers=german)).json()
    assert public[0]["outcome"]["method"] == de["method"]
    assert _outcome_numbers(public[0]["outcome"]) == _outcome_numbers(english)
    english_public = (await client.get("/api/you-said-we-did", headers={"accept-language": "en"},
                                       cookies={"candor_lang": "en"})).json()
    key = english_public[0]["target"].split(" ", 1)[1]
    assert english_public[0]["target"] in (f"item {key}", f"dimension {key}")
    assert public[0]["target"] in (f"Aussage {key}", f"Dimension {key}")


async def test_the_action_dashboard_defines_its_metrics_in_german(client, db):
    await as_role(client, "manager")
    english = (await client.get("/api/actions/dashboard")).json()
    client.cookies.set("candor_lang", "de")
    german = (await client.get("/api/actions/dashboard")).json()
    assert english["acted_within_sla"]["definition"].startswith("Acted upon within SLA = accepted")
    assert german["acted_within_sla"]["definition"].startswith("Innerhalb der SLA bearbeitet = angenommen")
    assert german["completed_by_due"]["definition"].startswith("Bis zum Fälligkeitsdatum erledigt")
    assert german["first_answer"]["definition"] in ("noch keine Threads", ) or german["first_answer"][
        "definition"].startswith("Median der Zeit bis zur ersten Antwort")
    numbers = [(d["total"], d["overdue"], d["acted_within_sla"]["percent"]) for d in (english, german)]
    assert numbers[0] == numbers[1]


async def test_an_outcome_below_k_says_why_in_german(client, db):
    before = await closed_wave(client, db, servqual_answers(8, reliability=BAD), title="Spring")
    action_id = await _done_item(client, db, before)
    await closed_wave(client, db, servqual_answers(4, reliability=GOOD), like=before, title="Autumn")
    url = f"/api/actions/{action_id}"
    de = (await client.get(url, params={}, headers={"accept-language": "de"})).json()["outcome"]
    english = (await client.get(url)).json()["outcome"]
    assert de["verdict"] == english["verdict"] == "not enough responses"
    assert (de["reason"], english["reason"]) == (GERMAN_REASON, ENGLISH_REASON)
    assert _outcome_numbers(de) == _outcome_numbers(english)


async def test_a_welch_note_in_german(client, db):
    """Reliability answered alike by everyone in both waves: no interval, and the note says why in German."""
    before = await closed_wave(client, db, servqual_answers(8, reliability=(3,)), title="Spring")
    thread = await db.fetchval(
        """insert into threads (service_id, secret_hash, category, title, opened_on)
           values ($1, $2, 'question', 't', current_date) returning id""",
        uuid.UUID(before["service"]["id"]), uuid.uuid4().bytes * 2)
    created = await client.post("/api/actions", json={
        "thread_id": str(thread), "title": "Fewer repeat calls", "campaign_id": before["id"],
        "expected": {"level": "dimension", "key": "reliability", "change": 0.5}})
    assert created.status_code == 201, created.text
    action_id = created.json()["item"]["id"]
    for status in ("accepted", "in_progress", "done"):
        assert (await move(client, action_id, status)).status_code == 200
    await closed_wave(client, db, servqual_answers(8, reliability=(3,)), like=before, title="Autumn")
    url = f"/api/actions/{action_id}"
    english = (await client.get(url)).json()["outcome"]
    de = (await client.get(url, headers={"accept-language": "de"})).json()["outcome"]
    assert english["verdict"] == de["verdict"] == "no detectable change"
    assert english["note"] == "zero variance in both waves: no interval"
    assert de["note"] == "Varianz null in beiden Wellen: kein Intervall"
    assert _outcome_numbers(de) == _outcome_numbers(english)


def _german_day(iso: str) -> str:
    day = date.fromisoformat(iso)
    return f"{day.day:02d}.{day.month:02d}.{day.year}"


async def test_the_trend_and_its_chart_in_german_with_german_dates(client, db):
    before = await closed_wave(client, db, servqual_answers(8, reliability=BAD), title="Spring")
    later = await closed_wave(client, db, servqual_answers(8, reliability=GOOD), like=before, title="Autumn")
    url = f"/api/campaigns/{later['id']}/trend"
    english = (await client.get(url)).json()
    german = (await client.get(url, params={"lang": "de"})).json()
    assert [p["title"] for p in english["points"]] == ["Spring", "Autumn"]
    # The same series, numbers and ISO dates, whatever the reader's language (the page formats the dates).
    assert german == english
    assert (await client.get(url, headers={"accept-language": "de"})).json() == english
    days = [p["closes_on"] for p in english["points"]]
    chart = f"/api/actions/score-chart/{before['service']['id']}/servqual"
    svg_de = (await client.get(chart, params={"lang": "de"})).text
    svg_en = (await client.get(chart)).text
    for iso in days:
        assert f"(abgeschlossen am {_german_day(iso)})" in svg_de and iso not in svg_de, svg_de
        assert f"(closed {iso})" in svg_en and _german_day(iso) not in svg_en
    assert f">{_german_day(days[0])}</text>" in svg_de and f">{days[0]}</text>" in svg_en
    # The same numbers: every number drawn or said is the English one with a decimal comma.
    numbers_en = re.findall(r"−?\d+\.\d\d", svg_en)
    assert numbers_en and re.findall(r"−?\d+,\d\d", svg_de) == [n.replace(".", ",") for n in numbers_en]
    # The dashboard page draws it in the page's language, dates included.
    client.cookies.set("candor_lang", "de")
    assert _german_day(days[0]) in (await client.get("/actions")).text
