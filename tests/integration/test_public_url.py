"""CANDOR_PUBLIC_URL is the one origin: behind the documented TLS-terminating proxy the
app sees plain http and whatever Host the client sent; origin checks, the cookies'
Secure flag and every absolute link follow the setting, never the request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.cli import uvicorn_config
from service.origin import absolute_url
from tests.integration.thread_helpers import new_thread, signed_in
from tests.integration.wave_helpers import make_service
from tests.support import PASSWORD, role_email

PUBLIC = "https://feedback.example.org"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def public_settings(settings):
    return replace(settings, public_url=PUBLIC)


async def _client(settings) -> AsyncIterator[AsyncTestClient]:
    app = create_app(replace(settings, disabled_jobs=frozenset({"webhook_worker"})))
    # As behind the proxy: the app is reached over plain http at its own address.
    async with AsyncTestClient(app, base_url="http://127.0.0.1:8000") as c:
        yield c


@pytest.fixture
async def proxied(public_settings) -> AsyncIterator[AsyncTestClient]:
    async for c in _client(public_settings):
        yield c


@pytest.fixture
async def proxied_plain_cookies(public_settings) -> AsyncIterator[AsyncTestClient]:
    """CANDOR_SECURE_COOKIES=false, so the test client (on http) sends the session back."""
    async for c in _client(replace(public_settings, secure_cookies=False)):
        yield c


def _form(origin: str, **headers: str) -> dict:
    return {"data": {"email": role_email("member"), "password": PASSWORD}, "follow_redirects": False,
            "headers": {"origin": origin, **headers}}


async def test_form_sign_in_from_the_public_origin_succeeds_behind_the_proxy(proxied):
    response = await proxied.post("/login", **_form(PUBLIC))
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("candor_session=") and "secure" in cookie.lower()


@pytest.mark.parametrize("origin", [
    "https://evil.example",
    "http://feedback.example.org",          # the public host, downgraded to http
    "https://feedback.example.org.evil.example",
    "http://127.0.0.1:8000",                # what the app itself sees behind the proxy
])
async def test_form_sign_in_from_any_other_origin_is_refused(proxied, origin):
    response = await proxied.post("/login", **_form(origin))
    assert response.status_code == 403
    assert "set-cookie" not in response.headers


async def test_a_forged_host_does_not_make_a_foreign_origin_same_origin(proxied):
    """Host and Origin both say evil.example: still not the public origin."""
    response = await proxied.post("/login", **_form("http://evil.example", host="evil.example"))
    assert response.status_code == 403


async def test_api_sign_in_cookie_is_secure_when_the_public_origin_is_https(proxied):
    response = await proxied.post("/api/auth/login", json={"email": role_email("member"), "password": PASSWORD})
    assert response.status_code == 200
    assert "secure" in response.headers["set-cookie"].lower()


async def test_without_a_public_url_development_keeps_plain_cookies_and_its_own_origin(client):
    response = await client.post("/login", **_form("http://127.0.0.1:8000"))
    assert response.status_code == 303
    assert "secure" not in response.headers["set-cookie"].lower()


async def test_ticket_and_webhook_links_use_the_public_url_whatever_the_host_header(proxied_plain_cookies, db):
    client = proxied_plain_cookies
    service_id = await make_service(db)
    thread_id, _ = await new_thread(client, service_id)
    await signed_in(client, "owner")
    await client.put(f"/api/services/{service_id}/webhook",
                     json={"url": "http://127.0.0.1:9/hook", "secret": "x" * 16})
    ticket = await client.post(f"/api/threads/{thread_id}/ticket",
                               headers={"host": "evil.example", "x-forwarded-host": "evil.example",
                                        "x-forwarded-proto": "http", "forwarded": "host=evil.example"})
    assert ticket.status_code == 202, ticket.text
    expected = f"{PUBLIC}/threads/staff/{thread_id}"
    assert ticket.json()["payload"]["link"] == expected
    # What the webhook will carry is stored as queued.
    stored = await db.fetchval("select payload->>'link' from webhook_deliveries")
    assert stored == expected


def test_absolute_url_is_the_origin_and_a_path():
    from service.settings import Settings

    assert absolute_url(Settings(public_url=PUBLIC), "/board") == f"{PUBLIC}/board"
    assert absolute_url(Settings(port=9000), "/board") == "http://127.0.0.1:9000/board"
    with pytest.raises(ValueError):
        absolute_url(Settings(public_url=PUBLIC), "@evil.example/")


def test_the_server_trusts_no_proxy_headers(public_settings):
    config = uvicorn_config(create_app(public_settings), public_settings, "127.0.0.1", 0)
    # X-Forwarded-* and Forwarded are never read: the public origin is a setting.
    assert config.proxy_headers is False


def test_the_deployment_sets_the_public_url_for_the_proxied_domain():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    for name in ("migrate", "app", "proxy"):
        env = compose["services"][name]["environment"]
        assert env["CANDOR_PUBLIC_URL"].startswith("${CANDOR_PUBLIC_URL:?"), name  # required, no default
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()
    # The site the proxy serves is that same origin.
    assert any(line.strip() == "{$CANDOR_PUBLIC_URL} {" for line in caddyfile.splitlines())
    assert "CANDOR_PUBLIC_URL" in (ROOT / ".env.example").read_text()
