"""Survey-wave logic shared by the routes: opening (keys, challenge, manifest),
the per-process signing-key cache, and response receipts."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import msgspec

from crypto.blindrsa import SigningKey
from crypto.keys import (
    decrypt_private_key,
    encrypt_private_key,
    generate_issuer_key,
    public_key_from_spki,
    spki_from_public_key,
    token_key_id,
)
from crypto.tokens import TOKEN_TYPE_BLIND_RSA, TokenChallenge
from instruments import Instrument
from instruments.packing import PackedAnswers
from service.lru import LRUCache
from service.queries import instruments as instruments_q
from service.queries import campaigns as campaigns_q
from service.queries.campaigns import Campaign, CampaignKeys


class OpenedKeys(msgspec.Struct, frozen=True):
    token_key: bytes
    token_key_id: bytes
    challenge: bytes
    private_key: bytes  # encrypted


def canonical_hash(value: Any) -> str:
    """SHA-256 hex of a value's canonical JSON (sorted keys, no whitespace)."""
    return hashlib.sha256(msgspec.json.encode(msgspec.to_builtins(value), order="sorted")).hexdigest()


def _aad(campaign_id: UUID, key_id: bytes) -> bytes:
    # Binds the ciphertext to its row: a key copied into another wave will not decrypt.
    return b"candor-issuer-key\x00" + campaign_id.bytes + key_id


async def generate_wave_keys(campaign_id: UUID, *, issuer_name: str, kek: bytes) -> OpenedKeys:
    private_key = await asyncio.to_thread(generate_issuer_key)
    spki = spki_from_public_key(private_key.public_key())
    key_id = token_key_id(spki)
    # A fresh random redemption context per wave binds its tokens to this wave alone.
    challenge = TokenChallenge(TOKEN_TYPE_BLIND_RSA, issuer_name, secrets.token_bytes(32), "").encode()
    encrypted = encrypt_private_key(private_key, kek, _aad(campaign_id, key_id))
    return OpenedKeys(token_key=spki, token_key_id=key_id, challenge=challenge, private_key=encrypted)


def build_manifest(campaign: Campaign, keys: OpenedKeys, audience_size: int) -> dict[str, Any]:
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


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")


class SigningKeys:
    """Decrypted signing keys by wave, prepared once per process.

    A cache only: keys never change after a wave opens, and nothing that must be
    unique is decided here (issuance budgets and spent tokens live in the database).
    """

    def __init__(self, kek: bytes) -> None:
        self._kek = kek
        self._keys: LRUCache[bytes, SigningKey] = LRUCache(256)

    def get(self, keys: CampaignKeys) -> SigningKey:
        found = self._keys.get(keys.token_key_id)
        if found is None:
            private_key = decrypt_private_key(keys.private_key, self._kek, _aad(keys.id, keys.token_key_id))
            found = SigningKey(private_key)
            self._keys.put(keys.token_key_id, found)
        return found


def accepting(status: str, opens_on: date, closes_on: date, today: date) -> str | None:
    """Why a wave does not accept tokens or answers today, or None when it does."""
    if status != "open":
        return "This survey wave is closed"
    if today < opens_on:
        return f"This survey wave opens on {opens_on.isoformat()}"
    if today > closes_on:
        return f"This survey wave closed on {closes_on.isoformat()}"
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
    return hashlib.sha256(msgspec.json.encode(document, order="sorted")).hexdigest()


class RedemptionKeys(msgspec.Struct, frozen=True):
    """What verifying a token needs; none of it changes once a wave is open."""

    public_key: Any
    token_key: bytes
    token_key_id: bytes
    challenge: bytes
    challenge_digest: bytes
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
            public_key=public_key_from_spki(keys.token_key),
            token_key=keys.token_key,
            token_key_id=keys.token_key_id,
            challenge=keys.challenge,
            challenge_digest=hashlib.sha256(TokenChallenge.decode(keys.challenge).encode()).digest(),
            instrument=await instrument_by_hash(state, db, keys.instrument_hash),
            opens_on=keys.opens_on,
            closes_on=keys.closes_on,
        )
        cache.put(campaign_id, found)
    return found


async def instrument_by_hash(state: Any, db: Any, digest: str) -> Instrument:
    """The instrument version ``digest``; versions never change, so each is decoded once."""
    cache: dict[str, Instrument] = state.instruments
    found = cache.get(digest)
    if found is None:
        found = await instruments_q.select_instrument_by_hash(db, digest=digest)
        if found is None:
            raise LookupError(f"instrument version {digest} is not stored")
        cache[digest] = found
    return found


async def close_expired_waves(app: Any) -> list[UUID]:
    """Background job: close waves past their closing date, and erase their arrival
    order as a manual close does."""
    async with app.state.pool.acquire() as conn, conn.transaction():
        closed = await campaigns_q.close_expired(conn)
        for campaign_id in closed:
            await campaigns_q.scrub_wave_order(conn, campaign_id=campaign_id)
    return closed
