"""The one Privacy Pass issuer (RFC 9578 token type 2, RFC 9577 HTTP auth) behind both
survey waves and feedback threads.

A wave has one key for its whole life; threads have one key per calendar month. What
differs between the two is data — a :class:`KeyKind`: how a wrapped private key is
bound to the row that owns it, whether one request may ask for several tokens, and
the words of its refusals. Everything else is done once, here: making a key
(:func:`generate_keys`), unwrapping and caching it (:class:`Issuer`), signing blinded
TokenRequests off the event loop (:meth:`Issuer.issue`), checking a redeemed token
(:meth:`Issuer.redeem`) and the 401 challenge that goes with a refusal
(:func:`unauthorized`).

**Signing processes.** After the all-staff e-mail everyone signs in at once and each
sign-in asks for a wave token and a month of thread tokens. Signing is CPU work, so it
runs in a :class:`SigningPool` of processes sized to the cores, made when the app starts
(:func:`signing_lifespan`) and shut down when it stops. Each process gets a key's
(unwrapped) DER once and keeps it loaded; requests that queue for a busy process are sent
to it together as one batch, so a sign-in's wave and thread requests arriving together
cost one round trip. Where processes cannot be started, signing falls back to a thread,
as before. (Signing a sign-in's wave and thread tokens in one *request* would need a new
endpoint: a protocol change, not made.)

Nothing that must be unique is decided here: issuance budgets and spent nonces live in
the database, decided by the statements that record them.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import multiprocessing
import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import date
from multiprocessing.context import BaseContext
from typing import Any, Generic, NamedTuple, Protocol, TypeVar
from uuid import UUID

import msgspec
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from crypto.blindrsa import SigningKey, signing_backend
from crypto.keys import (
    decrypt_private_key,
    encrypt_private_key,
    generate_issuer_key,
    public_key_from_spki,
    spki_from_public_key,
    token_key_id,
)
from crypto.tokens import (
    NK,
    TOKEN_TYPE_BLIND_RSA,
    Token,
    TokenChallenge,
    TokenError,
    TokenRequest,
    format_www_authenticate,
    issue_token_response,
    parse_authorization,
    verify_token,
)
from instruments.errors import N_
from service.errors import Problem
from service.lru import LRUCache

__all__ = [
    "THREAD_PERIOD",
    "TOKEN_REQUEST_LEN",
    "WAVE",
    "Issuer",
    "IssuerKey",
    "KeyKind",
    "Redeemed",
    "SIGNING_PROCESSES_ENV",
    "SigningPool",
    "TokenKey",
    "b64url",
    "generate_keys",
    "private_key",
    "read_token_requests",
    "stored_key",
    "publish_key",
    "signing_lifespan",
    "signing_processes",
    "unauthorized",
    "worker_share",
]

log = logging.getLogger("candor.issuance")

Owner = TypeVar("Owner", UUID, date)
TOKEN_REQUEST_LEN = 2 + 1 + NK  # RFC 9578 §6.1, token type 2
CACHE_SIZE = 256


@dataclass(frozen=True, slots=True)
class KeyKind(Generic[Owner]):
    """One kind of issuer key, as data.

    ``label`` and ``owner_bytes`` make the associated data that binds a wrapped private
    key to its row (:meth:`aad`); they are part of every stored ciphertext, so they never
    change. ``batch``: whether one request may carry several TokenRequests.
    ``made_on_demand``: the key is made by the first request that needs it, so a refusal
    that names it must keep it (the 401 commits). The strings are the refusals' details.
    """

    name: str
    owner_type: type[Owner]
    label: bytes
    owner_bytes: Callable[[Owner], bytes]
    batch: bool
    made_on_demand: bool
    another_key: str
    missing_token: str
    invalid_token: str

    def aad(self, owner: Owner, key_id: bytes) -> bytes:
        # Binds the ciphertext to its row: a key copied to another wave or month will not decrypt.
        if not isinstance(owner, self.owner_type):
            raise TypeError(f"a {self.name} key is owned by a {self.owner_type.__name__}")
        return self.label + b"\x00" + self.owner_bytes(owner) + key_id


WAVE: KeyKind[UUID] = KeyKind(
    name="wave",
    owner_type=UUID,
    label=b"candor-issuer-key",
    owner_bytes=lambda campaign_id: campaign_id.bytes,
    batch=False,  # one token per member per wave
    made_on_demand=False,
    another_key=N_("The TokenRequest names another issuer key (truncated key id)"),
    missing_token=N_("Send the wave's Privacy Pass token: Authorization: PrivateToken token=…"),
    # One answer for every way a token can be wrong: see Issuer.redeem.
    invalid_token=N_("The token is not valid for this wave"),
)

THREAD_PERIOD: KeyKind[date] = KeyKind(
    name="thread period",
    owner_type=date,
    label=b"candor-thread-key",
    owner_bytes=lambda period: period.isoformat().encode(),
    batch=True,  # the rest of the month's allowance at once
    made_on_demand=True,
    another_key=N_("A TokenRequest names another key than this month's thread key"),
    missing_token=N_("Send a thread token: Authorization: PrivateToken token=…"),
    invalid_token=N_("The thread token is not valid (it must be from this month's or last month's thread key)"),
)


class IssuerKey(msgspec.Struct, Generic[Owner], frozen=True):
    """One issuer key as stored: its public parts and the wrapped private key."""

    kind: KeyKind[Owner]
    owner: Owner  # the wave's id, or the thread period's first day
    token_key: bytes  # RSASSA-PSS SubjectPublicKeyInfo
    token_key_id: bytes  # SHA-256 of token_key (RFC 9578 §6.5)
    challenge: bytes  # the encoded TokenChallenge, with its own random redemption context
    private_key: bytes  # PKCS#8, AES-256-GCM under the KEK with kind.aad(owner, token_key_id)

    @property
    def identity(self) -> tuple[str, Owner, bytes]:
        # The row, not just the key id: a key copied into another row is unwrapped (and so
        # refused) again rather than found in the cache under its id.
        return self.kind.name, self.owner, self.token_key_id


class StoredKeyColumns(Protocol):
    @property
    def token_key(self) -> bytes: ...
    @property
    def token_key_id(self) -> bytes: ...
    @property
    def challenge(self) -> bytes: ...
    @property
    def private_key(self) -> bytes: ...


def stored_key(kind: KeyKind[Owner], owner: Owner, row: StoredKeyColumns) -> IssuerKey[Owner]:
    """The key of a database row (a wave's or a thread period's key columns)."""
    return IssuerKey(kind=kind, owner=owner, token_key=row.token_key, token_key_id=row.token_key_id,
                     challenge=row.challenge, private_key=row.private_key)


async def generate_keys(kind: KeyKind[Owner], owner: Owner, *, issuer_name: str, kek: bytes) -> IssuerKey[Owner]:
    """A fresh 2048-bit key for ``owner``, wrapped for storage, with a TokenChallenge whose
    random redemption context binds its tokens to this wave or period alone (a thread
    token cannot be spent on a wave, nor one wave's on another)."""
    generated = await asyncio.to_thread(generate_issuer_key)
    spki = spki_from_public_key(generated.public_key())
    key_id = token_key_id(spki)
    challenge = TokenChallenge(TOKEN_TYPE_BLIND_RSA, issuer_name, secrets.token_bytes(32), "").encode()
    return IssuerKey(kind=kind, owner=owner, token_key=spki, token_key_id=key_id, challenge=challenge,
                     private_key=encrypt_private_key(generated, kek, kind.aad(owner, key_id)))


def private_key(key: IssuerKey[Owner], kek: bytes) -> rsa.RSAPrivateKey:
    """Unwrap ``key``; :class:`crypto.keys.KeyDecryptionError` when the ciphertext is not
    this row's (another wave's or month's, or tampered) or the KEK is wrong."""
    return decrypt_private_key(key.private_key, kek, key.kind.aad(key.owner, key.token_key_id))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")


class TokenKey(msgspec.Struct, frozen=True, rename="kebab"):
    """What a client needs to ask for tokens of a key and to check it (RFC 9578 §6.5)."""

    token_type: int
    token_key: str
    token_key_id: str
    issuer_name: str
    challenge: str


def publish_key(key: IssuerKey[Owner]) -> TokenKey:
    return TokenKey(token_type=TOKEN_TYPE_BLIND_RSA, token_key=b64url(key.token_key),
                    token_key_id=key.token_key_id.hex(),
                    issuer_name=TokenChallenge.decode(key.challenge).issuer_name, challenge=b64url(key.challenge))


def read_token_requests(body: bytes, key: IssuerKey[Owner]) -> list[TokenRequest]:
    """The TokenRequests of an ``application/private-token-request`` body: exactly one,
    or for a batch kind one or more concatenated. 400 unless all are for ``key``."""
    if key.kind.batch:
        if not body or len(body) % TOKEN_REQUEST_LEN:
            raise Problem(400, "bad-request", N_("Send one or more {size}-byte TokenRequests", size=TOKEN_REQUEST_LEN))
        chunks = [body[i:i + TOKEN_REQUEST_LEN] for i in range(0, len(body), TOKEN_REQUEST_LEN)]
    else:
        chunks = [body]
    try:
        requests = [TokenRequest.decode(chunk) for chunk in chunks]
    except TokenError as exc:
        raise Problem(400, "bad-request", N_("Malformed TokenRequest: {reason}", reason=str(exc))) from None
    if any(r.truncated_token_key_id != key.token_key_id[-1] for r in requests):
        raise Problem(400, "bad-request", key.kind.another_key)
    return requests


def unauthorized(key: IssuerKey[Owner], detail: str) -> Problem:
    """401 with the key's challenge (RFC 9577 §2.1): ``WWW-Authenticate: PrivateToken
    challenge=…, token-key=…``."""
    return Problem(401, "token-invalid", detail, commit=key.kind.made_on_demand,
                   headers={"WWW-Authenticate": format_www_authenticate(key.challenge, key.token_key)})


class Redeemed(NamedTuple):
    token: Token  # verified; its nonce is what to spend
    key: IssuerKey  # the key that signed it


class _Verifier(NamedTuple):
    public_key: rsa.RSAPublicKey
    challenge_digest: bytes


# --- signing processes --------------------------------------------------------------------

Identity = tuple[str, UUID | date, bytes]  # IssuerKey.identity
_NEEDS_KEY = "needs-key"  # a process answers this for a key it has not (or no longer) loaded


class _Batch(NamedTuple):
    """One :meth:`Issuer.issue` call as sent to a signing process."""

    identity: Identity
    der: bytes | None  # the unwrapped PKCS #8 key, sent only while the process lacks it
    key_id: bytes
    requests: list[bytes]  # encoded TokenRequests


# Keys loaded into this process; used only inside signing processes.
_process_keys: LRUCache[Identity, SigningKey] = LRUCache(CACHE_SIZE)


def _sign_batches(batches: list[_Batch]) -> list[bytes | Exception | str]:
    """Runs in a signing process: each batch's TokenResponses, or its error, or
    ``_NEEDS_KEY``. One bad batch does not fail the others sent with it."""
    results: list[bytes | Exception | str] = []
    for batch in batches:
        try:
            key = _process_keys.get(batch.identity)
            if key is None:
                if batch.der is None:
                    results.append(_NEEDS_KEY)
                    continue
                key = SigningKey.from_der(batch.der)
                _process_keys.put(batch.identity, key)
            results.append(b"".join(issue_token_response(key, batch.key_id, r) for r in batch.requests))
        except Exception as exc:  # noqa: BLE001 - returned to the one caller it belongs to
            results.append(exc)
    return results


def _ready() -> bool:
    return True


class SigningUnavailable(Exception):
    """The signing processes cannot sign (not started, broken or shut down): sign in a thread."""


@dataclass(eq=False)
class _Job:
    batch: _Batch
    future: asyncio.Future[bytes]


@dataclass(eq=False)
class _Process:
    executor: ProcessPoolExecutor
    loaded: LRUCache[Identity, bool] = field(default_factory=lambda: LRUCache(CACHE_SIZE))
    waiting: list[_Job] = field(default_factory=list)
    busy: bool = False

    def backlog(self) -> tuple[bool, int]:
        return self.busy, sum(len(job.batch.requests) for job in self.waiting)


def cores() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


# Set by ``candor serve --workers N`` for its workers: each app process has its own pool,
# and N pools of one process per core would put N processes on every core.
SIGNING_PROCESSES_ENV = "CANDOR_SIGNING_PROCESSES"


def signing_processes() -> int:
    """How many signing processes this app process starts: its share of the cores
    (``CANDOR_SIGNING_PROCESSES``), else one per core."""
    raw = os.environ.get(SIGNING_PROCESSES_ENV, "")
    return int(raw) if raw.isdigit() and int(raw) > 0 else cores()


def worker_share(workers: int) -> int:
    """Signing processes for each of ``workers`` app processes: the cores divided among
    them (at least one each), so that together they start one per core."""
    return max(1, cores() // max(1, workers))


def _context() -> BaseContext:
    # Not fork: the app process has threads (to_thread workers, asyncpg's), and forking one
    # can copy a lock held mid-operation. The fork server is a clean single-threaded
    # process that has already imported this module, so a signing process starts in
    # milliseconds; spawn where there is none.
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])
        return context
    return multiprocessing.get_context("spawn")


