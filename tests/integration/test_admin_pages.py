"""Admin pages: who may open them, what they ship (no inline code, same origin, little
JavaScript), the owner choices on the services page, and the links that lead to them."""

from __future__ import annotations

import re

import pytest

from tests.integration.test_pages import _module_graph, _scripts
from tests.support import ROLES, login, role_email

ALLOWED = {
    "/admin/accounts": {"admin"},
    "/admin/groups": {"admin"},
    "/admin/services": {"admin", "manager"},
}


async def test_visitors_are_sent_to_sign_in(client):
    for path in ALLOWED:
        response = await client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/login"


@pytest.mark.parametrize("role", ROLES)
async def test_each_role_gets_the_page_or_the_403_page(client, role):
    await login(client, role)
    for path, roles in ALLOWED.items():
        response = await client.get(path)
        if role in roles:
            assert response.status_code == 200, path
            assert f'<script type="module" src="/static/js/pages/admin-{path.rsplit("/", 1)[1]}.' in response.text
        else:
            assert response.status_code == 403, path
            assert "This page is not for your account" in response.text
            assert "admin-" not in "".join(_scripts(response.text)), "a refused page ships no admin module"


@pytest.mark.parametrize("role", ("admin", "manager"))
async def test_pages_have_no_inline_code_and_ship_little_javascript(client, role):
    await login(client, role)
    for path, roles in ALLOWED.items():
        if role not in roles:
            continue
        response = await client.get(path)
        html = response.text
        assert response.headers["cache-control"] == "no-store"
        # The import map runs inline, allowed by its hash (tests/integration/test_static_assets.py).
        assert not re.search(r"<script(?![^>]*\bsrc=)(?! type=\"importmap\">)(?! type=\"application/json\")[^>]*>", html), \
            f"inline script on {path}"
        assert not re.search(r"<style|\sstyle=", html), f"inline style on {path}"
        assert not re.search(r"\son[a-z]+=", html), f"inline event handler on {path}"
        assert not re.search(r"""(?:src|href|action)=["'](?:https?:)?//""", html), f"another origin on {path}"
        modules = set()
        for src in _scripts(html):
            modules |= _module_graph(src)
        assert any(p.name == "forms.js" for p in modules)
        assert sum(p.stat().st_size for p in modules) < 100 * 1024


async def test_services_page_offers_only_active_owners(client, db):
    await db.execute(
        "insert into accounts (email, display_name, password_hash, roles, active) "
        "values ('gone@test.example', 'Gone Owner', 'x', '{owner}', false)")
    await login(client, "manager")
    html = (await client.get("/admin/services")).text
    found = re.search(r'<ul id="owner-candidates" hidden>(.*?)</ul>', html, re.S)
    assert found, html
    choices = found.group(1)
    assert f'data-email="{role_email("owner")}"' in choices
    assert "Gone Owner" not in choices, "a deactivated owner cannot be chosen"
    assert role_email("member") not in choices and role_email("manager") not in choices


async def test_display_names_are_escaped(client, db):
    await db.execute("update accounts set display_name = '<b>Bold</b>' where email = $1", role_email("owner"))
    await login(client, "admin")
    html = (await client.get("/admin/services")).text
    assert "&lt;b&gt;Bold&lt;/b&gt;" in html and "<b>Bold</b>" not in html


@pytest.mark.parametrize("role", ROLES)
async def test_nav_and_home_link_the_pages_a_role_may_open(client, role):
    await login(client, role)
    html = (await client.get("/")).text
    for path, roles in ALLOWED.items():
        assert (f'href="{path}"' in html) == (role in roles), (role, path)
    page = await client.get("/admin/services")
    if role in ALLOWED["/admin/services"]:
        assert '<a href="/admin/services" aria-current="page">' in page.text


@pytest.mark.parametrize("role", ("admin", "manager"))
async def test_services_panel_offers_the_webhook_to_admins_only(client, role):
    await login(client, role)
    html = (await client.get("/admin/services")).text
    found = re.search(r'<section id="edit-service"[^>]*>', html)
    assert found, html
    panel = found.group(0)
    assert ("data-webhooks" in panel) == (role == "admin"), "managers see thread figures but not the webhook"


async def test_accounts_page_knows_the_signed_in_admin(client, db):
    await login(client, "admin")
    html = (await client.get("/admin/accounts")).text
    me = await db.fetchval("select id from accounts where email = $1", role_email("admin"))
    assert f'<div id="accounts" aria-busy="true" data-me="{me}">' in html
