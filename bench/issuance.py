"""Issuance bursts (DESIGN.md budget: >= 0.7 x OpenSSL's RSA-PSS sign rate x cores).

The all-staff e-mail goes out and everyone signs in at once. Run with
``python bench/issuance.py``. In one run, on one embedded PostgreSQL and the real app
(``candor serve`` in its own process, its signing processes sized to the cores):

* the reference: OpenSSL's own RSA-PSS-SHA384 sign of a 2048-bit key through
  ``cryptography``, measured here, on an idle server, times the cores;
* the issuance burst: MEMBERS members, already signed in (sessions made beforehand),
  all at once do what the browser does after sign-in — the wave's token (GET token-key,
  POST one TokenRequest) and, at the same time on a second connection, the month's
  thread tokens (GET allowance, GET token-key, POST THREAD_TOKENS TokenRequests) —
  all through the HTTP API. Printed: signatures/s over the burst's wall time, its
  ratio to the reference (judged), and p50/p99 of each member's first request to last
  token;
* the sign-in burst, separately: SIGN_INS members posting their password at once. Sign-in
  is argon2id (RFC 9106), bounded by CANDOR_PASSWORD_HASH_CONCURRENCY and answered 503 +
  Retry-After beyond it, so it is limited by password hashing, not by signing; its rate
  and latencies are printed, not judged.

What is not measured, honestly: seeding (one SQL insert per table; one argon2 hash shared
by every account, and sessions inserted directly, because hashing 1,000 passwords is
what the sign-in burst measures); the client's blinding (TokenRequests are made before
the burst — a browser does that on its own CPU); the first use of each key (one warm-up
member is issued tokens before the burst, so the signing processes are running and hold
both keys). The load generator runs on the same machine and competes for its cores; the
TokenResponses are finalized (signatures verified) after the burst, outside the timing.
A 503 + Retry-After (a request waited longer than CANDOR_DB_ACQUIRE_TIMEOUT_SECONDS for a
database connection) is sent again after Retry-After, as a member reloading would; how
many is printed. Where the CPU went during the burst (the app's event loop, its signing
processes, PostgreSQL, the load generator; from /proc) is printed too, and from it the
most this request mix could issue on idle cores.
Exit status 1 when the ratio is below the budget or any request failed.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import secrets
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
import msgspec  # noqa: E402
from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import padding  # noqa: E402

from bench.submit import free_port, run, start_database, wait_ready  # noqa: E402
from crypto.keys import generate_issuer_key  # noqa: E402
from crypto.tokens import create_token_request, finalize_token  # noqa: E402
from service.auth import SESSION_COOKIE, new_session_token, token_hash  # noqa: E402
from service.issuance import cores  # noqa: E402

BUDGET = 0.7
MEMBERS = 1000
THREAD_TOKENS = 10  # CANDOR_THREAD_TOKENS_PER_MONTH's default
SIGN_INS = 100
RETRY_CAP = 2.0
PASSWORD = "bench password, shared by every account"
PUBLIC_URL = "https://bench.invalid"
BURST_TIMEOUT = 240
TOKEN_REQUEST = "application/private-token-request"


# --- a small HTTP/1.1 client (keep-alive, one request at a time per connection) -------------


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, cookie: str = "") -> None:
        self.reader, self.writer, self.cookie = reader, writer, cookie

    @classmethod
    async def open(cls, port: int, cookie: str = "") -> Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer, cookie)

    async def request(self, method: str, path: str, body: bytes = b"", *, content_type: str = "",
                      csrf: str = "", errors: list[str] | None = None,
                      retried: list[int] | None = None) -> tuple[int, dict[str, str], bytes]:
        """One request; with ``retried``, a 503 is sent again after its Retry-After (at most
        RETRY_CAP seconds), as a member reloading the page would, and counted there."""
        while True:
            status, headers, data = await self._once(method, path, body, content_type, csrf)
            if status != 503 or retried is None:
                break
            retried.append(1)
            await asyncio.sleep(min(float(headers.get("retry-after", "1")), RETRY_CAP))
        if errors is not None and status != 200:
            errors.append(f"{method} {path.split('/')[2]}/…/{path.rsplit('/', 1)[1]}: {status} "
                          f"{data[:160].decode(errors='replace')}")
        return status, headers, data

    async def _once(self, method: str, path: str, body: bytes, content_type: str,
                    csrf: str) -> tuple[int, dict[str, str], bytes]:
        head = [f"{method} {path} HTTP/1.1", "host: 127.0.0.1", f"origin: {PUBLIC_URL}"]
        if self.cookie:
            head.append(f"cookie: {SESSION_COOKIE}={self.cookie}")
        if csrf:
            head.append(f"x-csrf-token: {csrf}")
        if body or method == "POST":
            head += [f"content-type: {content_type}", f"content-length: {len(body)}"]
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        await self.writer.drain()
        status = int((await self.reader.readline()).split()[1])
        headers: dict[str, str] = {}
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        data = await self.reader.readexactly(int(headers.get("content-length", "0")))
        return status, headers, data

    async def json(self, method: str, path: str, value: object = None, *, csrf: str = "") -> object:
        body = b"" if value is None else msgspec.json.encode(value)
        status, _, data = await self.request(method, path, body, content_type="application/json", csrf=csrf)
        if status >= 300:
            raise RuntimeError(f"{method} {path}: {status} {data[:300]!r}")
        return msgspec.json.decode(data) if data else None

    def close(self) -> None:
        self.writer.close()


# --- seeding ----------------------------------------------------------------------------------


@dataclass
class Member:
    email: str
    session: str
    csrf: str
    wave_requests: list = field(default_factory=list)
    thread_requests: list = field(default_factory=list)
    start: float = 0.0
    end: float = 0.0
    statuses: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    retried: list[int] = field(default_factory=list)
    stage: dict[str, str] = field(default_factory=dict)  # flow -> what it is waiting for
    wave_body: bytes = b""
    thread_body: bytes = b""


async def seed(url: str, members: int) -> tuple[list[Member], Member]:
    """``members`` accounts plus a manager, in one audience group, with a session each:
    one insert per table. Every account shares one argon2 hash of PASSWORD."""
    from service.passwords import hash_password

    conn = await asyncpg.connect(url)
    try:
        password_hash = await hash_password(PASSWORD)
        emails = [f"m{i}@bench.example" for i in range(members)]
        ids = await conn.fetch(
            """insert into accounts (email, display_name, password_hash, roles)
               select e, e, $2, case when e like 'manager%' then '{member,manager}'::text[] else '{member}' end
               from unnest($1::text[]) e returning id, email""", [*emails, "manager@bench.example"], password_hash)
        by_email = {r["email"]: r["id"] for r in ids}
        group = await conn.fetchval("insert into groups (name) values ('everyone') returning id")
        await conn.execute("insert into group_members select $1, unnest($2::uuid[])", group,
                           [by_email[e] for e in emails])
        service = await conn.fetchval("insert into services (name) values ('Service Desk') returning id")
        await conn.execute("insert into service_owners values ($1, $2)", service, by_email["manager@bench.example"])
        people = [Member(e, new_session_token(), new_session_token()) for e in [*emails, "manager@bench.example"]]
        await conn.execute(
            """insert into sessions (token_hash, account_id, csrf_token)
               select * from unnest($1::bytea[], $2::uuid[], $3::text[])""",
            [token_hash(p.session) for p in people], [by_email[p.email] for p in people], [p.csrf for p in people])
    finally:
        await conn.close()
    return people[:-1], people[-1]


async def open_wave(port: int, manager: Member, url: str) -> str:
    """The manager creates and opens a wave for the group, through the API."""
    conn = await asyncpg.connect(url)
    try:
        group = str(await conn.fetchval("select id from groups where name = 'everyone'"))
        service = str(await conn.fetchval("select id from services where name = 'Service Desk'"))
    finally:
        await conn.close()
    http = await Connection.open(port, manager.session)
    try:
        today = date.today()
        wave = await http.json("POST", "/api/campaigns", {
            "title": "After the all-staff e-mail", "service_id": service, "instrument_id": "pulse",
            "audience_group_id": group, "opens_on": str(today), "closes_on": str(today + timedelta(days=14)),
            "k_scores": 5}, csrf=manager.csrf)
        assert isinstance(wave, dict)
        await http.json("POST", f"/api/campaigns/{wave['id']}/open", csrf=manager.csrf)
        return str(wave["id"])
    finally:
        http.close()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


async def published_keys(port: int, campaign_id: str) -> tuple[dict, dict]:
    """The wave's key, and this month's thread key (made by this first request for it)."""
    http = await Connection.open(port)
    try:
        wave = await http.json("GET", f"/api/campaigns/{campaign_id}/token-key")
        thread = await http.json("GET", "/api/threads/token-key")
    finally:
        http.close()
    assert isinstance(wave, dict) and isinstance(thread, dict)
    return wave, thread


def make_requests(members: list[Member], wave: dict, thread: dict) -> None:
    """Blind every member's TokenRequests beforehand (the browser's own CPU does this)."""
    wave_key, wave_challenge = b64url_decode(wave["token-key"]), b64url_decode(wave["challenge"])
    thread_key, thread_challenge = b64url_decode(thread["token-key"]), b64url_decode(thread["challenge"])
    for m in members:
        m.wave_requests = [create_token_request(wave_key, wave_challenge)]
        m.thread_requests = [create_token_request(thread_key, thread_challenge) for _ in range(THREAD_TOKENS)]


# --- the bursts -------------------------------------------------------------------------------


async def issue_to(port: int, member: Member, campaign_id: str) -> None:
    """One member after sign-in: the wave token and the month's thread tokens, at once."""

    async def wave_flow() -> None:
        member.stage["wave"] = "connect"
        http = await Connection.open(port, member.session)
        try:
            member.stage["wave"] = "GET token-key"
            status, _, _ = await http.request("GET", f"/api/campaigns/{campaign_id}/token-key",
                                              errors=member.errors, retried=member.retried)
            member.statuses.append(status)
            body = b"".join(r.encode() for r, _ in member.wave_requests)
            member.stage["wave"] = "POST token-requests"
            status, _, member.wave_body = await http.request(
                "POST", f"/api/campaigns/{campaign_id}/token-requests", body, content_type=TOKEN_REQUEST,
                csrf=member.csrf, errors=member.errors, retried=member.retried)
            member.statuses.append(status)
            member.stage["wave"] = "done"
        finally:
            http.close()

    async def thread_flow() -> None:
        member.stage["threads"] = "connect"
        http = await Connection.open(port, member.session)
        try:
            for path in ("/api/threads/allowance", "/api/threads/token-key"):
                member.stage["threads"] = f"GET {path.rsplit('/', 1)[1]}"
                status, _, _ = await http.request("GET", path, errors=member.errors, retried=member.retried)
                member.statuses.append(status)
            body = b"".join(r.encode() for r, _ in member.thread_requests)
            member.stage["threads"] = "POST token-requests"
            status, _, member.thread_body = await http.request(
                "POST", "/api/threads/token-requests", body, content_type=TOKEN_REQUEST, csrf=member.csrf,
                errors=member.errors, retried=member.retried)
            member.statuses.append(status)
            member.stage["threads"] = "done"
        finally:
            http.close()

    member.start = time.perf_counter()
    await asyncio.gather(wave_flow(), thread_flow())
    member.end = time.perf_counter()


