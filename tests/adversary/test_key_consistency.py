"""Attack: hand one member a key of the operator's own, to recognise that member's answer
(the key-consistency attack of RFC 9576 §6), and hide it from the transparency log.

The dishonest server is simulated two honest ways: an httpx transport that wraps the real
app and rewrites what it answers to one client (what a server can do per request), and
direct changes to the database with its triggers switched off, re-signed with the real log
key (what an operator with the database and the key-encryption key can do). In every case
the Python client must refuse before it blinds anything, with a message telling the member
not to answer and whom to tell.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from collections.abc import Callable
from datetime import date
from uuid import UUID

import httpx
import pytest

from crypto.keys import generate_issuer_key, spki_from_public_key
from crypto.transparency import (
    LogEntry,
    decrypt_log_key,
    generate_log_key,
    log_public_key,
    merkle_root,
    sign_tree_head,
)
from service.cli import main
from service.client import KeyLog, KeyTransparencyError, fetch_thread_key, fetch_token_key
from service.transparency import append
from tests.integration.wave_helpers import create_wave
from tests.support import PASSWORD, role_email

KEK = b"k" * 32  # TEST_SETTINGS.key_encryption_key

Rewrite = Callable[[httpx.Request, dict], dict | None]


class Tamper(httpx.AsyncBaseTransport):
    """The real app's answers, rewritten by ``rewrite(request, json)`` for paths it returns
    a new body for (after ``redirect`` may have changed the request); every path asked is recorded."""

    def __init__(self, inner: httpx.AsyncBaseTransport, rewrite: Rewrite,
                 redirect: Callable[[httpx.Request], httpx.Request] | None = None) -> None:
        self.inner, self.rewrite, self.redirect, self.paths = inner, rewrite, redirect, []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        if self.redirect is not None:
            request = self.redirect(request)
        response = await self.inner.handle_async_request(request)
        body = await response.aread()
        if response.headers.get("content-type", "").startswith("application/json"):
            changed = self.rewrite(request, json.loads(body))
            if changed is not None:
                return httpx.Response(response.status_code, json=changed)
        return httpx.Response(response.status_code, headers=response.headers, content=body)


def served(client, rewrite: Rewrite, redirect=None) -> tuple[httpx.AsyncClient, Tamper]:
    transport = Tamper(client._transport, rewrite, redirect)
    return httpx.AsyncClient(transport=transport, base_url=client.base_url), transport


def honest(request, body):
    return None


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode()


def forged_key() -> tuple[bytes, bytes]:
    spki = spki_from_public_key(generate_issuer_key().public_key())
    return spki, hashlib.sha256(spki).digest()


def serve_key(campaign_id: str, spki: bytes) -> Rewrite:
    """The wave's token-key endpoint hands this client ``spki`` instead of the wave's key."""
    def rewrite(request, body):
        if request.url.path == f"/api/campaigns/{campaign_id}/token-key":
            return body | {"token-key": b64url(spki), "token-key-id": hashlib.sha256(spki).hexdigest()}
        return None
    return rewrite


async def refused(http, campaign_id: str, log: KeyLog) -> str:
    with pytest.raises(KeyTransparencyError) as caught:
        await fetch_token_key(http, campaign_id, log=log)
    message = str(caught.value)
    assert "Do not answer" in message and "works council" in message
    return message


async def test_an_honest_log_is_accepted_and_followed(client, db, tmp_path):
    wave = await create_wave(client, db, title="one")
    state = tmp_path / "log.json"
    http, transport = served(client, honest)
    key = await fetch_token_key(http, wave["id"], log=KeyLog(state))
    saved = json.loads(state.read_text())
    assert saved["tree_size"] == 1
    second = await create_wave(client, db, title="two")
    await fetch_token_key(http, second["id"], log=KeyLog(state))  # consistent with the head saved
    assert json.loads(state.read_text())["tree_size"] == 2
    assert "/api/transparency/consistency" in transport.paths
    assert key.campaign_id == wave["id"]


async def test_a_key_that_is_not_in_the_log_is_refused(client, db, tmp_path):
    wave = await create_wave(client, db)
    spki, _ = forged_key()
    http, transport = served(client, serve_key(wave["id"], spki))
    await refused(http, wave["id"], KeyLog(tmp_path / "log.json"))
    assert not any(p.endswith("/token-requests") for p in transport.paths)
    assert not (tmp_path / "log.json").exists()  # nothing refused is remembered as seen


async def test_a_changed_entry_is_refused(client, db, tmp_path):
    """The server shows the forged key in the wave's log entry: it answers the forged key's
    inclusion request with the real entry's audit path and the entry rewritten."""
    wave = await create_wave(client, db)
    spki, key_id = forged_key()
    real_id = await db.fetchval("select token_key_id from campaigns where id = $1", wave["id"])
    fake = {"token_key": b64url(spki).rstrip("="), "token_key_id": key_id.hex()}

    def redirect(request):
        if request.url.path == "/api/transparency/inclusion":
            return httpx.Request("GET", request.url.copy_merge_params({"token_key_id": real_id.hex()}))
        return request

    def rewrite(request, body):
        if request.url.path == "/api/transparency/inclusion":
            return body | {"entry": body["entry"] | fake}
        if request.url.path == "/api/transparency/entries":
            return {"entries": [e | fake if e["id"] == wave["id"] else e for e in body["entries"]]}
        return serve_key(wave["id"], spki)(request, body)

    http, transport = served(client, rewrite, redirect)
    message = await refused(http, wave["id"], KeyLog(tmp_path / "log.json"))
    assert "inclusion proof" in message
    assert "/api/transparency/inclusion" in transport.paths


