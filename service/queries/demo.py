"""SQL for the demo organisation: the seeded-once marker and bulk synthetic responses."""

from __future__ import annotations

from uuid import UUID

import asyncpg


async def demo_seeded(conn: asyncpg.Connection) -> bool:
    return bool(await conn.fetchval("select exists (select 1 from demo_seed)"))


async def insert_demo_seed(conn: asyncpg.Connection) -> None:
    await conn.execute("insert into demo_seed default values")


async def insert_synthetic_responses(
    conn: asyncpg.Connection,
    *,
    campaign_id: UUID,
    responses: list[tuple[UUID, str, list[int | None], list[int] | None, list[int | None] | None, dict[str, str]]],
    nonces: list[bytes],
) -> None:
    """Store ``(id, receipt, item_values, importance, satisfaction, comments)`` rows and spend
    one nonce for each, in bulk (demo and test data only: no wave-status check, no token)."""
    await conn.executemany(
        """insert into responses (id, campaign_id, receipt, item_values, importance, satisfaction, comments)
           values ($1, $2, $3, $4, $5, $6, $7)""",
        [(response_id, campaign_id, *rest) for response_id, *rest in responses],
    )
    await conn.executemany("insert into spent_tokens (campaign_id, nonce) values ($1, $2)",
                           [(campaign_id, nonce) for nonce in nonces])
