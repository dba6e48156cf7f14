"""The baseline for bench/submit.py: a minimal Litestar + asyncpg endpoint that stores
the same rows as Candor's anonymous submission (a spent-token row and a response row
with the answers as arrays), with no token, validation or receipt work.

Served by ``uvicorn bench.baseline.submit_app:app`` with ``DATABASE_URL`` set.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import uuid
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from litestar import Litestar, Request, post

from instruments import load_builtin

INSTRUMENT = load_builtin(os.environ.get("BENCH_INSTRUMENT", "servqual"))
COLUMNS = INSTRUMENT.columns


@asynccontextmanager
async def lifespan(app: Litestar):
    app.state.pool = await asyncpg.create_pool(os.environ["DATABASE_URL"], min_size=1, max_size=10)
    yield
    await app.state.pool.close()


@post("/anon/campaigns/{campaign_id:uuid}/responses", status_code=201)
async def submit(request: Request, campaign_id: uuid.UUID, data: dict[str, Any]) -> dict[str, str]:
    items = data["items"]
    values = [items[item.key][column] for item in INSTRUMENT.items for column in COLUMNS]
    importance = [data["importance"][d.key] for d in INSTRUMENT.dimensions]
    receipt = hashlib.sha256(secrets.token_bytes(32)).hexdigest()
    async with request.app.state.pool.acquire() as conn, conn.transaction():
        await conn.execute("insert into spent_tokens (campaign_id, nonce) values ($1, $2)",
                           campaign_id, secrets.token_bytes(32))
        await conn.execute(
            """insert into responses (id, campaign_id, receipt, item_values, importance)
               values ($1, $2, $3, $4, $5)""",
            uuid.uuid4(), campaign_id, receipt, values, importance,
        )
    return {"receipt": receipt}


app = Litestar([submit], lifespan=[lifespan], logging_config=None)
