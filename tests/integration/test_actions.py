"""Action items through HTTP: created from a wave's ranked candidates, the workflow and
its locks (API and database trigger), the activity log, who may do what, the
dashboard's metrics, and the measured outcome once a later wave closes."""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta

import asyncpg
import pytest

from instruments import load_builtin
from instruments.packing import pack_answers
from service.waves import receipt_for
from tests.integration.wave_helpers import answers_for, create_wave
from tests.support import login, role_email

SERVQUAL = load_builtin("servqual")
RELIABILITY = [i.key for i in SERVQUAL.items if i.dimension == "reliability"]


def servqual_answers(n: int, *, reliability: tuple[int, ...], other: tuple[int, ...] = (5, 6, 7),
                     skip: dict[str, int] | None = None) -> list[dict]:
    """``n`` answer sets: expectation 6 everywhere; reliability perceptions cycle through
    ``reliability``, other perceptions through ``other`` (so no column is constant).
    ``skip``: item -> number of respondents (the first ones) whose answer is left out."""
    out = []
    for r in range(n):
        answers = answers_for("servqual", 6)
        for j, item in enumerate(SERVQUAL.items):
            values = reliability if item.dimension == "reliability" else other
            answers["items"][item.key] = {"expectation": 6, "perception": values[(r + j) % len(values)]}
        out.append(answers)
    return out


async def insert_responses(db: asyncpg.Connection, campaign_id: str, answer_sets: list[dict],
                           *, skip: dict[str, int] | None = None) -> None:
    """Store responses as the redemption endpoint would (minus the token); ``skip`` leaves
    an item's answers out (null) for that many respondents."""
    keys = [i.key for i in SERVQUAL.items]
    for r, answers in enumerate(answer_sets):
        packed = pack_answers(SERVQUAL, answers)
        values = list(packed.item_values)
        for key, count in (skip or {}).items():
            if r < count:
                j = keys.index(key)
                values[2 * j] = values[2 * j + 1] = None
        packed = type(packed)(values, packed.importance, packed.satisfaction, packed.comments)
        response_id = uuid.uuid4()
        await db.execute(
            """insert into responses (id, campaign_id, receipt, item_values, importance, satisfaction, comments)
               values ($1, $2, $3, $4, $5, $6, $7)""",
            response_id, uuid.UUID(campaign_id), receipt_for(uuid.UUID(campaign_id), response_id, packed),
            packed.item_values, packed.importance, packed.satisfaction, json.dumps(packed.comments),
        )


async def closed_wave(client, db, answer_sets: list[dict], *, like: dict | None = None, skip=None,
                      title: str = "Spring survey") -> dict:
    """A SERVQUAL wave with these responses, closed, as the manager. ``like``: an earlier
    wave whose service and audience it shares (a later wave of the same survey)."""
    if like is None:
        wave = await create_wave(client, db, instrument="servqual", title=title)
    else:
        await login(client, "manager")
        today = date.today()
        body = {"title": title, "service_id": like["service"]["id"], "instrument_id": "servqual",
                "audience_group_id": like["audience_group_id"], "opens_on": str(today),
                "closes_on": str(today + timedelta(days=14))}
        created = await client.post("/api/campaigns", json=body)
        assert created.status_code == 201, created.text
        wave = (await client.post(f"/api/campaigns/{created.json()['id']}/open")).json()
    await insert_responses(db, wave["id"], answer_sets, skip=skip)
    closed = await client.post(f"/api/campaigns/{wave['id']}/close")
    assert closed.status_code == 200, closed.text
    return closed.json()


async def candidate_item(client, wave: dict, *, level: str = "dimension", target: str = "reliability",
                         **extra) -> dict:
    response = await client.post("/api/actions", json={"campaign_id": wave["id"], "level": level,
                                                       "target": target, **extra})
    assert response.status_code == 201, response.text
    return response.json()


async def move(client, action_id: str, status: str, **extra):
    return await client.post(f"/api/actions/{action_id}/status", json={"status": status, **extra})


async def as_role(client, role: str) -> None:
    client.cookies.clear()
    client.headers.pop("x-csrf-token", None)
    await login(client, role)