class SigningPool:
    """Signing processes, one single-process executor each, so that this process knows
    which keys each one holds (a key's DER crosses to a process once) and can batch.

    A call goes to an idle process, else to the one with the least queued; everything
    that queued for a busy process is sent to it together when it finishes. Processes
    start on their first signature.
    """

    def __init__(self, processes: int | None = None) -> None:
        self._context = _context()
        self.size = processes or signing_processes()
        self._processes = [_Process(self._executor()) for _ in range(self.size)]
        self._closed = False

    def _executor(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=1, mp_context=self._context)

    async def start(self) -> None:
        """Start every process now rather than on the first signature."""
        await asyncio.gather(*(asyncio.wrap_future(p.executor.submit(_ready)) for p in self._processes))

    def sign(self, identity: Identity, der: bytes, key_id: bytes, requests: list[bytes]) -> asyncio.Future[bytes]:
        """The concatenated TokenResponses to ``requests``; :class:`SigningUnavailable`
        when no process can sign them (the caller signs in a thread)."""
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        if self._closed:
            future.set_exception(SigningUnavailable("the signing processes are shut down"))
            return future
        process = min(self._processes, key=_Process.backlog)
        process.waiting.append(_Job(_Batch(identity, der, key_id, requests), future))
        if not process.busy:
            self._send(process)
        return future

    def _send(self, process: _Process) -> None:
        jobs, process.waiting = process.waiting, []
        jobs = [job for job in jobs if not job.future.done()]  # callers that gave up
        if not jobs:
            return
        batches: list[_Batch] = []
        for job in jobs:  # the process loads a key from its first batch that carries it
            batches.append(job.batch if process.loaded.get(job.batch.identity) is None
                           else job.batch._replace(der=None))
            process.loaded.put(job.batch.identity, True)
        process.busy = True
        try:
            sent = process.executor.submit(_sign_batches, batches)
        except RuntimeError as exc:  # BrokenProcessPool, or shut down
            self._broken(process, jobs, exc)
            return
        asyncio.wrap_future(sent).add_done_callback(lambda done: self._finished(process, jobs, done))

    def _finished(self, process: _Process, jobs: list[_Job], done: asyncio.Future[list[bytes | Exception | str]]) -> None:
        process.busy = False
        if done.cancelled() or done.exception() is not None:
            self._broken(process, jobs, done.exception() or RuntimeError("cancelled"))
            return
        requeue: list[_Job] = []
        for job, result in zip(jobs, done.result(), strict=True):
            if isinstance(result, str):  # _NEEDS_KEY: the process evicted it; send it again
                process.loaded = LRUCache(CACHE_SIZE)
                requeue.append(job)
            elif job.future.done():
                continue
            elif isinstance(result, Exception):
                job.future.set_exception(result)
            else:
                job.future.set_result(result)
        process.waiting[:0] = requeue
        if process.waiting and not self._closed:
            self._send(process)

    def _broken(self, process: _Process, jobs: list[_Job], exc: BaseException) -> None:
        """A process died or was shut down: its callers sign in a thread; a fresh one replaces it."""
        process.busy = False
        for job in jobs + process.waiting:
            if not job.future.done():
                job.future.set_exception(SigningUnavailable(f"signing process failed: {exc!r}"))
        process.waiting = []
        if not self._closed:
            log.warning("a signing process failed (%r); starting another", exc)
            process.executor.shutdown(wait=False, cancel_futures=True)
            process.executor = self._executor()
            process.loaded = LRUCache(CACHE_SIZE)

    async def close(self) -> None:
        """Stop every process; calls still waiting are told to sign in a thread."""
        self._closed = True
        for process in self._processes:
            for job in process.waiting:
                if not job.future.done():
                    job.future.set_exception(SigningUnavailable("the signing processes are shut down"))
            process.waiting = []
        await asyncio.gather(*(asyncio.to_thread(p.executor.shutdown, wait=True, cancel_futures=True)
                               for p in self._processes))


