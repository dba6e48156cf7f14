"""Attack: line up arrival order from a database dump taken mid-wave.

An insider with the database reads every anonymous and issuance row with its
transaction id (``xmin``) and physical position (``ctid``), as a dump or a page reader
would. Rows are written in the order members got tokens and answered, so pairing the
k-th issuance with the k-th response (or thread) names who wrote what. After the
arrival-order pass (service/scrub.py) the rewritten rows must share one transaction id,
sit in an order unrelated to arrival, and the old row versions must be gone from the
pages. Members here get a token and answer one after another (interleaved), the most
linkable pattern there is.

Statistics: with N = 40 rows in a uniformly random order, Spearman's rho between
position and arrival has mean 0 and sd 1/sqrt(N - 1) ≈ 0.16; |rho| ≥ 0.65 has
probability ≈ 5e-5. The number of correctly paired issuance/answer pairs is
≈ Poisson(1); ≥ 7 has probability ≈ 8e-5. Before the pass both are exact (rho = 1, N pairs).
"""

from __future__ import annotations

import asyncio
import base64
import uuid
from datetime import date, timedelta

import asyncpg
import httpx
import pytest

from crypto.tokens import Token
from service.client import fetch_thread_key, fetch_token_key, open_thread, redeem, request_thread_tokens, request_token
from service.db import create_pool
from service.queries import arrivals
from service.scrub import scrub_group, scrub_pass
from service.threads import new_secret
from tests.integration.wave_helpers import answers_for, make_service
from tests.support import PASSWORD, login, role_email

N = 40
MAX_RHO = 0.65
MAX_CORRECT_PAIRS = 6


@pytest.fixture
async def pool(settings):
    """A pool in the test's own event loop (the app runs in another), as a replica's jobs use."""
    pool = await create_pool(settings)
    yield pool
    await pool.close()


def spearman(order: list[int]) -> float:
    """Rank correlation of a permutation of 0..n-1 with the identity."""
    n = len(order)
    return 1 - 6 * sum((rank - i) ** 2 for rank, i in enumerate(order)) / (n * (n * n - 1))


async def members(db, count: int, prefix: str) -> list[tuple[str, uuid.UUID]]:
    password_hash = await db.fetchval("select password_hash from accounts where email = $1", role_email("member"))
    found = []
    for i in range(count):
        email = f"{prefix}{i}@test.example"
        found.append((email, await db.fetchval(
            "insert into accounts (email, display_name, password_hash, roles) values ($1, $1, $2, '{member}') "
            "returning id", email, password_hash)))
    return found


async def sign_in(client, email: str) -> str:
    client.cookies.clear()
    client.headers.pop("x-csrf-token", None)
    response = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return response.json()["csrf_token"]


async def open_wave_for(client, db, people: list[tuple[str, uuid.UUID]]) -> str:
    group_id = await db.fetchval("insert into groups (name) values ($1) returning id", f"Arrivals {uuid.uuid4()}")
    await db.execute("insert into group_members select $1, unnest($2::uuid[])", group_id, [a for _, a in people])
    service_id = await make_service(db, name=f"Service {uuid.uuid4()}")
    client.cookies.clear()
    await login(client, "manager")
    today = date.today()
    created = await client.post("/api/campaigns", json={
        "title": "Arrival order", "service_id": service_id, "instrument_id": "pulse",
        "audience_group_id": str(group_id), "opens_on": str(today), "closes_on": str(today + timedelta(days=14))})
    assert created.status_code == 201, created.text
    opened = await client.post(f"/api/campaigns/{created.json()['id']}/open")
    assert opened.status_code == 200, opened.text
    return created.json()["id"]


async def dump(db, table: str) -> list[dict]:
    """Every row with its transaction id and physical position, in physical order."""
    rows = [dict(r) for r in await db.fetch(f"select xmin::text as xmin, ctid, * from {table}")]
    return sorted(rows, key=lambda r: r["ctid"])


async def page_items(db, table: str) -> list[dict]:
    """What a page reader sees: every line pointer that still holds a tuple, live or dead."""
    await db.execute("create extension if not exists pageinspect")
    blocks = await db.fetchval(f"select pg_relation_size('{table}') / current_setting('block_size')::int")
    items = []
    for block in range(blocks):
        items += [dict(r) for r in await db.fetch(
            f"select lp, t_xmin::text as xmin from heap_page_items(get_raw_page('{table}', {block})) "
            "where lp_flags = 1")]
    return items


def assert_order_erased(rows: list[dict], arrival: dict, label: str) -> None:
    """``arrival`` maps a row's key to its arrival rank; ``rows`` are in physical order."""
    order = [arrival[key] for key in (r["key"] for r in rows)]
    assert sorted(order) == list(range(len(arrival))), f"{label}: rows lost or doubled"
    rho = spearman(order)
    assert abs(rho) < MAX_RHO, f"{label}: physical order still follows arrival (rho = {rho:.2f})"
    assert order != list(range(len(order))), f"{label}: physical order is arrival order"


