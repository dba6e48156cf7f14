"""Every error is RFC 9457 problem+json naming what went wrong; nothing stored is lost."""

from __future__ import annotations

import logging

import pytest
from litestar import get
from litestar.testing import AsyncTestClient

from service.app import SECURITY_HEADERS, create_app
from tests.support import login

PROBLEM = "application/problem+json"


def assert_problem(response, status: int, slug: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["type"] == f"/problems/{slug}"
    assert body["status"] == status
    assert body["title"] and body["detail"]
    return body


async def test_unknown_route(client):
    assert_problem(await client.get("/no/such/thing"), 404, "not-found")


async def test_wrong_method(client):
    assert_problem(await client.delete("/healthz"), 405, "method-not-allowed")


async def test_unauthenticated(client):
    assert_problem(await client.get("/api/services"), 401, "unauthenticated")


async def test_malformed_json(client):
    await login(client, "admin")
    response = await client.post("/api/groups", content=b'{"name": ', headers={"content-type": "application/json"})
    assert_problem(response, 400, "malformed-body")


async def test_unknown_field_is_named(client):
    await login(client, "admin")
    body = assert_problem(await client.post("/api/groups", json={"name": "Lab", "colour": "red"}), 422, "validation")
    assert [e["field"] for e in body["errors"]] == ["colour"]


async def test_wrong_type_is_named(client):
    await login(client, "manager")
    body = assert_problem(
        await client.post("/api/services", json={"name": "Wiki", "sla_action_days": "soon"}), 422, "validation"
    )
    assert body["errors"][0]["field"] == "sla_action_days"
    assert "int" in body["errors"][0]["reason"]


async def test_missing_field_is_named(client):
    await login(client, "admin")
    body = assert_problem(await client.post("/api/accounts", json={"email": "x@y.z", "password": "0123456789"}),
                          422, "validation")
    assert [e["field"] for e in body["errors"]] == ["display_name"]


async def test_constraint_violation_is_named(client):
    await login(client, "manager")
    body = assert_problem(await client.post("/api/services", json={"name": "Wiki", "sla_first_answer_hours": 0}),
                          422, "validation")
    assert body["errors"][0]["field"] == "sla_first_answer_hours"


async def test_not_an_object(client):
    await login(client, "admin")
    body = assert_problem(await client.post("/api/groups", json=["Lab"]), 422, "validation")
    assert body["errors"]


async def test_bad_path_parameter(client):
    await login(client, "admin")
    assert_problem(await client.get("/api/accounts/not-a-uuid"), 404, "not-found")


async def test_bad_query_parameter(client):
    await login(client, "member")
    body = assert_problem(await client.get("/api/services?include_archived=maybe"), 422, "validation")
    assert body["errors"][0]["field"] == "include_archived"


async def test_oversized_body(client, db):
    await login(client, "admin")
    before = await db.fetchval("select count(*) from groups")
    huge = {"name": "Big", "description": "x" * (64 * 1024)}
    assert_problem(await client.post("/api/groups", json=huge), 413, "body-too-large")
    assert await db.fetchval("select count(*) from groups") == before


async def test_wrong_media_type(client):
    await login(client, "admin")
    response = await client.post("/api/groups", content=b"name=Lab", headers={"content-type": "text/plain"})
    body = assert_problem(response, 415, "unsupported-media-type")
    assert "application/json" in body["detail"]


async def test_failed_request_keeps_what_was_stored(client, db):
    await login(client, "admin")
    created = await client.post("/api/groups", json={"name": "Lab"})
    assert created.status_code == 201
    group_id = created.json()["group"]["id"]
    bad = await client.put(f"/api/groups/{group_id}/members", json={"account_ids": ["not-a-uuid"]})
    assert_problem(bad, 422, "validation")
    ghost = "00000000-0000-4000-8000-000000000000"
    me = await db.fetchval("select id from accounts where email = 'member@test.example'")
    assert (await client.put(f"/api/groups/{group_id}/members", json={"account_ids": [str(me)]})).status_code == 200
    # An unknown id anywhere in the list rejects the whole change; the old members stay.
    body = assert_problem(
        await client.put(f"/api/groups/{group_id}/members", json={"account_ids": [ghost]}), 422, "validation"
    )
    assert body["errors"][0]["field"] == "account_ids[0]"
    assert [r["account_id"] for r in await db.fetch("select account_id from group_members")] == [me]


async def test_unhandled_exception_is_a_bare_500(settings, caplog):
    @get("/boom", operation_id="boom")
    async def boom() -> None:
        raise RuntimeError("secret internals: password=hunter2")

    app = create_app(settings)
    app.register(boom)
    with caplog.at_level(logging.ERROR):
        async with AsyncTestClient(app) as c:
            response = await c.get("/boom")
    body = assert_problem(response, 500, "internal")
    assert "hunter2" not in response.text and "RuntimeError" not in response.text
    assert set(body) == {"type", "title", "status", "detail"}


@pytest.mark.parametrize("path", ["/healthz", "/no/such/thing", "/api/services", "/schema/"])
async def test_security_headers_on_every_response(client, path):
    response = await client.get(path)
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    csp = response.headers["content-security-policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


async def test_openapi_schema_is_served(client):
    response = await client.get("/schema/")
    assert response.status_code == 200
    spec = response.json()
    assert spec["info"]["title"] == "Candor"
    login_op = spec["paths"]["/api/auth/login"]["post"]
    assert login_op["operationId"] == "login"
    assert "application/problem+json" in login_op["responses"]["401"]["content"]


async def test_health_and_readiness(client):
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).json() == {"status": "ready"}
