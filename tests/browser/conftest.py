"""A real server on a free port, and headless Chromium to drive it.

The app runs under uvicorn in a thread, configured as ``candor serve`` configures it,
on the test's own fresh database (``live_server`` in tests/conftest.py), so each test
starts its own server. Chromium is started once per run: each test gets fresh browser
contexts (cookies, storage and IndexedDB of their own), and every context a test opened
is closed when it ends. Every browser context records each request URL and every
console message, so tests can assert that nothing left the origin and that the
Content Security Policy refused nothing.

Playwright's objects belong to the event loop that started them, so the browser tests
run in pytest-asyncio's session loop (marked below), and so do the async fixtures they
use: a fixture written for them takes ``loop_scope="session"``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio

from tests.support import PASSWORD, role_email

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(__file__).parent / "screenshots"
HERE = Path(__file__).parent


def idb_reader(database: str, store: str) -> str:
    """A page function ``(key) => record | null`` reading the app's IndexedDB.

    It never creates the app's stores (a database opened first by a probe would exist
    empty, and the page would have to upgrade it) and never holds the database open.
    """
    return f"""async (key) => {{
  const db = await new Promise((ok, no) => {{ const r = indexedDB.open("{database}"); r.onsuccess = () => ok(r.result); r.onerror = no; }});
  try {{
    if (!db.objectStoreNames.contains("{store}")) return null;
    return await new Promise((ok) => {{ const r = db.transaction("{store}").objectStore("{store}").get(key); r.onsuccess = () => ok(r.result ?? null); }});
  }} finally {{ db.close(); }}
}}"""


# The wave token the browser keeps for a wave id.
READ_TOKEN = idb_reader("candor", "tokens")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # This hook sees every collected test, not only this folder's.
    session_loop = pytest.mark.asyncio(loop_scope="session")
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(session_loop, append=False)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def chromium() -> AsyncIterator[object]:
    """One Playwright driver and one Chromium for the whole run."""
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


@pytest_asyncio.fixture(loop_scope="session")
async def browser(chromium) -> AsyncIterator[object]:
    """The shared Chromium; whatever contexts the test opened (a failed test leaves
    some open) are closed when it ends, so nothing carries over to the next test."""
    yield chromium
    for context in list(chromium.contexts):
        await context.close()


@pytest_asyncio.fixture(loop_scope="session")
async def db(database_url) -> AsyncIterator[asyncpg.Connection]:
    """tests/conftest.py's ``db``, in the browser tests' event loop."""
    conn = await asyncpg.connect(database_url)
    yield conn
    await conn.close()


@dataclass
class Recorder:
    """Every request the page made and every console message, for assertions after the fact."""

    origin: str
    requests: list[str] = field(default_factory=list)
    console: list[tuple[str, str]] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def foreign(self) -> list[str]:
        return [url for url in self.requests
                if not (url.startswith(self.origin + "/") or url == self.origin or url.startswith("data:"))]

    def csp_violations(self) -> list[str]:
        return [text for kind, text in self.console
                if "Content Security Policy" in text or "Content-Security-Policy" in text or "Refused to" in text]


async def new_context(browser, live_server: str, **options):
    context = await browser.new_context(base_url=live_server, **options)
    recorder = Recorder(origin=live_server)

    async def route(route):
        url = route.request.url
        recorder.requests.append(url)
        if url in recorder.foreign():
            await route.abort()  # never let a page reach another origin, even by mistake
        else:
            await route.continue_()

    await context.route("**/*", route)
    context.recorder = recorder
    return context


async def new_page(context):
    page = await context.new_page()
    recorder = context.recorder
    page.on("console", lambda msg: recorder.console.append((msg.type, msg.text)))
    page.on("pageerror", lambda err: recorder.page_errors.append(str(err)))
    page.set_default_timeout(10_000)
    return page


@pytest_asyncio.fixture(loop_scope="session")
async def context(browser, live_server):
    context = await new_context(browser, live_server, viewport={"width": 1100, "height": 900})
    yield context
    await context.close()


@pytest_asyncio.fixture(loop_scope="session")
async def page(context):
    return await new_page(context)


async def sign_in(page, role: str, password: str = PASSWORD) -> None:
    await page.goto("/login")
    await page.get_by_label("Email address").fill(role_email(role))
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_load_state()


async def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