def check_tokens(members: list[Member]) -> int:
    """Finalize every TokenResponse (verifies each signature); the number of tokens."""
    count = 0
    for m in members:
        for made, body in ((m.wave_requests, m.wave_body), (m.thread_requests, m.thread_body)):
            if len(body) != 256 * len(made):
                continue  # a refused request: counted in failures
            for i, (_, state) in enumerate(made):
                finalize_token(state, body[i * 256:(i + 1) * 256])
                count += 1
    return count


async def sign_in(port: int, email: str) -> tuple[float, int]:
    """One password sign-in, retried after Retry-After on 503 as a browser user would;
    (seconds to signed in, how many 503s)."""
    http = await Connection.open(port)
    busy = 0
    start = time.perf_counter()
    try:
        while True:
            body = msgspec.json.encode({"email": email, "password": PASSWORD})
            status, headers, data = await http.request("POST", "/api/auth/login", body,
                                                       content_type="application/json")
            if status == 200:
                return time.perf_counter() - start, busy
            if status != 503:
                raise RuntimeError(f"sign-in {email}: {status} {data[:200]!r}")
            busy += 1
            await asyncio.sleep(min(float(headers.get("retry-after", "1")), 1.0))
    finally:
        http.close()


# --- where the CPU went (Linux /proc) ------------------------------------------------------------


