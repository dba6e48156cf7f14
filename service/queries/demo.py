"""SQL for the demo organisation: the seeded-once marker, bulk synthetic responses, its action item."""

from __future__ import annotations

from uuid import UUID

import asyncpg
import msgspec


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


async def insert_demo_action(conn: asyncpg.Connection, *, campaign_id: UUID, service_id: UUID, owner_id: UUID,
                             created_by: UUID, candidate: dict[str, object]) -> UUID:
    """The demo's action item from a wave's top candidate, taken through its workflow to
    done (each step as the workflow trigger allows, each in the activity log)."""
    action = await conn.fetchval(
        """insert into action_items (title, description, service_id, owner_id, source, campaign_id, target_level,
                                     target_key, candidate, due_on, expected_level, expected_key, expected_change,
                                     created_by)
           values ('Tell people when their fix will land',
                   'Every ticket gets a date for its fix and an update when that date moves.',
                   $1, $2, 'candidate', $3, 'dimension', $4, $5::jsonb, current_date - 200, 'dimension', $4, 0.5, $6)
           returning id""",
        service_id, owner_id, campaign_id, str(candidate["target"]), msgspec.json.encode(candidate).decode(),
        created_by)
    await conn.execute("insert into action_activity (action_id, actor_id, kind, to_status) values ($1, $2, 'create', "
                       "'proposed')", action, created_by)
    for before, after in (("proposed", "accepted"), ("accepted", "in_progress"), ("in_progress", "done")):
        await conn.execute("update action_items set status = $2 where id = $1", action, after)
        await conn.execute("insert into action_activity (action_id, actor_id, kind, from_status, to_status) "
                           "values ($1, $2, 'status', $3, $4)", action, owner_id, before, after)
    return action
