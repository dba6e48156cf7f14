"""Feedback-thread logic shared by the routes: monthly issuer keys, thread secrets,
the secret-guess throttle, and outgoing service-desk webhooks.

**Keys.** One issuer key per calendar month (UTC), generated the first time anyone
asks for it, with its own random TokenChallenge redemption context, so a thread
token can never be spent on a survey wave or vice versa. The private key is wrapped
with ``CANDOR_KEY_ENCRYPTION_KEY`` and bound to its month.

**Secrets.** The browser draws 12 words from the BIP-0039 English list (2048 words,
11 bits each: 132 bits; ``frontend/static/wordlist-bip39-english.txt``, source in the
``.SOURCE.txt`` beside it). The server stores HMAC-SHA256(``CANDOR_SECRET_KEY``,
normalised phrase) only, and accepts the phrase in an ``Authorization: ThreadSecret``
header, never in a URL.

**Throttle.** A failed look-up cannot be charged to a thread (it names none) nor to a
person (nothing about the caller is recorded), so failures are counted per minute for
the whole service; past ``CANDOR_THREAD_SECRET_FAILURES_PER_MINUTE`` every look-up
gets 429 until the minute ends. With 132-bit secrets this bounds an online guesser
to a hopeless rate; the price is that a flood of bad guesses briefly locks out honest
authors too — chosen over storing anything that identifies callers.

**Turning a thread into work.** A service-desk ticket is :func:`ticket_payload` (the
thread's title, visible text and link, nothing else) sent by a signed webhook, retried
with back-off by :func:`deliver_due`. Action items from a thread are issue 9's own API
(``POST /api/actions`` with ``thread_id``); the staff thread page links the two.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import json
import logging
import re
import secrets
import socket
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any
from uuid import UUID

import httpx
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

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
from service.pages import FRONTEND
from service.queries import threads as q
from service.queries.threads import Delivery, ThreadPeriod

log = logging.getLogger("candor.threads")

WORDLIST = FRONTEND / "static" / "wordlist-bip39-english.txt"
SECRET_WORDS = 12
SIGNATURE_HEADER = "X-Candor-Signature-256"
DELIVERY_HEADER = "X-Candor-Delivery"
MAX_ATTEMPTS = 6
BACKOFF_SECONDS = 30  # 30 s, 1 min, 2 min, 4 min, 8 min between the six attempts
WORKER_INTERVAL_SECONDS = 5


# Periods and keys ---------------------------------------------------------------------------


def period_of(day: date) -> date:
    return day.replace(day=1)


def previous_period(period: date) -> date:
    return period_of(period - timedelta(days=1))


def today() -> date:
    return datetime.now(UTC).date()


def _aad(period: date, key_id: bytes) -> bytes:
    return b"candor-thread-key\x00" + period.isoformat().encode() + key_id


async def period_keys(db: Any, *, period: date, issuer_name: str, kek: bytes) -> ThreadPeriod:
    """The month's key, generated and stored on first use (the first writer wins)."""
    found = await q.select_period(db, period=period)
    if found is not None:
        return found
    private_key = await asyncio.to_thread(generate_issuer_key)
    spki = spki_from_public_key(private_key.public_key())
    key_id = token_key_id(spki)
    challenge = TokenChallenge(TOKEN_TYPE_BLIND_RSA, issuer_name, secrets.token_bytes(32), "").encode()
    keys = ThreadPeriod(period=period, token_key=spki, token_key_id=key_id, challenge=challenge,
                        private_key=encrypt_private_key(private_key, kek, _aad(period, key_id)))
    await q.insert_period(db, keys=keys)
    return await q.select_period(db, period=period)


def _cache(state: Any, name: str) -> dict:
    found = state.get(name) if hasattr(state, "get") else None
    if found is None:
        found = {}
        setattr(state, name, found)
    return found


def signing_key(state: Any, keys: ThreadPeriod) -> SigningKey:
    cache_ = _cache(state, "thread_signing_keys")
    found = cache_.get(keys.token_key_id)
    if found is None:
        private_key = decrypt_private_key(keys.private_key, state.settings.key_encryption_key,
                                          _aad(keys.period, keys.token_key_id))
        found = cache_[keys.token_key_id] = SigningKey(private_key)
    return found


def public_key(state: Any, keys: ThreadPeriod) -> Any:
    cache_ = _cache(state, "thread_public_keys")
    found = cache_.get(keys.token_key_id)
    if found is None:
        found = cache_[keys.token_key_id] = public_key_from_spki(keys.token_key)
    return found


# Secrets ------------------------------------------------------------------------------------


@cache
def wordlist() -> tuple[str, ...]:
    words = tuple(w.strip() for w in WORDLIST.read_text(encoding="ascii").split())
    if len(words) != 2048:
        raise RuntimeError(f"{WORDLIST} should hold 2048 words, not {len(words)}")
    return words


@cache
def _wordset() -> frozenset[str]:
    return frozenset(wordlist())


def new_secret() -> str:
    """What a client does: 12 words drawn uniformly with a CSPRNG."""
    words = wordlist()
    return " ".join(secrets.choice(words) for _ in range(SECRET_WORDS))