def signing_lifespan(processes: int | None = None) -> Callable[[Any], AbstractAsyncContextManager[None]]:
    """Lifespan hook: the app's :class:`SigningPool` (``processes``, else
    :func:`signing_processes`) for
    its :class:`Issuer` while it serves, shut down when it stops. Logs the signing engine
    (OpenSSL, or the GMP fallback and why) and the pool, or why signing stays in a thread."""

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        issuer: Issuer = app.state.issuer
        pool: SigningPool | None = None
        engine = signing_backend()
        try:
            pool = SigningPool(processes)
            where = f"{pool.size} signing processes"
        except (OSError, ValueError, NotImplementedError) as exc:
            where = f"a thread (signing processes unavailable: {exc})"
        fallback = pool is None or not engine.startswith("OpenSSL")
        log.log(logging.WARNING if fallback else logging.INFO, "blind signing: %s, in %s", engine, where)
        issuer.pool = pool
        try:
            yield
        finally:
            issuer.pool = None
            if pool is not None:
                await pool.close()

    return lifespan


# --- the issuer ---------------------------------------------------------------------------


class _Unwrapped:
    """A key unwrapped in this process: its DER for the signing processes and, only when
    signing falls back to a thread, a :class:`SigningKey` made from it."""

    __slots__ = ("_private", "_signer", "der")

    def __init__(self, private: rsa.RSAPrivateKey) -> None:
        self._private = private
        self._signer: SigningKey | None = None
        self.der = private.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption())

    def sign(self, key_id: bytes, requests: Sequence[TokenRequest]) -> bytes:
        if self._signer is None:
            self._signer = SigningKey(self._private)
        return b"".join(issue_token_response(self._signer, key_id, r) for r in requests)


