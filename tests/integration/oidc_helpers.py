"""OpenID providers and an app server for the sign-in tests, all on 127.0.0.1.

Two providers: ``mock_provider`` runs ``oidc-provider-mock`` (PyPI), a real provider
with real pages, for the flows it can play; ``FakeProvider`` is a few dozen lines of
this file, built on joserfc, that mints whatever ID token a test asks for (expired,
from another issuer, tampered, unsigned ...) and enforces PKCE at its token endpoint.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, RSAKey
from litestar import Litestar

from service.app import create_app
from service.oidc import left_half_hash
from service.settings import Settings

CLIENT_ID = "candor-tests"
CLIENT_SECRET = "a client secret"


@contextmanager
def mock_provider(**options: Any) -> Iterator[str]:
    """``oidc-provider-mock`` on a free port of 127.0.0.1 (its issuer is the address it is
    reached at); yields that address."""
    import werkzeug.serving
    from oidc_provider_mock import app

    server = werkzeug.serving.make_server("127.0.0.1", 0, app(**options), threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def oidc_settings(settings: Settings, issuer: str, **extra: Any) -> Settings:
    return replace(settings, oidc_issuer=issuer, oidc_client_id=CLIENT_ID, oidc_client_secret=CLIENT_SECRET,
                   oidc_provider_name="Test IdP", **extra)


# The app behind each origin serve_app is serving, for tests that look into its state.
SERVED: dict[str, Litestar] = {}


@contextmanager
def serve_app(settings: Settings) -> Iterator[str]:
    """The app under uvicorn (as ``candor serve`` runs it) on a socket bound first, so its
    public URL, and with it the redirect URI, is known before the app is built."""
    import uvicorn

    from service.cli import uvicorn_config

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    origin = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = replace(settings, public_url=origin)
    app = create_app(settings)
    SERVED[origin] = app
    server = uvicorn.Server(uvicorn_config(app, settings, "127.0.0.1", 0))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    try:
        yield origin
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
        del SERVED[origin]


async def start_sign_in(http: httpx.AsyncClient, app: str) -> str:
    """Follow Candor's sign-in button to the provider; the authorization URL."""
    started = await http.get(f"{app}/auth/oidc/login")
    assert started.status_code == 303, started.text
    return started.headers["location"]


async def authorize_at_mock(http: httpx.AsyncClient, authorize_url: str, sub: str) -> str:
    """Submit the mock provider's form as ``sub``; the callback URL it sends the browser to."""
    form = await http.get(authorize_url)
    assert form.status_code == 200 and 'name="sub"' in form.text, form.text
    sent = await http.post(authorize_url, data={"sub": sub})
    assert sent.status_code in (302, 303), sent.text
    return sent.headers["location"]


async def finish(http: httpx.AsyncClient, callback_url: str) -> httpx.Response:
    return await http.get(callback_url)


async def sign_in_at_mock(http: httpx.AsyncClient, app: str, sub: str) -> httpx.Response:
    """The whole flow; the callback's answer (303 to / with a session, or a refusal page)."""
    return await finish(http, await authorize_at_mock(http, await start_sign_in(http, app), sub))


async def set_mock_user(provider: str, sub: str, claims: dict[str, Any]) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.put(f"{provider}/users/{sub}", json=claims)
        assert response.status_code == 204, response.text


