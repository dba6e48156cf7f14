"""Issue 9's "done when", on the demo organisation: the manager turns a ranked candidate
of the demo wave into an action item, the owner moves it to done, a second wave of the
same survey closes for the Service Desk, and the item shows its measured outcome."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import asyncpg
from litestar.testing import AsyncTestClient

from instruments import load_builtin
from service.app import create_app
from service.db import init_connection
from service.demo import demo_credentials, seed_demo, synthetic_answers
from service.migrate import migrate
from tests.integration.test_actions import insert_responses, move


async def _sign_in(client, role: str) -> None:
    email, password = next((e, p) for e, p, roles in demo_credentials() if roles.split(", ")[0] == role)
    client.cookies.clear()
    response = await client.post("/api/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    client.headers["x-csrf-token"] = response.json()["csrf_token"]


async def test_demo_candidate_to_measured_outcome(empty_database_url, settings):
    settings = replace(settings, database_url=empty_database_url)
    conn = await asyncpg.connect(empty_database_url)
    try:
        await init_connection(conn)
        await migrate(conn)
        assert await seed_demo(conn, settings)
        async with AsyncTestClient(create_app(settings)) as client:
            await _sign_in(client, "manager")
            demo_wave = next(w for w in (await client.get("/api/campaigns")).json() if w["status"] == "closed")
            report = (await client.get(f"/api/campaigns/{demo_wave['id']}/report")).json()
            top = next(c for c in report["candidates"] if c["level"] == "dimension" and c["rank"] == 1)
            created = await client.post("/api/actions", json={"campaign_id": demo_wave["id"], "level": "dimension",
                                                              "target": top["target"], "expected_change": 0.5})
            assert created.status_code == 201, created.text
            action_id = created.json()["item"]["id"]
            await _sign_in(client, "owner")
            for status in ("accepted", "in_progress", "done"):
                assert (await move(client, action_id, status)).status_code == 200
            # A second wave of the same survey for the Service Desk, where the target improved.
            await _sign_in(client, "manager")
            today = date.today()
            second = await client.post("/api/campaigns", json={
                "title": "Service Desk survey, again", "service_id": demo_wave["service"]["id"],
                "instrument_id": "servqual", "audience_group_id": demo_wave["audience_group_id"],
                "opens_on": str(today), "closes_on": str(today + timedelta(days=14))})
            assert second.status_code == 201, second.text
            wave_id = second.json()["id"]
            assert (await client.post(f"/api/campaigns/{wave_id}/open")).status_code == 200
            servqual = load_builtin("servqual")
            dimension_of = {i.key: i.dimension for i in servqual.items}
            answers = synthetic_answers(servqual, 120, seed=7)
            for a in answers:
                for key, item in a["items"].items():
                    if dimension_of[key] == top["target"]:
                        item["perception"] = min(7, item["perception"] + 1)
            raw = await asyncpg.connect(empty_database_url)  # no jsonb codec, as insert_responses expects
            try:
                await insert_responses(raw, wave_id, answers)
            finally:
                await raw.close()
            assert (await client.post(f"/api/campaigns/{wave_id}/close")).status_code == 200
            outcome = (await client.get(f"/api/actions/{action_id}")).json()["outcome"]
            assert outcome["state"] == "measured" and outcome["verdict"] == "improved", outcome
            assert outcome["later"]["title"] == "Service Desk survey, again"
            assert outcome["ci_low"] > 0
            # The later wave's own report reads what was stored (comments included).
            assert (await client.get(f"/api/campaigns/{wave_id}/report")).json()["n"] == 120
    finally:
        await conn.close()