class Issuer:
    """Unwrapped signing keys and parsed public keys, prepared once per process.

    A cache only, bounded (keys are immutable once made, so an evicted one is simply
    unwrapped again): keys never change after they are made, and nothing that must be
    unique is decided here. Signing goes to :attr:`pool` while the app serves
    (:func:`signing_lifespan`), to a thread without one.
    """

    def __init__(self, kek: bytes, *, size: int = CACHE_SIZE) -> None:
        self._kek = kek
        self._signing: LRUCache[Identity, _Unwrapped] = LRUCache(size)
        self._verifying: LRUCache[Identity, _Verifier] = LRUCache(size)
        self.pool: SigningPool | None = None

    async def issue(self, key: IssuerKey[Owner], requests: Sequence[TokenRequest]) -> bytes:
        """The TokenResponses to ``requests``, concatenated in their order: all or none (a
        400 for any one malformed). Unwrapping and signing run off the event loop; the
        cache is touched only on it."""
        unwrapped = self._signing.get(key.identity)
        if unwrapped is None:
            unwrapped = await asyncio.to_thread(lambda: _Unwrapped(private_key(key, self._kek)))
            self._signing.put(key.identity, unwrapped)
        try:
            if self.pool is not None:
                try:
                    return await self.pool.sign(key.identity, unwrapped.der, key.token_key_id,
                                                [r.encode() for r in requests])
                except SigningUnavailable:
                    pass  # logged by the pool; this call is signed below
            return await asyncio.to_thread(unwrapped.sign, key.token_key_id, requests)
        except TokenError as exc:
            raise Problem(400, "bad-request", N_("Malformed TokenRequest: {reason}", reason=str(exc))) from None

    def verify(self, key: IssuerKey[Owner], token: Token) -> Token:
        """``token`` checked against ``key`` (RFC 9578 §6.4); :class:`TokenError` if not."""
        verifier = self._verifying.get(key.identity)
        if verifier is None:
            verifier = _Verifier(public_key_from_spki(key.token_key), TokenChallenge.decode(key.challenge).digest())
            self._verifying.put(key.identity, verifier)
        return verify_token(token, verifier.public_key, key.challenge, key_id=key.token_key_id,
                            challenge_digest=verifier.challenge_digest)

    async def redeem(
        self,
        header: str | None,
        challenge: IssuerKey[Owner],
        find: Callable[[bytes], Awaitable[IssuerKey[Owner] | None]] | None = None,
    ) -> Redeemed:
        """The verified token of an ``Authorization: PrivateToken token=…`` header (RFC 9577
        §2.2), or a 401 carrying ``challenge``'s key.

        ``find`` looks a token's key up by its id where more keys than the challenged one
        are accepted (threads: this month's and last month's); None when the token's key is
        not one of them. Without it only ``challenge`` is accepted.

        Every invalid token gets the same answer (malformed, unknown or another key, wrong
        challenge, bad signature): which check failed would tell a prober nothing useful,
        and a forged token carrying a spent nonce must look like any other forgery. Spending
        the nonce is the caller's, in the statement that stores what the token pays for.
        """
        if not header:
            raise unauthorized(challenge, challenge.kind.missing_token)
        try:
            token = parse_authorization(header)
            key = challenge if find is None else await find(token.token_key_id)
            if key is None:
                raise TokenError("not a key this resource accepts")
            return Redeemed(self.verify(key, token), key)
        except TokenError:
            raise unauthorized(challenge, challenge.kind.invalid_token) from None

    def __len__(self) -> int:
        """How many unwrapped signing keys are held (never more than ``size``)."""
        return len(self._signing)
