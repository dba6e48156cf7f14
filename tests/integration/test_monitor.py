"""The stand-alone key-log monitor (monitor/candor_monitor.py) against the real app.

The monitor runs as a works council would run it: a separate process with its own state
file, talking HTTP to a real server (``live_server``). Each attack is staged the most
honest way available:

* in the database, as the operator (who holds the database and, through the key-encryption
  key, the log key) would: with the append-only triggers off (``session_replication_role =
  replica``), rows changed or added and, where the attack needs it, a head re-signed with the
  real log key;
* through a small proxy on 127.0.0.1 that rewrites the server's answers, for what the
  database cannot hold (a head without a signature) or to break exactly one proof.

Each test asserts the exit status (0 consistent, 1 inconsistent, 2 could not check), the
problem the report names, and that a failed run leaves the state file untouched. The RFC 9162
arithmetic of the monitor is also checked against ``tests/vectors/transparency.json``, the values
of the naive recursive implementation in tests/unit/crypto/test_transparency.py.
"""

from __future__ import annotations

import ast
import asyncio
import base64
import hashlib
import importlib.util
import json
import os
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import replace
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit
from uuid import UUID, uuid4

import asyncpg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from crypto.keys import generate_issuer_key, spki_from_public_key, token_key_id
from crypto.transparency import canonical_json, leaf_hash, log_public_key, merkle_root, sign_tree_head
from service.client import fetch_thread_key
from service.settings import Settings
from service.transparency import append, log_key
from tests.conftest import TEST_SETTINGS
from tests.integration.thread_helpers import signed_in
from tests.integration.wave_helpers import create_wave

ROOT = Path(__file__).resolve().parents[2]
MONITOR = ROOT / "monitor" / "candor_monitor.py"
VECTORS = ROOT / "tests" / "vectors" / "transparency.json"


# --- running the monitor --------------------------------------------------------------------


class Run:
    def __init__(self, completed: subprocess.CompletedProcess[str]) -> None:
        self.code = completed.returncode
        self.stderr = completed.stderr
        self.report: dict[str, Any] = json.loads(completed.stdout)

    @property
    def problems(self) -> str:
        return "\n".join(self.report["problems"])


async def monitor(url: str, state: Path, *args: str) -> Run:
    """Run the monitor in a process of its own, from an empty folder, with ``--json``."""
    command = [sys.executable, str(MONITOR), "--url", url, "--state", str(state), "--timeout", "20", "--json", *args]
    completed = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, timeout=90,
                                        cwd=state.parent)
    assert completed.stdout, completed.stderr
    return Run(completed)


async def consistent(url: str, state: Path, *args: str) -> Run:
    run = await monitor(url, state, *args)
    assert run.code == 0, run.report
    assert run.report["result"] == "consistent" and not run.report["problems"]
    return run


async def inconsistent(url: str, state: Path, *args: str) -> Run:
    before = state.read_bytes() if state.exists() else None
    run = await monitor(url, state, *args)
    assert run.code == 1, run.report
    assert run.report["result"] == "inconsistent" and run.report["publish"] is None
    assert (state.read_bytes() if state.exists() else None) == before, "a failed run must not save its head"
    return run


def served(url: str, path: str) -> Any:
    with urllib.request.urlopen(f"{url}/api/transparency/{path}", timeout=20) as response:
        return json.loads(response.read())


# --- the operator's tampering, in the database ----------------------------------------------


@asynccontextmanager
async def triggers_off(db: asyncpg.Connection) -> AsyncIterator[None]:
    """One transaction with the append-only triggers disabled, as a superuser could."""
    async with db.transaction():
        await db.execute("set local session_replication_role = replica")
        yield


async def resign(db: asyncpg.Connection, settings: Settings, *, key: Ed25519PrivateKey | None = None) -> None:
    """Sign a head over the entries as they now are and make it the latest, with the real log
    key (unless ``key``): what an operator holding the key-encryption key can do."""
    signer = key or await log_key(db, settings.key_encryption_key)
    hashes = [bytes(r["leaf_hash"]) for r in
              await db.fetch("select leaf_hash from transparency_entries order by leaf_index")]
    head = sign_tree_head(signer, len(hashes), merkle_root(hashes), date.today())
    async with triggers_off(db):
        await db.execute("delete from transparency_tree_heads where tree_size >= $1", head.tree_size)
        await db.execute("insert into transparency_tree_heads (tree_size, root_hash, issued_on, signature) "
                         "values ($1, $2, $3, $4)", head.tree_size, head.root_hash, head.issued_on, head.signature)


