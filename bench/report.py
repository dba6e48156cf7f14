"""Gap report from the database to JSON at 100,000 and 1,000,000 responses (issue 19).

Run with ``python bench/report.py`` (both sizes) or ``--responses N`` (one size). For each
size it stores N synthetic SERVQUAL responses (22 items × E, P with a few "not
applicable" answers, the importance allocation and the overall-satisfaction item, so the
key-driver bootstrap runs too) in one closed wave on its own embedded PostgreSQL (stored
as a closed wave's rows are after its scrub pass, so no housekeeping competes), starts
the real app (``candor serve`` in its own process) and times ``GET
/api/campaigns/{id}/report`` as a manager: end to end over 127.0.0.1. The app's peak
memory is its peak resident set (``VmHWM``) after the request. Seeding is not timed.

A closed wave's report is computed once from its responses and stored
(``service.report_snapshots``): by the ``report_builder`` job soon after the wave closes,
or by its first reader. Both are measured, each request on a freshly started server (an
empty process cache):

* the computation: the first read of the closed wave, which reads every response (one
  binary COPY), runs the analysis and the key-driver bootstrap, stores the report and
  answers — printed, not judged (it happens once per wave, in the background);
* the read: TIMED later reads, each from a fresh server, of the stored report — judged,
  and checked to be byte for byte the JSON the computation answered.

Budgets: a read of 100,000 responses' report under 0.3 s, of 1,000,000 under 1 s, the app
under 1 GB while computing and reading. Exit status 1 when any is exceeded.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import secrets
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
import httpx  # noqa: E402
import msgspec  # noqa: E402
import numpy as np  # noqa: E402

from bench.submit import free_port, prepare, start, start_database, wait_ready  # noqa: E402

SIZES = (100_000, 1_000_000)
MEMORY_BUDGET = 1 << 30
TIMED = 3
CHUNK = 50_000
ITEMS, COLUMNS, DIMENSIONS = 22, 2, 5
NA_RATE = 0.002
INT2_OID = 21


def time_budget(n: int) -> float:
    return 0.3 if n <= 100_000 else 1.0


def _int2_array(values: np.ndarray) -> np.ndarray:
    """PostgreSQL binary ``smallint[]`` bodies of the rows of ``values`` (no nulls), as a
    structured array: header (ndim, hasnull, element oid, length, lower bound), then a
    (length, value) pair per element, all big-endian."""
    n, width = values.shape
    dtype = np.dtype([("head", ">i4", 5), ("elems", [("len", ">i4"), ("v", ">i2")], width)])
    out = np.zeros(n, dtype)
    out["head"] = (1, 0, INT2_OID, width, 1)
    out["elems"]["len"] = 2
    out["elems"]["v"] = values
    return out


def synthetic_chunk(campaign: uuid.UUID, rng: np.random.Generator, ids: np.random.Generator, n: int) -> bytes:
    """``n`` synthetic responses as binary COPY rows (no file header): answers from
    ``rng`` (the same in every run), ids and receipts from ``ids``."""
    gaps = np.repeat([-0.3, -1.5, -1.1, -0.4, -0.7], [4, 5, 4, 4, 5])
    e = np.clip(np.rint(rng.normal(6.0, 0.7, (n, ITEMS))), 1, 7)
    p = np.clip(np.rint(6.0 + gaps + rng.normal(0, 1.0, (n, ITEMS))), 1, 7)
    values = np.stack([e, p], axis=2).reshape(n, ITEMS * COLUMNS).astype(np.int16)
    satisfaction = np.clip(np.rint(p.mean(axis=1, keepdims=True) + rng.normal(0, 0.8, (n, 1))), 1, 7)
    na = rng.random((n, ITEMS * COLUMNS)) < NA_RATE  # a null element: length -1 and no value
    items = _int2_array(values)
    items["head"][:, 1] = na.any(axis=1)
    items["elems"]["len"][na] = -1
    row = np.dtype([
        ("fields", ">i2"), ("id_len", ">i4"), ("id", "u1", 16), ("campaign_len", ">i4"), ("campaign", "u1", 16),
        ("receipt_len", ">i4"), ("receipt", "S64"), ("items_len", ">i4"), ("items", items.dtype),
        ("importance_len", ">i4"), ("importance", _int2_array(np.zeros((1, DIMENSIONS), np.int16)).dtype),
        ("satisfaction_len", ">i4"), ("satisfaction", _int2_array(np.zeros((1, 1), np.int16)).dtype),
        ("comments_len", ">i4"), ("comments", "S3"), ("scrubbed_len", ">i4"), ("scrubbed", "u1"),
    ])
    rows = np.zeros(n, row)
    rows["fields"] = 8
    rows["id_len"] = rows["campaign_len"] = 16
    rows["id"] = ids.integers(0, 256, (n, 16), dtype=np.uint8)
    rows["campaign"] = np.frombuffer(campaign.bytes, np.uint8)
    rows["receipt_len"] = 64
    hexdigits = np.frombuffer(b"0123456789abcdef", np.uint8)
    rows["receipt"] = hexdigits[ids.integers(0, 16, (n, 64))].view("S64")[:, 0]
    rows["items_len"] = items.dtype.itemsize - 2 * na.sum(axis=1)
    rows["items"] = items
    rows["importance_len"] = rows.dtype["importance"].itemsize
    rows["importance"] = _int2_array(np.tile(np.array([10, 30, 20, 20, 20], np.int16), (n, 1)))
    rows["satisfaction_len"] = rows.dtype["satisfaction"].itemsize
    rows["satisfaction"] = _int2_array(satisfaction.astype(np.int16))
    rows["comments_len"] = 3
    rows["comments"] = b"\x01{}"  # jsonb binary: version 1, then the text
    # stored as the closing scrub leaves them, so no housekeeping pass competes with the timing
    rows["scrubbed_len"], rows["scrubbed"] = 1, 1
    # drop the value bytes of the null elements: every row keeps its place in the stream
    flat = rows.view(np.uint8).reshape(n, row.itemsize)
    keep = np.ones(flat.shape, bool)
    row_fields, item_fields = row.fields, items.dtype.fields
    assert row_fields is not None and item_fields is not None
    start = row_fields["items"][1] + item_fields["elems"][1]
    r, c = np.nonzero(na)
    keep[r, start + c * 6 + 4] = False
    keep[r, start + c * 6 + 5] = False
    return flat[keep].tobytes()


async def copy_source(campaign: uuid.UUID, n: int) -> AsyncIterator[bytes]:
    rng, ids = np.random.default_rng(7), np.random.default_rng(secrets.randbits(64))
    yield b"PGCOPY\n\xff\r\n\x00" + bytes(8)
    for first in range(0, n, CHUNK):
        yield synthetic_chunk(campaign, rng, ids, min(CHUNK, n - first))
    yield b"\xff\xff"


def peak_memory(pid: int) -> int:
    """Peak resident set of process ``pid`` in bytes (Linux ``VmHWM``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM")


async def measure(n: int) -> bool:
    server, url, root = await start_database()
    kek = secrets.token_bytes(32)
    try:
        campaign_id, _ = await prepare(url, kek, 0)
        conn = await asyncpg.connect(url)
        started = time.perf_counter()
        await conn.copy_to_table("responses", source=copy_source(uuid.UUID(campaign_id), n), format="binary",
                                 columns=["id", "campaign_id", "receipt", "item_values", "importance",
                                          "satisfaction", "comments", "scrubbed"])
        await conn.execute("analyze responses")
        await conn.execute("update campaigns set status = 'closed' where id = $1 and status = 'open'",
                           uuid.UUID(campaign_id))
        await conn.execute(
            "insert into accounts (email, display_name, password_hash, roles) "
            "select 'manager@bench.example', 'Manager', password_hash, '{manager}' from accounts limit 1")
        await conn.close()
        print(f"stored {n} responses in {time.perf_counter() - started:.1f} s")

        env = {**os.environ, "DATABASE_URL": url, "CANDOR_ENV": "production",
               "CANDOR_PUBLIC_URL": "https://bench.invalid",
               "CANDOR_SECRET_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
               "CANDOR_KEY_ENCRYPTION_KEY": base64.b64encode(kek).decode(), "CANDOR_LOG_LEVEL": "WARNING",
               "CANDOR_DATA_DIR": str(root), "CANDOR_SECURE_COOKIES": "false"}
        computed, body = await timed_read(env, campaign_id, n)
        timings: list[float] = []
        peaks: list[int] = [computed[1]]
        for _ in range(TIMED):
            (elapsed, peak), again = await timed_read(env, campaign_id, n)
            assert again == body, "the stored report differs from the computed one"
            timings.append(elapsed)
            peaks.append(peak)
    finally:
        server.cleanup()
    best, worst, peak = min(timings), max(timings), max(peaks)
    report = msgspec.json.decode(body)
    drivers = "drivers" if isinstance(report.get("drivers"), dict) and "rows" in report["drivers"] else "no drivers"
    print(f"report of {n} responses x 22 items ({len(report['candidates'])} candidates, {drivers}, "
          f"{len(body) // 1024} KB):")
    print(f"  computed from the responses and stored (once per wave, in the background; not judged): "
          f"{computed[0]:.2f} s")
    print(f"  read of the stored report, database to JSON over HTTP, fresh server: best {best:.2f} s, "
          f"worst {worst:.2f} s")
    budget = time_budget(n)
    ok_time, ok_memory = worst < budget, peak < MEMORY_BUDGET
    print(f"BUDGET {n} responses: worst {worst:.2f} s < {budget:.1f} s {'OK' if ok_time else 'OVER BUDGET'}")
    print(f"BUDGET {n} responses: app peak memory {peak / 2**20:.0f} MB < {MEMORY_BUDGET / 2**20:.0f} MB "
          f"{'OK' if ok_memory else 'OVER BUDGET'}")
    return ok_time and ok_memory


async def timed_read(env: dict[str, str], campaign_id: str, n: int) -> tuple[tuple[float, int], bytes]:
    """(seconds, the app's peak memory) of one ``GET …/report`` on a freshly started server, and the body."""
    port = free_port()
    proc = start([sys.executable, "-m", "service.cli", "serve", "--port", str(port)], env)
    try:
        await wait_ready(port, proc, "/healthz")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=300) as http:
            login = await http.post("/api/auth/login", json={"email": "manager@bench.example",
                                                             "password": "bench password"})
            assert login.status_code == 200, login.text
            start_time = time.perf_counter()
            response = await http.get(f"/api/campaigns/{campaign_id}/report")
            elapsed = time.perf_counter() - start_time
            assert response.status_code == 200, response.text
            assert msgspec.json.decode(response.content)["n"] == n
            return (elapsed, peak_memory(proc.pid)), response.content
    finally:
        proc.terminate()
        proc.wait(timeout=30)


async def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--responses", type=int, action="append",
                        help=f"wave size (repeatable); default {' and '.join(map(str, SIZES))}")
    args = parser.parse_args()
    ok = True
    for n in args.responses or SIZES:
        ok = await measure(n) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
