"""Feedback-thread logic shared by the routes: monthly issuer keys, thread secrets,
the secret-guess throttle, and outgoing service-desk webhooks.

**Keys.** One issuer key per calendar month (UTC), generated the first time anyone
asks for it, with its own random TokenChallenge redemption context, so a thread
token can never be spent on a survey wave or vice versa. The private key is wrapped
with ``CANDOR_KEY_ENCRYPTION_KEY`` and bound to its month; issuing and redeeming are
:mod:`service.issuance`'s, as for waves.

**Secrets.** The browser draws 12 words from the BIP-0039 English list (2048 words,
11 bits each: 132 bits; ``frontend/static/wordlist-bip39-english.txt``, source in the
``.SOURCE.txt`` beside it). The server stores HMAC-SHA256(``CANDOR_SECRET_KEY``,
normalised phrase) only, and accepts the phrase in an ``Authorization: ThreadSecret``
header, never in a URL.

**Throttle.** A failed look-up cannot be charged to a thread (it names none) nor to a
person (nothing about the caller is recorded), so failures are counted per minute for
the whole service; past ``CANDOR_THREAD_SECRET_FAILURES_PER_MINUTE`` a wrong secret
gets 429 instead of 401 until the minute ends. The right secret always works: a flood
of bad guesses must not lock honest authors out of their threads, and with 132-bit
secrets guessing is hopeless at any rate a server answers.

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
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any, NamedTuple
from uuid import UUID

import asyncpg
import httpx
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from service import transparency
from service.issuance import THREAD_PERIOD, IssuerKey, generate_keys, stored_key
from service.pages import FRONTEND
from service.queries import threads as q
from service.queries.threads import Delivery, ThreadPeriod
from service.settings import Settings

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


def period_key(keys: ThreadPeriod) -> IssuerKey[date]:
    """The issuer key of a thread period's row."""
    return stored_key(THREAD_PERIOD, keys.period, keys)


async def period_keys(db: Any, *, period: date, issuer_name: str, kek: bytes) -> IssuerKey[date]:
    """The month's key, generated and stored on first use (the first writer wins). The
    winner's transaction also appends the key to the transparency log, so a stored key
    is always a logged one; ``db`` may be the pool (a transaction of its own) or a
    connection (a savepoint in the request's transaction)."""
    found = await q.select_period(db, period=period)
    if found is None:
        made = await generate_keys(THREAD_PERIOD, period, issuer_name=issuer_name, kek=kek)
        async with _transaction(db) as conn:
            if await q.insert_period(conn, keys=ThreadPeriod(period=period, token_key=made.token_key,
                                                             token_key_id=made.token_key_id,
                                                             challenge=made.challenge,
                                                             private_key=made.private_key)):
                # The month's first day, not today: the day a month's key is made is the
                # day of the month's first thread request, which the log need not tell.
                await transparency.append(conn, kek=kek, kind="thread-period", owner=period,
                                          token_key=made.token_key, token_key_id=made.token_key_id,
                                          opened_on=period)
        found = await q.select_period(db, period=period)
        if found is None:  # insert_period keeps the first writer's row; there is always one
            raise LookupError(f"no thread key stored for {period.isoformat()}")
    return period_key(found)


@asynccontextmanager
async def _transaction(db: Any) -> AsyncIterator[Any]:
    if isinstance(db, asyncpg.Pool):
        async with db.acquire() as conn, conn.transaction():
            yield conn
    else:
        async with db.transaction():
            yield db


async def current_keys(db: Any, settings: Settings) -> IssuerKey[date]:
    """This month's key, made on first use on ``db`` (the request's own connection; a
    handler without one passes the pool). A request that fails after making it rolls it
    back, which is harmless: nothing it signed or published left the request."""
    return await period_keys(db, period=period_of(today()), issuer_name=settings.issuer_name,
                             kek=settings.key_encryption_key)


