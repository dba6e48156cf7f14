"""Admin API: accounts, roles, deactivation; groups; the service catalogue."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from service.app import create_app
from tests.support import PASSWORD, login, role_email


async def test_admin_creates_account_that_can_sign_in(client):
    await login(client, "admin")
    created = await client.post(
        "/api/accounts",
        json={"email": "New.Person@Test.Example", "display_name": "New Person", "password": "a long passphrase",
              "roles": ["member", "owner"]},
    )
    assert created.status_code == 201
    account = created.json()
    assert account["email"] == "new.person@test.example"
    assert account["roles"] == ["member", "owner"]
    assert "password" not in created.text and "hash" not in created.text
    again = await client.post(
        "/api/accounts", json={"email": "new.person@test.example", "display_name": "X", "password": "a long passphrase"}
    )
    assert again.status_code == 409
    client.cookies.clear()
    response = await client.post("/api/auth/login", json={"email": "new.person@test.example",
                                                          "password": "a long passphrase"})
    assert response.status_code == 200


async def test_password_hash_is_argon2id(client, db):
    await login(client, "admin")
    await client.post("/api/accounts", json={"email": "h@test.example", "display_name": "H", "password": "0123456789ab"})
    stored = await db.fetchval("select password_hash from accounts where email = 'h@test.example'")
    assert stored.startswith("$argon2id$")


async def test_unknown_role_rejected(client):
    await login(client, "admin")
    response = await client.post("/api/accounts", json={"email": "r@test.example", "display_name": "R",
                                                        "password": "0123456789ab", "roles": ["superuser"]})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"].startswith("roles")


async def test_set_roles_and_deactivate(client, db, settings):
    await login(client, "admin")
    member_id = await db.fetchval("select id from accounts where email = $1", role_email("member"))
    changed = await client.patch(f"/api/accounts/{member_id}", json={"roles": ["member", "moderator"]})
    assert changed.json()["roles"] == ["member", "moderator"]
    # The member signs in elsewhere, then is deactivated: their session dies with it.
    async with AsyncTestClient(create_app(settings), base_url="http://127.0.0.1:8000") as other:
        await login(other, "member")
        assert (await other.get("/api/auth/me")).json()["account"]["roles"] == ["member", "moderator"]
        off = await client.patch(f"/api/accounts/{member_id}", json={"active": False})
        assert off.json()["active"] is False
        assert (await other.get("/api/auth/me")).status_code == 401
        denied = await other.post("/api/auth/login", json={"email": role_email("member"), "password": PASSWORD})
        assert denied.status_code == 401


async def test_admin_cannot_lock_themselves_out(client, db):
    await login(client, "admin")
    me = await db.fetchval("select id from accounts where email = $1", role_email("admin"))
    assert (await client.patch(f"/api/accounts/{me}", json={"roles": ["member"]})).status_code == 409
    assert (await client.patch(f"/api/accounts/{me}", json={"active": False})).status_code == 409
    assert await db.fetchval("select roles from accounts where id = $1", me) == ["admin"]


async def test_groups_lifecycle(client, db):
    await login(client, "admin")
    created = await client.post("/api/groups", json={"name": "Finance", "description": "The money people"})
    assert created.status_code == 201
    group_id = created.json()["group"]["id"]
    assert (await client.post("/api/groups", json={"name": "finance"})).status_code == 409
    ids = [str(r["id"]) for r in await db.fetch("select id from accounts where 'member' = any(roles) or 'owner' = any(roles)")]
    members = await client.put(f"/api/groups/{group_id}/members", json={"account_ids": ids})
    assert members.status_code == 200
    assert members.json()["group"]["member_count"] == 2
    assert sorted(m["id"] for m in members.json()["members"]) == sorted(ids)
    renamed = await client.patch(f"/api/groups/{group_id}", json={"name": "Finance & Audit"})
    assert renamed.json()["group"]["name"] == "Finance & Audit"
    listed = await client.get("/api/groups")
    assert [g["name"] for g in listed.json()] == ["Finance & Audit"]
    assert (await client.delete(f"/api/groups/{group_id}")).status_code == 204
    assert (await client.get(f"/api/groups/{group_id}")).status_code == 404
    assert await db.fetchval("select count(*) from group_members") == 0


async def test_service_catalogue(client, db):
    owner_id = str(await db.fetchval("select id from accounts where email = $1", role_email("owner")))
    member_id = str(await db.fetchval("select id from accounts where email = $1", role_email("member")))
    await login(client, "manager")
    created = await client.post("/api/services", json={
        "name": "VPN", "description": "Remote access", "sla_first_answer_hours": 4, "sla_action_days": 14,
        "owner_ids": [owner_id],
    })
    assert created.status_code == 201, created.text
    service = created.json()
    assert service["owners"] == [{"id": owner_id, "display_name": "Owner"}]
    assert (service["sla_first_answer_hours"], service["sla_action_days"]) == (4, 14)
    # Only accounts holding the owner role can own a service; the old owners stay.
    bad = await client.patch(f"/api/services/{service['id']}", json={"owner_ids": [member_id]})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "owner_ids[0]"
    assert (await client.get(f"/api/services/{service['id']}")).json()["owners"][0]["id"] == owner_id
    archived = await client.patch(f"/api/services/{service['id']}", json={"archived": True})
    assert archived.json()["archived"] is True
    client.cookies.clear()
    await login(client, "member")
    assert (await client.get("/api/services")).json() == []
    assert [s["name"] for s in (await client.get("/api/services?include_archived=true")).json()] == ["VPN"]
