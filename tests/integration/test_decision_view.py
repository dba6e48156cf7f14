"""The decision view through HTTP: two closed waves of one service with real stored
responses; the report's summary, drivers and themes and the trend checked against plain
recomputation (numpy loops, scipy's Welch test, Johnson's weights written out here)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from scipy import stats

from instruments import load_builtin
from service.client import redeem
from tests.integration.wave_helpers import MEMBERS, answers_for, create_wave, token_for
from tests.support import login, role_email

SERVQUAL = load_builtin("servqual")
DIMS = [d.key for d in SERVQUAL.dimensions]
EIGHT = [role_email("member"), *MEMBERS]  # the audience of create_wave(size=8)


def _answers(i: int, shift: int) -> tuple[dict, np.ndarray, float, float]:
    """Respondent i's answers; their per-dimension perception means, overall gap, satisfaction."""
    answers = answers_for("servqual", 6)
    perceptions = {}
    for n, item in enumerate(SERVQUAL.items):
        p = 1 + (3 * i + n * (i % 3 + 1) + shift) % 7
        e = 4 + (i + n) % 4
        answers["items"][item.key] = {"expectation": e, "perception": p}
        perceptions[item.key] = (e, p)
    dims = np.array([np.mean([perceptions[it.key][1] for it in SERVQUAL.items if it.dimension == d]) for d in DIMS])
    gaps = [np.mean([perceptions[it.key][1] - perceptions[it.key][0] for it in SERVQUAL.items if it.dimension == d])
            for d in DIMS]
    satisfaction = float(np.clip(round(dims[1] + (i % 2)), 1, 7))
    answers["satisfaction"] = {"overall": int(satisfaction)}
    answers["comments"] = {"general": ["The printer is broken and the laptop screen flickers",
                                       "Tickets wait days for a slow reply",
                                       "Friendly staff who listen and understand"][i % 3]}
    return answers, dims, float(np.mean(gaps)), satisfaction


