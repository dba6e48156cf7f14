"""The key transparency log: every issuer key Candor uses, in an append-only, signed
RFC 9162 Merkle tree (issue 15, DESIGN.md invariant 8).

A dishonest operator could hand one member a wave key of their own and recognise that
member's answer (RFC 9576 §6, key consistency). Publishing each key once, in a log
whose signed heads clients and outside monitors compare over time, makes such a key
visible: a client refuses a key that is not in the log, or a log that is not an
extension of the one it saw before.

**When.** A wave's key is appended in the transaction that opens the wave
(:func:`open_wave`, the one way a wave opens), a thread month's key in the
transaction whose insert stored it (:mod:`service.threads`). A rolled-back opening
leaves no entry; a committed one always has one. Appends take a table lock, so one
writer at a time picks the next index and signs the head of the tree it made.

**Start-up.** :func:`prepare_log` makes the log key on first start (Ed25519, wrapped
with the key-encryption key like the issuer keys), signs the empty tree, and
back-fills keys that were stored before the log existed, oldest first.

The tree arithmetic and signatures are :mod:`crypto.transparency`'s.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import date
from typing import Any, Literal, NamedTuple
from uuid import UUID

import asyncpg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from crypto.transparency import (
    LogEntry,
    SignedTreeHead,
    TransparencyError,
    consistency_proof,
    decrypt_log_key,
    encrypt_log_key,
    generate_log_key,
    inclusion_proof,
    leaf_hash,
    log_public_key,
    merkle_root,
    sign_tree_head,
)
from service.issuance import IssuerKey
from service.queries import campaigns as campaigns_q
from service.queries import transparency as q
from service.queries.transparency import HeadRow
from service.waves import today

__all__ = [
    "ENTRIES_PAGE",
    "append",
    "consistency",
    "entries",
    "inclusion",
    "log_key",
    "log_lifespan",
    "open_wave",
    "prepare_log",
    "public_log_key",
    "published",
    "tree_head",
]

ENTRIES_PAGE = 256
_KEY_LABEL = b"candor-transparency-log-key"
Kind = Literal["wave", "thread-period"]


def _aad(public_key: bytes) -> bytes:
    # Names the row and binds the wrapped key to the public key published beside it.
    return _KEY_LABEL + b"\x00" + public_key


def _entry_id(owner: UUID | date) -> str:
    # A wave by its UUID; a thread month as the thread key endpoint's ``period`` (YYYY-MM).
    return str(owner) if isinstance(owner, UUID) else owner.isoformat()[:7]


async def log_key(conn: Any, kek: bytes) -> Ed25519PrivateKey:
    """The log's signing key, made and stored on first use (the first writer wins)."""
    row = await q.select_log_key(conn)
    if row is None:
        made = generate_log_key()
        public = log_public_key(made)
        await q.insert_log_key(conn, public_key=public, private_key=encrypt_log_key(made, kek, _aad(public)))
        row = await q.select_log_key(conn)
        if row is None:
            raise LookupError("the transparency log key was not stored")
    key = decrypt_log_key(row.private_key, kek, _aad(row.public_key))
    if log_public_key(key) != row.public_key:
        raise TransparencyError("the stored log key does not match its public key")
    return key


async def public_log_key(conn: Any) -> bytes | None:
    """The raw 32-byte Ed25519 public key clients pin, or None before the first start."""
    row = await q.select_log_key(conn)
    return None if row is None else row.public_key


def _head(row: HeadRow) -> SignedTreeHead:
    return SignedTreeHead(tree_size=row.tree_size, root_hash=row.root_hash, issued_on=row.issued_on,
                          signature=row.signature)


async def _sign_and_store(conn: asyncpg.Connection, kek: bytes, hashes: list[bytes]) -> SignedTreeHead:
    head = sign_tree_head(await log_key(conn, kek), len(hashes), merkle_root(hashes), today())
    await q.insert_head(conn, head=HeadRow(tree_size=head.tree_size, root_hash=head.root_hash,
                                           issued_on=head.issued_on, signature=head.signature))
    return head


async def append(
    conn: asyncpg.Connection, *, kek: bytes, kind: Kind, owner: UUID | date, token_key: bytes,
    token_key_id: bytes, opened_on: date,
) -> SignedTreeHead:
    """Append one key and store the newly signed head, in the caller's transaction.

    A key already in the log is not appended twice (the current head is returned). A
    second key for a wave or month that has one is refused by the table's unique
    constraints (:class:`asyncpg.UniqueViolationError`), and so is the whole transaction.
    """
    if not conn.is_in_transaction():
        raise RuntimeError("append to the transparency log inside the transaction that stores the key")
    await q.lock_log(conn)
    if await q.select_entry_by_key_id(conn, token_key_id=token_key_id) is not None:
        return await tree_head(conn)
    hashes = await q.select_leaf_hashes(conn)
    entry = LogEntry(kind=kind, id=_entry_id(owner), token_key_id=token_key_id, token_key=token_key,
                     opened_on=opened_on).encode()
    hashes.append(leaf_hash(entry))
    await q.insert_entry(conn, leaf_index=len(hashes) - 1, kind=kind,
                         campaign_id=owner if isinstance(owner, UUID) else None,
                         period=owner if not isinstance(owner, UUID) else None,
                         token_key_id=token_key_id, entry=entry, leaf_hash=hashes[-1])
    return await _sign_and_store(conn, kek, hashes)


