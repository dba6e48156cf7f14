"""Sign-in, sign-out, session expiry, CSRF and throttling through the HTTP API."""

from __future__ import annotations

import time
from dataclasses import replace

from litestar.testing import AsyncTestClient

from service.app import create_app
from service.auth import SESSION_COOKIE
from tests.support import PASSWORD, login, role_email


async def test_login_sets_hardened_cookie_and_me_answers(client):
    response = await client.post("/api/auth/login", json={"email": role_email("member"), "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["account"]["email"] == "member@test.example"
    assert body["account"]["roles"] == ["member"]
    assert "password" not in response.text
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    assert "Secure" not in cookie  # plain http on 127.0.0.1; https gets Secure
    me = await client.get("/api/auth/me")
    assert me.status_code == 200
    assert me.json()["account"]["email"] == "member@test.example"
    assert me.json()["csrf_token"] == body["csrf_token"]


async def test_secure_cookie_when_the_public_origin_is_https(settings):
    # Behind the TLS-terminating proxy the app sees plain http: CANDOR_PUBLIC_URL decides.
    public = replace(settings, public_url="https://candor.test")
    async with AsyncTestClient(create_app(public), base_url="http://127.0.0.1:8000") as c:
        response = await c.post("/api/auth/login", json={"email": role_email("member"), "password": PASSWORD})
        assert "Secure" in response.headers["set-cookie"]


async def test_email_is_case_insensitive(client):
    response = await client.post("/api/auth/login", json={"email": "MEMBER@Test.Example", "password": PASSWORD})
    assert response.status_code == 200


async def test_session_token_is_stored_only_as_hash(client, db):
    await login(client, "member")
    token = client.cookies[SESSION_COOKIE]
    rows = await db.fetch("select token_hash, csrf_token from sessions")
    assert len(rows) == 1
    assert token.encode() not in bytes(rows[0]["token_hash"])
    assert len(rows[0]["token_hash"]) == 32


async def test_logout_ends_the_session(client, db):
    await login(client, "member")
    stolen = client.cookies[SESSION_COOKIE]
    assert (await client.post("/api/auth/logout")).status_code == 204
    assert await db.fetchval("select count(*) from sessions") == 0
    client.cookies.set(SESSION_COOKIE, stolen)
    assert (await client.get("/api/auth/me")).status_code == 401


async def test_login_rotates_the_session(client, db):
    await login(client, "member")
    first = client.cookies[SESSION_COOKIE]
    await login(client, "member")
    second = client.cookies[SESSION_COOKIE]
    assert first != second
    assert await db.fetchval("select count(*) from sessions") == 1
    client.cookies.set(SESSION_COOKIE, first)
    assert (await client.get("/api/auth/me")).status_code == 401


async def test_idle_expiry(client, db):
    await login(client, "member")
    # Stored in 5-minute steps, idle time counts from the end of the step: 36 minutes ago is past 30.
    await db.execute("update sessions set last_seen_at = now() - interval '36 minutes'")
    response = await client.get("/api/auth/me")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert await db.fetchval("select count(*) from sessions") == 0


async def test_activity_slides_idle_expiry_but_not_absolute(client, db):
    await login(client, "member")
    await db.execute("update sessions set last_seen_at = now() - interval '29 minutes'")
    assert (await client.get("/api/auth/me")).status_code == 200
    assert await db.fetchval("select last_seen_at > now() - interval '5 minutes' from sessions")
    await db.execute("update sessions set created_at = now() - interval '12 hours 1 minute'")
    assert (await client.get("/api/auth/me")).status_code == 401


async def test_deactivated_account_loses_sessions_and_cannot_login(client, db):
    await login(client, "member")
    await db.execute("update accounts set active = false where email = $1", role_email("member"))
    assert (await client.get("/api/auth/me")).status_code == 401
    response = await client.post("/api/auth/login", json={"email": role_email("member"), "password": PASSWORD})
    assert response.status_code == 401


async def test_csrf_required_for_unsafe_cookie_requests(client):
    csrf = await login(client, "admin")
    del client.headers["x-csrf-token"]
    body = {"name": "Lab", "description": ""}
    missing = await client.post("/api/groups", json=body)
    assert missing.status_code == 403
    assert missing.json()["type"] == "/problems/csrf"
    wrong = await client.post("/api/groups", json=body, headers={"x-csrf-token": csrf[:-1] + "x"})
    assert wrong.status_code == 403
    ok = await client.post("/api/groups", json=body, headers={"x-csrf-token": csrf})
    assert ok.status_code == 201
    # Logout is unsafe too: a cross-site page cannot sign someone out.
    assert (await client.post("/api/auth/logout")).status_code == 403


async def test_wrong_password_and_unknown_email_look_the_same(client):
    wrong = await client.post("/api/auth/login", json={"email": role_email("member"), "password": "nope nope nope"})
    unknown = await client.post("/api/auth/login", json={"email": "ghost@test.example", "password": "nope nope nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert "set-cookie" not in wrong.headers and "set-cookie" not in unknown.headers


async def test_unknown_email_costs_a_password_hash(client):
    # No account enumeration by timing: an unknown email is checked against a dummy
    # argon2 hash. Generous bounds; this catches a short-circuit (microseconds), not jitter.
    def timed(email):
        async def run():
            start = time.perf_counter()
            await client.post("/api/auth/login", json={"email": email, "password": "nope nope nope"})
            return time.perf_counter() - start
        return run()

    known = min([await timed(role_email("owner")) for _ in range(2)])
    unknown = min([await timed("ghost2@test.example") for _ in range(2)])
    assert unknown > known / 4


async def test_throttling_after_repeated_failures(client, db):
    for _ in range(3):
        r = await client.post("/api/auth/login", json={"email": role_email("member"), "password": "wrong password"})
        assert r.status_code == 401
    blocked = await client.post("/api/auth/login", json={"email": role_email("member"), "password": PASSWORD})
    assert blocked.status_code == 429
    assert blocked.json()["type"] == "/problems/too-many-requests"
    assert 1 <= int(blocked.headers["retry-after"]) <= 15 * 60
    # Unknown addresses are throttled the same way, so 429 reveals nothing either.
    for _ in range(3):
        await client.post("/api/auth/login", json={"email": "ghost@test.example", "password": "wrong password"})
    assert (await client.post("/api/auth/login", json={"email": "ghost@test.example", "password": "x"})).status_code == 429
    # The throttle table keeps keyed hashes, not the addresses typed.
    keys = await db.fetch("select email_key from login_throttle")
    assert len(keys) == 2
    assert all(b"test.example" not in bytes(k["email_key"]) for k in keys)
    # Other accounts are unaffected; the window passing lifts the block.
    await login(client, "owner")
    await db.execute("update login_throttle set window_started = now() - interval '16 minutes'")
    await login(client, "member")


async def test_success_clears_failures(client, db):
    await client.post("/api/auth/login", json={"email": role_email("member"), "password": "wrong password"})
    await login(client, "member")
    assert await db.fetchval("select count(*) from login_throttle") == 0


async def test_idle_and_absolute_limits_come_from_settings(settings):
    short = replace(settings, session_idle_minutes=1)
    async with AsyncTestClient(create_app(short), base_url="http://127.0.0.1") as c:
        await login(c, "member")
        assert (await c.get("/api/auth/me")).status_code == 200
