"""Survey-wave logic shared by the routes: opening (manifest; the keys are
:mod:`service.issuance`'s), redemption material, and response receipts."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import msgspec

from crypto.tokens import TOKEN_TYPE_BLIND_RSA
from instruments import Instrument
from instruments.errors import N_
from instruments.packing import PackedAnswers
from service.issuance import WAVE, IssuerKey, b64url, stored_key
from service.lru import LRUCache
from service.queries import campaigns as campaigns_q
from service.queries import instruments as instruments_q
from service.queries.campaigns import Campaign, CampaignKeys


def canonical_hash(value: Any) -> str:
    """SHA-256 hex of a value's canonical JSON (sorted keys, no whitespace)."""
    return hashlib.sha256(msgspec.json.encode(msgspec.to_builtins(value), order="sorted")).hexdigest()


def wave_key(keys: CampaignKeys) -> IssuerKey[UUID]:
    """The issuer key of an opened wave's row."""
    return stored_key(WAVE, keys.id, keys)


def build_manifest(campaign: Campaign, keys: IssuerKey[UUID], audience_size: int) -> dict[str, Any]:
    """What a wave promises its audience, frozen when it opens."""
    return {
        "campaign_id": str(campaign.id),
        "title": campaign.title,
        "service_id": str(campaign.service.id),
        "instrument_id": campaign.instrument_id,
        "instrument_hash": campaign.instrument_hash,
        "audience_group_id": str(campaign.audience_group_id),
        "audience_size": audience_size,
        "k_scores": campaign.k_scores,
        "k_comments": campaign.k_comments,
        "opens_on": campaign.opens_on.isoformat(),
        "closes_on": campaign.closes_on.isoformat(),
        "token_type": TOKEN_TYPE_BLIND_RSA,
        "token_key": b64url(keys.token_key),
        "token_key_id": keys.token_key_id.hex(),
        "challenge": b64url(keys.challenge),
    }


def accepting(status: str, opens_on: date, closes_on: date, today: date) -> str | None:
    """Why a wave does not accept tokens or answers today, or None when it does."""
    if status != "open":
        return N_("This survey wave is closed")
    if today < opens_on:
        return N_("This survey wave opens on {date}", date=opens_on)
    if today > closes_on:
        return N_("This survey wave closed on {date}", date=closes_on)
    return None


def today() -> date:
    """The day in UTC, as the database stores it (its sessions run in UTC)."""
    return datetime.now(UTC).date()


def receipt_for(campaign_id: UUID, response_id: UUID, packed: PackedAnswers) -> str:
    """A hash of exactly what was stored (the row's values), which the respondent keeps
    to check later against what the server shows for it. It names the wave, never a
    date: a response carries no time finer than its wave."""
    # Already plain JSON types: encoded directly (this runs on every submission).
    document = {
        "campaign_id": str(campaign_id),
        "response_id": str(response_id),
        "item_values": packed.item_values,
        "importance": packed.importance,
        "satisfaction": packed.satisfaction,
        "comments": packed.comments,
    }
    if packed.measures is not None:
        # Only when the instrument has measures: every receipt without them stays as it was.
        document["measures"] = packed.measures
    return hashlib.sha256(msgspec.json.encode(document, order="sorted")).hexdigest()


class RedemptionKeys(msgspec.Struct, frozen=True):
    """What redeeming a token and checking answers need; none of it changes once a wave
    is open (the parsed public key is the issuer's to cache)."""

    key: IssuerKey[UUID]
    instrument: Instrument
    opens_on: date
    closes_on: date


async def redemption_keys(state: Any, db: Any, campaign_id: UUID) -> RedemptionKeys | None:
    """The wave's published key material, decoded once per process (a wave's status is
    not part of it: that is read from the database on every submission)."""
    cache: LRUCache[UUID, RedemptionKeys] = state.redemption_keys
    found = cache.get(campaign_id)
    if found is None:
        keys = await campaigns_q.select_keys(db, campaign_id=campaign_id)
        if keys is None:
            return None
        found = RedemptionKeys(
            key=wave_key(keys),
            instrument=await instrument_by_hash(state, db, keys.instrument_hash),
            opens_on=keys.opens_on,
            closes_on=keys.closes_on,
        )
        cache.put(campaign_id, found)
    return found


async def instrument_by_hash(state: Any, db: Any, digest: str) -> Instrument:
    """The instrument version ``digest``; versions never change, so each is decoded once."""
    cache: LRUCache[str, Instrument] = state.instruments
    found = cache.get(digest)
    if found is None:
        found = await instruments_q.select_instrument_by_hash(db, digest=digest)
        if found is None:
            raise LookupError(f"instrument version {digest} is not stored")
        cache.put(digest, found)
    return found


async def close_expired_waves(app: Any) -> list[UUID]:
    """Background job: close waves past their closing date, and erase their arrival
    order as a manual close does."""
    async with app.state.pool.acquire() as conn, conn.transaction():
        closed = await campaigns_q.close_expired(conn)
        for campaign_id in closed:
            await campaigns_q.scrub_wave_order(conn, campaign_id=campaign_id)
    return closed