async def _log_key(db):
    row = await db.fetchrow("select public_key, private_key from transparency_log_key")
    return decrypt_log_key(row["private_key"], KEK, b"candor-transparency-log-key\x00" + row["public_key"])


async def _resign(db, entries: list[bytes]) -> None:
    """As the operator: replace the stored heads by one over ``entries``, signed with the real log key."""
    key = await _log_key(db)
    head = sign_tree_head(key, len(entries), merkle_root([hashlib.sha256(b"\x00" + e).digest() for e in entries]),
                          date.today())
    await db.execute("delete from transparency_tree_heads")
    await db.execute("insert into transparency_tree_heads values ($1, $2, $3, $4)",
                     head.tree_size, head.root_hash, head.issued_on, head.signature)


async def test_a_forked_log_is_refused_by_a_client_that_saw_the_real_one(client, db, tmp_path):
    """The operator rewrites history: the wave's entry (and the key it serves everyone)
    becomes its own key, re-signed with the real log key. Every proof checks out for a
    newcomer; a client that saw the log before finds it is not an extension."""
    wave = await create_wave(client, db)
    state = tmp_path / "log.json"
    http, _ = served(client, honest)
    await fetch_token_key(http, wave["id"], log=KeyLog(state))

    spki, key_id = forged_key()
    row = await db.fetchrow("select entry from transparency_entries where campaign_id = $1", wave["id"])
    fork = LogEntry.from_json(json.loads(row["entry"]) | {
        "token_key": b64url(spki).rstrip("="), "token_key_id": key_id.hex()}).encode()
    await db.execute("set session_replication_role = replica")  # the operator switches the triggers off
    await db.execute("update transparency_entries set entry = $2, leaf_hash = $3, token_key_id = $4 "
                     "where campaign_id = $1", wave["id"], fork, hashlib.sha256(b"\x00" + fork).digest(), key_id)
    await db.execute("update campaigns set token_key = $2, token_key_id = $3 where id = $1", wave["id"], spki, key_id)
    await _resign(db, [fork])

    message = await refused(http, wave["id"], KeyLog(state))
    assert "two heads of the same size must have the same root" in message
    # A client with no memory of the log cannot tell: that is what the state file (and
    # the monitor's published heads) are for.
    assert (await fetch_token_key(http, wave["id"], log=KeyLog(tmp_path / "new.json"))).token_key == spki


async def test_a_second_key_for_one_wave_is_refused(client, db, tmp_path):
    """The operator logs a second key for the wave (with the real code and log key) and
    serves it to one member: its inclusion proof is valid, but the log now shows two keys."""
    wave = await create_wave(client, db)
    spki, key_id = forged_key()
    await db.execute("set session_replication_role = replica")
    await db.execute("alter table transparency_entries drop constraint transparency_entries_campaign_id_key")
    async with db.transaction():
        await append(db, kek=KEK, kind="wave", owner=UUID(wave["id"]), token_key=spki,
                     token_key_id=key_id, opened_on=date.today())
    target, _ = served(client, serve_key(wave["id"], spki))
    message = await refused(target, wave["id"], KeyLog(tmp_path / "target.json"))
    assert "2 keys" in message
    everyone, _ = served(client, honest)  # and everyone else notices too
    await refused(everyone, wave["id"], KeyLog(tmp_path / "others.json"))


@pytest.mark.parametrize("change", ["unsigned", "flipped", "other key", "another log key"])
async def test_a_badly_signed_or_rolled_back_head_is_refused(client, db, tmp_path, change):
    wave = await create_wave(client, db)
    state = tmp_path / "log.json"
    http, _ = served(client, honest)
    first = await fetch_token_key(http, wave["id"], log=KeyLog(state))
    await create_wave(client, db, title="later")
    attacker = generate_log_key()

    def rewrite(request, body):
        if request.url.path == "/api/transparency/log-key" and change == "another log key":
            return {"public_key": base64.b64encode(log_public_key(attacker)).decode()}
        if request.url.path != "/api/transparency/tree-head":
            return None
        if change == "unsigned":
            return body | {"signature": ""}
        if change == "flipped":
            sig = bytearray(base64.b64decode(body["signature"]))
            sig[10] ^= 1
            return body | {"signature": base64.b64encode(bytes(sig)).decode()}
        forged = sign_tree_head(attacker, body["tree_size"], base64.b64decode(body["root_hash"]),
                                date.fromisoformat(body["issued_on"]))
        return forged.to_json()

    tampered, _ = served(client, rewrite)
    await refused(tampered, wave["id"], KeyLog(state))
    assert first.campaign_id == wave["id"]