def fresh_key() -> tuple[str, str]:
    """(token_key_id hex, token_key base64url) of a new issuer key."""
    spki = spki_from_public_key(generate_issuer_key().public_key())
    return token_key_id(spki).hex(), base64.urlsafe_b64encode(spki).rstrip(b"=").decode()


async def entry_at(db: asyncpg.Connection, index: int) -> dict[str, str]:
    raw = await db.fetchval("select entry from transparency_entries where leaf_index = $1", index)
    assert raw is not None, f"no entry {index}"
    return json.loads(raw)


async def rewrite_entry(db: asyncpg.Connection, index: int, change: Callable[[dict[str, str]], None]) -> None:
    """Change entry ``index`` in place (its bytes, hash and look-up columns)."""
    entry = await entry_at(db, index)
    change(entry)
    raw = canonical_json(entry)
    async with triggers_off(db):
        await db.execute("update transparency_entries set entry = $2, leaf_hash = $3, token_key_id = $4 "
                         "where leaf_index = $1", index, raw, leaf_hash(raw), bytes.fromhex(entry["token_key_id"]))


async def append_entry(db: asyncpg.Connection, entry: dict[str, str]) -> None:
    """Append an entry row directly. Its look-up columns name a made-up wave, so the table's
    one-key-per-wave constraint is satisfied while the entry itself names ``entry["id"]``."""
    raw = canonical_json(entry)
    async with triggers_off(db):
        await db.execute(
            "insert into transparency_entries (leaf_index, token_key_id, kind, campaign_id, entry, leaf_hash) "
            "values ((select count(*) from transparency_entries), $1, 'wave', gen_random_uuid(), $2, $3)",
            bytes.fromhex(entry["token_key_id"]), raw, leaf_hash(raw))


# --- a proxy that doctors answers -----------------------------------------------------------


Doctor = Callable[[str, dict[str, str], Any], Any]


