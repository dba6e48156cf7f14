"""A request holds at most one pool connection at a time.

A handler that takes a second connection while holding its own deadlocks the whole
process once every connection is held by a request waiting for another (issue 13:
25 parallel failed sign-ins hung the service for good). The pool is instrumented per
request (a context variable set around the app, so tasks a request starts count as the
request) and every route that writes side effects is driven: sign-in failures, the
throttle, thread secrets, thread and wave token issuance, anonymous submissions.
"""

from __future__ import annotations

import contextvars
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace

import asyncpg.pool
import pytest
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.client import fetch_thread_key, open_thread, redeem, request_thread_tokens, thread_call
from service.threads import new_secret
from tests.integration.wave_helpers import answers_for, create_wave, make_service, token_for
from tests.support import PASSWORD, login, role_email


@dataclass
class RequestHolds:
    path: str
    held: int = 0


@dataclass
class Tracker:
    acquired: set[str] = field(default_factory=set)  # paths whose request took a connection
    nested: list[str] = field(default_factory=list)  # paths that took a second while holding one


_current: contextvars.ContextVar[RequestHolds | None] = contextvars.ContextVar("candor_request_holds", default=None)


class _TrackedAcquire:
    def __init__(self, inner, tracker: Tracker) -> None:
        self._inner = inner
        self._tracker = tracker
        self._holds: RequestHolds | None = None

    async def __aenter__(self):
        holds = self._holds = _current.get()
        if holds is not None:
            if holds.held:
                self._tracker.nested.append(holds.path)
            holds.held += 1
            self._tracker.acquired.add(holds.path)
        try:
            return await self._inner.__aenter__()
        except BaseException:
            if holds is not None:
                holds.held -= 1
            raise

    async def __aexit__(self, *exc_info):
        try:
            return await self._inner.__aexit__(*exc_info)
        finally:
            if self._holds is not None:
                self._holds.held -= 1


@pytest.fixture
async def tracked(settings, monkeypatch) -> AsyncIterator[tuple[AsyncTestClient, Tracker]]:
    tracker = Tracker()
    original = asyncpg.pool.Pool.acquire

    def acquire(self, *, timeout=None):
        return _TrackedAcquire(original(self, timeout=timeout), tracker)

    monkeypatch.setattr(asyncpg.pool.Pool, "acquire", acquire)
    app = create_app(replace(settings, thread_secret_failures_per_minute=3,
                             disabled_jobs=frozenset({"webhook_worker", "wave_closer"})))
    inner = app.asgi_handler

    async def per_request(scope, receive, send):
        token = _current.set(RequestHolds(scope.get("path", "")) if scope["type"] == "http" else None)
        try:
            await inner(scope, receive, send)
        finally:
            _current.reset(token)

    app.asgi_handler = per_request
    async with AsyncTestClient(app, base_url="http://127.0.0.1:8000") as client:
        yield client, tracker


def _form(email: str, password: str) -> dict:
    return {"data": {"email": email, "password": password},
            "headers": {"origin": "http://127.0.0.1:8000"}}


async def test_no_request_takes_a_second_connection(tracked, db):
    client, tracker = tracked
    # Sign-in failures (JSON and form), the throttle, then a success.
    for password in ("wrong", "wrong", "wrong", PASSWORD):
        await client.post("/api/auth/login", json={"email": role_email("owner"), "password": password})
    assert (await client.post("/api/auth/login", json={"email": "ghost@x.example", "password": "x"})).status_code == 401
    assert (await client.post("/login", **_form(role_email("admin"), "wrong"))).status_code == 401
    # Thread token issuance (the month's key is made on first use), opening, secrets right and wrong.
    service_id = await make_service(db)
    csrf = await login(client, "member")
    key = await fetch_thread_key(client)
    assert (await client.get("/api/threads/allowance")).status_code == 200
    token, = await request_thread_tokens(client, key, 1, csrf_token=csrf)
    secret = new_secret()
    opened = await open_thread(client, token, service_id=service_id, category="idea", title="t", body="b",
                               secret=secret)
    assert opened.status_code == 201, opened.text
    assert (await thread_call(client, "GET", "", secret)).status_code == 200
    for _ in range(5):
        assert (await thread_call(client, "GET", "", new_secret())).status_code in (401, 429)
    assert (await thread_call(client, "POST", "/messages", secret, {"body": "still broken"})).status_code == 201
    # A signed-in request: the session middleware's look-up, then the handler's connection.
    assert (await client.get("/api/auth/me")).status_code == 200
    # Wave token issuance and an anonymous submission.
    wave = await create_wave(client, db)
    stored = await token_for(client, wave["id"], role_email("member"))
    submitted = await redeem(client, stored, answers_for("pulse"))
    assert submitted.status_code == 201, submitted.text
    assert (await client.get("/readyz")).status_code == 200

    assert tracker.nested == []
    # The instrument saw the requests it was meant to see (it cannot pass by seeing nothing).
    assert {"/api/auth/login", "/login", "/api/threads/token-requests", "/anon/threads", "/anon/threads/by-secret",
            f"/api/campaigns/{wave['id']}/token-requests", f"/anon/campaigns/{wave['id']}/responses",
            "/api/auth/me"} <= tracker.acquired


async def test_the_tracker_sees_a_nested_acquire(tracked):
    """The instrument itself: a request that nests two acquires is reported."""
    client, tracker = tracked
    app = client.app
    pool = app.state.pool

    async def nested(scope, receive, send):
        holds = _current.get()
        assert holds is not None
        async with pool.acquire(), pool.acquire():
            pass
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    inner = app.asgi_handler

    async def route(scope, receive, send):
        if scope.get("path") == "/nested":
            token = _current.set(RequestHolds("/nested"))
            try:
                await nested(scope, receive, send)
            finally:
                _current.reset(token)
        else:
            await inner(scope, receive, send)

    app.asgi_handler = route
    assert (await client.get("/nested")).status_code == 204
    assert tracker.nested == ["/nested"]
