"""The IT experience instrument through HTTP: tokens, anonymous submissions, the closed
wave's report and its experience section, checked against plain recomputation (scipy's
Wilson interval, hours lost = mean minutes × audience ÷ 60 written out here)."""

from __future__ import annotations

import math
import tempfile
from typing import Any

import numpy as np
import pyreadstat
import pytest
from scipy import stats

from service.client import redeem
from tests.integration.wave_helpers import MEMBERS, create_wave, token_for
from tests.support import login, role_email

EIGHT = [role_email("member"), *MEMBERS]  # the audience of create_wave(size=8)
CSAT = [5, 4, 4, 3, 2, 5, 4, 1]
EFFORT = [7, 6, 5, 4, 2, 6, 5, 1]
MINUTES = [0, 15, 30, 0, 240, 10, 45, 600]
RECOMMEND = [10, 9, 8, 7, 3, 10, None, 0]  # one skips the optional item


def _answers(i: int) -> dict:
    measures = {"csat": CSAT[i], "effort": EFFORT[i], "time_lost": MINUTES[i]}
    if RECOMMEND[i] is not None:
        measures["recommend"] = RECOMMEND[i]
    return {"items": {}, "measures": measures, "comments": {"general": "Fewer password resets, please"}}


async def _close(client, wave: dict) -> None:
    client.cookies.clear()
    await login(client, "manager")
    assert (await client.post(f"/api/campaigns/{wave['id']}/close")).status_code == 200


async def test_experience_wave_reports_measures_and_hours_lost(client, db):
    wave = await create_wave(client, db, instrument="it-experience", size=8, k_comments=5, title="IT experience")
    tokens = [await token_for(client, wave["id"], email) for email in EIGHT]
    receipts = []
    for i, stored in enumerate(tokens):
        response = await redeem(client, stored, _answers(i))
        assert response.status_code == 201, response.text
        receipts.append(response.json()["receipt"])
    # The receipt covers the measures, and the stored answers come back with them.
    check = await client.get(f"/anon/campaigns/{wave['id']}/receipts/{receipts[0]}")
    assert check.status_code == 200 and check.json()["verified"] is True
    assert check.json()["answers"]["measures"] == _answers(0)["measures"]
    await _close(client, wave)

    response = await client.get(f"/api/campaigns/{wave['id']}/report")
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["items"] == [] and report["dimensions"] == [] and report["summary"] is None
    assert report["n"] == 8
    section = report["experience"]
    assert section["n"] == 8 and section["audience"] == 8
    rows = {r["key"]: r for r in section["measures"]}

    csat = np.array(CSAT, dtype=float)
    assert rows["csat"]["mean"]["value"] == pytest.approx(csat.mean())
    low, high = stats.t.interval(0.95, 7, loc=csat.mean(), scale=stats.sem(csat))
    assert rows["csat"]["mean"]["ci_low"] == pytest.approx(low) and rows["csat"]["mean"]["ci_high"] == pytest.approx(high)
    wilson = stats.binomtest(5, 8).proportion_ci(method="wilson")  # 5 of 8 chose 4 or 5
    assert rows["csat"]["share"]["value"] == pytest.approx(5 / 8)
    assert rows["csat"]["share"]["ci_low"] == pytest.approx(wilson.low)
    assert rows["effort"]["share"]["value"] == pytest.approx(5 / 8)  # 7, 6, 5, 6, 5

    minutes = rows["time_lost"]
    mean = float(np.mean(MINUTES))
    assert minutes["mean"]["value"] == pytest.approx(mean)
    hours = minutes["hours_per_month"]
    assert hours["audience"] == 8
    assert hours["hours"] == pytest.approx(mean * 8 / 60)
    assert hours["ci_low"] == pytest.approx(minutes["mean"]["ci_low"] * 8 / 60)
    assert hours["ci_high"] == pytest.approx(minutes["mean"]["ci_high"] * 8 / 60)
    assert hours["ci_low"] <= hours["hours"] <= hours["ci_high"]

    nps = rows["recommend"]
    answered = [v for v in RECOMMEND if v is not None]
    p_p, p_d = sum(v >= 9 for v in answered) / 7, sum(v <= 6 for v in answered) / 7
    assert nps["n"] == 7 and nps["nps"]["score"] == pytest.approx(100 * (p_p - p_d))
    se = math.sqrt((p_p + p_d - (p_p - p_d) ** 2) / 7)
    assert nps["nps"]["ci_high"] == pytest.approx(min(100, 100 * (p_p - p_d + 1.959963984540054 * se)))
    assert all(r["caveat"] for r in rows.values())

    # Nothing else of the wave breaks on an instrument without items.
    trend = await client.get(f"/api/campaigns/{wave['id']}/trend")
    assert trend.status_code == 200 and trend.json()["points"] == []  # no overall score to trend
    assert report["themes"]["comments"] == 8
    for chart in ("dimension-gaps", "item-gaps", "importance-performance"):
        assert (await client.get(f"/api/campaigns/{wave['id']}/charts/{chart}")).status_code == 200
    for export in ("csv", "json", "responses/csv"):
        assert (await client.get(f"/api/campaigns/{wave['id']}/export/{export}")).status_code == 200
    exported = (await client.get(f"/api/campaigns/{wave['id']}/export/json")).json()
    assert exported["experience"] == section
    # Respondent rows carry the measures, with the scale's labels in the SPSS file.
    sav = await client.get(f"/api/campaigns/{wave['id']}/export/responses/sav")
    assert sav.status_code == 200
    with tempfile.NamedTemporaryFile(suffix=".sav") as f:
        f.write(sav.content)
        f.flush()
        read, meta = pyreadstat.read_sav(f.name)
    frame: Any = read  # pyreadstat's hints name narwhals' frame type
    assert sorted(frame["csat_csat"].astype(int)) == sorted(CSAT)
    assert sorted(frame["minutes_time_lost"].astype(int)) == sorted(MINUTES)
    assert sorted(frame["nps_recommend"].dropna().astype(int)) == sorted(v for v in RECOMMEND if v is not None)
    assert meta.variable_value_labels["csat_csat"][1.0] == "1 Very dissatisfied"
    assert meta.variable_value_labels["nps_recommend"][10.0] == "10 Extremely likely"
    assert "minutes_time_lost" not in meta.variable_value_labels


