"""Token issuance holds no database connection while it signs (issue 19).

After the all-staff e-mail every member asks for a wave token and a month of thread
tokens at once. A request that kept its pool connection while waiting for the signing
processes would make every other request wait for a connection for as long as the
signing backlog, and a burst turns into 503s. So a token request checks in one read,
signs with no connection held, and records in one statement; what it records is still
all or nothing (a refused signing records nothing, a repeated request is refused before
any signature is made). A CLI detail lives here too: ``serve --workers N`` divides the
cores' signing processes among the workers.
"""

from __future__ import annotations

import base64
from dataclasses import replace

import pytest
from litestar.testing import AsyncTestClient

from crypto.tokens import TOKEN_REQUEST, create_token_request
from service.app import create_app
from service.client import fetch_thread_key, request_thread_tokens
from service.issuance import SIGNING_PROCESSES_ENV, Issuer, cores, signing_processes, worker_share
from tests.integration.wave_helpers import create_wave, token_for
from tests.support import login, role_email


def decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@pytest.fixture
async def client(settings):
    # No background job holds a connection while a test counts them.
    jobs = {"webhook_worker", "wave_closer", "arrival_scrub", "purge", "mail_sender", "mail_notices"}
    app = create_app(replace(settings, disabled_jobs=frozenset(jobs)))
    async with AsyncTestClient(app, base_url="http://127.0.0.1:8000", raise_server_exceptions=False) as client:
        yield client


async def test_signing_holds_no_connection(client, db, monkeypatch):
    held: list[int] = []
    original = Issuer.issue
    pool = client.app.state.pool

    async def issue(self, key, requests):
        held.append(pool.get_size() - pool.get_idle_size())
        return await original(self, key, requests)

    monkeypatch.setattr(Issuer, "issue", issue)
    csrf = await login(client, "member")
    key = await fetch_thread_key(client)
    tokens = await request_thread_tokens(client, key, 2, csrf_token=csrf)
    wave = await create_wave(client, db)
    await token_for(client, wave["id"], role_email("member"))
    assert len(tokens) == 2
    assert held == [0, 0]  # one thread call, one wave call: neither held a connection while signing


async def test_a_repeated_wave_request_is_refused_before_signing(client, db, monkeypatch):
    wave = await create_wave(client, db)
    await token_for(client, wave["id"], role_email("member"))
    signed: list[int] = []
    original = Issuer.issue

    async def issue(self, key, requests):
        signed.append(len(requests))
        return await original(self, key, requests)

    monkeypatch.setattr(Issuer, "issue", issue)
    csrf = await login(client, "member")
    published = (await client.get(f"/api/campaigns/{wave['id']}/token-key")).json()
    request, _ = create_token_request(decode(published["token-key"]), decode(published["challenge"]))
    again = await client.post(f"/api/campaigns/{wave['id']}/token-requests", content=request.encode(),
                              headers={"content-type": TOKEN_REQUEST, "x-csrf-token": csrf})
    assert again.status_code == 409, again.text
    assert again.json()["type"].endswith("token-issued")
    assert signed == []
    issued = await db.fetchval("select count(*) from token_issuances where campaign_id = $1::uuid", wave["id"])
    assert issued == 1


async def test_an_exhausted_allowance_is_refused_before_signing_and_counts_nothing(client, db, settings, monkeypatch):
    csrf = await login(client, "member")
    key = await fetch_thread_key(client)
    await request_thread_tokens(client, key, settings.thread_tokens_per_month, csrf_token=csrf)
    signed: list[int] = []
    original = Issuer.issue

    async def issue(self, key, requests):
        signed.append(len(requests))
        return await original(self, key, requests)

    monkeypatch.setattr(Issuer, "issue", issue)
    request, _ = create_token_request(key.token_key, key.challenge)
    more = await client.post("/api/threads/token-requests", content=request.encode(),
                             headers={"content-type": TOKEN_REQUEST, "x-csrf-token": csrf})
    assert more.status_code == 409, more.text
    assert "0 left" in more.json()["detail"]
    assert signed == []
    issued = await db.fetchval("select sum(issued) from thread_token_issuances")
    assert issued == settings.thread_tokens_per_month


async def test_a_failed_signing_records_nothing(client, db, monkeypatch):
    async def refuse(self, key, requests):
        raise RuntimeError("the signing processes are gone")

    monkeypatch.setattr(Issuer, "issue", refuse)
    csrf = await login(client, "member")
    key = await fetch_thread_key(client)
    request, _ = create_token_request(key.token_key, key.challenge)
    failed = await client.post("/api/threads/token-requests", content=request.encode(),
                               headers={"content-type": TOKEN_REQUEST, "x-csrf-token": csrf})
    assert failed.status_code == 500
    assert await db.fetchval("select count(*) from thread_token_issuances") == 0


def test_workers_share_the_cores_signing_processes(monkeypatch):
    monkeypatch.delenv(SIGNING_PROCESSES_ENV, raising=False)
    assert signing_processes() == cores()
    assert worker_share(1) == cores()
    assert worker_share(cores()) == 1
    assert worker_share(4 * cores()) == 1  # at least one each
    assert worker_share(2) * 2 <= max(2, cores())
    monkeypatch.setenv(SIGNING_PROCESSES_ENV, str(worker_share(2)))
    assert signing_processes() == worker_share(2)
    monkeypatch.setenv(SIGNING_PROCESSES_ENV, "none")
    assert signing_processes() == cores()