BAD = (2, 3)     # reliability perception 2-3 against expectation 6: a gap near -3.5
GOOD = (5, 6)    # near -0.5


async def test_candidate_becomes_an_item_with_the_candidates_numbers(client, db):
    wave = await closed_wave(client, db, servqual_answers(8, reliability=BAD))
    report = (await client.get(f"/api/campaigns/{wave['id']}/report")).json()
    candidate = next(c for c in report["candidates"] if c["level"] == "dimension" and c["target"] == "reliability")
    detail = await candidate_item(client, wave, expected_change=0.5)
    item = detail["item"]
    assert item["status"] == "proposed" and item["source"] == "candidate"
    assert item["candidate"]["mean_gap"] == pytest.approx(candidate["mean_gap"])
    assert (item["candidate"]["ci_low"], item["candidate"]["ci_high"]) == pytest.approx(
        (candidate["ci_low"], candidate["ci_high"]))
    assert item["candidate"]["reason"] == candidate["reason"]
    assert item["expected"] == {"level": "dimension", "key": "reliability", "change": 0.5}
    # The owner defaults to the service's only owner; the due date to today + sla_action_days (30).
    assert item["owner"]["id"] == str(await db.fetchval("select id from accounts where email = $1",
                                                         role_email("owner")))
    assert item["due_on"] == str(date.today() + timedelta(days=30))
    assert [a["kind"] for a in detail["activity"]] == ["create"]
    assert detail["activity"][0]["actor"]["name"] == "Manager"
    assert detail["allowed"] == ["accepted", "wont_do"]


