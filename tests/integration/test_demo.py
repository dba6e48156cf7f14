"""`make run` seeds a demo organisation into an empty database, once, and its first
report is not empty."""

from __future__ import annotations

from dataclasses import replace

import asyncpg
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.db import init_connection
from service.demo import DEMO_PASSWORD, DEMO_RESPONSES, demo_credentials, seed_demo
from service.migrate import migrate


async def test_demo_organisation(empty_database_url, settings):
    settings = replace(settings, database_url=empty_database_url)
    conn = await asyncpg.connect(empty_database_url)
    try:
        await init_connection(conn)
        await migrate(conn)
        assert await seed_demo(conn, settings) is True
        assert await seed_demo(conn, settings) is False  # only ever into an empty database
        roles = {r for row in await conn.fetch("select roles from accounts") for r in row["roles"]}
        assert roles == {"member", "owner", "manager", "moderator", "admin"}
        assert await conn.fetchval("select count(*) from groups") == 2
        assert await conn.fetchval("select count(*) from services") == 2
        statuses = sorted(r["status"] for r in await conn.fetch("select status from campaigns"))
        assert statuses == ["closed", "closed", "closed", "open"]  # the Service Desk's three waves, a pulse
        assert await conn.fetchval("select count(*) from responses") == 3 * DEMO_RESPONSES
        assert await conn.fetchval("select count(*) from action_items where status = 'done'") == 1
    finally:
        await conn.close()

    async with AsyncTestClient(create_app(settings)) as client:
        for email, password, _ in demo_credentials():
            assert password == DEMO_PASSWORD
            response = await client.post("/api/auth/login", json={"email": email, "password": password})
            assert response.status_code == 200, email
        client.cookies.clear()
        login = await client.post("/api/auth/login", json={"email": "manager@candor.example",
                                                          "password": DEMO_PASSWORD})
        client.headers["x-csrf-token"] = login.json()["csrf_token"]
        waves = (await client.get("/api/campaigns")).json()
        closed = max((w for w in waves if w["status"] == "closed"), key=lambda w: w["closes_on"])
        report = (await client.get(f"/api/campaigns/{closed['id']}/report")).json()
        assert report["n"] == DEMO_RESPONSES
        assert report["candidates"][0]["target"] == "reliability"
        assert len(report["comments"]["by_prompt"]["general"]) == DEMO_RESPONSES // 5
        # the decision view has something to say: focus areas, drivers and themes
        assert report["summary"]["focus"][0]["wording"]
        assert report["drivers"]["rows"] and report["themes"]["themes"]
        # ...and the story: the reliability gap narrowed after the action item was done
        assert report["summary"]["change"]["verdict"] == "improved"
        trend = (await client.get(f"/api/campaigns/{closed['id']}/trend")).json()["points"]
        reliability = [p["dimensions"]["reliability"]["mean"] for p in trend]
        assert len(trend) == 3 and reliability == sorted(reliability)
