"""The key transparency log on a real database: endpoints, appends in the transactions that
make keys, append-only tables, and the start-up back-fill (issue 15)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from dataclasses import replace
from datetime import date
from uuid import UUID

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from crypto.transparency import (
    EMPTY_ROOT,
    LogEntry,
    SignedTreeHead,
    merkle_root,
    verify_consistency,
    verify_inclusion,
    verify_tree_head,
)
from service.app import create_app
from service.db import init_connection
from service.demo import seed_demo
from service.issuance import THREAD_PERIOD, WAVE, generate_keys
from service.migrate import migrate
from service.queries import campaigns as campaigns_q
from service.threads import period_keys
from service.waves import build_manifest, canonical_hash
from tests.integration.wave_helpers import create_wave, make_audience, make_service

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


async def log_key(client) -> bytes:
    response = await client.get("/api/transparency/log-key")
    assert response.status_code == 200, response.text
    key = unb64(response.json()["public_key"])
    assert len(key) == 32
    return key


async def head(client) -> SignedTreeHead:
    response = await client.get("/api/transparency/tree-head")
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    parsed = SignedTreeHead.from_json(response.json())
    verify_tree_head(await log_key(client), parsed)
    return parsed


async def included(client, token_key_id: str, tree: SignedTreeHead) -> LogEntry:
    """The entry of a key, after checking its audit path leads to the signed root."""
    response = await client.get("/api/transparency/inclusion",
                                params={"token_key_id": token_key_id, "tree_size": tree.tree_size})
    assert response.status_code == 200, response.text
    body = response.json()
    entry = LogEntry.from_json(body["entry"])
    verify_inclusion(entry.leaf_hash(), body["leaf_index"], tree.tree_size,
                     [unb64(h) for h in body["audit_path"]], tree.root_hash)
    return entry


async def consistent(client, old: SignedTreeHead, new: SignedTreeHead) -> None:
    response = await client.get("/api/transparency/consistency",
                                params={"first": old.tree_size, "second": new.tree_size})
    assert response.status_code == 200, response.text
    verify_consistency(old.tree_size, new.tree_size, old.root_hash, new.root_hash,
                       [unb64(h) for h in response.json()["proof"]])


async def all_entries(client, size: int) -> list[dict]:
    out: list[dict] = []
    while len(out) < size:
        response = await client.get("/api/transparency/entries", params={"start": len(out), "end": size})
        assert response.status_code == 200, response.text
        out.extend(response.json()["entries"])
    return out


# --- endpoints ---------------------------------------------------------------------------------


async def test_an_empty_log_has_a_signed_head_and_needs_no_session(client):
    tree = await head(client)
    assert (tree.tree_size, tree.root_hash) == (0, EMPTY_ROOT)
    assert tree.root_hash == hashlib.sha256(b"").digest()
    for path in ("/api/transparency/log-key", "/api/transparency/tree-head"):
        response = await client.get(path)
        assert "set-cookie" not in response.headers
        assert response.headers["cache-control"] == "no-store"


async def test_opening_a_wave_logs_its_key_and_the_log_stays_consistent(client, db):
    empty = await head(client)
    wave = await create_wave(client, db, title="first")
    one = await head(client)
    assert one.tree_size == 1
    await consistent(client, one, one)
    published = (await client.get(f"/api/campaigns/{wave['id']}/token-key")).json()
    entry = await included(client, published["token-key-id"], one)
    assert entry.kind == "wave" and entry.id == wave["id"]
    assert entry.to_json()["token_key"] == published["token-key"].rstrip("=")
    assert entry.opened_on == await db.fetchval("select opened_on from campaigns where id = $1", wave["id"])

    second = await create_wave(client, db, title="second")
    two = await head(client)
    assert two.tree_size == 2
    await consistent(client, one, two)
    verify_consistency(empty.tree_size, two.tree_size, empty.root_hash, two.root_hash, [])
    key_id = (await client.get(f"/api/campaigns/{second['id']}/token-key")).json()["token-key-id"]
    assert (await included(client, key_id, two)).id == second["id"]
    # The first wave's key is still where it was, and not in a tree that ends before it.
    assert (await included(client, published["token-key-id"], two)).id == wave["id"]
    missing = await client.get("/api/transparency/inclusion",
                               params={"token_key_id": key_id, "tree_size": 1})
    assert missing.status_code == 404
    entries = await all_entries(client, 2)
    assert [e["id"] for e in entries] == [wave["id"], second["id"]]


async def test_a_failed_opening_logs_nothing(client, db):
    wave = await create_wave(client, db, title="draft", open_it=False)
    await db.execute("delete from group_members where group_id = $1",
                     (await db.fetchval("select audience_group_id from campaigns where id = $1", wave["id"])))
    response = await client.post(f"/api/campaigns/{wave['id']}/open")
    assert response.status_code == 409
    assert (await head(client)).tree_size == 0
    assert await db.fetchval("select count(*) from transparency_entries") == 0


@pytest.mark.parametrize(("path", "params", "field"), [
    ("entries", {"start": "0"}, "end"),
    ("entries", {"end": "1"}, "start"),
    ("entries", {"start": "-1", "end": "1"}, "start"),
    ("entries", {"start": "x", "end": "1"}, "start"),
    ("entries", {"start": "0", "end": "1.5"}, "end"),
    ("entries", {"start": "0", "end": "2"}, "end"),  # beyond the tree
    ("entries", {"start": "1", "end": "1"}, "start"),
    ("entries", {"start": "1", "end": "0"}, "start"),
    ("inclusion", {"token_key_id": "zz" * 32, "tree_size": "1"}, "token_key_id"),
    ("inclusion", {"token_key_id": "ab" * 31, "tree_size": "1"}, "token_key_id"),
    ("inclusion", {"tree_size": "1"}, "token_key_id"),
    ("inclusion", {"token_key_id": "ab" * 32, "tree_size": "0"}, "tree_size"),
    ("inclusion", {"token_key_id": "ab" * 32, "tree_size": "2"}, "tree_size"),
    ("inclusion", {"token_key_id": "ab" * 32, "tree_size": "-1"}, "tree_size"),
    ("inclusion", {"token_key_id": "ab" * 32, "tree_size": "one"}, "tree_size"),
    ("consistency", {"first": "0", "second": "1"}, "first"),
    ("consistency", {"first": "1", "second": "2"}, "second"),
    ("consistency", {"first": "2", "second": "1"}, "first"),
    ("consistency", {"first": "1"}, "second"),
    ("consistency", {"first": "1e0", "second": "1"}, "first"),
    ("consistency", {"first": "99999999999999999999", "second": "1"}, "first"),
])
async def test_bad_parameters_are_400_problems_naming_the_parameter(client, db, path, params, field):
    await create_wave(client, db)
    client.cookies.clear()
    response = await client.get(f"/api/transparency/{path}", params=params)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"] == "/problems/bad-request"
    assert [e["field"] for e in problem["errors"]] == [field]


async def test_an_unknown_key_is_a_404_problem(client, db):
    await create_wave(client, db)
    response = await client.get("/api/transparency/inclusion", params={"token_key_id": "ab" * 32, "tree_size": 1})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_entries_are_paged_by_at_most_256(client, db):
    """Many keys at once (made directly: 300 RSA keys would take a minute)."""
    from service.transparency import ENTRIES_PAGE, append

    async with db.transaction():
        for i in range(ENTRIES_PAGE + 4):
            spki = hashlib.sha256(b"key %d" % i).digest() * 11
            await append(db, kek=b"k" * 32, kind="thread-period", owner=date(2000 + i // 12, i % 12 + 1, 1),
                         token_key=spki, token_key_id=hashlib.sha256(spki).digest(), opened_on=date(2026, 1, 1))
    tree = await head(client)
    assert tree.tree_size == ENTRIES_PAGE + 4
    page = (await client.get("/api/transparency/entries", params={"start": 2, "end": tree.tree_size})).json()
    assert len(page["entries"]) == ENTRIES_PAGE
    assert page["entries"][0]["id"] == "2000-03"
    rest = (await client.get("/api/transparency/entries",
                             params={"start": 2 + ENTRIES_PAGE, "end": tree.tree_size})).json()
    assert len(rest["entries"]) == 2
    # Every proof the server gives is the one a client recomputes from the entries.
    entries = await all_entries(client, tree.tree_size)
    assert merkle_root([LogEntry.from_json(e).leaf_hash() for e in entries]) == tree.root_hash
    for first in (1, 5, 256, 259, 260):
        await consistent(client, SignedTreeHead(first, merkle_root(
            [LogEntry.from_json(e).leaf_hash() for e in entries[:first]]), tree.issued_on, b""), tree)


# --- thread periods ------------------------------------------------------------------------------


async def test_a_thread_period_key_is_logged_once_under_concurrency(client, db, settings):
    before = await head(client)
    period = date(2031, 5, 1)
    pool = await asyncpg.create_pool(settings.database_url, min_size=4, max_size=4, init=init_connection)
    try:
        async def in_request_transaction():
            async with pool.acquire() as conn, conn.transaction():
                return await period_keys(conn, period=period, issuer_name="127.0.0.1", kek=settings.key_encryption_key)

        keys = await asyncio.gather(
            *(period_keys(pool, period=period, issuer_name="127.0.0.1", kek=settings.key_encryption_key)
              for _ in range(3)),
            in_request_transaction(),
        )
    finally:
        await pool.close()
    assert len({k.token_key_id for k in keys}) == 1
    rows = await db.fetch("select token_key_id from transparency_entries where period = $1", period)
    assert [r["token_key_id"] for r in rows] == [keys[0].token_key_id]
    after = await head(client)
    assert after.tree_size == before.tree_size + 1
    await consistent(client, after, after)
    entry = await included(client, keys[0].token_key_id.hex(), after)
    assert (entry.kind, entry.id, entry.token_key) == ("thread-period", "2031-05", keys[0].token_key)
    assert entry.opened_on == period  # the month, not the day of its first request


async def test_the_thread_key_endpoint_logs_this_months_key(client):
    published = (await client.get("/api/threads/token-key")).json()
    tree = await head(client)
    entry = await included(client, published["token-key-id"], tree)
    assert (entry.kind, entry.id) == ("thread-period", published["period"])


# --- append-only ---------------------------------------------------------------------------------


@pytest.mark.parametrize("statement", [
    "update transparency_entries set entry = entry",
    "update transparency_entries set leaf_index = leaf_index + 1",
    "delete from transparency_entries",
    "truncate transparency_entries cascade",
    "update transparency_tree_heads set root_hash = root_hash",
    "delete from transparency_tree_heads",
    "truncate transparency_tree_heads",
    "update transparency_log_key set public_key = public_key",
    "delete from transparency_log_key",
    "truncate transparency_log_key",
])
async def test_the_log_tables_refuse_changes(client, db, statement):
    await create_wave(client, db)
    with pytest.raises(asyncpg.PostgresError, match="append-only"):
        await db.execute(statement)


async def test_entries_go_only_at_the_end_and_heads_match_the_log(client, db):
    await create_wave(client, db)
    row = await db.fetchrow("select * from transparency_entries")
    spki = b"x" * 342
    entry = b"{}"
    for index in (0, 5):
        with pytest.raises(asyncpg.PostgresError, match="appended at the end"):
            await db.execute(
                "insert into transparency_entries (leaf_index, token_key_id, kind, period, entry, leaf_hash) "
                "values ($1, $2, 'thread-period', '2040-01-01', $3, sha256('\\x00'::bytea || $3))",
                index, hashlib.sha256(spki).digest(), entry)
    with pytest.raises(asyncpg.CheckViolationError):  # a leaf hash that is not the entry's
        await db.execute(
            "insert into transparency_entries (leaf_index, token_key_id, kind, period, entry, leaf_hash) "
            "values (1, $1, 'thread-period', '2040-01-01', $2, $3)",
            hashlib.sha256(spki).digest(), entry, bytes(32))
    with pytest.raises(asyncpg.UniqueViolationError):  # a second key for the same wave
        await db.execute(
            "insert into transparency_entries (leaf_index, token_key_id, kind, campaign_id, entry, leaf_hash) "
            "values (1, $1, 'wave', $2, $3, sha256('\\x00'::bytea || $3))",
            hashlib.sha256(spki).digest(), row["campaign_id"], entry)
    with pytest.raises(asyncpg.PostgresError, match="does not match the log"):
        await db.execute("insert into transparency_tree_heads values (5, $1, current_date, $2)", bytes(32), bytes(64))


# --- start-up ------------------------------------------------------------------------------------


async def test_keys_stored_before_the_log_are_back_filled_in_order(client, db, settings):
    """Keys made outside the log (as before this migration) are appended at the next start,
    by the day they opened and then id, and the log stays consistent with the old head."""
    old = await head(client)
    await init_connection(db)
    group = UUID(await make_audience(db))
    service = UUID(await make_service(db))
    manager = await db.fetchval("select id from accounts where email = 'manager@test.example'")
    waves = []
    for title in ("b", "a"):
        campaign_id = await campaigns_q.insert_campaign(
            db, title=title, description="", service_id=service, instrument_hash=await db.fetchval(
                "select hash from instruments where id = 'pulse' and builtin"),
            audience_group_id=group, opens_on=date.today(), closes_on=date.today(), k_scores=5, k_comments=10,
            created_by=manager)
        size = await campaigns_q.snapshot_audience(db, campaign_id=campaign_id)
        keys = await generate_keys(WAVE, campaign_id, issuer_name="127.0.0.1", kek=settings.key_encryption_key)
        campaign = await campaigns_q.select_campaign(db, campaign_id=campaign_id)
        assert campaign is not None
        manifest = build_manifest(campaign, keys, size)
        await campaigns_q.open_campaign(  # the old way: no log entry
            db, campaign_id=campaign_id, manifest=manifest, manifest_hash=canonical_hash(manifest),
            token_key=keys.token_key, token_key_id=keys.token_key_id, challenge=keys.challenge,
            private_key=keys.private_key, audience_size=size)
        waves.append((str(campaign_id), keys))
    month = await generate_keys(THREAD_PERIOD, date(2020, 2, 1), issuer_name="127.0.0.1",
                                kek=settings.key_encryption_key)
    await db.execute("insert into thread_periods values ($1, $2, $3, $4, $5)", date(2020, 2, 1),
                     month.token_key, month.token_key_id, month.challenge, month.private_key)
    assert (await head(client)).tree_size == old.tree_size

    async with AsyncTestClient(create_app(settings), base_url="http://127.0.0.1:8000") as restarted:
        new = await head(restarted)
        assert new.tree_size == old.tree_size + 3
        entries = await all_entries(restarted, new.tree_size)
        assert [e["id"] for e in entries[old.tree_size:]] == ["2020-02", *sorted(w for w, _ in waves)]
        for _, keys in waves:
            assert (await included(restarted, keys.token_key_id.hex(), new)).token_key == keys.token_key
        assert old.tree_size == 0
        verify_consistency(0, new.tree_size, old.root_hash, new.root_hash, [])
        await consistent(restarted, SignedTreeHead(1, merkle_root([LogEntry.from_json(entries[0]).leaf_hash()]),
                                                   old.issued_on, b""), new)
    async with AsyncTestClient(create_app(settings), base_url="http://127.0.0.1:8000") as again:
        assert (await head(again)).tree_size == new.tree_size  # nothing appended twice


async def test_the_demo_organisation_is_in_the_log(empty_database_url, settings):
    settings = replace(settings, database_url=empty_database_url)
    conn = await asyncpg.connect(empty_database_url)
    try:
        await init_connection(conn)
        await migrate(conn)
        assert await seed_demo(conn, settings) is True
        waves = {str(r["id"]): r["token_key_id"] for r in await conn.fetch("select id, token_key_id from campaigns")}
        months = await conn.fetchval("select count(*) from thread_periods")  # the demo threads' months
    finally:
        await conn.close()
    async with AsyncTestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
        tree = await head(client)
        assert len(waves) == 4  # three closed Service Desk waves and the pulse
        assert months >= 2 and tree.tree_size == len(waves) + months
        for campaign_id, key_id in waves.items():
            assert (await included(client, key_id.hex(), tree)).id == campaign_id


async def test_the_privacy_page_shows_the_log_key_and_the_current_head(client, db):
    await create_wave(client, db)
    client.cookies.clear()
    page = (await client.get("/privacy")).text
    tree = await head(client)
    assert base64.b64encode(await log_key(client)).decode() in page
    assert f"tree_size={tree.tree_size}" in page
    assert f"root_hash={base64.b64encode(tree.root_hash).decode()}" in page
