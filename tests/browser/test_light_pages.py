"""Light pages (issue 19) without a timing tell: the code a page loads with import() instead of
statically arrives in the background at page load, never at the moment of an anonymous
action. A module fetched when the member presses Submit or Send would be a signed-in request
(module scripts go with the session cookie) marking the very moment the random delay before
the cookie-less request hides."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import sign_in
from tests.browser.test_survey import answer_everything, arrange, open_survey
from tests.integration.wave_helpers import make_service

pytestmark = pytest.mark.browser

MODULE = re.compile(r"/static/js/")


def module_requests(page) -> list[str]:
    """URLs of the module requests the page makes from now on (a list that keeps growing)."""
    seen: list[str] = []
    page.on("request", lambda request: MODULE.search(request.url) and seen.append(request.url))
    return seen


async def test_no_module_is_fetched_when_the_survey_is_submitted(page, live_server, db):
    wave = await arrange(live_server, db, "servqual")
    await open_survey(page, wave)
    await answer_everything(page)
    await page.wait_for_load_state("networkidle")
    fetched = module_requests(page)
    await page.get_by_role("button", name="Submit anonymously").click()
    await page.locator("#receipt-code").wait_for()
    assert fetched == [], f"modules fetched at Submit: {fetched}"


async def test_no_module_is_fetched_when_a_thread_is_sent(page, db):
    await make_service(db)
    await sign_in(page, "member")
    await page.goto("/threads/new")
    await page.get_by_text(re.compile(r"holds [1-9]\d* unused thread tokens?")).wait_for()
    await page.wait_for_load_state("networkidle")
    await page.get_by_label("Service").select_option(label="Service Desk")
    await page.get_by_label("Title").fill("The printer on floor two")
    await page.get_by_label("Your message").fill("It jams on every second page.")
    fetched = module_requests(page)
    await page.get_by_role("button", name="Send anonymously").click()
    await page.locator("#thread-secret").wait_for()
    assert fetched == [], f"modules fetched at Send: {fetched}"