async def redeemable_key(db: Any, token_key_id: bytes, *, current: date) -> IssuerKey[date] | None:
    """The thread key a token names, if it is this month's or last month's: a token
    outlives the turn of the month by one month, no more."""
    keys = await q.select_period_by_key_id(db, token_key_id=token_key_id)
    if keys is None or keys.period not in (current, previous_period(current)):
        return None
    return period_key(keys)


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


# Where a webhook may go ------------------------------------------------------------------------
#
# An owner's webhook must not make the server reach into its own network (loopback,
# private ranges, cloud metadata at 169.254.169.254, ...). The name is resolved once,
# every address is checked, and the connection goes to exactly a checked address: the
# request URL carries the IP, while the Host header and TLS SNI (and so the certificate
# check) carry the name. httpx never resolves the name itself, so a DNS answer that
# changes between the check and the connection (rebinding) changes nothing.

RESOLVE_TIMEOUT_SECONDS = 5
# Resolve, connect, send and read the answer, per delivery: bounds a round of the worker.
DELIVERY_TIMEOUT_SECONDS = 30
# A claimed delivery whose worker died before recording the outcome is tried again after this.
LEASE_SECONDS = 300
DELIVERY_CONCURRENCY = 4
# Addresses tried (in the resolver's order, all checked) when a connection cannot be made.
MAX_ADDRESSES = 3

_NAT64_WELL_KNOWN = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052: the IPv4 address in the last 32 bits
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215: local use, embedding not fixed
# Special-purpose ranges (IANA registries) refused whatever this Python's ipaddress
# tables say, since those tables differ between Python versions.
_NEVER = tuple(ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24", "192.88.99.0/24", "198.18.0.0/15", "240.0.0.0/4",
    "::/96", "100::/64", "2001::/23", "2001:db8::/32", "fc00::/7", "fe80::/10", "fec0::/10",
))
_HOST_LABEL = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?<!-)")
PRIVATE_REASON = "the address is private, loopback or reserved (set CANDOR_WEBHOOK_ALLOW_PRIVATE to allow)"


class WebhookRefused(Exception):
    """The server will not post to this URL; the message (shown to owners) says why.
    ``final``: trying again later cannot help (a bad URL, a private address)."""

    def __init__(self, reason: str, *, final: bool = True) -> None:
        super().__init__(reason)
        self.final = final


@dataclass(frozen=True, slots=True)
class Destination:
    url: httpx.URL  # as the owner wrote it
    host: str  # the name (ASCII, IDNA-encoded) for the Host header and SNI
    addresses: tuple[str, ...]  # checked, in the resolver's order


def _ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def parse_webhook_url(url: str) -> tuple[httpx.URL, str]:
    """The URL and its host name (ASCII); :class:`WebhookRefused` unless it is an
    http(s) URL with a valid host and no user name or password."""
    try:
        parsed = httpx.URL(url)
        host = parsed.raw_host.decode("ascii").lower()
        port = parsed.port
    except (httpx.InvalidURL, ValueError, TypeError) as exc:  # bad IPv6 literal, IDNA, port
        raise WebhookRefused(f"not a valid URL ({exc})") from None
    if parsed.scheme not in ("http", "https"):
        raise WebhookRefused("only http and https URLs can receive webhooks")
    if parsed.userinfo:
        raise WebhookRefused("no user name or password in the URL: receivers check the signature instead")
    if not host:
        raise WebhookRefused("the URL names no host")
    if port is not None and not 1 <= port <= 65535:
        raise WebhookRefused("not a valid port")
    if _ip_literal(host) is None and not (
        len(host) <= 253 and all(_HOST_LABEL.fullmatch(label) for label in host.removesuffix(".").split("."))
    ):
        raise WebhookRefused("not a valid host name")
    return parsed, host


