"""OpenID Connect sign-in against providers running on 127.0.0.1.

The happy paths and the flow's own refusals (state, denial) run against
``oidc-provider-mock`` through the real HTTP flow: Candor's sign-in link, the
provider's authorization form, the callback. ID tokens the mock will not make (expired,
another issuer, tampered, unsigned, HMAC-signed with the public key, wrong audience ...)
come from ``FakeProvider`` (oidc_helpers.py). Every refusal must leave no session.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import replace
from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit
from uuid import UUID

import httpx
import pytest
from joserfc.jwk import RSAKey
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.client import fetch_token_key, redeem, request_token
from service.oidc import FLOW_COOKIE, JWKS_REFETCH_SECONDS
from service.queries import groups as groups_q
from service.settings import Settings
from tests.integration.oidc_helpers import (
    CLIENT_ID,
    SERVED,
    FakeProvider,
    authorize_at_mock,
    b64url,
    fake_provider,
    finish,
    mock_provider,
    oidc_settings,
    serve_app,
    set_mock_user,
    sign_in_at_mock,
    start_sign_in,
)
from tests.integration.wave_helpers import answers_for, make_audience, make_service
from tests.support import PASSWORD, login, role_email

ROLE_MAP = (("candor-managers", "manager"), ("candor-admins", "admin"))


@pytest.fixture
def idp():
    with mock_provider(require_nonce=True) as url:
        yield url


@pytest.fixture
def app_settings(settings, idp) -> Settings:
    return oidc_settings(settings, idp, oidc_role_map=ROLE_MAP)


@pytest.fixture
def app_url(app_settings):
    with serve_app(app_settings) as url:
        yield url


@pytest.fixture
def fake():
    with fake_provider() as provider:
        yield provider


@pytest.fixture
def fake_app(settings, fake):
    with serve_app(oidc_settings(settings, fake.issuer)) as url:
        yield url


def browser() -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=15)


def session_cookies(response: httpx.Response) -> list[str]:
    """Session cookies the answer sets (a cleared one has an empty value)."""
    return [c for c in response.headers.get_list("set-cookie")
            if c.startswith("candor_session=") and not c.startswith('candor_session="";')]


async def count_sessions(db) -> int:
    return await db.fetchval("select count(*) from sessions")


async def me(http: httpx.AsyncClient, app: str) -> dict[str, Any]:
    response = await http.get(f"{app}/api/auth/me")
    assert response.status_code == 200, response.text
    return response.json()


def assert_refused(response: httpx.Response, reason: str, status: int) -> None:
    assert response.status_code == status, response.text
    assert f'data-reason="{reason}"' in response.text, response.text
    assert "Could not sign you in" in response.text
    assert not session_cookies(response)


# Through oidc-provider-mock ------------------------------------------------------------------


async def test_first_sign_in_creates_a_member_with_roles_and_groups_from_claims(app_url, idp, db):
    field = await db.fetchval("insert into groups (name) values ('Field Team') returning id")
    picked = await db.fetchval("insert into groups (name) values ('Hand Picked') returning id")
    await set_mock_user(idp, "alice-sub", {
        "email": "Alice@Corp.example", "email_verified": True, "name": "Alice Example",
        "groups": ["field team", "Not In Candor"], "roles": ["candor-managers", "something-else"]})
    async with browser() as http:
        started = await http.get(f"{app_url}/auth/oidc/login")
        flow_cookie = started.headers["set-cookie"]
        assert flow_cookie.startswith(f"{FLOW_COOKIE}=") and "Path=/auth/oidc/" in flow_cookie
        assert "HttpOnly" in flow_cookie and "SameSite=lax" in flow_cookie
        query = parse_qs(urlsplit(started.headers["location"]).query)
        assert query["code_challenge_method"] == ["S256"] and query["nonce"] and query["state"]
        done = await finish(http, await authorize_at_mock(http, started.headers["location"], "alice-sub"))
        assert done.status_code == 303 and done.headers["location"] == "/"
        assert session_cookies(done)
        account = (await me(http, app_url))["account"]
    assert account["email"] == "alice@corp.example" and account["display_name"] == "Alice Example"
    assert account["roles"] == ["manager", "member"]
    row = await db.fetchrow("select oidc_issuer, oidc_subject, password_hash from accounts where id = $1",
                            account["id"])
    assert (row["oidc_issuer"], row["oidc_subject"]) == (idp, "alice-sub")
    assert not row["password_hash"].startswith("$argon2")  # no password signs this account in
    # Groups Candor has are joined; a group it does not have is not created (not configured to).
    assert [m.email for m in await groups_q.select_members(db, group_id=field)] == ["alice@corp.example"]
    assert await db.fetchval("select count(*) from groups where name = 'Not In Candor'") == 0
    trail = await groups_q.select_membership_changes(db, group_id=field)
    assert [(c.change, c.source, c.actor_id) for c in trail] == [("added", "oidc", None)]

    # An admin adds Alice to another group by hand; then the provider's claims change.
    assert not await groups_q.replace_members(db, group_id=picked, account_ids=[UUID(account["id"])], actor_id=None,
                                              source="admin")
    await set_mock_user(idp, "alice-sub", {
        "email": "alice.renamed@corp.example", "email_verified": True, "name": "Alice Example",
        "groups": [], "roles": []})
    async with browser() as http:
        assert (await sign_in_at_mock(http, app_url, "alice-sub")).status_code == 303
        again = (await me(http, app_url))["account"]
    # Matched by (issuer, sub), not by e-mail; roles follow the claims; the membership the
    # claims gave is taken away, the admin's stays.
    assert again["id"] == account["id"] and again["roles"] == ["member"]
    assert await groups_q.select_members(db, group_id=field) == []
    assert [m.email for m in await groups_q.select_members(db, group_id=picked)] == ["alice@corp.example"]
    trail = await groups_q.select_membership_changes(db, group_id=field)
    assert [(c.change, c.source) for c in trail] == [("removed", "oidc"), ("added", "oidc")]


async def test_an_email_links_an_existing_account_once_and_only_when_verified(app_url, idp, db):
    member_id = await db.fetchval("select id from accounts where email = $1", role_email("member"))
    await set_mock_user(idp, "member-sub", {"email": role_email("member"), "email_verified": True})
    async with browser() as http:
        assert (await sign_in_at_mock(http, app_url, "member-sub")).status_code == 303
        assert (await me(http, app_url))["account"]["id"] == str(member_id)
    assert await db.fetchval("select oidc_subject from accounts where id = $1", member_id) == "member-sub"

    before = await count_sessions(db)
    # Another subject with the same (verified) address: the account is linked already.
    await set_mock_user(idp, "intruder", {"email": role_email("member"), "email_verified": True})
    async with browser() as http:
        assert_refused(await sign_in_at_mock(http, app_url, "intruder"), "account", 403)
    # An address the provider does not vouch for links nothing (and cannot be taken over).
    await set_mock_user(idp, "unverified", {"email": role_email("owner"), "email_verified": False})
    async with browser() as http:
        assert_refused(await sign_in_at_mock(http, app_url, "unverified"), "account", 403)
    assert await db.fetchval("select oidc_subject from accounts where email = $1", role_email("owner")) is None
    assert await count_sessions(db) == before
    # The linked account still signs in with its password too (password sign-in is on).
    async with browser() as http:
        ok = await http.post(f"{app_url}/api/auth/login", json={"email": role_email("member"), "password": PASSWORD})
        assert ok.status_code == 200


async def test_deactivated_accounts_and_unknown_people_without_sign_up_are_refused(settings, idp, db):
    await set_mock_user(idp, "member-sub", {"email": role_email("member"), "email_verified": True})
    await set_mock_user(idp, "stranger", {"email": "stranger@corp.example", "email_verified": True})
    with serve_app(oidc_settings(settings, idp, oidc_allow_signup=False)) as app:
        async with browser() as http:
            assert_refused(await sign_in_at_mock(http, app, "stranger"), "account", 403)
        assert await db.fetchval("select count(*) from accounts where email = 'stranger@corp.example'") == 0
        await db.execute("update accounts set active = false where email = $1", role_email("member"))
        async with browser() as http:
            assert_refused(await sign_in_at_mock(http, app, "member-sub"), "account", 403)


async def test_a_callback_outside_its_flow_is_refused(app_url, idp, db):
    await set_mock_user(idp, "bob", {"email": "bob@corp.example", "email_verified": True})
    before = await count_sessions(db)
    async with browser() as victim, browser() as attacker:
        # A callback URL carried to another browser (login CSRF): that browser holds no flow.
        callback = await authorize_at_mock(attacker, await start_sign_in(attacker, app_url), "bob")
        assert_refused(await finish(victim, callback), "state", 400)
        # An unknown state, even when the browser holds it in the cookie.
        forged = secrets.token_urlsafe(32)
        victim.cookies.set(FLOW_COOKIE, forged)
        assert_refused(await victim.get(f"{app_url}/auth/oidc/callback?code=x&state={forged}"), "state", 400)
        # The attacker's own callback works once; replayed with its cookie, it is refused.
        assert (await finish(attacker, callback)).status_code == 303
        state = parse_qs(urlsplit(callback).query)["state"][0]
        attacker.cookies.set(FLOW_COOKIE, state)
        assert_refused(await finish(attacker, callback), "state", 400)
    assert await count_sessions(db) == before + 1


async def test_a_denied_authorization_signs_nobody_in(app_url, idp, db):
    before = await count_sessions(db)
    async with browser() as http:
        authorize = await start_sign_in(http, app_url)
        denied = await http.post(authorize, data={"action": "deny"})
        assert denied.status_code in (302, 303)
        assert_refused(await finish(http, denied.headers["location"]), "denied", 401)
    assert await count_sessions(db) == before


async def test_signing_out_also_signs_out_at_the_provider(app_url, idp, db):
    await set_mock_user(idp, "carol", {"email": "carol@corp.example", "email_verified": True})
    async with browser() as http:
        assert (await sign_in_at_mock(http, app_url, "carol")).status_code == 303
        csrf = (await me(http, app_url))["csrf_token"]
        out = await http.post(f"{app_url}/logout", data={"_csrf": csrf})
        assert out.status_code == 200, out.text
        assert any(c.startswith('candor_session="";') for c in out.headers.get_list("set-cookie"))
        assert (await http.get(f"{app_url}/api/auth/me")).status_code == 401
    link = out.text.split('id="end-session" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    parts = urlsplit(link)
    query = parse_qs(parts.query)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{idp}/oauth2/end_session"
    assert query["post_logout_redirect_uri"] == [f"{app_url}/login"] and query["client_id"] == [CLIENT_ID]
    claims = json.loads(base64.urlsafe_b64decode(query["id_token_hint"][0].split(".")[1] + "=="))
    assert claims["sub"] == "carol"
    # The mock (authlib) puts an at_hash in: the sign-in above checked it, so Candor's
    # at_hash agrees with an independent implementation.
    assert "at_hash" in claims
    assert await db.fetchval("select count(*) from oidc_sessions") == 0
    async with browser() as http:  # the provider's logout page accepts it
        assert (await http.get(link)).status_code == 200


async def test_a_member_signed_in_by_the_provider_gets_a_token_and_answers_anonymously(app_url, idp, db):
    """Issue 16's "done when": sign in through the provider, get a wave token, answer."""
    audience = await make_audience(db, size=6, name="Field Team")
    await set_mock_user(idp, "dana", {"email": "dana@corp.example", "email_verified": True, "name": "Dana",
                                      "groups": ["Field Team"]})
    async with httpx.AsyncClient(base_url=app_url, timeout=30) as manager:
        await login(manager, "manager")
        today = date.today()
        created = await manager.post("/api/campaigns", json={
            "title": "Pulse", "service_id": await make_service(db), "instrument_id": "pulse",
            "audience_group_id": audience, "opens_on": str(today), "closes_on": str(today + timedelta(days=7)),
            "k_scores": 5})
        assert created.status_code == 201, created.text
        wave = created.json()
        async with httpx.AsyncClient(base_url=app_url, timeout=30) as dana:
            assert (await sign_in_at_mock(dana, app_url, "dana")).status_code == 303
            opened = await manager.post(f"/api/campaigns/{wave['id']}/open")
            assert opened.status_code == 200, opened.text
            # Dana joined the audience through her claims; the wave's snapshot holds her.
            dana_id = await db.fetchval("select id from accounts where oidc_subject = 'dana'")
            assert dana_id in {m.id for m in await groups_q.select_members(db, group_id=UUID(audience))}
            assert await db.fetchval("select audience_size from campaigns where id = $1", UUID(wave["id"])) == 7
            csrf = (await me(dana, app_url))["csrf_token"]
            stored = await request_token(dana, await fetch_token_key(dana, wave["id"]), csrf_token=csrf)
        async with httpx.AsyncClient(base_url=app_url, timeout=30) as anonymous:
            answered = await redeem(anonymous, stored, answers_for("pulse"))
            assert answered.status_code == 201, answered.text
            assert "set-cookie" not in answered.headers


