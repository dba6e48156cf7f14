"""The wave report through HTTP: real stored responses, numbers checked against scipy,
suppression below k, comments only at k_comments, charts as SVG, readers only."""

from __future__ import annotations

import re

import numpy as np
import pytest
from scipy import stats

from service.client import redeem
from tests.integration.wave_helpers import MEMBERS, answers_for, create_wave, token_for
from tests.support import login, role_email

# Six respondents' (expectation, perception) for servqual item q07; every other item
# gets the same E=6 and a P that varies so no column is constant.
Q07 = [(7, 3), (6, 4), (7, 4), (6, 2), (7, 5), (5, 4)]


async def _submit_all(client, db, wave, count, *, comment=True, close=True):
    emails = [role_email("member"), *MEMBERS][:count]
    tokens = [await token_for(client, wave["id"], email) for email in emails]
    for i, stored in enumerate(tokens):
        answers = answers_for("servqual", 6)
        for n, item in enumerate(answers["items"].values()):
            item["perception"] = 1 + (i + n) % 7
        answers["items"]["q07"] = {"expectation": Q07[i][0], "perception": Q07[i][1]}
        if comment:
            answers["comments"] = {"general": f"comment {i}"}
        assert (await redeem(client, stored, answers)).status_code == 201
    if close:
        await _close(client, wave)
    client.cookies.clear()


async def _close(client, wave) -> None:
    """Results exist only for a closed wave."""
    client.cookies.clear()
    await login(client, "manager")
    assert (await client.post(f"/api/campaigns/{wave['id']}/close")).status_code == 200


async def test_report_matches_scipy(client, db):
    wave = await create_wave(client, db, instrument="servqual", k_comments=5)
    await _submit_all(client, db, wave, 6)
    await login(client, "manager")
    response = await client.get(f"/api/campaigns/{wave['id']}/report")
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["n"] == 6
    q07 = next(i for i in report["items"] if i["key"] == "q07")
    e = np.array([x[0] for x in Q07], dtype=float)
    p = np.array([x[1] for x in Q07], dtype=float)
    gap = p - e
    # Reference: scipy.stats.ttest_rel(p, e) and the t-interval of the mean paired gap.
    t_ref = stats.ttest_rel(p, e)
    half = stats.t.ppf(0.975, len(gap) - 1) * gap.std(ddof=1) / np.sqrt(len(gap))
    assert q07["n"] == 6
    assert q07["mean_gap"] == pytest.approx(gap.mean())
    assert q07["t_p"] == pytest.approx(t_ref.pvalue)
    assert (q07["ci_low"], q07["ci_high"]) == pytest.approx((gap.mean() - half, gap.mean() + half))
    assert report["comments"]["by_prompt"]["general"] and len(report["comments"]["by_prompt"]["general"]) == 6
    assert sorted(report["comments"]["by_prompt"]["general"]) == [f"comment {i}" for i in range(6)]
    assert report["priority_formula"]


async def test_report_below_k_is_suppressed(client, db):
    wave = await create_wave(client, db, instrument="servqual")
    await _submit_all(client, db, wave, 4)
    await login(client, "manager")
    report = (await client.get(f"/api/campaigns/{wave['id']}/report")).json()
    text = str(report)
    assert report["suppressed"] is True or report["n"] == {"suppressed": True, "reason": "fewer than k=5 responses"}
    for value in ("comment 0", "'mean_gap': -", "3.0"):
        assert value not in text
    assert report["comments"]["suppressed"] is True


async def test_comments_need_k_comments(client, db):
    wave = await create_wave(client, db, instrument="servqual")  # k_comments defaults to 10
    await _submit_all(client, db, wave, 6)
    await login(client, "manager")
    report = (await client.get(f"/api/campaigns/{wave['id']}/report")).json()
    assert report["n"] == 6
    assert report["comments"] == {"suppressed": True, "reason": "fewer than k=10 responses"}
    assert "comment 1" not in str(report)


async def test_charts_are_accessible_svg(client, db):
    wave = await create_wave(client, db, instrument="servqual")
    await _submit_all(client, db, wave, 6, comment=False)
    await login(client, "owner")
    for chart in ("dimension-gaps", "item-gaps", "importance-performance"):
        response = await client.get(f"/api/campaigns/{wave['id']}/charts/{chart}")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("image/svg+xml")
        assert response.text.lstrip().startswith("<svg") and 'role="img"' in response.text
        assert "<script" not in response.text and not re.search(r"\sstyle=", response.text)
    assert (await client.get(f"/api/campaigns/{wave['id']}/charts/pie")).status_code == 404


async def test_only_readers_get_results(client, db):
    wave = await create_wave(client, db, instrument="servqual")
    client.cookies.clear()
    await login(client, "member")
    assert (await client.get(f"/api/campaigns/{wave['id']}/report")).status_code == 403
    client.cookies.clear()
    await login(client, "moderator")
    assert (await client.get(f"/api/campaigns/{wave['id']}/report")).status_code == 404


async def test_report_appears_when_the_wave_closes_with_every_response(client, db):
    wave = await create_wave(client, db, instrument="servqual")
    await _submit_all(client, db, wave, 5, comment=False, close=False)
    await login(client, "manager")
    refused = await client.get(f"/api/campaigns/{wave['id']}/report")
    assert refused.status_code == 409
    assert refused.json()["detail"] == f"Results appear when the wave closes on {wave['closes_on']}"
    stored = await token_for(client, wave["id"], MEMBERS[5])
    assert (await redeem(client, stored, answers_for("servqual", 2))).status_code == 201
    await _close(client, wave)
    assert (await client.get(f"/api/campaigns/{wave['id']}/report")).json()["n"] == 6