def _public_ip(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return ip.is_global and not (ip.is_private or ip.is_reserved or ip.is_multicast or ip.is_loopback
                                 or ip.is_link_local or ip.is_unspecified
                                 or any(ip.version == n.version and ip in n for n in _NEVER))


def public_address(address: str) -> bool:
    """Whether a server may connect to ``address``: globally reachable, and for IPv6
    forms that carry an IPv4 address (IPv4-mapped, NAT64, 6to4) the IPv4 address is
    what counts, since that is where the packets end up. Teredo and local-use NAT64
    (whose embedding is not fixed) are refused outright."""
    ip = _ip_literal(address.split("%", 1)[0])
    if ip is None:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.teredo is not None or ip in _NAT64_LOCAL:
            return False
        if ip.ipv4_mapped is not None:
            return _public_ip(ip.ipv4_mapped)
        if ip in _NAT64_WELL_KNOWN:
            return _public_ip(ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF))
        if ip.sixtofour is not None:
            return _public_ip(ip.sixtofour) and _public_ip(ip)
    return _public_ip(ip)


async def resolve(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to, in the resolver's order (getaddrinfo runs in
    the loop's thread pool, off the event loop)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def check_destination(url: str, *, allow_private: bool) -> Destination:
    """Resolve once and check every address; the :class:`Destination` to connect to."""
    parsed, host = parse_webhook_url(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    if (literal := _ip_literal(host)) is not None:
        addresses = [str(literal)]
    else:
        try:
            async with asyncio.timeout(RESOLVE_TIMEOUT_SECONDS):
                addresses = await resolve(host, port)
        except (OSError, UnicodeError, TimeoutError):
            raise WebhookRefused("the host name does not resolve", final=False) from None
    if not addresses:
        raise WebhookRefused("the host name does not resolve", final=False)
    # Every address, not just the first: a name that also points inward is refused.
    if not allow_private and not all(public_address(a) for a in addresses):
        raise WebhookRefused(PRIVATE_REASON)
    return Destination(url=parsed, host=host, addresses=tuple(addresses))


async def refuse_destination(url: str, *, allow_private: bool) -> str | None:
    """Why the server must not post to ``url``, or None: checked when a webhook is set
    (and again before each delivery, since names can be re-pointed). With private
    destinations allowed the URL is still checked, but nothing is resolved yet."""
    try:
        if allow_private:
            parse_webhook_url(url)
        else:
            await check_destination(url, allow_private=False)
    except WebhookRefused as refused:
        return str(refused)
    return None


# Deliveries ------------------------------------------------------------------------------------


def webhook_client() -> httpx.AsyncClient:
    # No kept-alive connections: a connection to a pinned IP, opened with one name's SNI
    # and certificate, must never carry another name's request.
    return httpx.AsyncClient(timeout=10, follow_redirects=False, trust_env=False,
                             limits=httpx.Limits(max_keepalive_connections=0))


async def attempt_delivery(
    http: httpx.AsyncClient, destination: Destination, secret: bytes, delivery: Delivery
) -> tuple[int | None, str]:
    """POST the signed payload to the checked addresses (the next one only when no
    connection could be made); the status and an error ('' when delivered)."""
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    url = destination.url
    headers = {
        "host": url.netloc.decode("ascii"), "content-type": "application/json",
        SIGNATURE_HEADER: sign(secret, body), DELIVERY_HEADER: str(delivery.id), "user-agent": "Candor-Webhook/1",
    }
    # SNI, and so the certificate check, is for the name the owner gave (not for an IP).
    extensions = {"sni_hostname": destination.host} if _ip_literal(destination.host) is None else {}
    error = "no address"
    for address in destination.addresses[:MAX_ADDRESSES]:
        try:
            response = await http.post(url.copy_with(host=address), content=body, headers=headers,
                                       extensions=extensions)
        except httpx.ConnectError as exc:
            error = type(exc).__name__
            continue
        except httpx.HTTPError as exc:
            return None, type(exc).__name__
        return response.status_code, "" if response.is_success else f"HTTP {response.status_code}"
    return None, error


class _Outcome(NamedTuple):
    state: str
    status: int | None
    error: str
    next_attempt_at: datetime | None


async def _attempt(
    http: httpx.AsyncClient, kek: bytes, delivery: Delivery, hook: q.Webhook | None, *, allow_private: bool,
    now: datetime,
) -> _Outcome:
    if hook is None or not hook.active:
        return _Outcome("failed", None, "no active webhook", None)
    try:
        destination = await check_destination(hook.url, allow_private=allow_private)
    except WebhookRefused as refused:
        if refused.final:
            return _Outcome("failed", None, str(refused), None)
        status, error = None, str(refused)
    else:
        secret = decrypt_webhook_secret(kek, delivery.service_id, hook.secret)
        status, error = await attempt_delivery(http, destination, secret, delivery)
    if not error:
        return _Outcome("delivered", status, "", None)
    retry_at = next_attempt(delivery.attempts, now)
    return _Outcome("pending" if retry_at else "failed", status, error, retry_at)


async def _deliver_one(
    pool: Any, http: httpx.AsyncClient, kek: bytes, delivery: Delivery, hook: q.Webhook | None, *,
    allow_private: bool, now: datetime,
) -> None:
    """One claimed delivery, start to end: its failure, whatever it is, is its own."""
    try:
        async with asyncio.timeout(DELIVERY_TIMEOUT_SECONDS):
            outcome = await _attempt(http, kek, delivery, hook, allow_private=allow_private, now=now)
    except Exception as exc:  # noqa: BLE001 - recorded on this delivery, never on the others
        retry_at = next_attempt(delivery.attempts, now)
        outcome = _Outcome("pending" if retry_at else "failed", None, type(exc).__name__, retry_at)
    try:
        async with pool.acquire() as conn:
            await q.record_attempt(conn, delivery_id=delivery.id, attempt=delivery.attempts, state=outcome.state,
                                   status=outcome.status, error=outcome.error,
                                   next_attempt_at=outcome.next_attempt_at, now=now)
    except Exception:  # noqa: BLE001 - the lease runs out and the delivery is tried again
        log.exception("could not record webhook delivery %s", delivery.id)


async def deliver_due(pool: Any, kek: bytes, *, now: datetime | None = None,
                      http: httpx.AsyncClient | None = None, allow_private: bool = False) -> int:
    """Try every pending delivery whose time has come; returns how many were claimed.

    A short transaction claims them (SKIP LOCKED, so replicas share the work; the
    attempt is counted and the row leased for :data:`LEASE_SECONDS`) and commits; the
    HTTP calls run with no connection held; each outcome is recorded on its own row.
    """
    now = now or datetime.now(UTC)
    async with pool.acquire() as conn, conn.transaction():
        claimed = await q.claim_due_deliveries(conn, now=now, lease_until=now + timedelta(seconds=LEASE_SECONDS),
                                               max_attempts=MAX_ATTEMPTS)
        hooks = await q.select_webhooks(conn, service_ids=list({d.service_id for d in claimed}))
    if not any(d.state == "pending" for d in claimed):
        # Nothing to send: no HTTP client (making one loads the CA bundle, tens of
        # milliseconds on the event loop, every round of the worker).
        return len(claimed)
    owns_http = http is None
    http = http or webhook_client()
    gate = asyncio.Semaphore(DELIVERY_CONCURRENCY)

    async def one(delivery: Delivery) -> None:
        async with gate:
            await _deliver_one(pool, http, kek, delivery, hooks.get(delivery.service_id),
                               allow_private=allow_private, now=now)

    try:
        await asyncio.gather(*(one(d) for d in claimed if d.state == "pending"))
    finally:
        if owns_http:
            await http.aclose()
    return len(claimed)


async def deliver_webhooks(app: Any) -> None:
    """Background job (see service.housekeeping): retry the deliveries that are due."""
    settings = app.state.settings
    await deliver_due(app.state.pool, settings.key_encryption_key, allow_private=settings.webhook_allow_private)
