"""SQL for survey waves, token issuance and anonymous responses.

Issuance queries touch ``token_issuances`` (account, wave); redemption queries
touch ``spent_tokens`` and ``responses`` (wave, random id). No query joins them.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from service.queries import arrivals, count, one_row, one_value, truth


class ServiceRef(msgspec.Struct, frozen=True):
    id: UUID
    name: str


class Campaign(msgspec.Struct, frozen=True):
    id: UUID
    title: str
    description: str
    service: ServiceRef
    instrument_id: str
    instrument_hash: str
    audience_group_id: UUID
    status: str
    opens_on: date
    closes_on: date
    k_scores: int
    k_comments: int
    token_key_id: str | None
    manifest_hash: str | None


class CampaignKeys(msgspec.Struct, frozen=True):
    """What issuing and redeeming need; the private key is still encrypted."""

    id: UUID
    status: str
    opens_on: date
    closes_on: date
    instrument_hash: str
    token_key: bytes
    token_key_id: bytes
    challenge: bytes
    private_key: bytes


_SELECT = """
    select c.id, c.title, c.description, c.instrument_hash, i.id as instrument_id, c.audience_group_id,
           c.status, c.opens_on, c.closes_on, c.k_scores, c.k_comments,
           encode(c.token_key_id, 'hex') as token_key_id, c.manifest_hash,
           s.id as service_id, s.name as service_name
    from campaigns c
    join services s on s.id = c.service_id
    join instruments i on i.hash = c.instrument_hash
"""


def _campaign(row: asyncpg.Record) -> Campaign:
    data = dict(row)
    data["service"] = ServiceRef(id=data.pop("service_id"), name=data.pop("service_name"))
    return Campaign(**data)


async def select_campaigns(conn: asyncpg.Connection, *, account_id: UUID, roles: list[str]) -> list[Campaign]:
    """The waves an account may see: managers all; owners their services';
    members the open waves whose frozen audience includes them."""
    rows = await conn.fetch(
        _SELECT
        + """
        where 'manager' = any($2::text[])
           or ('owner' = any($2::text[])
               and exists (select 1 from service_owners o where o.service_id = c.service_id and o.account_id = $1))
           or (c.status = 'open'
               and exists (select 1 from campaign_audience a where a.campaign_id = c.id and a.account_id = $1))
        order by c.opens_on desc, c.title
        """,
        account_id, roles,
    )
    return [_campaign(r) for r in rows]


async def select_campaign(conn: asyncpg.Connection, *, campaign_id: UUID) -> Campaign | None:
    row = await conn.fetchrow(_SELECT + " where c.id = $1", campaign_id)
    return None if row is None else _campaign(row)


async def can_see_campaign(conn: asyncpg.Connection, *, campaign_id: UUID, account_id: UUID, roles: list[str]) -> bool:
    return await truth(conn,
        """
        select exists (
            select 1 from campaigns c where c.id = $1 and (
                'manager' = any($3::text[])
                or ('owner' = any($3::text[]) and exists (
                    select 1 from service_owners o where o.service_id = c.service_id and o.account_id = $2))
                or (c.status <> 'draft' and exists (
                    select 1 from campaign_audience a where a.campaign_id = c.id and a.account_id = $2))))
        """,
        campaign_id, account_id, roles,
    )


async def insert_campaign(
    conn: asyncpg.Connection,
    *,
    title: str,
    description: str,
    service_id: UUID,
    instrument_hash: str,
    audience_group_id: UUID,
    opens_on: date,
    closes_on: date,
    k_scores: int,
    k_comments: int,
    created_by: UUID,
) -> UUID:
    return await one_value(conn,
        """
        insert into campaigns (title, description, service_id, instrument_hash, audience_group_id,
                               opens_on, closes_on, k_scores, k_comments, created_by)
        values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        returning id
        """,
        title, description, service_id, instrument_hash, audience_group_id, opens_on, closes_on,
        k_scores, k_comments, created_by,
    )


async def update_draft(conn: asyncpg.Connection, *, campaign_id: UUID, changes: dict[str, Any]) -> bool:
    """Apply ``changes`` (column → value, columns from a fixed allow-list) to a draft wave."""
    allowed = ("title", "description", "service_id", "instrument_hash", "audience_group_id",
               "opens_on", "closes_on", "k_scores", "k_comments")
    columns = [c for c in allowed if c in changes]
    if not columns:
        return await truth(conn, "select exists (select 1 from campaigns where id = $1 and status = 'draft')",
                                   campaign_id)
    assignments = ", ".join(f"{c} = ${i + 2}" for i, c in enumerate(columns))
    status = await conn.execute(
        f"update campaigns set {assignments} where id = $1 and status = 'draft'",
        campaign_id, *(changes[c] for c in columns),
    )
    return status != "UPDATE 0"


async def lock_campaign_status(conn: asyncpg.Connection, *, campaign_id: UUID) -> str | None:
    return await conn.fetchval("select status from campaigns where id = $1 for update", campaign_id)


async def snapshot_audience(conn: asyncpg.Connection, *, campaign_id: UUID) -> int:
    """Freeze the audience: the active members of the wave's group, now."""
    await conn.execute(
        """
        insert into campaign_audience (campaign_id, account_id)
        select c.id, m.account_id
        from campaigns c
        join group_members m on m.group_id = c.audience_group_id
        join accounts a on a.id = m.account_id and a.active
        where c.id = $1
        on conflict do nothing
        """,
        campaign_id,
    )
    return await count(conn, "select count(*) from campaign_audience where campaign_id = $1", campaign_id)