# Through a provider of the test's own --------------------------------------------------------


def _now() -> int:
    return int(time.time())


def _unsigned(p: FakeProvider, claims: dict, header: dict) -> str:
    segment = b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{segment}.{b64url(json.dumps(claims).encode())}."


def _hmac_with_public_key(p: FakeProvider, claims: dict, header: dict) -> str:
    # Signed by hand: joserfc itself refuses to use a PEM public key as an HMAC secret.
    signing_input = (b64url(json.dumps({"alg": "HS256", "kid": p.key.kid}).encode()) + "."
                     + b64url(json.dumps(claims).encode()))
    mac = hmac.new(p.key.as_pem(private=False), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(mac)}"


def _tampered(p: FakeProvider, claims: dict, header: dict) -> str:
    signed = p.sign(claims, header)
    head, _, signature = signed.split(".")
    return f"{head}.{b64url(json.dumps(claims | {'sub': 'someone-else'}).encode())}.{signature}"


def _unpublished_key(p: FakeProvider, claims: dict, header: dict) -> str:
    rogue = RSAKey.generate_key(2048, parameters={"kid": "rogue"})
    return p.sign(claims, {"alg": "RS256", "kid": "rogue"}, key=rogue)


def _set(**changes: Any):
    def tamper(p: FakeProvider, claims: dict, header: dict) -> None:
        claims.update({k: v() if callable(v) else v for k, v in changes.items()})

    return tamper