@contextmanager
def doctored(upstream: str, doctor: Doctor) -> Iterator[str]:
    """An HTTP server on 127.0.0.1 passing GETs to ``upstream`` and each JSON answer through
    ``doctor(endpoint, query, body)``; a ``bytes`` result is sent as it is (not JSON)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            parts = urlsplit(self.path)
            try:
                with urllib.request.urlopen(upstream + self.path, timeout=20) as response:
                    status, body = response.status, json.loads(response.read())
            except urllib.error.HTTPError as error:
                status, body = error.code, json.loads(error.read())
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            changed = doctor(parts.path.rsplit("/", 1)[-1], query, body)
            data = changed if isinstance(changed, bytes) else json.dumps(changed).encode()
            self.send_response(status)
            self.send_header("content-type", "text/html" if isinstance(changed, bytes) else "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format, *args):  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def flip(b64: str) -> str:
    raw = bytearray(base64.b64decode(b64))
    raw[0] ^= 1
    return base64.b64encode(bytes(raw)).decode()


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / "monitor-state.json"


async def log_new_key(db: asyncpg.Connection, settings: Settings, kind: Literal["wave", "thread-period"] = "wave",
                      owner: UUID | date | None = None) -> None:
    """Append a fresh issuer key the way opening a wave or a month does (service.transparency.append,
    in one transaction); quicker than opening a wave through the API, which the first test does."""
    spki = spki_from_public_key(generate_issuer_key().public_key())
    async with db.transaction():
        await append(db, kek=settings.key_encryption_key, kind=kind, owner=owner or uuid4(), token_key=spki,
                     token_key_id=token_key_id(spki), opened_on=date.today())


@pytest.fixture
async def three_keys(db, settings, live_server) -> str:
    """A live server whose log holds two waves' keys and this month's thread key."""
    await log_new_key(db, settings)
    await log_new_key(db, settings)
    await log_new_key(db, settings, "thread-period", date.today().replace(day=1))
    return live_server


# --- consistent logs ------------------------------------------------------------------------


async def test_consistent_twice_then_grows_with_a_new_wave(client, db, live_server, state):
    await create_wave(client, db, title="First")
    first = await consistent(live_server, state)
    assert first.report["first_run"] is True
    published = first.report["publish"]
    assert published["tree_size"] == 1
    # What to publish: SHA-256 of the canonical JSON of the signed head, computed here independently.
    head = served(live_server, "tree-head")
    assert published["head_sha256"] == hashlib.sha256(
        json.dumps(head, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    assert published["root_hash"] == head["root_hash"]
    saved = json.loads(state.read_text())
    assert saved["tree_head"] == head and saved["log_key"] == served(live_server, "log-key")["public_key"]

    again = await consistent(live_server, state)
    assert again.report["first_run"] is False and again.report["publish"] == published

    await create_wave(client, db, title="Second")
    grown = await consistent(live_server, state)
    assert grown.report["publish"]["tree_size"] == 2
    assert grown.report["publish"]["root_hash"] != published["root_hash"]
    assert grown.report["previous"]["tree_size"] == 1
    assert any("the server's proof verified" in c for c in grown.report["checks"])
    assert json.loads(state.read_text())["tree_head"]["tree_size"] == 2


async def test_text_report_names_the_value_to_publish(client, db, live_server, state):
    await create_wave(client, db, title="First")
    await create_wave(client, db, title="Second")
    await signed_in(client, "member")
    await fetch_thread_key(client)  # this month's thread key, logged when first made
    completed = await asyncio.to_thread(
        subprocess.run, [sys.executable, str(MONITOR), "--url", live_server, "--state", str(state)],
        capture_output=True, text=True, timeout=90, cwd=state.parent)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    head = served(live_server, "tree-head")
    assert "CONSISTENT" in completed.stdout
    assert f"tree_size=3 root_hash={head['root_hash']}" in completed.stdout
    assert "2 wave(s), 1 thread period(s)" in completed.stdout


async def test_a_log_longer_than_one_page(db, settings, three_keys, state):
    """The server answers at most 256 entries per request; the monitor pages on. The keys
    are placeholder bytes (the log records any key; the monitor checks only that its id is
    SHA-256 of it), so that 300 entries cost no RSA key generation."""
    await consistent(three_keys, state)
    async with db.transaction():
        for _ in range(300):
            placeholder = os.urandom(64)
            await append(db, kek=settings.key_encryption_key, kind="wave", owner=uuid4(), token_key=placeholder,
                         token_key_id=hashlib.sha256(placeholder).digest(), opened_on=date.today())
    run = await consistent(three_keys, state, "--inclusion-checks", "5")
    assert run.report["publish"]["tree_size"] == 303
    assert "302 wave(s), 1 thread period(s)" in "\n".join(run.report["checks"])
    assert any("the server's proof verified" in c for c in run.report["checks"])


class TestTheDemoOrganisation:
    """`make run`'s data: the demo organisation, its open wave and thread keys."""

    @pytest.fixture
    async def settings(self, empty_database_url) -> Settings:
        """Overrides the test-wide ``settings``, so ``live_server`` serves the demo database."""
        from service.db import init_connection
        from service.demo import seed_demo
        from service.migrate import migrate

        demo_settings = replace(TEST_SETTINGS, database_url=empty_database_url)
        conn = await asyncpg.connect(empty_database_url)
        try:
            await init_connection(conn)
            await migrate(conn)
            assert await seed_demo(conn, demo_settings)
        finally:
            await conn.close()
        return demo_settings

    async def test_run_twice_it_reports_a_consistent_log(self, live_server, tmp_path):
        state = tmp_path / "demo-state.json"
        first = await consistent(live_server, state)
        assert first.report["publish"]["tree_size"] >= 1
        second = await consistent(live_server, state)
        assert second.report["publish"] == first.report["publish"]


# --- tampering, each detected with exit 1 ---------------------------------------------------


async def test_a_changed_entry_no_longer_matches_the_signed_head(three_keys, db, state):
    await consistent(three_keys, state)
    new_id, new_key = fresh_key()
    await rewrite_entry(db, 0, lambda e: e.update(token_key_id=new_id, token_key=new_key))
    run = await inconsistent(three_keys, state)
    assert "do not hash to the signed root" in run.problems