async def _run_wave(client, db, wave: dict, shift: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    tokens = [await token_for(client, wave["id"], email) for email in EIGHT]
    dims, overall, sat = [], [], []
    for i, stored in enumerate(tokens):
        answers, d, o, s = _answers(i, shift)
        assert (await redeem(client, stored, answers)).status_code == 201
        dims.append(d)
        overall.append(o)
        sat.append(s)
    client.cookies.clear()
    await login(client, "manager")
    assert (await client.post(f"/api/campaigns/{wave['id']}/close")).status_code == 200
    return np.array(dims), np.array(overall), np.array(sat)


async def _second_wave(client, first: dict) -> dict:
    today = date.today()
    body = {"title": "Autumn survey", "service_id": first["service"]["id"], "instrument_id": "servqual",
            "audience_group_id": first["audience_group_id"], "opens_on": str(today),
            "closes_on": str(today + timedelta(days=30)), "k_scores": 5, "k_comments": 5}
    created = await client.post("/api/campaigns", json=body)
    assert created.status_code == 201, created.text
    opened = await client.post(f"/api/campaigns/{created.json()['id']}/open")
    assert opened.status_code == 200, opened.text
    return opened.json()


def _johnson(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Johnson (2000) from the SVD of the standardised predictors (a second implementation)."""
    n = len(y)
    zx = (x - x.mean(axis=0)) / x.std(axis=0, ddof=1)
    zy = (y - y.mean()) / y.std(ddof=1)
    u, _, vt = np.linalg.svd(zx, full_matrices=False)
    z = np.sqrt(n - 1) * u @ vt
    beta = np.linalg.lstsq(z, zy, rcond=None)[0]
    lam = np.linalg.lstsq(z, zx, rcond=None)[0]
    return (lam**2).T @ (beta**2)


async def test_summary_change_drivers_themes_and_trend(client, db):
    first = await create_wave(client, db, instrument="servqual", size=8, k_comments=5, title="Spring survey")
    _, overall_1, _ = await _run_wave(client, db, first, shift=0)
    second = await _second_wave(client, first)
    dims_2, overall_2, sat_2 = await _run_wave(client, db, second, shift=2)

    response = await client.get(f"/api/campaigns/{second['id']}/report")
    assert response.status_code == 200, response.text
    report = response.json()
    summary = report["summary"]

    gap = summary["overall_gap"]
    assert gap["n"] == 8 and gap["mean"] == pytest.approx(overall_2.mean(), abs=1e-12)
    low, high = stats.t.interval(0.95, 7, loc=overall_2.mean(), scale=stats.sem(overall_2))
    assert (gap["ci_low"], gap["ci_high"]) == (pytest.approx(low, abs=1e-9), pytest.approx(high, abs=1e-9))

    assert summary["response_rate"]["responses"] == 5  # 8 responses, shown in whole multiples of k = 5
    assert summary["response_rate"]["audience"] == 8

    change = summary["change"]
    assert change["previous_wave_id"] == first["id"] and change["previous_title"] == "Spring survey"
    welch = stats.ttest_ind(overall_2, overall_1, equal_var=False).confidence_interval(0.95)
    assert change["difference"] == pytest.approx(overall_2.mean() - overall_1.mean(), abs=1e-12)
    assert (change["ci_low"], change["ci_high"]) == (pytest.approx(welch.low, abs=1e-9),
                                                     pytest.approx(welch.high, abs=1e-9))

    statements = {it.key: it.statements["perception"] for it in SERVQUAL.items}
    titles = {d.key: d.title for d in SERVQUAL.dimensions}
    # items say what to change; dimensions only when no item gap is significant
    chosen = [c for c in report["candidates"] if c["level"] == "item"] or report["candidates"]
    assert chosen, "the second wave has significant gaps"
    assert [f["key"] for f in summary["focus"]] == [c["target"] for c in chosen[:3]]
    for focus in summary["focus"]:
        assert focus["wording"] == {**statements, **titles}[focus["key"]]
        assert "priority = weight × max(0, −upper bound)" in focus["evidence"]
    assert len(summary["strengths"]) == 3
    assert all(s["wording"] == statements[s["key"]] for s in summary["strengths"])

    drivers = report["drivers"]
    assert drivers["outcome"] == "overall" and drivers["n"] == 8
    expected = _johnson(dims_2, sat_2)
    assert [r["key"] for r in drivers["rows"]] == DIMS
    np.testing.assert_allclose([r["weight"] for r in drivers["rows"]], expected, atol=1e-9)
    assert all(r["stated_share"] == pytest.approx(0.2) for r in drivers["rows"])  # equal allocation

    themes = report["themes"]
    assert themes["comments"] == 8
    assert all(t["comments"] >= 5 for t in themes["themes"])  # never a theme below k_comments

    trend = await client.get(f"/api/campaigns/{second['id']}/trend")
    assert trend.status_code == 200, trend.text
    points = trend.json()["points"]
    assert [p["wave_id"] for p in points] == [first["id"], second["id"]]
    assert points[0]["overall"]["mean"] == pytest.approx(overall_1.mean(), abs=1e-12)
    assert points[1]["overall"]["mean"] == pytest.approx(overall_2.mean(), abs=1e-12)
    assert set(points[1]["dimensions"]) == set(DIMS)
    first_report = (await client.get(f"/api/campaigns/{first['id']}/report")).json()
    assert first_report["summary"]["change"] is None  # nothing before the first wave


async def test_trend_and_summary_only_for_closed_waves_and_readers(client, db):
    wave = await create_wave(client, db, instrument="servqual", size=8)
    assert (await client.get(f"/api/campaigns/{wave['id']}/trend")).status_code == 409
    client.cookies.clear()
    await login(client, "member")
    assert (await client.get(f"/api/campaigns/{wave['id']}/trend")).status_code in (403, 404)


async def test_drivers_and_themes_are_suppressed_below_the_thresholds(client, db):
    wave = await create_wave(client, db, instrument="servqual", size=8, k_comments=10)
    tokens = [await token_for(client, wave["id"], email) for email in EIGHT[:6]]
    for i, stored in enumerate(tokens):
        answers, *_ = _answers(i, 0)
        if i >= 3:
            del answers["satisfaction"]  # only three answered the satisfaction question
        assert (await redeem(client, stored, answers)).status_code == 201
    client.cookies.clear()
    await login(client, "manager")
    assert (await client.post(f"/api/campaigns/{wave['id']}/close")).status_code == 200
    report = (await client.get(f"/api/campaigns/{wave['id']}/report")).json()
    assert report["drivers"]["suppressed"] is True  # 3 complete answers < k_scores = 5
    assert report["themes"]["suppressed"] is True  # 6 responses < k_comments = 10
    assert report["summary"]["overall_gap"]["n"] == 6