async def open_campaign(
    conn: asyncpg.Connection,
    *,
    campaign_id: UUID,
    manifest: dict[str, Any],
    manifest_hash: str,
    token_key: bytes,
    token_key_id: bytes,
    challenge: bytes,
    private_key: bytes,
    audience_size: int,
) -> None:
    await conn.execute(
        """
        update campaigns set status = 'open', manifest = $2, manifest_hash = $3, token_key = $4,
               token_key_id = $5, challenge = $6, private_key = $7, audience_size = $8
        where id = $1 and status = 'draft'
        """,
        campaign_id, manifest, manifest_hash, token_key, token_key_id, challenge, private_key, audience_size,
    )


async def fence_submissions(conn: asyncpg.Connection) -> None:
    """Wait for submissions in flight to commit, and hold new ones until this transaction
    ends, so a wave closed in it has exactly the responses its report will show.

    Every submission inserts into ``spent_tokens`` (see :func:`store_response`); a SHARE
    lock conflicts with those inserts only, not with reads. Without it a submission that
    read the wave as open could commit just after the close, and two reports of the
    closed wave could differ by one person."""
    await conn.execute("lock table spent_tokens in share mode")


async def close_campaign(conn: asyncpg.Connection, *, campaign_id: UUID) -> None:
    await fence_submissions(conn)
    await conn.execute("update campaigns set status = 'closed' where id = $1 and status = 'open'", campaign_id)


async def close_expired(conn: asyncpg.Connection) -> list[UUID]:
    """Close the open waves whose last day has passed (one replica wins each row)."""
    due = await conn.fetchval("select exists (select 1 from campaigns where status = 'open' and closes_on < current_date)")
    if not due:
        return []
    await fence_submissions(conn)
    rows = await conn.fetch(
        """
        update campaigns set status = 'closed'
        where id in (select id from campaigns where status = 'open' and closes_on < current_date
                     for update skip locked)
        returning id
        """
    )
    return [r["id"] for r in rows]


async def scrub_wave_order(conn: asyncpg.Connection, *, campaign_id: UUID) -> None:
    """Rewrite a closed wave's issuance and anonymous rows in a random order, in one
    transaction, so neither their physical order nor their transaction ids (``xmin``)
    keep the order in which tokens were issued and answers arrived — an order an
    insider could otherwise line up against sign-in times."""
    for table in arrivals.WAVE_TABLES:
        await arrivals.rewrite_in_random_order(conn, table, campaign_id=campaign_id)


async def select_keys(conn: asyncpg.Connection, *, campaign_id: UUID) -> CampaignKeys | None:
    row = await conn.fetchrow(
        """
        select id, status, opens_on, closes_on, instrument_hash, token_key, token_key_id, challenge, private_key
        from campaigns where id = $1 and status <> 'draft'
        """,
        campaign_id,
    )
    return None if row is None else CampaignKeys(**dict(row))


async def select_manifest(conn: asyncpg.Connection, *, campaign_id: UUID) -> tuple[dict, str] | None:
    row = await conn.fetchrow(
        "select manifest, manifest_hash from campaigns where id = $1 and manifest is not null", campaign_id
    )
    return None if row is None else (row["manifest"], row["manifest_hash"])


# Issuance side ------------------------------------------------------------------------


async def is_in_audience(conn: asyncpg.Connection, *, campaign_id: UUID, account_id: UUID) -> bool:
    return await truth(conn,
        "select exists (select 1 from campaign_audience where campaign_id = $1 and account_id = $2)",
        campaign_id, account_id,
    )


class IssuanceCheck(msgspec.Struct, frozen=True):
    """A wave's keys and, for one account, what a token request checks before signing."""

    keys: CampaignKeys
    in_audience: bool
    issued: bool  # already has its token (read before signing; record_issuance decides)


async def select_issuance_check(conn: asyncpg.Connection, *, campaign_id: UUID, account_id: UUID) -> IssuanceCheck | None:
    """The opened (not draft) wave's keys, whether the account is in its audience and
    whether it already has its token: one round trip instead of three."""
    row = await conn.fetchrow(
        """
        select id, status, opens_on, closes_on, instrument_hash, token_key, token_key_id, challenge, private_key,
               exists (select 1 from campaign_audience where campaign_id = $1 and account_id = $2) as in_audience,
               exists (select 1 from token_issuances where campaign_id = $1 and account_id = $2) as issued
        from campaigns where id = $1 and status <> 'draft'
        """,
        campaign_id, account_id,
    )
    if row is None:
        return None
    data = dict(row)
    in_audience, issued = data.pop("in_audience"), data.pop("issued")
    return IssuanceCheck(keys=CampaignKeys(**data), in_audience=in_audience, issued=issued)


