"""Anonymous submission throughput (issue 19 budget: >= 0.95 x a minimal endpoint).

Run with ``python bench/submit.py`` (``--workers N`` for one comparison at N app
processes; by default both 1 and 2 are measured and judged). In one run, on one
embedded PostgreSQL:

* Candor: the real app (``candor serve`` in its own process) answering
  ``POST /anon/campaigns/{id}/responses`` with pre-issued Privacy Pass tokens — token
  parsing and RSA verification, answer validation, receipt, nonce spent and response
  stored in one transaction;
* baseline: ``bench/baseline/submit_app.py``, a minimal Litestar + asyncpg endpoint in
  its own process that inserts the same two rows with no token or validation work.

At two workers it is ``candor serve --workers 2`` against the baseline under
``uvicorn --workers 2``: the same server, event loop and HTTP parser on both sides
(uvicorn's "auto": uvloop and httptools where installed).

Both are driven by the same small keep-alive HTTP/1.1 load generator over 127.0.0.1
(``CONCURRENCY`` connections), in alternating rounds; the median and best rounds of
each are reported with p50/p99 latency, and the ratio of the medians is judged. Exit
status 1 when a ratio is below the budget. The servers' output goes to files, not to a
pipe nobody reads while they run (a full pipe would stall a server's logging, and with it
its event loop).
The tokens are issued beforehand with the wave's own key (issuance is not what is
measured here; bench/crypto.py measures signing).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Coroutine
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
import msgspec  # noqa: E402

from crypto.blindrsa import SigningKey  # noqa: E402
from crypto.tokens import create_token_request, finalize_token, format_authorization, issue_token_response  # noqa: E402
from instruments import load_builtin  # noqa: E402
from service.db import init_connection  # noqa: E402

BUDGET = 0.95
CONCURRENCY = 16
WARMUP = 200
REQUESTS = 2000
ROUNDS = 7
INSTRUMENT = "servqual"


def run(main: Coroutine[Any, Any, int]) -> int:
    """Run a benchmark's load generator on uvloop where installed (a runtime dependency):
    it shares the machine's cores with what it measures, so the less CPU it takes, the
    less it slows both sides."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answers() -> bytes:
    instrument = load_builtin(INSTRUMENT)
    body = {
        "items": {i.key: {c: 1 + (n % 7) for c in instrument.columns} for n, i in enumerate(instrument.items)},
        "importance": {"tangibles": 10, "reliability": 30, "responsiveness": 20, "assurance": 20, "empathy": 20},
        "comments": {"general": "Mostly fine; the phone queue is long."},
    }
    return msgspec.json.encode(body)


