"""Attack: poll an open wave's results before and after one more anonymous submission and
subtract them (mean₇·7 − mean₆·6 per item gives back the newcomer's answers; the comment
list grows by exactly the newcomer's comment).

The attacker is a manager (or the owner of the wave's service): people who may read a
wave's results. The attack fails when every read of an open wave is refused (409) or
byte-identical across the submission.
"""

from __future__ import annotations

import csv
import io
import uuid

import httpx

from service.client import redeem
from tests.integration.wave_helpers import MEMBERS, answers_for, create_wave, token_for
from tests.support import login, role_email

CHARTS = ("dimension-gaps", "item-gaps", "importance-performance")


def _answers(i: int, *, comment: str) -> dict:
    answers = answers_for("servqual", 6)
    for n, item in enumerate(answers["items"].values()):
        item["perception"] = 1 + (i + n) % 7
    answers["comments"] = {"general": comment}
    return answers


async def _poll(client, wave_id: str, role: str) -> dict[str, httpx.Response]:
    """Everything a reader might derive a wave's responses from."""
    client.cookies.clear()
    await login(client, role)
    base = f"/api/campaigns/{wave_id}"
    out = {"report": await client.get(f"{base}/report")}
    for chart in CHARTS:
        out[f"chart {chart}"] = await client.get(f"{base}/charts/{chart}")
    out["export json"] = await client.get(f"{base}/export/json")
    out["export csv"] = await client.get(f"{base}/export/csv")
    # Whether a target is a ranked candidate is itself derived from the answers.
    out["candidate"] = await client.post("/api/actions", json={"campaign_id": wave_id, "level": "dimension",
                                                               "target": "reliability"})
    return out


def _recovered_newcomer(before: httpx.Response, after: httpx.Response) -> dict[str, float] | None:
    """The subtraction itself: per item, n₁·mean₁ − n₀·mean₀ of the perceptions."""
    if before.status_code != 200 or after.status_code != 200:
        return None
    b, a = before.json(), after.json()
    if not isinstance(b.get("n"), int) or not isinstance(a.get("n"), int) or a["n"] != b["n"] + 1:
        return None
    means = {i["key"]: i.get("mean_perception") for i in b["items"]}
    return {i["key"]: a["n"] * i["mean_perception"] - b["n"] * means[i["key"]]
            for i in a["items"] if isinstance(i.get("mean_perception"), float)
            and isinstance(means.get(i["key"]), float)}


def _assert_refused(name: str, response: httpx.Response, closes_on: str) -> None:
    assert response.status_code == 409, f"{name}: {response.status_code} {response.text[:300]}"
    assert response.headers["content-type"].startswith("application/problem+json"), name
    assert response.json()["detail"] == f"Results appear when the wave closes on {closes_on}", name


async def test_polling_an_open_wave_across_one_submission_reveals_nothing(client, db):
    # k_comments as low as allowed, so comments would be released at n >= 3.
    wave = await create_wave(client, db, instrument="servqual", size=8, k_comments=3)
    wave_id, closes_on = wave["id"], wave["closes_on"]
    # Tokens are fetched early (as the browser does), so issuance does not mark the moment.
    tokens = [await token_for(client, wave_id, email) for email in [role_email("member"), *MEMBERS[:6]]]
    for i, stored in enumerate(tokens[:6]):
        assert (await redeem(client, stored, _answers(i, comment=f"comment {i}"))).status_code == 201

    for role in ("manager", "owner"):
        before = await _poll(client, wave_id, role)
        if role == "manager":
            newcomer = answers_for("servqual", 6)
            for item in newcomer["items"].values():
                item["perception"] = 1
            newcomer["comments"] = {"general": "the newcomer's secret"}
            assert (await redeem(client, tokens[6], newcomer)).status_code == 201
        after = await _poll(client, wave_id, role)
        assert _recovered_newcomer(before["report"], after["report"]) is None
        for name in before:
            if before[name].status_code == 200 or after[name].status_code == 200:
                assert before[name].content == after[name].content, f"{role}: {name} changed with one response"
            else:
                _assert_refused(f"{role}: {name}", before[name], closes_on)
                _assert_refused(f"{role}: {name}", after[name], closes_on)
            assert b"newcomer" not in after[name].content
    assert await db.fetchval("select count(*) from action_items") == 0

    # Not vacuous: once the wave closes, the same reads give the results, all seven.
    client.cookies.clear()
    await login(client, "manager")
    assert (await client.post(f"/api/campaigns/{wave_id}/close")).status_code == 200
    closed = await _poll(client, wave_id, "manager")
    report = closed["report"].json()
    assert closed["report"].status_code == 200 and report["n"] == 7
    assert sorted(report["comments"]["by_prompt"]["general"]) == sorted(
        [f"comment {i}" for i in range(6)] + ["the newcomer's secret"])
    assert all(closed[f"chart {c}"].status_code == 200 for c in CHARTS)
    assert closed["export json"].json()["n"] == 7
    rows = list(csv.reader(io.StringIO(closed["export csv"].text)))
    assert rows[1][:5] == ["wave", "", "", "", "7"]


async def test_a_draft_wave_has_no_results_either(client, db):
    wave = await create_wave(client, db, instrument="servqual", open_it=False)
    polled = await _poll(client, wave["id"], "manager")
    for name, response in polled.items():
        _assert_refused(name, response, wave["closes_on"])


async def test_an_action_outcome_does_not_read_an_open_baseline_wave(client, db):
    """An item from a thread may name an open wave as its baseline; once a later wave of
    the survey closes, its outcome would compare the two, putting the open wave's n and
    mean on screen, one response at a time. It waits until the baseline closes."""
    from tests.integration.test_actions import BAD, GOOD, closed_wave, insert_responses, move, servqual_answers

    baseline = await create_wave(client, db, instrument="servqual", size=8, title="Spring")
    await insert_responses(db, baseline["id"], servqual_answers(6, reliability=BAD))
    thread_id = await db.fetchval(
        "insert into threads (service_id, secret_hash, category, title) values ($1, $2, 'problem', 'Slow') "
        "returning id", uuid.UUID(baseline["service"]["id"]), uuid.uuid4().bytes * 2)
    created = await client.post("/api/actions", json={
        "thread_id": str(thread_id), "title": "Faster", "campaign_id": baseline["id"],
        "expected": {"level": "dimension", "key": "reliability", "change": 0.5}})
    assert created.status_code == 201, created.text
    action_id = created.json()["item"]["id"]
    for status in ("accepted", "in_progress", "done"):
        assert (await move(client, action_id, status)).status_code == 200
    await closed_wave(client, db, servqual_answers(8, reliability=GOOD), like=baseline, title="Autumn")

    before = (await client.get(f"/api/actions/{action_id}")).json()["outcome"]
    await insert_responses(db, baseline["id"], servqual_answers(1, reliability=(1,)))
    after = (await client.get(f"/api/actions/{action_id}")).json()["outcome"]
    assert before == after and before["state"] == "waiting", before
    assert "n_before" not in before and "mean_before" not in before

    assert (await client.post(f"/api/campaigns/{baseline['id']}/close")).status_code == 200
    measured = (await client.get(f"/api/actions/{action_id}")).json()["outcome"]
    assert measured["state"] == "measured" and measured["n_before"] == 7