def _drop(name: str):
    def tamper(p: FakeProvider, claims: dict, header: dict) -> None:
        del claims[name]

    return tamper


REFUSALS = {
    "wrong nonce": (_set(nonce="a-nonce-of-another-flow"), "nonce"),
    "no nonce": (_drop("nonce"), "nonce"),
    "expired": (_set(exp=lambda: _now() - 600, iat=lambda: _now() - 900), "expired"),
    "issued in the future": (_set(iat=lambda: _now() + 3600), "claims"),
    "not yet valid": (_set(nbf=lambda: _now() + 3600), "claims"),
    "another issuer": (_set(iss="http://127.0.0.1:9"), "claims"),
    "wrong audience": (_set(aud="another-client"), "claims"),
    "several audiences, no azp": (_set(aud=[CLIENT_ID, "another-client"]), "claims"),
    "authorized party another client": (_set(aud=[CLIENT_ID, "another-client"], azp="another-client"), "claims"),
    "at_hash of another access token": (_set(at_hash=b64url(b"0123456789abcdef")), "claims"),
    "no sub": (_drop("sub"), "claims"),
    "tampered payload": (_tampered, "signature"),
    "alg none": (_unsigned, "signature"),
    "HS256 with the public key": (_hmac_with_public_key, "signature"),
    "key not published": (_unpublished_key, "signature"),
}