def _stats() -> dict[int, tuple[int, float]]:
    """pid -> (parent pid, CPU seconds so far) of every process."""
    ticks = os.sysconf("SC_CLK_TCK")
    found: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            found[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / ticks)
    return found


def cpu_split(app: int, postmaster: int | None) -> dict[str, float]:
    """CPU seconds so far of the app's process, its descendants (the signing processes),
    the PostgreSQL server's processes and this load generator."""
    stats = _stats()
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in stats.items():
        children.setdefault(parent, []).append(pid)

    def tree(root: int) -> float:
        todo, total = list(children.get(root, [])), 0.0
        while todo:
            pid = todo.pop()
            total += stats[pid][1]
            todo.extend(children.get(pid, []))
        return total

    times = os.times()
    return {"app (event loop)": stats.get(app, (0, 0.0))[1], "signing processes": tree(app),
            "postgres": (stats.get(postmaster, (0, 0.0))[1] + tree(postmaster)) if postmaster else 0.0,
            "load generator": times.user + times.system}


def postmaster_pid(root: Path) -> int | None:
    for found in root.rglob("postmaster.pid"):
        return int(found.read_text().split()[0])
    return None


async def issuer_alone(members: int) -> tuple[int, float, float]:
    """The same signatures through :class:`service.issuance.Issuer` and its signing
    processes in this process, without HTTP or database: (signatures, seconds, CPU seconds
    of this process). Shows what the signing layer itself sustains."""
    from uuid import uuid4

    from service.issuance import THREAD_PERIOD, WAVE, Issuer, IssuerKey, SigningPool, generate_keys

    kek = secrets.token_bytes(32)
    wave = await generate_keys(WAVE, uuid4(), issuer_name="bench", kek=kek)
    thread = await generate_keys(THREAD_PERIOD, date.today().replace(day=1), issuer_name="bench", kek=kek)
    keys: list[tuple[IssuerKey[Any], int]] = [(wave, 1), (thread, THREAD_TOKENS)]
    calls = [(key, [create_token_request(key.token_key, key.challenge)[0] for _ in range(count)])
             for _ in range(members) for key, count in keys]
    issuer, pool = Issuer(kek), SigningPool()
    issuer.pool = pool
    try:
        await pool.start()
        await asyncio.gather(*(issuer.issue(key, requests[:1]) for key, requests in calls[:2]))  # warm-up
        cpu, start = time.process_time(), time.perf_counter()
        await asyncio.wait_for(asyncio.gather(*(issuer.issue(key, requests) for key, requests in calls)),
                               BURST_TIMEOUT)
        return members * (1 + THREAD_TOKENS), time.perf_counter() - start, time.process_time() - cpu
    finally:
        await pool.close()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def pss_sign_rate(seconds: float = 0.5, rounds: int = 5) -> float:
    """OpenSSL RSA-PSS-SHA384 signatures per second on one core (median of rounds)."""
    key = generate_issuer_key()
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48)
    rates = []
    for _ in range(rounds):
        count, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds:
            for _ in range(20):
                key.sign(b"token input", pss, hashes.SHA384())
            count += 20
        rates.append(count / elapsed)
    return statistics.median(rates)


