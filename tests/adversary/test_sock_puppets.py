"""Attack: an admin wants one colleague's answers. A wave of the service ran for a group
of seven; a second wave for the same group minus that colleague is refused (they differ
by one person). So the admin pads the second group with accounts they created until the
difference reaches k, opens the wave (the guard cannot tell puppets from people), and
answers for the puppets. This cannot be prevented by counting; it must be visible: the
membership trail names who added whom and on which day, and nobody can edit it.
"""

from __future__ import annotations

from datetime import date, timedelta

import asyncpg
import pytest

from tests.integration.wave_helpers import make_service
from tests.support import PASSWORD, login, role_email


async def _as(client, role: str) -> None:
    client.cookies.clear()
    await login(client, role)


async def _new_account(client, email: str) -> str:
    created = await client.post("/api/accounts", json={"email": email, "display_name": email, "password": PASSWORD})
    assert created.status_code == 201, created.text
    return created.json()["id"]


async def _open(client, service_id: str, group_id: str) -> int:
    await _as(client, "manager")
    today = date.today()
    created = await client.post("/api/campaigns", json={
        "title": "Wave", "service_id": service_id, "instrument_id": "pulse", "audience_group_id": group_id,
        "opens_on": str(today), "closes_on": str(today + timedelta(days=7))})
    assert created.status_code == 201, created.text
    return (await client.post(f"/api/campaigns/{created.json()['id']}/open")).status_code


async def test_padding_an_audience_with_puppets_shows_in_the_trail(client, db):
    service = await make_service(db)
    await _as(client, "admin")
    admin_id = await db.fetchval("select id::text from accounts where email = $1", role_email("admin"))
    people = [await _new_account(client, f"colleague{i}@test.example") for i in range(7)]
    target = people[6]
    team = (await client.post("/api/groups", json={"name": "Team"})).json()["group"]["id"]
    assert (await client.put(f"/api/groups/{team}/members", json={"account_ids": people})).status_code == 200
    assert await _open(client, service, team) == 200

    await _as(client, "admin")
    assert (await client.put(f"/api/groups/{team}/members", json={"account_ids": people[:6]})).status_code == 200
    assert await _open(client, service, team) == 422  # one person apart: refused

    await _as(client, "admin")
    puppets = [await _new_account(client, f"puppet{i}@test.example") for i in range(4)]
    padded = people[:6] + puppets
    assert (await client.put(f"/api/groups/{team}/members", json={"account_ids": padded})).status_code == 200
    assert await _open(client, service, team) == 200  # five apart: the guard lets it through

    # … but the trail shows it: the admin removed the colleague and added four new
    # accounts, today (a day, nothing finer), through the admin API.
    await _as(client, "admin")
    trail = await client.get(f"/api/groups/{team}/audit")
    assert trail.status_code == 200, trail.text
    entries = trail.json()
    today = str(date.today())
    assert {e["changed_on"] for e in entries} == {today}
    assert {e["source"] for e in entries} == {"admin"}
    assert {e["actor_id"] for e in entries} == {admin_id}
    assert {e["actor_email"] for e in entries} == {role_email("admin")}
    added = [e for e in entries if e["change"] == "added"]
    removed = [e for e in entries if e["change"] == "removed"]
    assert {e["account_id"] for e in removed} == {target}
    assert {e["account_id"] for e in added} == set(people) | set(puppets)
    assert {e["account_email"] for e in added} >= {f"puppet{i}@test.example" for i in range(4)}
    # Newest first: the padding is on top.
    assert {e["account_id"] for e in entries[:4]} == set(puppets)
    # The whole-organisation view (one group here) has the same entries.
    assert (await client.get("/api/groups/audit")).json() == entries


async def test_the_trail_is_append_only_and_keeps_only_days(client, db):
    await _as(client, "admin")
    people = [await _new_account(client, f"p{i}@test.example") for i in range(3)]
    group = (await client.post("/api/groups", json={"name": "G"})).json()["group"]["id"]
    assert (await client.put(f"/api/groups/{group}/members", json={"account_ids": people})).status_code == 200
    assert await db.fetchval("select count(*) from group_membership_audit") == 3

    # An insider with the database cannot quietly rewrite or erase who added whom.
    for statement in ("update group_membership_audit set actor_id = null",
                      "delete from group_membership_audit",
                      "truncate group_membership_audit"):
        with pytest.raises(asyncpg.PostgresError, match="append-only"):
            await db.execute(statement)
    assert await db.fetchval("select count(*) from group_membership_audit where actor_id is not null") == 3

    # Date only: no column finer than a day.
    types = {r["column_name"]: r["data_type"] for r in await db.fetch(
        "select column_name, data_type from information_schema.columns where table_name = 'group_membership_audit'")}
    assert not [c for c, t in types.items() if t.startswith(("timestamp", "time ", "interval"))]

    # Deleting the group records each member's removal; its history stays readable.
    assert (await client.delete(f"/api/groups/{group}")).status_code == 204
    history = (await client.get(f"/api/groups/{group}/audit")).json()
    assert [e["change"] for e in history] == ["removed"] * 3 + ["added"] * 3
    assert all(e["group_name"] is None for e in history)


async def test_an_unchanged_member_is_not_logged_again(client, db):
    await _as(client, "admin")
    people = [await _new_account(client, f"p{i}@test.example") for i in range(3)]
    group = (await client.post("/api/groups", json={"name": "G"})).json()["group"]["id"]
    for members in (people, people, people[:2] + [people[2]]):
        assert (await client.put(f"/api/groups/{group}/members", json={"account_ids": members})).status_code == 200
    assert await db.fetchval("select count(*) from group_membership_audit") == 3


async def test_only_admins_read_the_trail(client, db):
    await _as(client, "admin")
    group = (await client.post("/api/groups", json={"name": "G"})).json()["group"]["id"]
    for role in ("manager", "owner", "member"):
        await _as(client, role)
        for url in ("/api/groups/audit", f"/api/groups/{group}/audit"):
            response = await client.get(url)
            assert response.status_code == 403, (role, url, response.status_code)
            assert response.headers["content-type"].startswith("application/problem+json")
