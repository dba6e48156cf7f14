"""A Python Privacy Pass client for Candor waves: what a browser does, for scripts and tests.

1. ``fetch_token_key`` — the wave's published key; refuses one whose id does not match
   SHA-256 of the key, or the id the caller already trusts (key consistency). Given a
   :class:`KeyLog`, it also refuses a key that is not the one key of its wave in the
   signed transparency log, or a log that does not extend the one seen before — before
   anything is blinded.
2. ``request_token`` — signed in: blind, send the TokenRequest, finalize the Token.
3. ``redeem`` — anonymous: send the answers with ``Authorization: PrivateToken``, and
   never a cookie, whatever the HTTP client holds.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
from collections.abc import Awaitable
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import msgspec

from crypto.keys import token_key_id
from crypto.tokens import Token, TokenChallenge, create_token_request, finalize_token, format_authorization
from crypto.transparency import (
    LogEntry,
    SignedTreeHead,
    TransparencyError,
    merkle_root,
    verify_consistency,
    verify_inclusion,
    verify_tree_head,
)


class ClientError(Exception):
    pass


class WaveKey(msgspec.Struct, frozen=True):
    campaign_id: str
    token_key: bytes
    token_key_id: bytes
    challenge: bytes
    issuer_name: str


class StoredToken(msgspec.Struct, frozen=True):
    """A finalized token as a client keeps it until it answers (e.g. in a file)."""

    campaign_id: str
    token_key_id: str
    token: str  # base64url of the encoded Token


def _b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


async def fetch_token_key(
    http: httpx.AsyncClient, campaign_id: UUID | str, *, expected_key_id: str | None = None,
    log: KeyLog | None = None,
) -> WaveKey:
    response = await http.get(f"/api/campaigns/{campaign_id}/token-key")
    if response.status_code != 200:
        raise ClientError(f"token key: HTTP {response.status_code}: {response.text}")
    body = response.json()
    key = WaveKey(
        campaign_id=str(campaign_id),
        token_key=_b64(body["token-key"]),
        token_key_id=bytes.fromhex(body["token-key-id"]),
        challenge=_b64(body["challenge"]),
        issuer_name=body["issuer-name"],
    )
    if body["token-type"] != 2 or not hmac.compare_digest(token_key_id(key.token_key), key.token_key_id):
        raise ClientError("the published key id is not the SHA-256 of the published key")
    if TokenChallenge.decode(key.challenge).issuer_name != key.issuer_name:
        raise ClientError("the challenge names another issuer")
    if expected_key_id is not None and not hmac.compare_digest(bytes.fromhex(expected_key_id), key.token_key_id):
        raise ClientError("the wave's key changed since the token was issued; refusing to use it")
    if log is not None:
        await log.check(http, kind="wave", ident=key.campaign_id, token_key=key.token_key,
                        token_key_id=key.token_key_id)
    return key


async def request_token(http: httpx.AsyncClient, key: WaveKey, *, csrf_token: str) -> StoredToken:
    """Ask for this account's token (the client must be signed in)."""
    token_request, state = create_token_request(key.token_key, key.challenge)
    response = await http.post(
        f"/api/campaigns/{key.campaign_id}/token-requests",
        content=token_request.encode(),
        headers={"content-type": "application/private-token-request", "x-csrf-token": csrf_token},
    )
    if response.status_code != 200:
        raise ClientError(f"token request: HTTP {response.status_code}: {response.text}")
    token = finalize_token(state, response.content)
    return StoredToken(
        campaign_id=key.campaign_id,
        token_key_id=key.token_key_id.hex(),
        token=base64.urlsafe_b64encode(token.encode()).decode(),
    )


async def redeem(http: httpx.AsyncClient, stored: StoredToken, answers: dict[str, Any]) -> httpx.Response:
    """Submit answers with the token, after checking the wave still publishes the same key."""
    await fetch_token_key(http, stored.campaign_id, expected_key_id=stored.token_key_id)
    request = http.build_request(
        "POST",
        f"/anon/campaigns/{stored.campaign_id}/responses",
        content=msgspec.json.encode(answers),
        headers={"content-type": "application/json",
                 "authorization": format_authorization(Token.decode(_b64(stored.token)))},
    )
    # Whatever the client's cookie jar holds, an anonymous request carries none of it.
    request.headers.pop("cookie", None)
    return await http.send(request)