def normalise_secret(text: str) -> str | None:
    """Lower case, words separated by single spaces (hyphens and runs of space accepted);
    None unless it is 12 words of the list."""
    words = [w for w in re.split(r"[\s\-_.,]+", text.strip().lower()) if w]
    if len(words) != SECRET_WORDS or not all(w in _wordset() for w in words):
        return None
    return " ".join(words)


def secret_hash(secret_key: bytes, phrase: str) -> bytes:
    return hmac.new(secret_key, b"candor-thread-secret\x00" + phrase.encode(), hashlib.sha256).digest()


def parse_secret_header(header: str | None) -> str | None:
    """``Authorization: ThreadSecret word-word-…`` → the normalised phrase, or None."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "threadsecret":
        return None
    return normalise_secret(value)


# Webhooks -----------------------------------------------------------------------------------


def _webhook_aad(service_id: UUID) -> bytes:
    return b"candor-webhook-secret\x00" + service_id.bytes


def encrypt_webhook_secret(kek: bytes, service_id: UUID, secret: str) -> bytes:
    nonce = secrets.token_bytes(12)
    return nonce + AESGCM(kek).encrypt(nonce, secret.encode(), _webhook_aad(service_id))


def decrypt_webhook_secret(kek: bytes, service_id: UUID, blob: bytes) -> bytes:
    return AESGCM(kek).decrypt(blob[:12], blob[12:], _webhook_aad(service_id))


def ticket_payload(thread: q.ThreadSummary, messages: list[q.Message], link: str) -> dict[str, Any]:
    """The thread's text and link, nothing else (no ids of people, no times)."""
    text = "\n\n".join(
        f"[{'staff' if m.from_staff else 'author'}] {m.body}" for m in messages if m.hidden_reason is None
    )
    return {"title": thread.title, "text": text, "link": link}


def sign(secret: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def next_attempt(attempts_done: int, now: datetime) -> datetime | None:
    """When to try again after ``attempts_done`` failed attempts; None: give up."""
    if attempts_done >= MAX_ATTEMPTS:
        return None
    return now + timedelta(seconds=BACKOFF_SECONDS * 2 ** (attempts_done - 1))


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    return ip.is_global and not ip.is_multicast


async def refuse_destination(url: str, *, allow_private: bool) -> str | None:
    """Why the server must not post to ``url``, or None.

    Unless private destinations are allowed, every address the host resolves to must be
    public: an owner's webhook must not make the server reach into its own network
    (loopback, private ranges, link-local cloud metadata). Checked when a webhook is
    set and again before each delivery (names can be re-pointed).
    """
    if allow_private:
        return None
    parsed = httpx.URL(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(parsed.host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return "the host name does not resolve"
    if not infos or not all(_public(info[4][0]) for info in infos):
        return "the address is private, loopback or reserved (set CANDOR_WEBHOOK_ALLOW_PRIVATE to allow)"
    return None


async def attempt_delivery(http: httpx.AsyncClient, url: str, secret: bytes, delivery: Delivery) -> tuple[int | None, str]:
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    try:
        response = await http.post(url, content=body, headers={
            "content-type": "application/json", SIGNATURE_HEADER: sign(secret, body),
            DELIVERY_HEADER: str(delivery.id), "user-agent": "Candor-Webhook/1",
        })
    except httpx.HTTPError as exc:
        return None, type(exc).__name__
    return response.status_code, "" if response.is_success else f"HTTP {response.status_code}"


async def deliver_due(pool: Any, kek: bytes, *, now: datetime | None = None,
                      http: httpx.AsyncClient | None = None, allow_private: bool = False) -> int:
    """Try every pending delivery whose time has come; returns how many were tried.
    Rows are claimed with SKIP LOCKED, so several replicas can run this at once."""
    now = now or datetime.now(UTC)
    owns_http = http is None
    http = http or httpx.AsyncClient(timeout=10, follow_redirects=False, trust_env=False)
    tried = 0
    try:
        async with pool.acquire() as conn, conn.transaction():
            for delivery in await q.claim_due_deliveries(conn, now=now):
                tried += 1
                hook = await q.select_webhook(conn, service_id=delivery.service_id)
                if hook is None or not hook.active:
                    await q.record_attempt(conn, delivery_id=delivery.id, state="failed", status=None,
                                           error="no active webhook", next_attempt_at=None, now=now)
                    continue
                if refused := await refuse_destination(hook.url, allow_private=allow_private):
                    await q.record_attempt(conn, delivery_id=delivery.id, state="failed", status=None,
                                           error=refused, next_attempt_at=None, now=now)
                    continue
                secret = decrypt_webhook_secret(kek, delivery.service_id, hook.secret)
                status, error = await attempt_delivery(http, hook.url, secret, delivery)
                if not error:
                    await q.record_attempt(conn, delivery_id=delivery.id, state="delivered", status=status,
                                           error="", next_attempt_at=None, now=now)
                    continue
                retry_at = next_attempt(delivery.attempts + 1, now)
                await q.record_attempt(conn, delivery_id=delivery.id, state="pending" if retry_at else "failed",
                                       status=status, error=error, next_attempt_at=retry_at, now=now)
    finally:
        if owns_http:
            await http.aclose()
    return tried


async def deliver_webhooks(app: Any) -> None:
    """Background job (see service.housekeeping): retry the deliveries that are due."""
    settings = app.state.settings
    await deliver_due(app.state.pool, settings.key_encryption_key, allow_private=settings.webhook_allow_private)