async def open_wave(
    conn: asyncpg.Connection, *, keys: IssuerKey[UUID], manifest: dict[str, Any], manifest_hash: str,
    audience_size: int, kek: bytes,
) -> SignedTreeHead:
    """Open a draft wave with ``keys`` and log its key, in the caller's transaction: the
    one way a wave opens (the API, the demo seed and the benchmark all come here)."""
    campaign_id = keys.owner
    await campaigns_q.open_campaign(
        conn, campaign_id=campaign_id, manifest=manifest, manifest_hash=manifest_hash, token_key=keys.token_key,
        token_key_id=keys.token_key_id, challenge=keys.challenge, private_key=keys.private_key,
        audience_size=audience_size,
    )
    opened_on = await q.select_opened_on(conn, campaign_id=campaign_id, token_key_id=keys.token_key_id)
    if opened_on is None:
        raise LookupError(f"wave {campaign_id} did not open with this key")
    return await append(conn, kek=kek, kind="wave", owner=campaign_id, token_key=keys.token_key,
                        token_key_id=keys.token_key_id, opened_on=opened_on)


async def prepare_log(conn: asyncpg.Connection, kek: bytes) -> SignedTreeHead:
    """At start-up: the log key, a signed head of the empty log, and every stored key
    that is not in the log yet (waves and months, by the day they opened, then id)."""
    async with conn.transaction():
        await q.lock_log(conn)
        await log_key(conn, kek)
        if await q.select_latest_head(conn) is None:
            await _sign_and_store(conn, kek, await q.select_leaf_hashes(conn))
        for key in await q.select_unlogged_keys(conn):
            owner: UUID | date | None = key.campaign_id if key.kind == "wave" else key.period
            if owner is None:
                raise LookupError("an unlogged key without its wave or month")
            await append(conn, kek=kek, kind="wave" if key.kind == "wave" else "thread-period", owner=owner,
                         token_key=key.token_key, token_key_id=key.token_key_id, opened_on=key.opened_on)
        return await tree_head(conn)


def log_lifespan(kek: bytes) -> Callable[[Any], AbstractAsyncContextManager[None]]:
    """The app's start-up step (after the pool's): :func:`prepare_log`."""

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        async with app.state.pool.acquire() as conn:
            await prepare_log(conn, kek)
        yield

    return lifespan


class PublishedLog(NamedTuple):
    """What the privacy page shows: the key to pin and the current head, base64 as the API."""

    public_key: str
    tree_size: int
    root_hash: str
    issued_on: date


async def published(conn: Any) -> PublishedLog | None:
    """The log key and latest head for the privacy page; None before the first start."""
    public, head = await q.select_log_key(conn), await q.select_latest_head(conn)
    if public is None or head is None:
        return None
    return PublishedLog(public_key=base64.b64encode(public.public_key).decode("ascii"), tree_size=head.tree_size,
                        root_hash=base64.b64encode(head.root_hash).decode("ascii"), issued_on=head.issued_on)


async def tree_head(conn: Any) -> SignedTreeHead:
    """The latest signed head (there is always one once the app has started)."""
    row = await q.select_latest_head(conn)
    if row is None:
        raise LookupError("the transparency log has no signed head yet")
    return _head(row)


async def entries(conn: Any, *, start: int, end: int) -> list[bytes]:
    """Entries ``start`` ≤ i < ``end``, at most :data:`ENTRIES_PAGE` of them."""
    return await q.select_entries(conn, start=start, end=min(end, start + ENTRIES_PAGE))


async def inclusion(conn: Any, *, token_key_id: bytes, tree_size: int) -> tuple[int, list[bytes], bytes] | None:
    """(leaf index, audit path, entry bytes) of a key in the tree of the first
    ``tree_size`` entries; None when the key is not among them."""
    found = await q.select_entry_by_key_id(conn, token_key_id=token_key_id)
    if found is None or found.leaf_index >= tree_size:
        return None
    hashes = await q.select_leaf_hashes(conn, limit=tree_size)
    return found.leaf_index, inclusion_proof(hashes, found.leaf_index), found.entry


async def consistency(conn: Any, *, first: int, second: int) -> list[bytes]:
    """``PROOF(first, D[second])`` (RFC 9162 §2.1.4.1); 1 ≤ first ≤ second ≤ the log's size."""
    return consistency_proof(await q.select_leaf_hashes(conn, limit=second), first)
