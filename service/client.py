"""A Python Privacy Pass client for Candor waves: what a browser does, for scripts and tests.

1. ``fetch_token_key`` — the wave's published key; refuses one whose id does not match
   SHA-256 of the key, or the id the caller already trusts (key consistency).
2. ``request_token`` — signed in: blind, send the TokenRequest, finalize the Token.
3. ``redeem`` — anonymous: send the answers with ``Authorization: PrivateToken``, and
   never a cookie, whatever the HTTP client holds.
"""

from __future__ import annotations

import base64
import hmac
from typing import Any
from uuid import UUID

import httpx
import msgspec

from crypto.keys import token_key_id
from crypto.tokens import Token, TokenChallenge, create_token_request, finalize_token, format_authorization


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
    http: httpx.AsyncClient, campaign_id: UUID | str, *, expected_key_id: str | None = None
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


async def fetch_thread_key(http: httpx.AsyncClient, *, expected_key_id: str | None = None) -> ThreadKey:
    """This month's thread key, checked like a wave's (key id = SHA-256 of the key)."""
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