async def test_a_dump_after_the_pass_keeps_no_order_of_answers(client, db, pool, settings):
    people = await members(db, N, "wave")
    campaign_id = await open_wave_for(client, db, people)
    issued_to: dict[str, int] = {}   # account id → arrival rank
    answered: dict[str, int] = {}    # receipt → arrival rank of the member who sent it
    spent: dict[bytes, int] = {}     # nonce → arrival rank
    for rank, (email, account_id) in enumerate(people):
        csrf = await sign_in(client, email)
        stored = await request_token(client, await fetch_token_key(client, campaign_id), csrf_token=csrf)
        response = await redeem(client, stored, answers_for("pulse", 1 + rank % 5))
        assert response.status_code == 201, response.text
        issued_to[str(account_id)] = rank
        answered[response.json()["receipt"]] = rank
        spent[Token.decode(base64.urlsafe_b64decode(stored.token + "=" * (-len(stored.token) % 4))).nonce] = rank

    async def view() -> tuple[list[dict], list[dict], list[dict]]:
        responses = [{**r, "key": r["receipt"]} for r in await dump(db, "responses")]
        issuances = [{**r, "key": str(r["account_id"])} for r in await dump(db, "token_issuances")]
        nonces = [{**r, "key": bytes(r["nonce"])} for r in await dump(db, "spent_tokens")]
        return responses, issuances, nonces

    # The attack, before the pass: the k-th issuance and the k-th response are one person.
    responses, issuances, _ = await view()
    assert [answered[r["key"]] for r in responses] == list(range(N))
    assert len({r["xmin"] for r in responses}) == N
    linked = sum(answered[r["key"]] == issued_to[i["key"]] for r, i in zip(responses, issuances, strict=True))
    assert linked == N

    moved = await scrub_pass(pool, settings.database_url)
    assert moved["waves"] == 3 * N

    responses, issuances, nonces = await view()
    # One transaction wrote them all: ordering by xmin says nothing.
    assert len({r["xmin"] for r in responses + issuances + nonces}) == 1
    assert all(r["scrubbed"] for r in responses + issuances + nonces)
    assert_order_erased(responses, answered, "responses")
    assert_order_erased(issuances, issued_to, "token_issuances")
    assert_order_erased(nonces, spent, "spent_tokens")
    linked = sum(answered[r["key"]] == issued_to[i["key"]] for r, i in zip(responses, issuances, strict=True))
    assert linked <= MAX_CORRECT_PAIRS, f"{linked} of {N} issuance/answer pairs still line up"
    # The old row versions, in arrival order with their own xmins, are gone from the pages.
    pass_xid = responses[0]["xmin"]
    for table in arrivals.WAVE_TABLES:
        assert {i["xmin"] for i in await page_items(db, table)} == {pass_xid}, table
    # Receipts still check out after the rewrite.
    receipt = responses[0]["receipt"]
    assert (await client.get(f"/anon/campaigns/{campaign_id}/receipts/{receipt}")).json()["verified"] is True


async def test_a_dump_after_the_pass_keeps_no_order_of_threads(client, db, pool, settings):
    people = await members(db, N, "thread")
    service_id = await make_service(db, name="Thread arrivals")
    issued_to: dict[str, int] = {}
    opened: dict[str, int] = {}
    for rank, (email, account_id) in enumerate(people):
        csrf = await sign_in(client, email)
        (token,) = await request_thread_tokens(client, await fetch_thread_key(client), 1, csrf_token=csrf)
        response = await open_thread(client, token, service_id=service_id, category="idea", title=f"Idea {rank}",
                                     body=f"Body {rank}", secret=new_secret())
        assert response.status_code == 201, response.text
        issued_to[str(account_id)] = rank
        opened[response.json()["thread_id"]] = rank

    async def view() -> tuple[list[dict], list[dict], list[dict]]:
        threads = [{**r, "key": str(r["id"])} for r in await dump(db, "threads")]
        messages = [{**r, "key": str(r["thread_id"])} for r in await dump(db, "thread_messages")]
        issuances = [{**r, "key": str(r["account_id"])} for r in await dump(db, "thread_token_issuances")]
        return threads, messages, issuances

    threads, messages, issuances = await view()
    assert [opened[t["key"]] for t in threads] == list(range(N))
    linked = sum(opened[t["key"]] == issued_to[i["key"]] for t, i in zip(threads, issuances, strict=True))
    assert linked == N

    moved = await scrub_pass(pool, settings.database_url)
    assert moved["threads"] == 4 * N

    threads, messages, issuances = await view()
    spent = await dump(db, "thread_spent_tokens")
    assert len({r["xmin"] for r in threads + messages + issuances + spent}) == 1
    assert_order_erased(threads, opened, "threads")
    assert_order_erased(messages, opened, "thread_messages")
    assert_order_erased(issuances, issued_to, "thread_token_issuances")
    linked = sum(opened[t["key"]] == issued_to[i["key"]] for t, i in zip(threads, issuances, strict=True))
    assert linked <= MAX_CORRECT_PAIRS, f"{linked} of {N} issuance/thread pairs still line up"
    pass_xid = threads[0]["xmin"]
    for table in arrivals.THREAD_TABLES:
        assert {i["xmin"] for i in await page_items(db, table)} == {pass_xid}, table