async def sign_in(http: httpx.AsyncClient, email: str, password: str) -> str:
    response = await http.post("/api/auth/login", json={"email": email, "password": password})
    if response.status_code != 200:
        raise ClientError(f"sign-in: HTTP {response.status_code}: {response.text}")
    return response.json()["csrf_token"]


# Feedback threads ----------------------------------------------------------------------------


class ThreadKey(msgspec.Struct, frozen=True):
    period: str
    token_key: bytes
    token_key_id: bytes
    challenge: bytes


async def fetch_thread_key(
    http: httpx.AsyncClient, *, expected_key_id: str | None = None, log: KeyLog | None = None
) -> ThreadKey:
    """This month's thread key, checked like a wave's (key id = SHA-256 of the key, and
    with a :class:`KeyLog`, the one key of its month in the transparency log)."""
    response = await http.get("/api/threads/token-key")
    if response.status_code != 200:
        raise ClientError(f"thread key: HTTP {response.status_code}: {response.text}")
    body = response.json()
    key = ThreadKey(period=body["period"], token_key=_b64(body["token-key"]),
                    token_key_id=bytes.fromhex(body["token-key-id"]), challenge=_b64(body["challenge"]))
    if body["token-type"] != 2 or not hmac.compare_digest(token_key_id(key.token_key), key.token_key_id):
        raise ClientError("the published thread key id is not the SHA-256 of the published key")
    if expected_key_id is not None and not hmac.compare_digest(bytes.fromhex(expected_key_id), key.token_key_id):
        raise ClientError("the thread key changed since the token was issued; refusing to use it")
    if log is not None:
        await log.check(http, kind="thread-period", ident=key.period, token_key=key.token_key,
                        token_key_id=key.token_key_id)
    return key


async def request_thread_tokens(http: httpx.AsyncClient, key: ThreadKey, count: int, *, csrf_token: str) -> list[Token]:
    """``count`` tokens of this month's allowance in one request (signed in as a member)."""
    pending = [create_token_request(key.token_key, key.challenge) for _ in range(count)]
    response = await http.post(
        "/api/threads/token-requests", content=b"".join(r.encode() for r, _ in pending),
        headers={"content-type": "application/private-token-request", "x-csrf-token": csrf_token},
    )
    if response.status_code != 200 or len(response.content) != 256 * count:
        raise ClientError(f"thread token request: HTTP {response.status_code}: {response.text}")
    return [finalize_token(state, response.content[256 * i:256 * (i + 1)]) for i, (_, state) in enumerate(pending)]


async def request_thread_token(http: httpx.AsyncClient, key: ThreadKey, *, csrf_token: str) -> Token:
    """One token of this month's allowance (signed in as a member)."""
    return (await request_thread_tokens(http, key, 1, csrf_token=csrf_token))[0]


def _anonymous(http: httpx.AsyncClient, method: str, path: str, headers: dict[str, str], body: Any) -> httpx.Request:
    request = http.build_request(method, path, headers=headers,
                                 content=None if body is None else msgspec.json.encode(body))
    if body is not None:
        request.headers["content-type"] = "application/json"
    request.headers.pop("cookie", None)  # anonymous requests never carry the client's cookies
    return request


async def open_thread(http: httpx.AsyncClient, token: Token, *, service_id: str, category: str, title: str,
                      body: str, secret: str) -> httpx.Response:
    """Open a thread anonymously with one thread token and a secret the caller made
    (``service.threads.new_secret()``)."""
    request = _anonymous(http, "POST", "/anon/threads", {"authorization": format_authorization(token)},
                         {"service_id": service_id, "category": category, "title": title, "body": body,
                          "secret": secret})
    return await http.send(request)


async def thread_call(http: httpx.AsyncClient, method: str, path: str, secret: str, body: Any = None) -> httpx.Response:
    """A request to ``/anon/threads/by-secret…`` authenticated by the thread secret alone."""
    request = _anonymous(http, method, f"/anon/threads/by-secret{path}",
                         {"authorization": "ThreadSecret " + "-".join(secret.split())}, body)
    return await http.send(request)


