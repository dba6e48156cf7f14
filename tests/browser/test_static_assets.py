"""Hashed static assets in Chromium: the import map (allowed by its hash in the policy)
turns the modules' own relative imports into hashed URLs, static and dynamic ones alike;
every page of every role loads with no failed request, nothing the policy refuses, and
every asset compressed and cached for good."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import new_context, new_page, sign_in

pytestmark = pytest.mark.browser

HASHED = re.compile(r"/static/.+\.[0-9a-f]{16}\.[a-z0-9]+$")
PAGES = {
    "member": ("/", "/surveys", "/receipts", "/privacy", "/threads/new", "/threads/follow", "/board", "/you-said-we-did"),
    "manager": ("/", "/waves", "/actions", "/admin/services"),
    "owner": ("/", "/threads/inbox", "/waves"),
    "moderator": ("/", "/moderation"),
    "admin": ("/", "/admin/accounts", "/admin/groups", "/admin/services", "/admin/mailbox"),
}


class Traffic:
    """Every static response and every failed request of one page."""

    def __init__(self, page) -> None:
        self.static: list[tuple[str, int, dict[str, str]]] = []
        self.failed: list[str] = []
        page.on("requestfailed", lambda request: self.failed.append(f"{request.url} {request.failure}"))
        page.on("response", self._record)

    async def _record(self, response) -> None:
        path = response.url.split("://", 1)[1].split("/", 1)[1]
        if path.startswith("static/"):
            self.static.append(("/" + path, response.status, await response.all_headers()))


def settled(page, traffic: Traffic) -> None:
    recorder = page.context.recorder
    assert not traffic.failed, traffic.failed
    assert not recorder.csp_violations(), recorder.csp_violations()
    assert not recorder.page_errors, recorder.page_errors
    assert not recorder.foreign(), recorder.foreign()
    broken = [(url, status) for url, status, _ in traffic.static if status >= 400]
    assert not broken, broken


async def test_import_map_sends_relative_imports_to_hashed_urls(browser, live_server):
    context = await new_context(browser, live_server)
    page = await new_page(context)
    await sign_in(page, "member")
    await page.wait_for_load_state("networkidle")
    traffic = Traffic(page)
    await page.reload(wait_until="networkidle")
    assert await page.evaluate("HTMLScriptElement.supports('importmap')")
    # The home page's member module imports ../lib/tokens.js and, once the page is shown,
    # ../lib/base.js with import(): both must have come from their hashed names.
    await page.wait_for_function("document.getElementById('mail-reminders')?.disabled === false")
    scripts = [url for url, _, headers in traffic.static if headers.get("content-type", "").startswith("text/javascript")]
    assert any("/static/js/lib/base." in url for url in scripts), scripts
    plain = [url for url in scripts if not HASHED.search(url)]
    assert not plain, f"fetched by their plain names (the import map was not applied): {plain}"
    for url, status, headers in traffic.static:
        assert status == 200, url
        assert headers["cache-control"] == "public, max-age=31536000, immutable", url
        assert headers.get("content-encoding") == "gzip", url
    settled(page, traffic)
    await context.close()


@pytest.mark.parametrize("role", sorted(PAGES))
async def test_every_page_loads_without_a_failed_request(browser, live_server, role):
    context = await new_context(browser, live_server)
    page = await new_page(context)
    await sign_in(page, role)
    await page.wait_for_load_state("networkidle")
    for path in PAGES[role]:
        traffic = Traffic(page)
        await page.goto(path, wait_until="networkidle")
        assert page.url.endswith(path), f"{role} was sent from {path} to {page.url}"
        settled(page, traffic)
        plain = [url for url, _, h in traffic.static if "javascript" in h.get("content-type", "") and not HASHED.search(url)]
        assert not plain, (path, plain)
        page.remove_listener("response", traffic._record)
    await context.close()