async def record_issuance(conn: asyncpg.Connection, *, campaign_id: UUID, account_id: UUID) -> bool:
    """Record that the account got its token; False when it already had one."""
    status = await conn.execute(
        "insert into token_issuances (campaign_id, account_id) values ($1, $2) on conflict do nothing",
        campaign_id, account_id,
    )
    return status == "INSERT 0 1"


async def count_progress(conn: asyncpg.Connection, *, campaign_id: UUID) -> tuple[int, int]:
    row = await one_row(conn,
        """
        select (select count(*) from token_issuances where campaign_id = $1) as issued,
               (select count(*) from responses where campaign_id = $1) as responses
        """,
        campaign_id,
    )
    return row["issued"], row["responses"]


# Anonymous side -------------------------------------------------------------------------


async def store_response(
    conn: asyncpg.Connection,
    *,
    campaign_id: UUID,
    nonce: bytes,
    response_id: UUID,
    receipt: str,
    item_values: list[int | None],
    importance: list[int] | None,
    satisfaction: list[int | None] | None,
    comments: dict[str, str],
    measures: list[int | None] | None = None,
) -> bool:
    """Spend the nonce and store the response in one statement, only while the wave is
    open. False when nothing was stored: the nonce was spent already (the primary key
    decides concurrent redemptions) or the wave is not open."""
    stored = await conn.fetchval(
        """
        with spent as (
            insert into spent_tokens (campaign_id, nonce)
            select id, $2 from campaigns where id = $1 and status = 'open'
            on conflict do nothing
            returning campaign_id
        )
        insert into responses (id, campaign_id, receipt, item_values, importance, satisfaction, comments, measures)
        select $3, campaign_id, $4, $5, $6, $7, $8, $9 from spent
        returning true
        """,
        campaign_id, nonce, response_id, receipt, item_values, importance, satisfaction, comments, measures,
    )
    return bool(stored)


async def select_status(conn: asyncpg.Connection, *, campaign_id: UUID) -> str | None:
    return await conn.fetchval("select status from campaigns where id = $1", campaign_id)


class StoredResponse(msgspec.Struct, frozen=True):
    id: UUID
    campaign_id: UUID
    receipt: str
    item_values: list[int | None]
    importance: list[int] | None
    satisfaction: list[int | None] | None
    comments: dict[str, str]
    measures: list[int | None] | None = None


async def select_response_by_receipt(
    conn: asyncpg.Connection, *, campaign_id: UUID, receipt: str
) -> StoredResponse | None:
    row = await conn.fetchrow(
        """
        select id, campaign_id, receipt, item_values, importance, satisfaction, comments, measures
        from responses where campaign_id = $1 and receipt = $2
        """,
        campaign_id, receipt,
    )
    return None if row is None else StoredResponse(**dict(row))


# Audience subtraction -----------------------------------------------------------------


class AudienceClash(msgspec.Struct, frozen=True):
    """Another wave of the same service whose audience differs from this one's by
    1 … k−1 people: subtracting the two results would single those people out."""

    campaign_id: UUID
    title: str
    opened_on: date
    difference: int
    k: int


async def lock_service_openings(conn: asyncpg.Connection, *, campaign_id: UUID) -> None:
    """Serialize the openings of one service's waves until the transaction ends, so two
    waves opened at the same moment each see the other's audience. (``no key update``
    leaves inserting new waves of the service unblocked.)"""
    await conn.execute(
        "select 1 from services where id = (select service_id from campaigns where id = $1) for no key update",
        campaign_id,
    )


async def select_audience_clashes(
    conn: asyncpg.Connection, *, campaign_id: UUID, lookback_days: int
) -> list[AudienceClash]:
    """The waves of this wave's service, opened in the last ``lookback_days`` days, whose
    frozen audience differs from this wave's (its ``campaign_audience`` snapshot) by
    1 … k−1 people in symmetric difference, k the larger of the two waves' k_scores.
    A difference of 0 (the same people asked again) or of k or more is fine."""
    rows = await conn.fetch(
        """
        with this as (
            select id, service_id, k_scores from campaigns where id = $1
        ), mine as (
            select account_id from campaign_audience where campaign_id = $1
        ), others as (
            select c.id, c.title, c.opened_on, greatest(c.k_scores, this.k_scores) as k
            from campaigns c join this on c.service_id = this.service_id
            where c.id <> this.id and c.status <> 'draft' and c.opened_on >= current_date - $2::integer
        )
        select o.id as campaign_id, o.title, o.opened_on, o.k, d.difference
        from others o
        cross join lateral (
            select count(*)::integer as difference from (
                (select account_id from campaign_audience where campaign_id = o.id
                 except select account_id from mine)
                union all
                (select account_id from mine
                 except select account_id from campaign_audience where campaign_id = o.id)
            ) s
        ) d
        where d.difference between 1 and o.k - 1
        order by o.opened_on desc, o.title
        """,
        campaign_id, lookback_days,
    )
    return [AudienceClash(**dict(r)) for r in rows]