# Key transparency ----------------------------------------------------------------------------
#
# A server that handed one member a key of its own could recognise that member's answer
# (RFC 9576 §6). Every issuer key is in a signed, append-only log (issue 15); before
# blinding anything, the client checks the key it was served against that log, the way a
# browser does, and remembers the head it verified so a later, rewritten log is noticed.

LOG_PAGE = 256
DEFAULT_LOG_STATE = "candor-log-state.json"


class KeyTransparencyError(ClientError):
    """The served key or the log fails a check: the member must not answer."""


class LogState(msgspec.Struct, frozen=True):
    """What a client keeps between runs: the pinned log key and the last verified head."""

    log_key: str  # standard base64, raw 32-byte Ed25519 key
    tree_size: int
    root_hash: str  # standard base64
    issued_on: str


def _refusal(reason: str, state: Path | None) -> KeyTransparencyError:
    evidence = f" Keep {state} as evidence." if state is not None else ""
    return KeyTransparencyError(
        f"Do not answer this survey or feedback form: Candor's key transparency check failed ({reason}). "
        "Your answer could be recognised. Tell your works council or data protection officer, "
        f"and whoever runs Candor's transparency monitor.{evidence}")


def _std_b64(text: object, what: str) -> bytes:
    if not isinstance(text, str):
        raise TransparencyError(f"{what} is not a base64 string")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise TransparencyError(f"{what} is not valid base64") from None


def state_path_beside(out: str | os.PathLike[str]) -> Path:
    """Where ``candor token`` keeps the log state by default: next to the token file."""
    return Path(out).resolve().parent / DEFAULT_LOG_STATE