async def test_a_log_that_shrinks_is_refused(client, db, tmp_path):
    wave = await create_wave(client, db)
    http, _ = served(client, honest)
    old_head = (await http.get("/api/transparency/tree-head")).json()
    await create_wave(client, db, title="later")
    state = tmp_path / "log.json"
    await fetch_token_key(http, wave["id"], log=KeyLog(state))
    replay, _ = served(client, lambda r, b: old_head if r.url.path == "/api/transparency/tree-head" else None)
    assert "shrank" in await refused(replay, wave["id"], KeyLog(state))


async def test_a_pinned_log_key_is_not_replaced_by_the_server(client, db, tmp_path):
    wave = await create_wave(client, db)
    attacker = generate_log_key()

    def rewrite(request, body):
        if request.url.path == "/api/transparency/log-key":
            return {"public_key": base64.b64encode(log_public_key(attacker)).decode()}
        if request.url.path == "/api/transparency/tree-head":
            return sign_tree_head(attacker, body["tree_size"], base64.b64decode(body["root_hash"]),
                                  date.fromisoformat(body["issued_on"])).to_json()
        return None

    real = base64.b64decode((await client.get("/api/transparency/log-key")).json()["public_key"])
    http, _ = served(client, rewrite)
    await refused(http, wave["id"], KeyLog(None, log_key=real))


async def test_a_thread_key_not_in_the_log_is_refused(client, db, tmp_path):
    http, _ = served(client, honest)
    key = await fetch_thread_key(http, log=KeyLog(tmp_path / "log.json"))
    spki, _ = forged_key()

    def rewrite(request, body):
        if request.url.path == "/api/threads/token-key":
            return body | {"token-key": b64url(spki), "token-key-id": hashlib.sha256(spki).hexdigest()}
        return None

    tampered, _ = served(client, rewrite)
    with pytest.raises(KeyTransparencyError):
        await fetch_thread_key(tampered, log=KeyLog(tmp_path / "log.json"))
    assert key.period


async def test_candor_token_refuses_a_log_rewritten_since_its_last_run(live_server, db, tmp_path, monkeypatch, capsys):
    """The command line keeps the head it verified next to the token; a rewritten log is
    refused before any token is asked for."""
    async with httpx.AsyncClient(base_url=live_server) as http:
        csrf = (await http.post("/api/auth/login", json={"email": role_email("manager"), "password": PASSWORD})
                ).json()["csrf_token"]
        http.headers["x-csrf-token"] = csrf
        from tests.integration.wave_helpers import make_audience, make_service

        group_id, service_id = await make_audience(db), await make_service(db)
        waves = []
        for title in ("one", "two"):
            wave = (await http.post("/api/campaigns", json={
                "title": title, "service_id": service_id, "instrument_id": "pulse", "audience_group_id": group_id,
                "opens_on": str(date.today()), "closes_on": str(date.today()),
            })).json()
            assert (await http.post(f"/api/campaigns/{wave['id']}/open")).status_code == 200
            waves.append(wave["id"])
    monkeypatch.setenv("CANDOR_PASSWORD", PASSWORD)
    out = tmp_path / "token.json"
    args = ["token", "--url", live_server, "--email", role_email("member"), "--out", str(out), "--campaign"]
    assert await asyncio.to_thread(main, [*args, waves[0]]) == 0
    state = tmp_path / "candor-log-state.json"
    seen = json.loads(state.read_text())
    assert seen["tree_size"] == 2
    # The head this member saw, as the server might rewrite it: same size, another root.
    state.write_text(json.dumps(seen | {"root_hash": base64.b64encode(bytes(32)).decode()}))
    capsys.readouterr()
    assert await asyncio.to_thread(main, [*args, waves[1]]) == 1
    assert "Do not answer" in capsys.readouterr().err
    issued = await db.fetchval("select count(*) from token_issuances where campaign_id = $1::uuid", waves[1])
    assert issued == 0


async def test_the_log_key_command_prints_the_published_key(live_server, capsys):
    assert await asyncio.to_thread(main, ["transparency", "log-key", "--url", live_server]) == 0
    printed = capsys.readouterr().out.strip()
    async with httpx.AsyncClient(base_url=live_server) as http:
        assert printed == (await http.get("/api/transparency/log-key")).json()["public_key"]


async def test_transparency_verify_follows_the_log(live_server, tmp_path, capsys):
    state = str(tmp_path / "s.json")
    for _ in range(2):
        assert await asyncio.to_thread(main, ["transparency", "verify", "--url", live_server,
                                              "--log-state", state]) == 0
    assert "verified" in capsys.readouterr().out