async def wait_ready(port: int, proc: subprocess.Popen, path: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited ({proc.returncode}): {output(proc)[-4000:]}")
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(f"GET {path} HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n".encode())
            await writer.drain()
            line = await reader.readline()
            writer.close()
            if line:
                return
        except OSError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("server did not start")


async def load(port: int, path: str, body: bytes, headers: list[str], count: int) -> tuple[float, list[float]]:
    """Send ``count`` POSTs over CONCURRENCY keep-alive connections; return (seconds, latencies)."""
    queue: asyncio.Queue[str] = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(headers[i] if headers else "")
    latencies: list[float] = []
    statuses: dict[int, int] = {}

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while not queue.empty():
                extra = queue.get_nowait()
                head = (f"POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n"
                        f"content-length: {len(body)}\r\n{extra}\r\n").encode()
                start = time.perf_counter()
                writer.write(head + body)
                await writer.drain()
                status_line = await reader.readline()
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                await reader.readexactly(length)
                latencies.append(time.perf_counter() - start)
                code = int(status_line.split()[1])
                statuses[code] = statuses.get(code, 0) + 1
        finally:
            writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    elapsed = time.perf_counter() - start
    if set(statuses) != {201}:
        raise RuntimeError(f"unexpected statuses {statuses}")
    return elapsed, latencies


async def prepare(url: str, kek: bytes, tokens_needed: int) -> tuple[str, list[str]]:
    """An opened wave and ``tokens_needed`` Authorization headers for it."""
    from service import transparency
    from service.issuance import WAVE, generate_keys
    from service.passwords import hash_password
    from service.queries import campaigns as q
    from service.queries.campaigns import CampaignKeys
    from service.waves import build_manifest, canonical_hash

    conn = await asyncpg.connect(url)
    await init_connection(conn)
    try:
        password_hash = await hash_password("bench password")
        ids = [await conn.fetchval(
            "insert into accounts (email, display_name, password_hash) values ($1, $1, $2) returning id",
            f"m{i}@bench.example", password_hash) for i in range(5)]
        group = await conn.fetchval("insert into groups (name) values ('bench') returning id")
        await conn.execute("insert into group_members select $1, unnest($2::uuid[])", group, ids)
        service = await conn.fetchval("insert into services (name) values ('bench') returning id")
        digest = await conn.fetchval("select hash from instruments where id = $1 and builtin", INSTRUMENT)
        campaign_id = await q.insert_campaign(
            conn, title="bench", description="", service_id=service, instrument_hash=digest,
            audience_group_id=group, opens_on=date.today() - timedelta(days=1),
            closes_on=date.today() + timedelta(days=1), k_scores=5, k_comments=10, created_by=ids[0])
        size = await q.snapshot_audience(conn, campaign_id=campaign_id)
        keys = await generate_keys(WAVE, campaign_id, issuer_name="localhost", kek=kek)
        campaign = await q.select_campaign(conn, campaign_id=campaign_id)
        assert campaign is not None
        manifest = build_manifest(campaign, keys, size)
        async with conn.transaction():
            await transparency.open_wave(conn, keys=keys, manifest=manifest, manifest_hash=canonical_hash(manifest),
                                         audience_size=size, kek=kek)
        stored: CampaignKeys | None = await q.select_keys(conn, campaign_id=campaign_id)
        assert stored is not None
    finally:
        await conn.close()
    from service.issuance import private_key
    from service.waves import wave_key

    signer = SigningKey(private_key(wave_key(stored), kek))
    headers = []
    for _ in range(tokens_needed):
        request, state = create_token_request(stored.token_key, stored.challenge)
        token = finalize_token(state, issue_token_response(signer, stored.token_key_id, request))
        headers.append(f"authorization: {format_authorization(token)}\r\n")
    return str(campaign_id), headers


_LOGS: dict[int, Path] = {}  # pid -> the file a server started by start() writes its output to


def start(cmd: list[str], env: dict[str, str]) -> subprocess.Popen:
    """A server process whose output goes to a file (see :func:`output`)."""
    fd, name = tempfile.mkstemp(prefix="candor-bench-", suffix=".log")
    with os.fdopen(fd, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    _LOGS[proc.pid] = Path(name)
    return proc


def output(proc: subprocess.Popen) -> str:
    """What a server started by :func:`start` has written so far."""
    log = _LOGS.get(proc.pid)
    return log.read_text(errors="replace") if log is not None and log.exists() else ""


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=30)
    log = _LOGS.pop(proc.pid, None)
    if log is not None:
        log.unlink(missing_ok=True)


def summary(name: str, runs: list[tuple[float, list[float]]]) -> tuple[float, float]:
    """Print one side's rounds; return (best, median) requests per second."""
    rates = [REQUESTS / seconds for seconds, _ in runs]
    best_run = runs[rates.index(max(rates))]
    lat = sorted(best_run[1])
    p50, p99 = lat[len(lat) // 2] * 1000, lat[int(len(lat) * 0.99)] * 1000
    best, median = max(rates), statistics.median(rates)
    print(f"{name:10} best {best:6.0f} req/s  median {median:6.0f} req/s   p50 {p50:5.1f} ms   p99 {p99:5.1f} ms"
          "   rounds: " + ", ".join(f"{r:.0f}" for r in rates))
    return best, median


async def start_database() -> tuple[Any, str, Path]:
    """A private embedded PostgreSQL with a migrated ``bench`` database: (server, url, folder)."""
    from service.embedded import start_embedded
    from service.instruments import sync_builtin_instruments
    from service.migrate import migrate

    root = Path(tempfile.mkdtemp(prefix="candor-bench-"))
    os.environ["XDG_RUNTIME_DIR"] = str(root)
    server = start_embedded(root, keep=False)
    admin = await asyncpg.connect(server.get_uri())
    await admin.execute("create database bench")
    await admin.close()
    url = server.get_uri("bench")
    conn = await asyncpg.connect(url)
    await init_connection(conn)
    await migrate(conn)
    await sync_builtin_instruments(conn)
    await conn.close()
    return server, url, root


async def compare(workers: int, url: str, env: dict[str, str], path: str, body: bytes,
                  headers: list[str]) -> float:
    """Candor and the baseline at ``workers`` processes each, in alternating rounds;
    prints both and returns the ratio of the medians."""
    candor_port, base_port = free_port(), free_port()
    candor = start([sys.executable, "-m", "service.cli", "serve", "--port", str(candor_port),
                    "--workers", str(workers)], env)
    baseline = start([sys.executable, "-m", "uvicorn", "bench.baseline.submit_app:app", "--port", str(base_port),
                      "--workers", str(workers), "--no-access-log", "--log-level", "warning"], env)
    results: dict[str, list] = {"candor": [], "baseline": []}
    try:
        await wait_ready(candor_port, candor, "/healthz")
        await wait_ready(base_port, baseline, "/")
        for _ in range(ROUNDS):
            await load(base_port, path, body, [], WARMUP)
            results["baseline"].append(await load(base_port, path, body, [], REQUESTS))
            await load(candor_port, path, body, [headers.pop() for _ in range(WARMUP)], WARMUP)
            results["candor"].append(
                await load(candor_port, path, body, [headers.pop() for _ in range(REQUESTS)], REQUESTS))
        logged = [line for line in output(candor).splitlines() if line.startswith(("WARNING", "ERROR", "CRITICAL"))]
    finally:
        stop(candor)
        stop(baseline)
    print(f"anonymous submission, {INSTRUMENT} answers, {workers} worker process(es) on each side, "
          f"{CONCURRENCY} connections, {REQUESTS} requests x {ROUNDS} rounds")
    if logged:
        print(f"  candor logged {len(logged)} warnings/errors; first: {logged[0][:200]}")
    base_best, base_median = summary("baseline", results["baseline"])
    candor_best, candor_median = summary("candor", results["candor"])
    # Median against median over alternating rounds: one round that anything else on the
    # 2-core machine slowed or sped up moves neither side's median (best/best is shown too).
    ratio = candor_median / base_median
    verdict = "OK" if ratio >= BUDGET else "BELOW BUDGET"
    print(f"RATIO candor/baseline ({workers} worker{'s' if workers > 1 else ''}) = {ratio:.3f} median/median, "
          f"{candor_best / base_best:.3f} best/best (budget >= {BUDGET}) {verdict}")
    return ratio


async def main(worker_counts: list[int]) -> int:
    server, url, root = await start_database()
    kek = secrets.token_bytes(32)
    try:
        campaign_id, headers = await prepare(url, kek, len(worker_counts) * ROUNDS * (REQUESTS + WARMUP))
        path = f"/anon/campaigns/{campaign_id}/responses"
        body = answers()
        env = {**os.environ, "DATABASE_URL": url, "CANDOR_ENV": "production",
               "CANDOR_PUBLIC_URL": "https://bench.invalid",
               "CANDOR_SECRET_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
               "CANDOR_KEY_ENCRYPTION_KEY": base64.b64encode(kek).decode(), "CANDOR_LOG_LEVEL": "WARNING",
               "CANDOR_DATA_DIR": str(root), "BENCH_INSTRUMENT": INSTRUMENT}
        ratios = [await compare(workers, url, env, path, body, headers) for workers in worker_counts]
    finally:
        server.cleanup()
    return 0 if min(ratios) >= BUDGET else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--workers", type=int, action="append",
                        help="app processes on each side (repeatable; default: 1 and 2)")
    args = parser.parse_args()
    raise SystemExit(run(main(args.workers or [1, 2])))