class KeyLog:
    """A client's view of the transparency log, optionally kept in a file.

    The log key is pinned on first use (or given, e.g. copied from the privacy page);
    every check verifies the signed head under it, consistency with the last head this
    client verified, the served key's inclusion proof, and — reading every entry and
    recomputing the root — that the key is the only one logged for its wave or month.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *, log_key: bytes | None = None) -> None:
        self.path = None if path is None else Path(path)
        self.state: LogState | None = None
        if self.path is not None and self.path.exists():
            try:
                self.state = msgspec.json.decode(self.path.read_bytes(), type=LogState)
            except msgspec.DecodeError:
                raise _refusal(f"the saved log state {self.path} is unreadable", self.path) from None
        self.pinned = log_key
        if log_key is not None and self.state is not None and _std_b64(self.state.log_key, "log_key") != log_key:
            raise _refusal("the log key given differs from the one pinned earlier", self.path)

    async def _get(self, http: httpx.AsyncClient, path: str, **params: Any) -> Any:
        response = await http.get(path, params=params)
        if response.status_code != 200:
            raise TransparencyError(f"{path} answered HTTP {response.status_code}")
        try:
            return response.json()
        except ValueError:
            raise TransparencyError(f"{path} did not answer JSON") from None

    async def check(
        self, http: httpx.AsyncClient, *, kind: str, ident: str, token_key: bytes, token_key_id: bytes
    ) -> SignedTreeHead:
        """Refuse (:class:`KeyTransparencyError`) unless ``token_key`` is the logged key of
        ``kind``/``ident`` in a correctly signed log that extends the last one seen; then
        remember the new head (and save it, if this log has a file)."""
        head = await self._refusing(self._check(http, kind=kind, ident=ident, token_key=token_key,
                                                token_key_id=token_key_id))
        self.save()
        return head

    async def _refusing(self, check: Awaitable[SignedTreeHead]) -> SignedTreeHead:
        """``check``'s head; any failure, a malformed answer included, as the member's refusal."""
        try:
            return await check
        except TransparencyError as exc:
            raise _refusal(str(exc), self.path) from None
        except (KeyError, TypeError, ValueError) as exc:
            raise _refusal(f"the log's answers are malformed ({type(exc).__name__})", self.path) from None

    async def follow(self, http: httpx.AsyncClient) -> SignedTreeHead:
        """Verify the current signed head and its consistency with the last one seen, and
        remember it: what ``candor transparency verify`` does between tokens."""
        head = await self._refusing(self._verified_head(http))
        self._remember(head)
        self.save()
        return head

    async def _verified_head(self, http: httpx.AsyncClient) -> SignedTreeHead:
        if self.pinned is None:
            self.pinned = (_std_b64(self.state.log_key, "log_key") if self.state is not None else
                           _std_b64((await self._get(http, "/api/transparency/log-key"))["public_key"], "public_key"))
        head = SignedTreeHead.from_json(await self._get(http, "/api/transparency/tree-head"))
        verify_tree_head(self.pinned, head)
        await self._consistent(http, head)
        return head

    def _remember(self, head: SignedTreeHead) -> None:
        if self.pinned is None:
            raise TransparencyError("no log key pinned")
        self.state = LogState(log_key=base64.b64encode(self.pinned).decode(), tree_size=head.tree_size,
                              root_hash=base64.b64encode(head.root_hash).decode(),
                              issued_on=head.issued_on.isoformat())

    async def _check(
        self, http: httpx.AsyncClient, *, kind: str, ident: str, token_key: bytes, token_key_id: bytes
    ) -> SignedTreeHead:
        head = await self._verified_head(http)
        if head.tree_size == 0:
            raise TransparencyError("the key is not in the log (the log is empty)")
        proof = await self._get(http, "/api/transparency/inclusion", token_key_id=token_key_id.hex(),
                                tree_size=head.tree_size)
        entry = LogEntry.from_json(proof["entry"])
        if (entry.kind, entry.id, entry.token_key, entry.token_key_id) != (kind, ident, token_key, token_key_id):
            raise TransparencyError("the logged entry is not the key this server handed out")
        index = proof["leaf_index"]
        if not isinstance(index, int):
            raise TransparencyError("leaf_index is not an integer")
        verify_inclusion(entry.leaf_hash(), index, head.tree_size,
                         [_std_b64(h, "audit_path") for h in proof["audit_path"]], head.root_hash)
        await self._one_key(http, head, kind=kind, ident=ident, token_key_id=token_key_id)
        self._remember(head)
        return head

    async def _consistent(self, http: httpx.AsyncClient, head: SignedTreeHead) -> None:
        if self.state is None:
            return
        old_size, old_root = self.state.tree_size, _std_b64(self.state.root_hash, "root_hash")
        if head.tree_size < old_size:
            raise TransparencyError(f"the log shrank from {old_size} to {head.tree_size} entries")
        proof: list[bytes] = []
        if 0 < old_size < head.tree_size:
            body = await self._get(http, "/api/transparency/consistency", first=old_size, second=head.tree_size)
            proof = [_std_b64(h, "proof") for h in body["proof"]]
        verify_consistency(old_size, head.tree_size, old_root, head.root_hash, proof)

    async def _one_key(
        self, http: httpx.AsyncClient, head: SignedTreeHead, *, kind: str, ident: str, token_key_id: bytes
    ) -> None:
        """Read every entry, check they make the signed root, and that this wave or month has
        exactly one key: a second key for it is the attack the log exists to expose."""
        entries: list[LogEntry] = []
        while len(entries) < head.tree_size:
            page = (await self._get(http, "/api/transparency/entries", start=len(entries),
                                    end=head.tree_size))["entries"]
            if not page or len(page) > head.tree_size - len(entries):
                raise TransparencyError("the log's entry pages do not add up to its size")
            entries.extend(LogEntry.from_json(e) for e in page)
        if merkle_root([e.leaf_hash() for e in entries]) != head.root_hash:
            raise TransparencyError("the log's entries do not make its signed root")
        mine = [e for e in entries if (e.kind, e.id) == (kind, ident)]
        if len(mine) != 1 or mine[0].token_key_id != token_key_id:
            raise TransparencyError(f"the log holds {len(mine)} keys for this {kind}, where there must be one")
        if len({e.token_key_id for e in entries}) != len(entries):
            raise TransparencyError("the log holds one key twice")

    def save(self) -> None:
        if self.path is None or self.state is None:
            return
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_bytes(msgspec.json.encode(self.state))
        os.replace(tmp, self.path)