async def wait_for_lock_waiter(db, timeout: float = 20.0) -> None:
    """Until some other session of this database waits on a lock (bounded)."""
    async with asyncio.timeout(timeout):
        while not await db.fetchval(
            "select exists (select 1 from pg_stat_activity where datname = current_database() "
            "and wait_event_type = 'Lock' and pid <> pg_backend_pid())"):
            await asyncio.sleep(0.02)


@pytest.fixture
async def http(live_server):
    """A real HTTP client against the app served by uvicorn: requests run concurrently
    with the test (the in-process test client would block the test while one waits)."""
    async with httpx.AsyncClient(base_url=live_server, timeout=60) as client:
        yield client


async def test_a_double_spend_racing_the_pass_is_refused_and_no_answer_is_lost(http, db, database_url, pool):
    client = http
    people = await members(db, 6, "race")
    campaign_id = await open_wave_for(client, db, people)
    tokens = []
    for email, _ in people[:2]:
        csrf = await sign_in(client, email)
        tokens.append(await request_token(client, await fetch_token_key(client, campaign_id), csrf_token=csrf))
    client.cookies.clear()
    assert (await redeem(client, tokens[0], answers_for("pulse"))).status_code == 201

    # The pass, stopped half-way: rows moved, not yet committed.
    scrubber = await asyncpg.connect(database_url)
    try:
        transaction = scrubber.transaction()
        await transaction.start()
        for table in arrivals.WAVE_TABLES:
            await arrivals.rewrite_in_random_order(scrubber, table)
        # A new answer lands meanwhile (nothing of it is being moved); the spent token
        # is presented again and must wait for the pass to decide.
        assert (await redeem(client, tokens[1], answers_for("pulse", 2))).status_code == 201
        again = asyncio.create_task(redeem(client, tokens[0], answers_for("pulse", 3)))
        await wait_for_lock_waiter(db)
        await transaction.commit()
        response = await again
    finally:
        await scrubber.close()
    assert response.status_code == 409 and response.json()["type"].endswith("/token-spent"), response.text
    rows = await db.fetch("select scrubbed from responses")
    assert sorted(r["scrubbed"] for r in rows) == [False, True]  # the late one waits for the next pass
    assert await db.fetchval("select count(*) from spent_tokens") == 2
    # The next pass takes it, with the rest of its wave (both answers and both spent
    # tokens, so the earlier answer keeps no window of its own); a second replica
    # running at the same time does nothing twice.
    results = await asyncio.gather(scrub_group(pool, "waves"), scrub_group(pool, "waves"))
    assert sorted(r or 0 for r in results) == [0, 4]
    assert await db.fetchval("select count(*) from responses where scrubbed") == 2
    assert await db.fetchval("select count(*) from spent_tokens where scrubbed") == 2


async def test_a_staff_change_racing_the_pass_is_kept_and_scrubbed_next_time(http, db, database_url, pool):
    client = http
    people = await members(db, 1, "staff")
    service_id = await make_service(db, name="Racing staff")
    csrf = await sign_in(client, people[0][0])
    (token,) = await request_thread_tokens(client, await fetch_thread_key(client), 1, csrf_token=csrf)
    client.cookies.clear()
    response = await open_thread(client, token, service_id=service_id, category="problem", title="Slow VPN",
                                 body="It is slow.", secret=new_secret())
    thread_id = response.json()["thread_id"]
    await login(client, "owner")

    scrubber = await asyncpg.connect(database_url)
    try:
        transaction = scrubber.transaction()
        await transaction.start()
        await arrivals.lock_thread_tables(scrubber)
        for table in arrivals.THREAD_TABLES:
            await arrivals.rewrite_in_random_order(scrubber, table)
        answer = asyncio.create_task(client.post(f"/api/threads/{thread_id}/messages", json={"body": "Looking"}))
        status = asyncio.create_task(client.put(f"/api/threads/{thread_id}/status", json={"status": "answered"}))
        await wait_for_lock_waiter(db)
        await transaction.commit()
        assert (await answer).status_code == 201
        assert (await status).status_code == 200
    finally:
        await scrubber.close()
    row = await db.fetchrow("select staff_status, scrubbed from threads where id = $1", uuid.UUID(thread_id))
    assert row["staff_status"] == "answered"
    assert row["scrubbed"] is False  # its new version carries the change's xid: next pass
    assert await db.fetchval("select count(*) from thread_messages where thread_id = $1", uuid.UUID(thread_id)) == 2
    # The thread and both of the day's messages: the day is rewritten whole.
    assert await scrub_group(pool, "threads") == 3
