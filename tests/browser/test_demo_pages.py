"""Every page of the demo shows data: each demo role visits each of its pages on the
organisation `make run` seeds (after the start-up audit `make run` runs), and the visit
fails on an empty-state message, a failed request or a script error."""

from __future__ import annotations

import re
from dataclasses import replace

import asyncpg
import pytest
import pytest_asyncio

from service.audit import startup_audit
from service.db import init_connection
from service.demo import DEMO_DOMAIN, DEMO_PASSWORD, seed_demo
from service.migrate import migrate
from tests.browser.conftest import new_context, new_page
from tests.conftest import TEST_SETTINGS

pytestmark = pytest.mark.browser

# What the pages say when they have nothing to show (frontend/static/js/pages, templates).
EMPTY = re.compile("|".join(map(re.escape, [
    "No threads yet", "No thread matches", "Nothing is waiting for a decision", "No moderation action yet",
    "No groups yet", "No members.", "No membership changes recorded", "Nothing has been published yet",
    "No action items match", "No closed waves yet", "No services yet", "No waves yet", "No survey is open",
    "No service names you as an owner", "Nothing sent yet", "No mail.", "Nothing yet: accepted action items",
    "No audit result is stored yet", "No driver analysis", "No themes", "No comments.", "No tokens yet",
    "there is no candidate", "there is no focus area", "No membership change is recorded",
])))

# Empty by design whatever the demo holds: kept by the browser, not the server (a fresh
# browser has none); the admin answers no wave (not a member); a SCIM token is the admin's
# own step (a seeded one whose secret nobody holds would only mislead).
EXPECTED_EMPTY = {
    ("member", "/receipts"): "This browser keeps no receipts yet",
    ("member", "/threads/follow"): "No thread is kept in this browser",
    ("admin", "/privacy"): "No waves yet: no survey wave is open.",
    ("admin", "/admin/groups"): "No tokens yet",
}


@pytest_asyncio.fixture(loop_scope="session")
async def settings(empty_database_url):
    """The demo organisation as `make run` seeds it, served by ``live_server``."""
    demo = replace(TEST_SETTINGS, database_url=empty_database_url)
    conn = await asyncpg.connect(empty_database_url)
    try:
        await init_connection(conn)
        await migrate(conn)
        assert await seed_demo(conn, demo)
    finally:
        await conn.close()
    await startup_audit(demo)
    return demo


async def _ids(url: str) -> dict[str, list[str]]:
    conn = await asyncpg.connect(url)
    try:
        fetch = conn.fetch
        return {
            "threads": [str(r["id"]) for r in await fetch("select id from threads order by opened_on, id")],
            "board": [str(r["id"]) for r in await fetch("select id from threads where publish_approved and author_consent")],
            "actions": [str(r["id"]) for r in await fetch("select id from action_items order by due_on, id")],
            "closed": [str(r["id"]) for r in await fetch("select id from campaigns where status = 'closed'")],
            "open": [str(r["id"]) for r in await fetch("select id from campaigns where status = 'open'")],
        }
    finally:
        await conn.close()


def _pages(role: str, ids: dict[str, list[str]]) -> list[str]:
    common = ["/", "/privacy", "/threads/policy", "/board"]
    staff_threads = [f"/threads/staff/{t}" for t in ids["threads"]]
    items = [f"/actions/{a}" for a in ids["actions"]]
    waves = ["/waves", *(f"/waves/{w}" for w in ids["closed"] + ids["open"])]
    return common + {
        "member": ["/surveys", *(f"/surveys/{w}" for w in ids["open"]), "/threads/new", "/you-said-we-did",
                   "/receipts", "/threads/follow"],
        "owner": ["/threads/inbox", *staff_threads, "/actions", *items, *waves],
        "moderator": ["/moderation", "/threads/inbox", *staff_threads],
        "manager": ["/actions", *items, *waves, "/you-said-we-did"],
        "admin": ["/admin/accounts", "/admin/groups", "/admin/services", "/admin/mailbox"],
    }[role]


async def _sign_in(page, local: str) -> None:
    await page.goto("/login")
    await page.get_by_label("Email address").fill(f"{local}@{DEMO_DOMAIN}")
    await page.get_by_label("Password").fill(DEMO_PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(re.compile(r"/$"))


@pytest.mark.parametrize("role", ["member", "owner", "moderator", "manager", "admin"])
async def test_every_page_shows_data(browser, live_server, settings, role):
    ids = await _ids(settings.database_url)
    context = await new_context(browser, live_server, viewport={"width": 1100, "height": 900})
    page = await new_page(context)
    failed: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    await _sign_in(page, role)
    empty: list[str] = []
    for path in _pages(role, ids):
        response = await page.goto(path)
        assert response is not None and response.ok, (role, path)
        await page.wait_for_load_state("networkidle")
        text = await page.inner_text("main") if await page.locator("main").count() else await page.inner_text("body")
        if (role, path) in EXPECTED_EMPTY:
            text = text.replace(EXPECTED_EMPTY[role, path], "")
        empty += [f"{path}: {m.group(0)}" for m in EMPTY.finditer(text)]
    recorder = context.recorder
    assert not empty, (role, empty)
    assert not failed, (role, failed)
    assert not recorder.page_errors, recorder.page_errors
    assert not [t for kind, t in recorder.console if kind == "error"], recorder.console
    assert not recorder.foreign(), recorder.foreign()
