"""HTML pages: redirects, the sign-in form's messages, sign-out's CSRF check, and what
every page may ship (no inline script or style, under 100 KB of JavaScript, same origin)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support import PASSWORD, ROLES, login, role_email

STATIC = Path(__file__).resolve().parents[2] / "frontend" / "static"
PAGES = ("/", "/login", "/privacy", "/receipts", "/surveys", "/surveys/00000000-0000-4000-8000-000000000000",
         "/waves", "/waves/00000000-0000-4000-8000-000000000000")
HASH = re.compile(r"\.[0-9a-f]{16}(\.[a-z]+)$")  # the content hash in a served name (service.static)
IMPORT = re.compile(r"""^\s*(?:import|export)\s[^;]*?\sfrom\s+["'](\.\.?/[^"']+)["']""", re.M)


def form(email: str, password: str) -> dict:
    return {"data": {"email": email, "password": password}, "follow_redirects": False}


async def test_pages_redirect_visitors_to_sign_in(client):
    for path in ("/", "/surveys", "/waves"):
        response = await client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/login"
    for path in ("/login", "/privacy", "/receipts"):
        assert (await client.get(path, follow_redirects=False)).status_code == 200


async def test_sign_in_form_sets_the_session_and_goes_home(client):
    response = await client.post("/login", **form(role_email("member"), PASSWORD))
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("candor_session=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    home = await client.get("/")
    assert home.status_code == 200 and "Hello, Member" in home.text
    assert 'name="csrf-token"' in home.text
    # A signed-in visitor of /login goes home.
    assert (await client.get("/login", follow_redirects=False)).headers["location"] == "/"


async def test_wrong_password_then_throttled(client):
    for _ in range(3):
        response = await client.post("/login", **form(role_email("owner"), "wrong"))
        assert response.status_code == 401
        assert "The email or the password is wrong" in response.text
        assert 'aria-describedby="login-error"' in response.text
        assert "candor_session=" not in response.headers.get("set-cookie", "")
    response = await client.post("/login", **form(role_email("owner"), PASSWORD))
    assert response.status_code == 429
    assert "Too many failed attempts" in response.text
    assert int(response.headers["retry-after"]) > 0


async def test_sign_in_form_from_another_site_is_refused(client):
    response = await client.post("/login", headers={"origin": "https://evil.example"}, **form(role_email("member"), PASSWORD))
    assert response.status_code == 403
    assert "candor_session=" not in response.headers.get("set-cookie", "")


async def test_sign_out_needs_the_csrf_field(client):
    csrf = await login(client, "member")
    client.headers.pop("x-csrf-token")
    refused = await client.post("/logout", data={"_csrf": "not it"}, follow_redirects=False)
    assert refused.status_code == 403
    assert (await client.get("/api/auth/me")).status_code == 200, "a refused sign-out keeps the session"
    done = await client.post("/logout", data={"_csrf": csrf}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/login"
    assert (await client.get("/api/auth/me")).status_code == 401


@pytest.mark.parametrize("role", ROLES)
async def test_home_offers_each_role_its_next_step(client, role):
    await login(client, role)
    text = (await client.get("/")).text
    expected = {"member": 'href="/surveys"', "manager": 'href="/waves"', "owner": "Your services",
                "admin": "Accounts, groups and services", "moderator": 'href="/moderation"'}
    assert expected[role] in text
    for other, marker in {"member": 'id="home-member"', "manager": 'id="home-manager"', "owner": 'id="home-owner"',
                          "admin": 'id="home-admin"', "moderator": 'id="home-moderator"'}.items():
        assert (marker in text) == (other == role)


async def test_owner_home_lists_their_services(client, db):
    owner = await db.fetchval("select id from accounts where email = $1", role_email("owner"))
    mine = await db.fetchval("insert into services (name) values ('Mail') returning id")
    await db.execute("insert into services (name) values ('Printing')")
    await db.execute("insert into service_owners (service_id, account_id) values ($1, $2)", mine, owner)
    await login(client, "owner")
    text = (await client.get("/")).text
    assert "<li>Mail</li>" in text and "Printing" not in text


def _scripts(html: str) -> list[str]:
    return re.findall(r'<script type="module" src="([^"]+)"></script>', html)


def _module_graph(url: str) -> set[Path]:
    seen: set[Path] = set()
    todo = [STATIC / HASH.sub(r"\1", url.removeprefix("/static/"))]
    while todo:
        path = todo.pop().resolve()
        if path in seen:
            continue
        seen.add(path)
        todo.extend(path.parent / name for name in IMPORT.findall(path.read_text()))
    return seen


@pytest.mark.parametrize("role", (None, *ROLES))
async def test_pages_have_no_inline_code_and_ship_little_javascript(client, role):
    if role:
        await login(client, role)
    for path in PAGES:
        response = await client.get(path)
        html = response.text
        assert response.headers["content-security-policy"].startswith("default-src 'self'; script-src 'self'")
        assert response.headers["content-type"].startswith("text/html")
        # The import map runs inline, allowed by its hash (tests/integration/test_static_assets.py).
        assert not re.search(r"<script(?![^>]*\bsrc=)(?! type=\"importmap\">)(?! type=\"application/json\")[^>]*>", html), \
            f"inline script on {path}"
        assert not re.search(r"<style|\sstyle=", html), f"inline style on {path}"
        assert not re.search(r"""(?:src|href|action)=["'](?:https?:)?//""", html), f"another origin on {path}"
        assert not re.search(r"\son[a-z]+=", html), f"inline event handler on {path}"
        modules: set[Path] = set()
        for src in _scripts(html):
            modules |= _module_graph(src)
        total = sum(p.stat().st_size for p in modules)
        assert total < 100 * 1024, f"{path} ships {total} bytes of JavaScript"


async def test_static_files_are_served_with_the_right_types(client):
    js = await client.get("/static/js/pages/survey.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    css = await client.get("/static/css/candor.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert (await client.get("/static/../service/settings.py")).status_code == 404