async def test_a_changed_entry_under_a_re_signed_head_is_a_fork(three_keys, db, settings, state):
    """The operator swaps a wave's key and re-signs with the real log key: the new head is
    valid on its own, but not an extension of the head seen before."""
    await consistent(three_keys, state)
    new_id, new_key = fresh_key()
    await rewrite_entry(db, 1, lambda e: e.update(token_key_id=new_id, token_key=new_key))
    await resign(db, settings)
    assert (await monitor(three_keys, state.with_name("fresh.json"))).code == 0  # a newcomer sees nothing wrong
    run = await inconsistent(three_keys, state)
    assert "no longer hash to the head seen before (size 3" in run.problems


async def test_a_forked_tree_that_grew_is_detected(db, settings, three_keys, state):
    """The state holds a head of history A; the server now serves history B (entry 0
    replaced, re-signed) and has grown since: the old root is not a prefix of the new tree."""
    await consistent(three_keys, state)
    new_id, new_key = fresh_key()
    await rewrite_entry(db, 0, lambda e: e.update(token_key_id=new_id, token_key=new_key))
    await resign(db, settings)
    await log_new_key(db, settings)
    assert served(three_keys, "tree-head")["tree_size"] == 4
    run = await inconsistent(three_keys, state)
    assert "no longer hash to the head seen before (size 3" in run.problems


async def test_a_log_that_shrank_is_detected(three_keys, db, settings, state):
    await consistent(three_keys, state)
    async with triggers_off(db):
        await db.execute("delete from transparency_entries where leaf_index = 2")
    await resign(db, settings)
    run = await inconsistent(three_keys, state)
    assert "the log shrank" in run.problems


async def test_a_second_key_for_one_wave(three_keys, db, settings, state):
    """Appended and signed properly — the log stays consistent with what was seen — but it
    names a second key for a wave: one member could have been given that key."""
    await consistent(three_keys, state)
    first = await entry_at(db, 0)
    new_id, new_key = fresh_key()
    await append_entry(db, {**first, "token_key_id": new_id, "token_key": new_key})
    await resign(db, settings)
    run = await inconsistent(three_keys, state)
    assert f"wave {first['id']} has a second key: entries 0 and 3" in run.problems
    assert not any("consistency" in p for p in run.report["problems"])  # it was a proper append


async def test_a_key_id_that_is_not_the_hash_of_its_key(three_keys, db, settings, state):
    other_id, _ = fresh_key()
    await rewrite_entry(db, 1, lambda e: e.update(token_key_id=other_id))
    await resign(db, settings)
    run = await inconsistent(three_keys, state)
    assert "entry 1: token_key_id is not SHA-256 of its token_key" in run.problems


async def test_a_wrongly_signed_head(three_keys, db, state):
    await consistent(three_keys, state)
    size = await db.fetchval("select max(tree_size) from transparency_tree_heads")
    head = served(three_keys, "tree-head")
    stranger = Ed25519PrivateKey.generate().sign(json.dumps(
        {k: head[k] for k in ("issued_on", "root_hash", "tree_size")}, sort_keys=True, separators=(",", ":")).encode())
    async with triggers_off(db):
        await db.execute("update transparency_tree_heads set signature = $2 where tree_size = $1", size, stranger)
    run = await inconsistent(three_keys, state)
    assert "signature does not verify under the log key" in run.problems


async def test_a_head_signed_for_other_contents(three_keys, state):
    """A genuine signature moved onto a head with another size: it covers every field."""
    with doctored(three_keys, lambda path, _q, body: {**body, "tree_size": 2} if path == "tree-head" else body) as url:
        run = await inconsistent(url, state)
    assert "signature does not verify" in run.problems


@pytest.mark.parametrize("unsign", [lambda h: {k: v for k, v in h.items() if k != "signature"},
                                    lambda h: {**h, "signature": ""}], ids=["missing", "empty"])
async def test_an_unsigned_head(three_keys, state, unsign):
    with doctored(three_keys, lambda path, _q, body: unsign(body) if path == "tree-head" else body) as url:
        run = await inconsistent(url, state)
    assert "the tree head is not signed" in run.problems


async def test_a_changed_log_key(three_keys, db, settings, state):
    """The operator replaces the log key and re-signs everything with the new one: each
    answer is valid under the new key, and only the pinned key shows the change."""
    await consistent(three_keys, state)
    pinned = json.loads(state.read_text())["log_key"]
    replacement = Ed25519PrivateKey.generate()
    async with triggers_off(db):
        await db.execute("update transparency_log_key set public_key = $1", log_public_key(replacement))
    await resign(db, settings, key=replacement)
    run = await inconsistent(three_keys, state)
    assert f"the server's log key changed: pinned {pinned}" in run.problems
    # Without the state file, the key given on the command line catches it.
    run = await inconsistent(three_keys, state.with_name("new.json"), "--log-key", pinned)
    assert "the server's log key changed" in run.problems


