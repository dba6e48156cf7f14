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

Nothing that must be unique is decided here: issuance budgets and spent nonces live in
the database, decided by the statements that record them.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Generic, NamedTuple, Protocol, TypeVar
from uuid import UUID

import msgspec
from cryptography.hazmat.primitives.asymmetric import rsa

from crypto.blindrsa import SigningKey
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
    "TokenKey",
    "b64url",
    "generate_keys",
    "private_key",
    "read_token_requests",
    "stored_key",
    "publish_key",
    "unauthorized",
]

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
    another_key="The TokenRequest names another issuer key (truncated key id)",
    missing_token="Send the wave's Privacy Pass token: Authorization: PrivateToken token=…",
    # One answer for every way a token can be wrong: see Issuer.redeem.
    invalid_token="The token is not valid for this wave",
)

THREAD_PERIOD: KeyKind[date] = KeyKind(
    name="thread period",
    owner_type=date,
    label=b"candor-thread-key",
    owner_bytes=lambda period: period.isoformat().encode(),
    batch=True,  # the rest of the month's allowance at once
    made_on_demand=True,
    another_key="A TokenRequest names another key than this month's thread key",
    missing_token="Send a thread token: Authorization: PrivateToken token=…",
    invalid_token="The thread token is not valid (it must be from this month's or last month's thread key)",
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
            raise Problem(400, "bad-request", f"Send one or more {TOKEN_REQUEST_LEN}-byte TokenRequests")
        chunks = [body[i:i + TOKEN_REQUEST_LEN] for i in range(0, len(body), TOKEN_REQUEST_LEN)]
    else:
        chunks = [body]
    try:
        requests = [TokenRequest.decode(chunk) for chunk in chunks]
    except TokenError as exc:
        raise Problem(400, "bad-request", f"Malformed TokenRequest: {exc}") from None
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


class Issuer:
    """Unwrapped signing keys and parsed public keys, prepared once per process.

    A cache only, bounded (keys are immutable once made, so an evicted one is simply
    unwrapped again): keys never change after they are made, and nothing that must be
    unique is decided here.
    """

    def __init__(self, kek: bytes, *, size: int = CACHE_SIZE) -> None:
        self._kek = kek
        self._signing: LRUCache[tuple[str, UUID | date, bytes], SigningKey] = LRUCache(size)
        self._verifying: LRUCache[tuple[str, UUID | date, bytes], _Verifier] = LRUCache(size)

    async def issue(self, key: IssuerKey[Owner], requests: Sequence[TokenRequest]) -> bytes:
        """The TokenResponses to ``requests``, concatenated in their order: all or none (a
        400 for any one malformed). Unwrapping and signing run off the event loop; the
        cache is touched only on it."""
        signing = self._signing.get(key.identity)

        def sign() -> tuple[SigningKey, bytes]:
            prepared = signing or SigningKey(private_key(key, self._kek))
            return prepared, b"".join(issue_token_response(prepared, key.token_key_id, r) for r in requests)

        try:
            prepared, body = await asyncio.to_thread(sign)
        except TokenError as exc:
            raise Problem(400, "bad-request", f"Malformed TokenRequest: {exc}") from None
        if signing is None:
            self._signing.put(key.identity, prepared)
        return body

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
