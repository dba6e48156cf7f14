"""Action items in the browser: a manager turns a ranked candidate into an item on the
dashboard; the owner moves it to done; a later wave closes and the item, and the
members' "you said, we did" page, show the measured outcome."""

from __future__ import annotations

import re

import pytest
import pytest_asyncio

from tests.browser.conftest import screenshot, sign_in
from tests.integration.test_actions import BAD, GOOD, candidate_item, closed_wave, servqual_answers

pytestmark = pytest.mark.browser


@pytest_asyncio.fixture(loop_scope="session")  # the browser tests' loop (tests/browser/conftest.py)
async def client(live_server):
    """An API client on the live server, to arrange waves and items as the tests' helpers do."""
    import httpx

    async with httpx.AsyncClient(base_url=live_server, timeout=30) as c:
        yield c


def _clean(page) -> None:
    recorder = page.context.recorder
    assert not recorder.foreign() and not recorder.csp_violations() and not recorder.page_errors, (
        recorder.foreign(), recorder.csp_violations(), recorder.page_errors)


async def test_manager_dashboard_turns_a_candidate_into_an_item(page, client, db):
    wave = await closed_wave(client, db, servqual_answers(8, reliability=BAD), title="Spring survey")
    await sign_in(page, "manager")
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Action items").click()
    await page.get_by_role("heading", name="Action items", level=1).wait_for()
    await page.get_by_text("No action items match.").wait_for()
    await page.locator("#m-first-answer").get_by_text("No threads yet.").wait_for()
    # The score across waves: a server-rendered, labelled SVG with an interval.
    chart = page.locator("figure.chart svg[role=img]")
    assert await chart.count() == 1
    assert "95% interval" in await chart.locator("desc").text_content()
    await page.get_by_label("Survey wave", exact=True).select_option(label=f"Spring survey — {wave['service']['name']} (closed)")
    row = page.locator("#candidate-table tr[data-candidate='dimension:reliability']")
    await row.wait_for()
    await row.get_by_label("Expected gap change for dimension reliability").fill("0.8")
    await row.get_by_role("button", name="Create action item for dimension reliability").click()
    await page.locator("#create-status").get_by_text("Created").wait_for()
    listed = page.locator("#action-table tbody tr")
    await listed.first.wait_for()
    assert await listed.count() == 1
    text = await listed.first.inner_text()
    assert "Close the gap on the reliability dimension" in text and "Proposed" in text and "+0.8" in text
    assert "1 in all" in await page.locator("#m-counts").inner_text()
    # Filters: nothing is done yet; proposed finds it.
    await page.get_by_label("Status").select_option("done")
    await page.get_by_role("button", name="Apply filters").click()
    await page.get_by_text("No action items match.").wait_for()
    assert (await page.get_by_role("link", name="Download CSV").get_attribute("href")).endswith("status=done")
    await page.get_by_label("Status").select_option("proposed")
    await page.get_by_role("button", name="Apply filters").click()
    await page.locator("#action-table").wait_for()
    await screenshot(page, "actions-dashboard")
    _clean(page)


async def test_owner_finishes_an_item_and_members_see_the_outcome(page, client, db):
    before = await closed_wave(client, db, servqual_answers(8, reliability=BAD), title="Spring")
    item = (await candidate_item(client, before, expected_change=0.5, title="Faster fixes"))["item"]
    await client.patch(f"/api/actions/{item['id']}", json={"internal_notes": "INTERNAL budget talk"})
    await sign_in(page, "owner")
    await page.goto(f"/actions/{item['id']}")
    await page.get_by_role("heading", name="Faster fixes").wait_for()
    for verb, label in (("Accept", "Accepted"), ("Start work", "In progress"), ("Mark done", "Done")):
        await page.get_by_role("button", name=verb, exact=True).click()
        await page.get_by_text(f"Status is now {label}.").wait_for()
    assert "locked" in await page.locator("dl.facts").inner_text()
    assert "later wave" in await page.locator("#outcome").inner_text()
    rows = page.locator("#activity tbody tr")
    assert await rows.count() == 5  # create, edit (notes), three status moves
    assert "Owner" in await rows.nth(4).inner_text()
    await closed_wave(client, db, servqual_answers(8, reliability=GOOD), like=before, title="Autumn")
    await page.reload()
    verdict = page.locator("#outcome [data-verdict]")
    await verdict.wait_for()
    assert await verdict.inner_text() == "Outcome: improved"
    assert re.search(r"Welch interval \+\d", await page.locator("#outcome").inner_text())
    await screenshot(page, "action-item")
    _clean(page)
    # A member reads it on "you said, we did", without internal notes.
    await page.context.clear_cookies()
    await sign_in(page, "member")
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="You said, we did").click()
    card = page.locator("#public-actions li", has_text="Faster fixes")
    await card.wait_for()
    text = await card.inner_text()
    assert "Outcome: improved." in text and "“Spring” and “Autumn”" in text
    body = await page.locator("main").inner_text()
    assert "INTERNAL" not in body and "Owner" not in body
    assert await page.get_by_role("link", name="Action items").count() == 0
    await screenshot(page, "you-said-we-did")
    _clean(page)