@pytest.mark.parametrize("bad", [-5, 10_001, "ten", 12.5, None])
async def test_bad_minutes_are_refused_naming_the_field_and_store_nothing(client, db, bad):
    wave = await create_wave(client, db, instrument="it-experience", size=5)
    stored = await token_for(client, wave["id"], role_email("member"))
    answers = _answers(0)
    answers["measures"]["time_lost"] = bad
    response = await redeem(client, stored, answers)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert [e["field"] for e in problem["errors"]] == ["measures.time_lost"]
    assert await db.fetchval("select count(*) from responses where campaign_id = $1", wave["id"]) == 0
    assert await db.fetchval("select count(*) from spent_tokens where campaign_id = $1", wave["id"]) == 0
    # The token is still good: the corrected answers go in.
    answers["measures"]["time_lost"] = 20
    assert (await redeem(client, stored, answers)).status_code == 201
    assert await db.fetchval("select measures from responses where campaign_id = $1", wave["id"]) == [5, 7, 20, 10]


async def test_below_k_the_experience_section_is_suppressed(client, db):
    wave = await create_wave(client, db, instrument="it-experience", size=8)
    for i, email in enumerate(EIGHT[:4]):
        stored = await token_for(client, wave["id"], email)
        assert (await redeem(client, stored, _answers(i))).status_code == 201
    await _close(client, wave)
    report = (await client.get(f"/api/campaigns/{wave['id']}/report")).json()
    assert report["suppressed"] is True
    assert report["experience"]["suppressed"] is True
    assert "mean" not in str(report["experience"])


async def test_a_servqual_wave_has_no_experience_section(client, db):
    wave = await create_wave(client, db, instrument="pulse", size=5)
    for email in EIGHT[:5]:
        stored = await token_for(client, wave["id"], email)
        answers = {"items": {k: {"perception": 5} for k in ("q01", "q07", "q11", "q17", "q22")}}
        assert (await redeem(client, stored, answers)).status_code == 201
    await _close(client, wave)
    report = (await client.get(f"/api/campaigns/{wave['id']}/report")).json()
    assert report["experience"] is None
    # Measures are refused where the instrument has none.
    wave2 = await create_wave(client, db, instrument="pulse", size=5, title="second")
    stored = await token_for(client, wave2["id"], role_email("member"))
    answers = {"items": {k: {"perception": 5} for k in ("q01", "q07", "q11", "q17", "q22")}, "measures": {"csat": 4}}
    response = await redeem(client, stored, answers)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "measures"
