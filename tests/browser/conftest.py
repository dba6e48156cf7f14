"""A real server on a free port, and headless Chromium to drive it.

The app runs under uvicorn in a thread, configured as ``candor serve`` configures it,
on the test's own fresh database (``live_server`` in tests/conftest.py). Every browser context records each request URL and
every console message, so tests can assert that nothing left the origin and that the
Content Security Policy refused nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support import PASSWORD, role_email

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(__file__).parent / "screenshots"


@pytest.fixture
async def browser() -> AsyncIterator[object]:
    # Per test: Playwright's event loop must be the test's own (pytest-asyncio runs one per test).
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        chromium = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


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


@pytest.fixture
async def context(browser, live_server):
    context = await new_context(browser, live_server, viewport={"width": 1100, "height": 900})
    yield context
    await context.close()


@pytest.fixture
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
