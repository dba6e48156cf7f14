"""Gap report from the database to JSON (DESIGN.md budget: under 2 s for 100,000 × 22).

Run with ``python bench/report.py``. It stores 100,000 synthetic SERVQUAL responses
(22 items × E, P, plus the importance allocation) in one wave on an embedded
PostgreSQL, starts the real app (``candor serve`` in its own process) and times
``GET /api/campaigns/{id}/report`` as the wave's manager: the query, the matrices, the
analysis and the JSON, end to end over 127.0.0.1. Only a closed wave has a report, and
a closed wave's report is cached per process, so the wave is closed once and each timed
request goes to a freshly started server (an empty cache). Exit status 1 over budget.
"""

from __future__ import annotations

import asyncio
import base64
import os
import secrets
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
import httpx  # noqa: E402
import numpy as np  # noqa: E402

from bench.submit import free_port, prepare, start, start_database, wait_ready  # noqa: E402

BUDGET_SECONDS = 2.0
RESPONSES = 100_000
TIMED = 3


def synthetic_rows(campaign_id: uuid.UUID, n: int) -> list[tuple]:
    rng = np.random.default_rng(7)
    gaps = np.repeat([-0.3, -1.5, -1.1, -0.4, -0.7], [4, 5, 4, 4, 5])
    e = np.clip(np.rint(rng.normal(6.0, 0.7, (n, 22))), 1, 7).astype(int)
    p = np.clip(np.rint(6.0 + gaps + rng.normal(0, 1.0, (n, 22))), 1, 7).astype(int)
    values = np.stack([e, p], axis=2).reshape(n, 44)
    alloc = np.tile([10, 30, 20, 20, 20], (n, 1))
    return [
        (uuid.uuid4(), campaign_id, secrets.token_hex(32), values[i].tolist(), alloc[i].tolist(), None, "{}")
        for i in range(n)
    ]


async def main() -> int:
    server, url, root = await start_database()
    kek = secrets.token_bytes(32)
    campaign_id, _ = await prepare(url, kek, 0)
    conn = await asyncpg.connect(url)
    started = time.perf_counter()
    await conn.copy_records_to_table(
        "responses", records=synthetic_rows(uuid.UUID(campaign_id), RESPONSES),
        columns=["id", "campaign_id", "receipt", "item_values", "importance", "satisfaction",
                 "comments"],
    )
    await conn.execute("analyze responses")
    await conn.execute("update campaigns set status = 'closed' where id = $1 and status = 'open'",
                       uuid.UUID(campaign_id))
    manager = await conn.fetchval(
        "insert into accounts (email, display_name, password_hash, roles) "
        "select 'manager@bench.example', 'Manager', password_hash, '{manager}' from accounts limit 1 returning id")
    await conn.close()
    print(f"stored {RESPONSES} responses in {time.perf_counter() - started:.1f} s")

    env = {**os.environ, "DATABASE_URL": url, "CANDOR_ENV": "production", "CANDOR_PUBLIC_URL": "https://bench.invalid",
           "CANDOR_SECRET_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
           "CANDOR_KEY_ENCRYPTION_KEY": base64.b64encode(kek).decode(), "CANDOR_LOG_LEVEL": "WARNING",
           "CANDOR_DATA_DIR": str(root), "CANDOR_SECURE_COOKIES": "false"}
    timings = []
    try:
        for _ in range(TIMED):
            port = free_port()
            proc = start([sys.executable, "-m", "service.cli", "serve", "--port", str(port)], env)
            try:
                await wait_ready(port, proc, "/healthz")
                async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
                    login = await http.post("/api/auth/login", json={"email": "manager@bench.example",
                                                                     "password": "bench password"})
                    assert login.status_code == 200, login.text
                    start_time = time.perf_counter()
                    response = await http.get(f"/api/campaigns/{campaign_id}/report")
                    timings.append(time.perf_counter() - start_time)
                    assert response.status_code == 200, response.text
                    report = response.json()
                    assert report["n"] == RESPONSES
            finally:
                proc.terminate()
                proc.wait(timeout=30)
    finally:
        server.cleanup()
    del manager
    best, worst = min(timings), max(timings)
    print(f"report of {RESPONSES} responses x 22 items, database to JSON over HTTP: "
          f"best {best:.2f} s, worst {worst:.2f} s ({len(report['candidates'])} candidates, "
          f"{len(response.content) // 1024} KB)")
    verdict = "OK" if worst < BUDGET_SECONDS else "OVER BUDGET"
    print(f"BUDGET worst {worst:.2f} s < {BUDGET_SECONDS:.1f} s {verdict}")
    return 0 if worst < BUDGET_SECONDS else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