async def test_a_consistency_proof_that_does_not_verify(db, settings, three_keys, state):
    await consistent(three_keys, state)
    await log_new_key(db, settings)

    def break_proof(path, _query, body):
        if path == "consistency":
            body["proof"][-1] = flip(body["proof"][-1])
        return body

    with doctored(three_keys, break_proof) as url:
        run = await inconsistent(url, state)
    assert "consistency proof from size 3 to 4 does not verify" in run.problems
    await consistent(three_keys, state)  # the server itself is fine


async def test_an_inclusion_proof_that_does_not_verify(three_keys, state):
    def break_path(path, _query, body):
        if path == "inclusion":
            body["audit_path"][0] = flip(body["audit_path"][0])
        return body

    with doctored(three_keys, break_path) as url:
        run = await inconsistent(url, state, "--inclusion-checks", "3")
    assert run.problems.count("does not verify (RFC 9162 §2.1.3.2)") == 3


# --- could not check: exit 2, nothing concluded ---------------------------------------------


async def test_an_unreachable_server_could_not_be_checked(three_keys, state):
    await consistent(three_keys, state)
    before = state.read_bytes()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once the socket closes
    run = await monitor(f"http://127.0.0.1:{port}", state, "--timeout", "5")
    assert run.code == 2 and run.report["result"] == "unchecked"
    assert "failed" in run.report["could_not_check"]
    assert state.read_bytes() == before


async def test_an_answer_that_is_not_json_could_not_be_checked(three_keys, state):
    with doctored(three_keys, lambda path, _q, body: b"<html>" if path == "entries" else body) as url:
        run = await monitor(url, state)
    assert run.code == 2 and "not JSON" in run.report["could_not_check"]
    assert not state.exists()


# --- the file itself ------------------------------------------------------------------------


def test_the_monitor_imports_only_the_standard_library_and_cryptography():
    tree = ast.parse(MONITOR.read_text())
    modules = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
               for alias in node.names}
    modules |= {node.module.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0}
    outside = {m for m in modules if m not in sys.stdlib_module_names} - {"__future__"}
    assert outside == {"cryptography"}


def _load_monitor() -> Any:
    spec = importlib.util.spec_from_file_location("candor_monitor", MONITOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["candor_monitor"] = module
    spec.loader.exec_module(module)
    return module


def test_the_monitors_tree_arithmetic_matches_the_naive_rfc_9162_vectors():
    """Against the values of the recursive RFC 9162 §2.1 definitions (MTH, PATH, PROOF) in
    tests/unit/crypto/test_transparency.py; each proof must also fail for a wrong root."""
    m = _load_monitor()
    vectors = json.loads(VECTORS.read_text())
    unb64 = base64.b64decode
    assert [m.canonical_json(e) for e in vectors["entries"]] == [e.encode() for e in vectors["entry_bytes"]]
    leaves = [m.leaf_hash(m.canonical_json(e)) for e in vectors["entries"]]
    assert [base64.b64encode(x).decode() for x in leaves] == vectors["leaf_hashes"]
    roots = {}
    for head in vectors["tree_heads"]:
        roots[head["tree_size"]] = root = unb64(head["root_hash"])
        assert m.merkle_root(leaves[: head["tree_size"]]) == root
        assert m.parse_head(head).verify(unb64(vectors["log_key"]["public_key"])) is None
    for case in vectors["inclusion"]:
        index, size, path = case["leaf_index"], case["tree_size"], [unb64(p) for p in case["audit_path"]]
        assert m.verify_inclusion(leaves[index], index, size, path, roots[size])
        assert not m.verify_inclusion(leaves[index], index, size, path, roots[size][::-1])
    checked = 0
    for case in vectors["consistency"]:
        first, second, proof = case["first"], case["second"], [unb64(p) for p in case["proof"]]
        if 0 < first < second:
            checked += 1
            assert m.verify_consistency(first, second, roots[first], roots[second], proof)
            assert not m.verify_consistency(first, second, roots[first][::-1], roots[second], proof)
            assert not m.verify_consistency(first, second, roots[first], roots[second], proof[:-1])
    assert checked >= 20
