"""The thread pages: who may open each, what they may ship (no inline code, under
100 KB of JavaScript, same origin), and the written moderation and visibility policy."""

from __future__ import annotations

import re

import pytest

from tests.integration.test_pages import _module_graph, _scripts
from tests.support import ROLES, login

THREAD_PAGES = {
    "/threads/new": {"member"},
    "/threads/follow": None,  # public: an author follows a thread from any browser
    "/threads/policy": None,
    "/board": set(ROLES),
    "/threads/inbox": {"owner", "moderator"},
    "/threads/staff/00000000-0000-4000-8000-000000000000": {"owner", "moderator"},
    "/moderation": {"moderator"},
}


@pytest.mark.parametrize("role", (None, *ROLES))
async def test_thread_pages_gate_and_ship_little_javascript(client, role):
    if role:
        await login(client, role)
    for path, allowed in THREAD_PAGES.items():
        response = await client.get(path, follow_redirects=False)
        if allowed is not None and role is None:
            assert response.status_code == 303 and response.headers["location"] == "/login", path
            continue
        if allowed is not None and role not in allowed:
            assert response.status_code == 403, path
            continue
        assert response.status_code == 200, path
        html = response.text
        # The import map runs inline, allowed by its hash (tests/integration/test_static_assets.py).
        assert not re.search(r"<script(?![^>]*\bsrc=)(?! type=\"importmap\">)(?! type=\"application/json\")[^>]*>", html), \
            f"inline script on {path}"
        assert not re.search(r"<style|\sstyle=", html), f"inline style on {path}"
        assert not re.search(r"""(?:src|href|action)=["'](?:https?:)?//""", html), f"another origin on {path}"
        assert not re.search(r"\son[a-z]+=", html), f"inline event handler on {path}"
        modules = set()
        for src in _scripts(html):
            modules |= _module_graph(src)
        total = sum(p.stat().st_size for p in modules)
        assert total < 100 * 1024, f"{path} ships {total} bytes of JavaScript"


async def test_policy_page_says_who_sees_what(client):
    text = (await client.get("/threads/policy")).text.lower()
    for words in ("owners of the service", "moderator's approval", "author's consent", "keyed hash",
                  "never edited", "moderation log", "no time of day", "not when",
                  "nothing else"):
        assert words in text, words


async def test_members_see_where_to_give_feedback(client):
    await login(client, "member")
    html = (await client.get("/")).text
    for href in ("/threads/new", "/threads/follow", "/board"):
        assert f'href="{href}"' in html
    assert 'src="/static/js/pages/member.' in html  # the month's thread tokens are fetched on sign-in