async def test_only_ranked_candidates_and_known_references(client, db):
    wave = await closed_wave(client, db, servqual_answers(8, reliability=BAD))
    # Tangibles are answered at expectation level or above: no candidate.
    response = await client.post("/api/actions", json={"campaign_id": wave["id"], "level": "dimension",
                                                       "target": "tangibles"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "target"
    response = await client.post("/api/actions", json={"campaign_id": str(uuid.uuid4()), "level": "item",
                                                       "target": "q05"})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "campaign_id"
    response = await client.post("/api/actions", json={"thread_id": str(uuid.uuid4()), "title": "x"})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "thread_id"
    response = await client.post("/api/actions", json={"campaign_id": wave["id"], "level": "dimension",
                                                       "target": "reliability",
                                                       "expected": {"level": "item", "key": "q99", "change": 1}})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "expected.key"
    response = await client.post("/api/actions", json={"title": "no source"})
    assert response.status_code == 422
    assert await db.fetchval("select count(*) from action_items") == 0


async def test_workflow_locks_and_activity_log(client, db):
    wave = await closed_wave(client, db, servqual_answers(8, reliability=BAD))
    detail = await candidate_item(client, wave)
    action_id = detail["item"]["id"]
    # No expected effect declared: it cannot be accepted (success would be undefined).
    refused = await move(client, action_id, "accepted")
    assert refused.status_code == 409 and refused.json()["type"] == "/problems/action-transition"
    changed = await client.patch(f"/api/actions/{action_id}",
                                 json={"expected": {"level": "item", "key": "q07", "change": 0.8},
                                       "internal_notes": "vendor contract up for renewal"})
    assert changed.status_code == 200, changed.text
    assert (await move(client, action_id, "done")).status_code == 409  # proposed -> done skips steps
    assert (await move(client, action_id, "accepted")).status_code == 200
    # Locked once accepted: through the API ...
    locked = await client.patch(f"/api/actions/{action_id}", json={"expected": {"level": "item", "key": "q07",
                                                                               "change": 0.1}})
    assert locked.status_code == 409 and locked.json()["type"] == "/problems/action-locked"
    # ... and in the database, whatever the application does.
    with pytest.raises(asyncpg.IntegrityConstraintViolationError):
        await db.execute("update action_items set expected_change = 0.1 where id = $1", uuid.UUID(action_id))
    with pytest.raises(asyncpg.IntegrityConstraintViolationError):
        await db.execute("update action_items set status = 'proposed' where id = $1", uuid.UUID(action_id))
    with pytest.raises(asyncpg.IntegrityConstraintViolationError):
        await db.execute("update action_activity set note = 'rewritten'")
    # Title and due date stay editable while the item is open.
    assert (await client.patch(f"/api/actions/{action_id}", json={"title": "Fix the reliability gap"})).status_code == 200
    assert (await move(client, action_id, "in_progress")).status_code == 200
    await as_role(client, "owner")
    done = await move(client, action_id, "done", note="new monitoring in place")
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["item"]["status"] == "done" and body["item"]["done_at"] and body["item"]["accepted_at"]
    assert body["item"]["expected"] == {"level": "item", "key": "q07", "change": 0.8}
    assert body["allowed"] == []
    assert (await move(client, action_id, "wont_do", reason="too late")).status_code == 409
    assert (await client.patch(f"/api/actions/{action_id}", json={"title": "again"})).status_code == 409
    log = body["activity"]
    assert [(a["kind"], a["to_status"]) for a in log] == [
        ("create", "proposed"), ("edit", None), ("status", "accepted"), ("edit", None),
        ("status", "in_progress"), ("status", "done")]
    assert [a["actor"]["name"] for a in log] == ["Manager"] * 5 + ["Owner"]
    assert log[1]["changes"]["expected_change"] == [None, 0.8]
    assert log[-1]["note"] == "new monitoring in place"
    times = [a["at"] for a in log]
    assert times == sorted(times) and len(set(times)) == len(times)  # precise, distinct moments


async def test_wont_do_needs_a_reason(client, db):
    wave = await closed_wave(client, db, servqual_answers(8, reliability=BAD))
    action_id = (await candidate_item(client, wave))["item"]["id"]
    missing = await move(client, action_id, "wont_do")
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "reason"
    declined = await move(client, action_id, "wont_do", reason="the service is being retired")
    assert declined.status_code == 200
    assert declined.json()["item"]["wont_do_reason"] == "the service is being retired"
    assert declined.json()["activity"][-1]["note"] == "the service is being retired"


async def test_owners_edit_their_own_items_managers_all(client, db):
    wave = await closed_wave(client, db, servqual_answers(8, reliability=BAD))
    action_id = (await candidate_item(client, wave, expected_change=0.5))["item"]["id"]
    # A second owner, of another service, sees nothing of it.
    await db.execute("update accounts set roles = '{owner}' where email = $1", role_email("moderator"))
    await as_role(client, "moderator")
    assert (await client.get(f"/api/actions/{action_id}")).status_code == 404
    assert (await move(client, action_id, "accepted")).status_code == 404
    assert (await client.get("/api/actions")).json() == []
    # The item's owner reads, edits and moves it.
    await as_role(client, "owner")
    assert [a["id"] for a in (await client.get("/api/actions")).json()] == [action_id]
    assert (await client.patch(f"/api/actions/{action_id}", json={"due_on": "2031-01-01"})).status_code == 200
    assert (await move(client, action_id, "accepted")).status_code == 200
    # A co-owner of the service reads it but does not edit someone else's item.
    await db.execute("update accounts set roles = '{owner}' where email = $1", role_email("admin"))
    await db.execute("insert into service_owners select $1, id from accounts where email = $2",
                     uuid.UUID(wave["service"]["id"]), role_email("admin"))
    await as_role(client, "admin")
    assert (await client.get(f"/api/actions/{action_id}")).json()["can_edit"] is False
    assert (await client.patch(f"/api/actions/{action_id}", json={"title": "mine now"})).status_code == 403
    # Members never reach the staff API.
    await as_role(client, "member")
    assert (await client.get("/api/actions")).status_code == 403
    assert (await client.get(f"/api/actions/{action_id}")).status_code == 403
    assert (await client.get("/api/actions/export.csv")).status_code == 403


async def test_owner_must_own_the_service(client, db):
    wave = await closed_wave(client, db, servqual_answers(8, reliability=BAD))
    member = await db.fetchval("select id from accounts where email = $1", role_email("member"))
    response = await client.post("/api/actions", json={"campaign_id": wave["id"], "level": "dimension",
                                                       "target": "reliability", "owner_id": str(member)})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "owner_id"


async def test_item_from_a_thread(client, db):
    wave = await closed_wave(client, db, servqual_answers(8, reliability=BAD))
    thread_id = await db.fetchval(
        """insert into threads (service_id, secret_hash, category, title) values ($1, $2, 'problem', 'VPN drops')
           returning id""", uuid.UUID(wave["service"]["id"]), uuid.uuid4().bytes * 2)
    response = await client.post("/api/actions", json={
        "thread_id": str(thread_id), "title": "Replace the VPN concentrator", "campaign_id": wave["id"],
        "expected": {"level": "dimension", "key": "reliability", "change": 0.5}})
    assert response.status_code == 201, response.text
    item = response.json()["item"]
    assert (item["source"], item["target_level"], item["thread_id"]) == ("thread", "thread", str(thread_id))
    assert item["service"]["id"] == wave["service"]["id"]


async def test_dashboard_metrics(client, db):
    wave = await closed_wave(client, db, servqual_answers(8, reliability=BAD))
    ids = [(await candidate_item(client, wave, level="item", target=key, expected_change=0.5))["item"]["id"]
           for key in RELIABILITY[:4]]
    # 0: accepted on time, then done before its due date.
    for status in ("accepted", "in_progress", "done"):
        assert (await move(client, ids[0], status)).status_code == 200
    # 1: created 40 days ago (SLA 30 days), accepted now: acted upon late; due date passed: overdue.
    await db.execute("alter table action_items disable trigger action_items_workflow")
    await db.execute("update action_items set created_at = now() - interval '40 days', due_on = current_date - 10 "
                     "where id = $1", uuid.UUID(ids[1]))
    await db.execute("alter table action_items enable trigger action_items_workflow")
    assert (await move(client, ids[1], "accepted")).status_code == 200
    # 2: still proposed inside its window: pending, counted nowhere. 3: won't do: left out.
    assert (await move(client, ids[3], "wont_do", reason="duplicate")).status_code == 200
    dash = (await client.get("/api/actions/dashboard")).json()
    assert dash["total"] == 4 and dash["overdue"] == 1
    assert dash["by_status"] == {"proposed": 1, "accepted": 1, "in_progress": 0, "done": 1, "wont_do": 1}
    assert (dash["acted_within_sla"]["numerator"], dash["acted_within_sla"]["denominator"]) == (1, 2)
    assert dash["acted_within_sla"]["percent"] == 50.0
    assert (dash["completed_by_due"]["numerator"], dash["completed_by_due"]["denominator"]) == (1, 2)
    assert dash["first_answer"] == {"available": False, "threads": 0, "answered": 0, "median_hours": None,
                                    "definition": "no threads yet"}
    [series] = dash["scores"]
    assert series["service"]["id"] == wave["service"]["id"] and len(series["waves"]) == 1
    point = series["waves"][0]
    assert point["n"] == 8 and point["ci_low"] < point["mean"] < point["ci_high"]
    overdue = (await client.get("/api/actions", params={"overdue": "true"})).json()
    assert [a["id"] for a in overdue] == [ids[1]]
    assert [a["id"] for a in (await client.get("/api/actions", params={"status": "done"})).json()] == [ids[0]]
    svg = await client.get(f"/api/actions/score-chart/{wave['service']['id']}/servqual")
    assert svg.status_code == 200 and svg.text.startswith("<svg") and ' style=' not in svg.text
    assert 'role="img"' in svg.text and "<desc" in svg.text


async def test_median_time_to_first_answer(client, db):
    wave = await closed_wave(client, db, servqual_answers(8, reliability=BAD))
    service = uuid.UUID(wave["service"]["id"])
    staff = await db.fetchval("select id from accounts where email = $1", role_email("owner"))
    for hours in (5, 9, 30, None):
        thread = await db.fetchval(
            """insert into threads (service_id, secret_hash, category, title, opened_on)
               values ($1, $2, 'question', 't', date '2030-01-01') returning id""", service, uuid.uuid4().bytes * 2)
        if hours is not None:
            await db.execute(
                """insert into thread_messages (thread_id, seq, from_staff, staff_id, body, posted_on, posted_at)
                   values ($1, 1, true, $2, 'hello', date '2030-01-01',
                           timestamptz '2030-01-01 00:00+00' + make_interval(hours => $3))""", thread, staff, hours)
    dash = (await client.get("/api/actions/dashboard")).json()
    assert dash["first_answer"]["available"] is True
    assert (dash["first_answer"]["threads"], dash["first_answer"]["answered"]) == (4, 3)
    assert dash["first_answer"]["median_hours"] == pytest.approx(9.0)


@pytest.mark.parametrize(("later", "verdict"), [
    (GOOD, "improved"),          # reliability perception up by 3 points: a known shift upwards
    (BAD, "no detectable change"),  # the same answers again
    ((1, 2), "worsened"),
])
async def test_done_item_shows_measured_outcome(client, db, later, verdict):
    before = await closed_wave(client, db, servqual_answers(8, reliability=BAD), title="Spring")
    action_id = (await candidate_item(client, before, expected_change=0.5))["item"]["id"]
    for status in ("accepted", "in_progress", "done"):
        assert (await move(client, action_id, status)).status_code == 200
    waiting = (await client.get(f"/api/actions/{action_id}")).json()["outcome"]
    assert waiting["state"] == "waiting"
    await closed_wave(client, db, servqual_answers(8, reliability=later), like=before, title="Autumn")
    outcome = (await client.get(f"/api/actions/{action_id}")).json()["outcome"]
    assert outcome["state"] == "measured" and outcome["verdict"] == verdict
    assert (outcome["baseline"]["title"], outcome["later"]["title"]) == ("Spring", "Autumn")
    assert outcome["ci_low"] <= outcome["difference"] <= outcome["ci_high"]
    if verdict == "improved":
        assert outcome["difference"] == pytest.approx(3.0, abs=0.3) and outcome["expected_met"] is True


async def test_outcome_needs_k_responses_in_both_waves(client, db):
    before = await closed_wave(client, db, servqual_answers(8, reliability=BAD), title="Spring")
    action_id = (await candidate_item(client, before, expected_change=0.5))["item"]["id"]
    for status in ("accepted", "in_progress", "done"):
        assert (await move(client, action_id, status)).status_code == 200
    await closed_wave(client, db, servqual_answers(4, reliability=GOOD), like=before, title="Autumn")
    outcome = (await client.get(f"/api/actions/{action_id}")).json()["outcome"]
    assert outcome["verdict"] == "not enough responses"
    assert "difference" not in outcome and "mean_after" not in outcome


async def test_you_said_we_did_for_members(client, db):
    before = await closed_wave(client, db, servqual_answers(8, reliability=BAD), title="Spring")
    done_id = (await candidate_item(client, before, expected_change=0.5, title="Faster fixes"))["item"]["id"]
    await client.patch(f"/api/actions/{done_id}", json={"internal_notes": "SECRET-NOTE budget fight"})
    for status in ("accepted", "in_progress", "done"):
        assert (await move(client, done_id, status)).status_code == 200
    proposed = (await candidate_item(client, before, level="item", target="q05", title="Only proposed"))["item"]
    await closed_wave(client, db, servqual_answers(8, reliability=GOOD), like=before, title="Autumn")
    await as_role(client, "member")
    listed = (await client.get("/api/you-said-we-did")).json()
    assert [a["title"] for a in listed] == ["Faster fixes"]
    assert listed[0]["outcome"]["verdict"] == "improved"
    assert "SECRET-NOTE" not in str(listed) and "Owner" not in str(listed)
    page = await client.get("/you-said-we-did")
    assert page.status_code == 200 and "Faster fixes" in page.text and "improved" in page.text
    assert "SECRET-NOTE" not in page.text and proposed["title"] not in page.text
    assert (await client.get("/api/actions")).status_code == 403
    home = await client.get("/")
    assert 'href="/you-said-we-did"' in home.text
