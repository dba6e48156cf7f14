"""Service ownership, attacked from the edges: an owner of another service, an owner whose
ownership row outlived their role or their account, and a co-owner who is not the
item's owner. One ownership check decides all of them (``services.owns_service`` and
the item queries' WHERE)."""

from __future__ import annotations

import uuid

from tests.integration.test_actions import BAD, as_role, candidate_item, closed_wave, move, servqual_answers
from tests.support import role_email


async def _account(db, role: str) -> uuid.UUID:
    return await db.fetchval("select id from accounts where email = $1", role_email(role))


async def _thread(db, service_id: str) -> uuid.UUID:
    return await db.fetchval(
        """insert into threads (service_id, secret_hash, category, title) values ($1, $2, 'problem', 'VPN drops')
           returning id""", uuid.UUID(service_id), uuid.uuid4().bytes * 2)


async def test_an_owner_of_another_service_gets_nothing_of_its_items_waves_or_threads(client, db):
    wave = await closed_wave(client, db, servqual_answers(8, reliability=BAD))
    action_id = (await candidate_item(client, wave, expected_change=0.5))["item"]["id"]
    thread_id = await _thread(db, wave["service"]["id"])
    # moderator@ becomes an owner of another service only.
    await db.execute("update accounts set roles = '{owner}' where email = $1", role_email("moderator"))
    other = await db.fetchval("insert into services (name) values ('Printing') returning id")
    await db.execute("insert into service_owners values ($1, $2)", other, await _account(db, "moderator"))
    await as_role(client, "moderator")

    create = await client.post("/api/actions", json={"thread_id": str(thread_id), "title": "Not my service"})
    assert create.status_code == 403, create.text
    candidate = await client.post("/api/actions", json={"campaign_id": wave["id"], "level": "dimension",
                                                        "target": "reliability"})
    assert candidate.status_code == 422 and candidate.json()["errors"][0]["field"] == "campaign_id"
    assert (await client.get(f"/api/actions/{action_id}")).status_code == 404
    assert (await client.patch(f"/api/actions/{action_id}", json={"title": "taken"})).status_code == 404
    assert (await move(client, action_id, "wont_do", reason="not mine")).status_code == 404
    assert (await client.get(f"/api/campaigns/{wave['id']}/export/json")).status_code in (403, 404)
    assert (await client.get(f"/api/threads/{thread_id}")).status_code == 404
    reply = await client.post(f"/api/threads/{thread_id}/messages", json={"body": "We own this now"})
    assert reply.status_code == 404, reply.text
    assert (await client.get(f"/api/services/{wave['service']['id']}/webhook")).status_code == 403
    assert await db.fetchval("select count(*) from action_items") == 1
    assert await db.fetchval("select title from action_items") != "taken"


async def test_a_co_owner_reads_but_neither_edits_nor_moves_anothers_item(client, db):
    wave = await closed_wave(client, db, servqual_answers(8, reliability=BAD))
    action_id = (await candidate_item(client, wave, expected_change=0.5))["item"]["id"]
    await db.execute("update accounts set roles = '{owner}' where email = $1", role_email("admin"))
    await db.execute("insert into service_owners values ($1, $2)", uuid.UUID(wave["service"]["id"]),
                     await _account(db, "admin"))
    await as_role(client, "admin")
    detail = await client.get(f"/api/actions/{action_id}")
    assert detail.status_code == 200 and detail.json()["can_edit"] is False and detail.json()["allowed"] == []
    assert (await move(client, action_id, "accepted")).status_code == 403
    assert (await client.patch(f"/api/actions/{action_id}", json={"owner_id": str(await _account(db, "admin"))})
            ).status_code == 403
    assert await db.fetchval("select status from action_items") == "proposed"
    # The reads export what the co-owner may read: this one item.
    assert [a["id"] for a in (await client.get("/api/actions")).json()] == [action_id]


async def test_an_item_is_never_handed_to_a_stale_owner(client, db):
    """service_owners rows outlive a removed role or a deactivated account; neither may own an item."""
    wave = await closed_wave(client, db, servqual_answers(8, reliability=BAD))
    action_id = (await candidate_item(client, wave, expected_change=0.5))["item"]["id"]
    service_id = uuid.UUID(wave["service"]["id"])
    roleless, inactive = await _account(db, "moderator"), await _account(db, "admin")
    await db.execute("update accounts set roles = '{owner}', active = false where id = $1", inactive)
    for account in (roleless, inactive):
        await db.execute("insert into service_owners values ($1, $2)", service_id, account)
    await as_role(client, "manager")
    for account in (roleless, inactive):
        response = await client.patch(f"/api/actions/{action_id}", json={"owner_id": str(account)})
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == "owner_id"
        created = await client.post("/api/actions", json={"campaign_id": wave["id"], "level": "dimension",
                                                          "target": "reliability", "owner_id": str(account)})
        assert created.status_code == 422 and created.json()["errors"][0]["field"] == "owner_id"
    assert await db.fetchval("select owner_id from action_items where id = $1", uuid.UUID(action_id)) \
        == await _account(db, "owner")