async def main(members_count: int, sign_ins: int) -> int:
    server, url, root = await start_database()
    kek = secrets.token_bytes(32)
    seeded = time.perf_counter()
    members, manager = await seed(url, members_count + 1 + sign_ins)
    seeded = time.perf_counter() - seeded
    warmup, burst_members, sign_in_members = members[0], members[1:members_count + 1], members[members_count + 1:]
    env = {**os.environ, "DATABASE_URL": url, "CANDOR_ENV": "production", "CANDOR_PUBLIC_URL": PUBLIC_URL,
           "CANDOR_SECRET_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
           "CANDOR_KEY_ENCRYPTION_KEY": base64.b64encode(kek).decode(), "CANDOR_LOG_LEVEL": "WARNING",
           "CANDOR_DATA_DIR": str(root)}
    port = free_port()
    # The app's output goes to a file, not a pipe nobody reads while it runs: a full pipe
    # would block the app's logging, and with it the whole event loop.
    log_path = root / "app.log"
    log_file = log_path.open("wb")
    app = subprocess.Popen([sys.executable, "-m", "service.cli", "serve", "--port", str(port)], cwd=ROOT, env=env,
                           stdout=log_file, stderr=subprocess.STDOUT)
    try:
        await wait_ready(port, app, "/healthz")
        campaign_id = await open_wave(port, manager, url)
        wave, thread = await published_keys(port, campaign_id)
        make_requests(members[:members_count + 1], wave, thread)
        reference = pss_sign_rate()  # on the idle server, before the burst
        await issue_to(port, warmup, campaign_id)

        postmaster = postmaster_pid(root)
        cpu_before = cpu_split(app.pid, postmaster)
        start = time.perf_counter()
        try:
            await asyncio.wait_for(asyncio.gather(*(issue_to(port, m, campaign_id) for m in burst_members)),
                                   BURST_TIMEOUT)
        except TimeoutError:
            stuck = Counter(f"{flow}: {stage}" for m in burst_members for flow, stage in m.stage.items()
                            if stage != "done")
            print(f"TIMEOUT: the burst did not finish in {BURST_TIMEOUT} s; still waiting: {dict(stuck)}")
            return 1
        elapsed = time.perf_counter() - start
        reference_after = pss_sign_rate()  # the machine may be busier or idler now: both count
        cpu = {name: spent - cpu_before[name] for name, spent in cpu_split(app.pid, postmaster).items()}

        sign_in_start = time.perf_counter()
        try:
            sign_in_results = await asyncio.wait_for(
                asyncio.gather(*(sign_in(port, m.email) for m in sign_in_members)), BURST_TIMEOUT)
        except TimeoutError:
            print(f"TIMEOUT: {sign_ins} password sign-ins did not finish in {BURST_TIMEOUT} s")
            return 1
        sign_in_elapsed = time.perf_counter() - sign_in_start
    finally:
        app.terminate()
        try:
            app.wait(timeout=30)
        except subprocess.TimeoutExpired:
            app.kill()
        log_file.close()
        output = log_path.read_text(errors="replace")
        server.cleanup()

    alone_tokens, alone_seconds, alone_cpu = await issuer_alone(members_count)
    failures = [(m.email, s) for m in [warmup, *burst_members] for s in m.statuses if s != 200]
    tokens = check_tokens(burst_members)
    engine = next((line for line in output.splitlines() if line.startswith("Blind signing:")), "Blind signing: ?")
    n = cores()
    reference_before, reference = reference, (reference + reference_after) / 2
    rate = tokens / elapsed
    ratio = rate / (reference * n)
    latencies = [(m.end - m.start) * 1000 for m in burst_members]
    sign_in_latencies = [seconds * 1000 for seconds, _ in sign_in_results]
    print(f"{engine}; {n} cores")
    logged = [line for line in output.splitlines() if line.startswith(("WARNING", "ERROR", "CRITICAL"))]
    if logged:
        print(f"the app logged {len(logged)} warnings/errors; first: {logged[0][:200]}")
    print(f"seeding: {members_count + 2 + sign_ins} accounts (one shared argon2 hash) and sessions, "
          f"one insert per table: {seeded:.2f} s (not measured below)")
    print(f"OpenSSL RSA-PSS-SHA384 sign, one core (cryptography, idle server; before {reference_before:.0f}, "
          f"after {reference_after:.0f}): {reference:8.0f} /s x {n} cores = {reference * n:.0f} /s")
    print(f"issuance burst: {members_count} signed-in members at once, each 1 wave + {THREAD_TOKENS} thread tokens "
          f"over HTTP (5 requests on 2 connections): {tokens} signatures in {elapsed:.2f} s = {rate:8.0f} /s")
    print(f"  sign-in-to-tokens latency: p50 {percentile(latencies, 0.5):7.0f} ms   "
          f"p99 {percentile(latencies, 0.99):7.0f} ms   max {max(latencies):7.0f} ms")
    retries = sum(len(m.retried) for m in burst_members)
    print(f"  503 + Retry-After answers (database connection wait over its limit), sent again: {retries}")
    print(f"  CPU during the burst ({elapsed * n:.2f} core-seconds available): "
          + ", ".join(f"{name} {spent:.2f} s" for name, spent in cpu.items())
          + f"; the signing processes signed {tokens / max(cpu['signing processes'], 1e-9):.0f} /CPU-s")
    per_member = {name: spent * 1000 / members_count for name, spent in cpu.items()}
    print("  CPU per member (ms): " + ", ".join(f"{name} {spent:.1f}" for name, spent in per_member.items())
          + f"; at these costs {n} idle cores would issue at most "
          + f"{tokens / max(sum(cpu.values()) - cpu['load generator'], 1e-9) * n:.0f} signatures/s")
    # What bounds the judged ratio on this machine: every core busy for the whole burst at
    # these CPU costs, the load generator's included (it shares the cores).
    print(f"  bound: with every core busy at these CPU costs (load generator included) the ratio would be at most "
          f"{tokens / max(sum(cpu.values()), 1e-9) / reference:.3f}")
    print(f"issuer alone (Issuer.issue + signing processes, no HTTP or database, not judged): {alone_tokens} "
          f"signatures in {alone_seconds:.2f} s = {alone_tokens / alone_seconds:8.0f} /s, "
          f"ratio {alone_tokens / alone_seconds / (reference * n):.3f}; "
          f"{alone_cpu * 1000 / (2 * members_count):.2f} ms of the calling process's CPU per call")
    if failures:
        print(f"  FAILED requests: {len(failures)}, by status {dict(Counter(s for _, s in failures))}; first: "
              f"{next(m.errors[0] for m in [warmup, *burst_members] if m.errors)}")
    print(f"sign-in burst (argon2id, password-hash concurrency bound, not judged): {sign_ins} at once in "
          f"{sign_in_elapsed:.2f} s = {sign_ins / sign_in_elapsed:.1f} sign-ins/s, "
          f"p50 {percentile(sign_in_latencies, 0.5):.0f} ms, p99 {percentile(sign_in_latencies, 0.99):.0f} ms, "
          f"{sum(b for _, b in sign_in_results)} answered 503 + Retry-After first; "
          f"{members_count} would take about {members_count * sign_in_elapsed / sign_ins:.0f} s")
    ok = ratio >= BUDGET and not failures
    verdict = "OK" if ok else "BELOW BUDGET" if not failures else "FAILED"
    print(f"RATIO issuance/(OpenSSL sign x cores) = {ratio:.3f} (budget >= {BUDGET}) {verdict}")
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--members", type=int, default=MEMBERS)
    parser.add_argument("--sign-ins", type=int, default=SIGN_INS)
    args = parser.parse_args()
    raise SystemExit(run(main(args.members, args.sign_ins)))