# A provider of our own, for the tokens the mock will not make ---------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class FakeProvider:
    """Discovery, JWKS, an authorization endpoint that approves at once and a token
    endpoint that checks the client secret and PKCE, then returns ``mint(...)``.

    ``mint(claims, header)`` is the ID token a test wants: by default a correct one for
    the code's nonce, signed with the current key. Tests replace ``tamper`` to change
    the claims, header or the finished token.
    """

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "key-1", "use": "sig", "alg": "RS256"})
        self.ec_key = ECKey.generate_key("P-256", parameters={"kid": "ec-1", "use": "sig", "alg": "ES256"})
        self.published: list[Any] = [self.key, self.ec_key]
        self.codes: dict[str, dict[str, str]] = {}
        self.jwks_fetches = 0
        self.token_requests: list[dict[str, str]] = []
        self.tamper: Callable[[dict[str, Any], dict[str, Any]], str | None] = lambda claims, header: None
        self.issuer = ""
        self.discovery_issuer = ""  # set: discovery names this issuer instead
        self.client_id = CLIENT_ID
        self.next_sub = "pat"  # who the authorization endpoint signs in

    def sign(self, claims: dict[str, Any], header: dict[str, Any] | None = None, key: Any = None) -> str:
        key = key or self.key
        header = header or {"alg": "RS256", "kid": key.kid}
        return jwt.encode(header, claims, key, algorithms=[header["alg"]])

    def claims_for(self, code: dict[str, str], access_token: str) -> dict[str, Any]:
        now = int(time.time())
        return {"iss": self.issuer, "sub": code["sub"], "aud": self.client_id, "iat": now, "exp": now + 300,
                "nonce": code["nonce"], "email": f"{code['sub']}@corp.example", "email_verified": True,
                "name": code["sub"].title(), "at_hash": left_half_hash(access_token, "RS256")}

    def id_token(self, code: dict[str, str], access_token: str) -> str:
        claims = self.claims_for(code, access_token)
        header = {"alg": "RS256", "kid": self.key.kid}
        return self.tamper(claims, header) or self.sign(claims, header)

    def handler(self) -> type[BaseHTTPRequestHandler]:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _json(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                if url.path == "/.well-known/openid-configuration":
                    self._json(200, {
                        "issuer": provider.discovery_issuer or provider.issuer,
                        "authorization_endpoint": provider.issuer + "/authorize",
                        "token_endpoint": provider.issuer + "/token",
                        "jwks_uri": provider.issuer + "/jwks",
                        "token_endpoint_auth_methods_supported": ["client_secret_post"],
                        "code_challenge_methods_supported": ["S256"],
                    })
                elif url.path == "/jwks":
                    provider.jwks_fetches += 1
                    self._json(200, KeySet(provider.published).as_dict(private=False))
                elif url.path == "/authorize":
                    query = {k: v[0] for k, v in parse_qs(url.query).items()}
                    code = secrets.token_urlsafe(16)
                    provider.codes[code] = {"sub": provider.next_sub, "nonce": query["nonce"],
                                            "challenge": query["code_challenge"],
                                            "method": query["code_challenge_method"],
                                            "redirect_uri": query["redirect_uri"]}
                    self.send_response(302)
                    self.send_header("location", query["redirect_uri"] + "?" + urlencode(
                        {"code": code, "state": query["state"]}))
                    self.end_headers()
                else:
                    self._json(404, {})

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                provider.token_requests.append(form)
                code = provider.codes.pop(form.get("code", ""), None)
                verifier = form.get("code_verifier", "")
                challenge = b64url(hashlib.sha256(verifier.encode()).digest())
                if form.get("client_secret") != CLIENT_SECRET or form.get("client_id") != CLIENT_ID:
                    self._json(401, {"error": "invalid_client"})
                elif code is None or code["redirect_uri"] != form.get("redirect_uri"):
                    self._json(400, {"error": "invalid_grant"})
                elif code["method"] != "S256" or not verifier or challenge != code["challenge"]:
                    self._json(400, {"error": "invalid_grant", "error_description": "PKCE verification failed"})
                else:
                    access_token = secrets.token_urlsafe(24)
                    self._json(200, {"access_token": access_token, "token_type": "Bearer", "expires_in": 300,
                                     "id_token": provider.id_token(code, access_token)})

        return Handler


@contextmanager
def fake_provider() -> Iterator[FakeProvider]:
    provider = FakeProvider()
    server = ThreadingHTTPServer(("127.0.0.1", 0), provider.handler())
    provider.issuer = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
