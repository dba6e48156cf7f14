"""The submission's connection goes back to the pool without asyncpg's reset query.

A pool connection is normally reset on release (advisory unlock, ``CLOSE ALL``,
``UNLISTEN *``, ``RESET ALL``): one more round trip per request. The submission runs
autocommit statements only, so ``service.db.autocommit`` skips it there (issue 19's
submission budget). What must stay true: the skip happens once, only after a block that
completed, and every other release still resets, so a connection never carries session
state to its next borrower.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from dataclasses import replace

import msgspec
import pytest

from crypto.tokens import format_authorization
from service import db as service_db
from service.client import StoredToken
from service.db import autocommit, create_pool
from tests.integration.wave_helpers import answers_for, create_wave, token_for
from tests.support import login, role_email


@pytest.fixture
async def one_connection(settings) -> AsyncIterator[service_db.Pool]:
    """A pool of exactly one connection: every acquire gets the one released before."""
    pool = await create_pool(replace(settings, db_pool_min=1, db_pool_max=1))
    yield pool
    await pool.close()


async def work_mem(pool) -> str:
    async with pool.acquire() as conn:
        return await conn.fetchval("show work_mem")


async def test_autocommit_skips_the_reset_once(one_connection):
    pool = one_connection
    default = await work_mem(pool)
    async with autocommit(pool) as conn:
        # Session state the contract forbids, set here only to see whether the reset ran.
        await conn.execute("set work_mem = '1234kB'")
    # Not reset: the skipped round trip is real ...
    assert await work_mem(pool) == "1234kB"
    # ... and only once: that plain release reset the connection as usual.
    assert await work_mem(pool) == default


async def test_autocommit_resets_after_an_error(one_connection):
    pool = one_connection
    default = await work_mem(pool)
    with pytest.raises(RuntimeError):
        async with autocommit(pool) as conn:
            await conn.execute("set work_mem = '1234kB'")
            raise RuntimeError("the block failed part-way")
    assert await work_mem(pool) == default


async def submit(client, stored: StoredToken, answers: dict):
    """The submission alone (service.client.redeem first fetches the wave's key)."""
    return await client.post(
        f"/anon/campaigns/{stored.campaign_id}/responses", content=msgspec.json.encode(answers),
        headers={"content-type": "application/json",
                 "authorization": format_authorization(base64.urlsafe_b64decode(stored.token))})


async def test_a_submission_releases_without_a_reset_and_spends_once(client, db, monkeypatch):
    resets: list[str] = []
    original = service_db.Connection.get_reset_query

    def counted(self) -> str:
        query = original(self)
        if query:
            resets.append(query)
        return query

    monkeypatch.setattr(service_db.Connection, "get_reset_query", counted)
    wave = await create_wave(client, db)
    stored = await token_for(client, wave["id"], role_email("member"))
    client.cookies.clear()

    # The first submission to a wave in this process reads its key and instrument (cached
    # after that); answers that fail validation leave the token unspent.
    refused = await submit(client, stored, {"items": {}})
    assert refused.status_code == 422, refused.text

    before = len(resets)
    submitted = await submit(client, stored, answers_for("pulse"))
    assert submitted.status_code == 201, submitted.text
    assert len(resets) == before
    # Spent in that statement: the same token again is refused (the status read that tells
    # "spent" from "closed" is an autocommit statement too).
    again = await submit(client, stored, answers_for("pulse"))
    assert again.status_code == 409 and again.json()["type"].endswith("/token-spent"), again.text
    assert len(resets) == before
    assert await db.fetchval("select count(*) from responses where campaign_id = $1", wave["id"]) == 1
    # The report's copy of the answers (a generated column) is written with the row.
    assert await db.fetchval("select answer_codes <> ''::bytea from responses where campaign_id = $1", wave["id"])

    # The instrument counts resets where they happen: a signed-in request's connection is reset.
    await login(client, "member")
    assert (await client.get("/api/auth/me")).status_code == 200
    assert len(resets) > before
