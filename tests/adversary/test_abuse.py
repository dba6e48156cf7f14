"""Attack: make the service unusable for everyone else with requests anyone can send.

Issue 13: 25 parallel failed sign-ins (unknown emails) hung the whole service for good
(handlers took a second pool connection while holding their own); 9 parallel wrong
passwords for one email all got through a limit of 5; a minute of wrong thread secrets
locked every author out of their own threads. Each attack runs against a real uvicorn
and a real PostgreSQL; it fails when the legitimate requests after it still succeed.
No timing is asserted; every wait is bounded.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from dataclasses import replace

import httpx

from service.app import create_app
from service.client import fetch_thread_key, open_thread, redeem, request_thread_token, thread_call
from service.threads import new_secret
from tests.integration.wave_helpers import MEMBERS, answers_for, create_wave, make_service, token_for
from tests.support import PASSWORD, login, role_email

TIMEOUT = httpx.Timeout(120.0)
BURST_DEADLINE_SECONDS = 600


def _http(base_url: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base_url, timeout=TIMEOUT,
                             limits=httpx.Limits(max_connections=200, max_keepalive_connections=200))


def _assert_problem(response: httpx.Response, allowed: set[int]) -> None:
    assert response.status_code in allowed, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/problem+json")
    if response.status_code in (429, 503):
        assert int(response.headers["retry-after"]) >= 1


async def _open_thread_as_member(http: httpx.AsyncClient, service_id: str) -> str:
    csrf = await login(http, "member")
    token = await request_thread_token(http, await fetch_thread_key(http), csrf_token=csrf)
    secret = new_secret()
    opened = await open_thread(http, token, service_id=service_id, category="problem", title="VPN drops",
                               body="Every hour.", secret=secret)
    assert opened.status_code == 201, opened.text
    return secret


async def _closed_wave(http: httpx.AsyncClient, db) -> str:
    wave = await create_wave(http, db, title="closed")
    for email in MEMBERS[:3]:
        stored = await token_for(http, wave["id"], email)
        assert (await redeem(http, stored, answers_for("pulse"))).status_code == 201
    http.cookies.clear()
    await login(http, "manager")
    closed = await http.post(f"/api/campaigns/{wave['id']}/close")
    assert closed.status_code == 200, closed.text
    return wave["id"]


async def test_a_burst_of_abuse_leaves_the_service_answering(live_server, db):
    async with _http(live_server) as setup, _http(live_server) as manager, _http(live_server) as anonymous, \
            _http(live_server) as strangers:
        service_id = await make_service(db, name="Abused desk")
        secret = await _open_thread_as_member(setup, service_id)
        report_wave = await _closed_wave(setup, db)
        open_wave = await create_wave(setup, db, title="open")
        await login(manager, "manager")

        async def sign_in(i: int) -> httpx.Response:
            return await strangers.post("/api/auth/login", json={"email": f"nobody{i}@abuse.example",
                                                                 "password": "guess"})

        async def guess(_: int) -> httpx.Response:
            return await thread_call(anonymous, "GET", "", new_secret())

        async def report(_: int) -> httpx.Response:
            return await manager.get(f"/api/campaigns/{report_wave}/report")

        burst = [sign_in(i) for i in range(100)] + [guess(i) for i in range(100)] + [report(i) for i in range(20)]
        answers = await asyncio.wait_for(asyncio.gather(*burst), BURST_DEADLINE_SECONDS)

        sign_ins, guesses, reports = answers[:100], answers[100:200], answers[200:]
        for response in sign_ins:
            _assert_problem(response, {401, 429, 503})
        for response in guesses:
            _assert_problem(response, {401, 429, 503})
        for response in reports:
            assert response.status_code in (200, 503), response.text
            if response.status_code == 503:
                _assert_problem(response, {503})
        assert Counter(r.status_code for r in sign_ins)[401] >= 1  # the attack really ran

        # The people the service is for: a sign-in, a token, a submission, the author's thread.
        stored = await token_for(setup, open_wave["id"], MEMBERS[0])
        submitted = await redeem(setup, stored, answers_for("pulse"))
        assert submitted.status_code == 201, submitted.text
        own = await thread_call(anonymous, "GET", "", secret)
        assert own.status_code == 200, own.text
        assert (await setup.get("/readyz")).status_code == 200


async def test_parallel_wrong_passwords_cannot_outrun_the_limit(live_server, settings):
    guesses = 3 * settings.login_max_failures
    async with _http(live_server) as http:
        answers = await asyncio.gather(*(
            http.post("/api/auth/login", json={"email": role_email("owner"), "password": f"guess {i}"})
            for i in range(guesses)))
        counts = Counter(r.status_code for r in answers)
        assert set(counts) <= {401, 429, 503}, counts
        assert 1 <= counts[401] <= settings.login_max_failures, counts
        # The right password now waits out the window like every other attempt.
        late = await http.post("/api/auth/login", json={"email": role_email("owner"), "password": PASSWORD})
        assert late.status_code == 429


async def test_right_thread_secret_works_after_the_guess_budget_is_spent(live_server, settings, db):
    async with _http(live_server) as http, _http(live_server) as anonymous:
        secret = await _open_thread_as_member(http, await make_service(db))
        budget = settings.thread_secret_failures_per_minute
        # Past the budget in one go (a minute boundary in between only makes it need more).
        answers = await asyncio.gather(*(thread_call(anonymous, "GET", "", new_secret()) for _ in range(budget + 10)))
        assert Counter(r.status_code for r in answers)[429] >= 1 or \
            (await thread_call(anonymous, "GET", "", new_secret())).status_code == 429
        own = await thread_call(anonymous, "GET", "", secret)
        assert own.status_code == 200, own.text
        replied = await thread_call(anonymous, "POST", "/messages", secret, {"body": "Still there."})
        assert replied.status_code == 201, replied.text


async def test_password_checks_are_bounded(settings, db, monkeypatch):
    """Past password_hash_concurrency checks at once, a sign-in gets 503 with Retry-After
    instead of queueing (each check holds 64 MiB and a core)."""
    import service.passwords

    entered, release = threading.Event(), threading.Event()
    real = service.passwords._verify

    def held_verify(password_hash, password):
        entered.set()
        release.wait(30)  # held until the test has seen the 503
        return real(password_hash, password)

    monkeypatch.setattr(service.passwords, "_verify", held_verify)
    app = create_app(replace(settings, password_hash_concurrency=1))
    # In the test's own event loop (the test client would run each request to its end).
    # Litestar is an ASGI app; httpx declares a narrower callable type.
    transport = httpx.ASGITransport(app=app)  # pyright: ignore[reportArgumentType]
    async with app.lifespan(), httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as client:
        first = asyncio.ensure_future(client.post("/api/auth/login", json={"email": "a@x.example", "password": "p"}))
        try:
            assert await asyncio.to_thread(entered.wait, 30)  # the first request holds the only slot
            second = await client.post("/api/auth/login", json={"email": "b@x.example", "password": "p"})
            _assert_problem(second, {503})
        finally:
            release.set()
        assert (await asyncio.wait_for(first, 60)).status_code == 401
    # The checked attempt was counted; the refused one was not (its password was never checked).
    assert await db.fetchval("select count(*) from login_throttle") == 1