@pytest.mark.parametrize("case", list(REFUSALS))
async def test_a_bad_id_token_is_refused_with_no_session(case, fake, fake_app, db):
    tamper, reason = REFUSALS[case]
    fake.tamper = lambda claims, header: tamper(fake, claims, header)
    before = await count_sessions(db)
    async with browser() as http:
        callback = (await http.get(await start_sign_in(http, fake_app))).headers["location"]
        assert_refused(await finish(http, callback), reason, 401)
    assert await count_sessions(db) == before
    assert await db.fetchval("select count(*) from accounts where oidc_subject is not null") == 0


async def test_the_fake_provider_signs_in_with_pkce_and_client_secret_post(fake, fake_app, db):
    """The control for the refusals above: the same provider, tokens left alone."""
    async with browser() as http:
        authorize = await start_sign_in(http, fake_app)
        callback = (await http.get(authorize)).headers["location"]
        assert (await finish(http, callback)).status_code == 303
        assert (await me(http, fake_app))["account"]["email"] == "pat@corp.example"
    sent = fake.token_requests[-1]
    assert sent["client_secret"] and sent["code_verifier"]  # client_secret_post, as discovery says
    assert parse_qs(urlsplit(authorize).query)["code_challenge_method"] == ["S256"]


async def test_an_es256_token_is_accepted(fake, fake_app):
    fake.tamper = lambda claims, header: fake.sign(claims, {"alg": "ES256", "kid": fake.ec_key.kid}, key=fake.ec_key)
    async with browser() as http:
        callback = (await http.get(await start_sign_in(http, fake_app))).headers["location"]
        assert (await finish(http, callback)).status_code == 303


async def test_a_code_injected_into_another_flow_fails_pkce(fake, fake_app, db):
    async with browser() as http:
        stolen = parse_qs(urlsplit((await http.get(await start_sign_in(http, fake_app))).headers["location"]).query)
        own = parse_qs(urlsplit((await http.get(await start_sign_in(http, fake_app))).headers["location"]).query)
        injected = await http.get(f"{fake_app}/auth/oidc/callback?code={stolen['code'][0]}&state={own['state'][0]}")
        assert_refused(injected, "code", 401)
        assert "invalid_grant" in injected.text
    assert fake.token_requests[-1]["code_verifier"]
    assert await count_sessions(db) == 0


async def test_rotated_keys_are_fetched_once_and_unknown_ones_do_not_hammer_the_provider(fake, fake_app):
    async with browser() as http:
        callback = (await http.get(await start_sign_in(http, fake_app))).headers["location"]
        assert (await finish(http, callback)).status_code == 303
    assert fake.jwks_fetches == 1
    # An hour later the provider rotates to a new key: the first token under it makes one
    # refetch (the app's key cache is aged instead of the test waiting).
    SERVED[fake_app].state.oidc._keys_at -= JWKS_REFETCH_SECONDS + 1
    fake.key = RSAKey.generate_key(2048, parameters={"kid": "key-2", "use": "sig", "alg": "RS256"})
    fake.published = [fake.key]
    async with browser() as http:
        callback = (await http.get(await start_sign_in(http, fake_app))).headers["location"]
        assert (await finish(http, callback)).status_code == 303
    assert fake.jwks_fetches == 2
    # Tokens under key ids nobody publishes: refused, and no refetch right after the last one.
    fake.tamper = lambda claims, header: _unpublished_key(fake, claims, header)
    for _ in range(3):
        async with browser() as http:
            callback = (await http.get(await start_sign_in(http, fake_app))).headers["location"]
            assert_refused(await finish(http, callback), "signature", 401)
    assert fake.jwks_fetches == 2


async def test_a_provider_that_is_down_or_names_another_issuer_gets_a_clear_page(settings, fake):
    async with AsyncTestClient(create_app(oidc_settings(settings, "http://127.0.0.1:9")),
                               base_url="http://127.0.0.1:8000") as client:
        down = await client.get("/auth/oidc/login")
        assert down.status_code == 502 and 'data-reason="provider"' in down.text
        assert "cannot be reached" in down.text
    fake.discovery_issuer = "https://somewhere-else.example"
    async with AsyncTestClient(create_app(oidc_settings(settings, fake.issuer)),
                               base_url="http://127.0.0.1:8000") as client:
        other = await client.get("/auth/oidc/login")
        assert other.status_code == 502 and "names another issuer" in other.text
        assert "location" not in other.headers


# Password sign-in switched off ---------------------------------------------------------------


async def test_with_passwords_off_only_the_provider_signs_in(settings, db):
    off = replace(oidc_settings(settings, "http://127.0.0.1:9"), password_login=False)
    async with AsyncTestClient(create_app(off), base_url="http://127.0.0.1:8000") as client:
        api = await client.post("/api/auth/login", json={"email": role_email("member"), "password": PASSWORD})
        assert api.status_code == 403
        assert api.headers["content-type"].startswith("application/problem+json")
        assert api.json()["type"] == "/problems/password-login-disabled"
        assert "Test IdP" in api.json()["detail"]
        assert "set-cookie" not in api.headers
        page = await client.get("/login")
        assert page.status_code == 200
        assert 'href="/auth/oidc/login"' in page.text and "Sign in with Test IdP" in page.text
        assert 'name="password"' not in page.text
        form = await client.post("/login", data={"email": role_email("member"), "password": PASSWORD})
        assert form.status_code == 403 and "Passwords are switched off here" in form.text
        assert not session_cookies(form)
    assert await count_sessions(db) == 0


async def test_with_both_on_the_page_offers_both(settings):
    both = oidc_settings(settings, "http://127.0.0.1:9")
    async with AsyncTestClient(create_app(both), base_url="http://127.0.0.1:8000") as client:
        page = await client.get("/login")
        assert "Sign in with Test IdP" in page.text and 'name="password"' in page.text
    async with AsyncTestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
        page = await client.get("/login")
        assert "/auth/oidc/login" not in page.text and 'name="password"' in page.text
        assert (await client.get("/auth/oidc/login")).status_code == 404
