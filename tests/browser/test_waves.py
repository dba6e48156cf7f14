"""A manager creates, opens and closes a wave in the browser; the wave page shows its
progress rounded down to multiples of k and, while it is open, when results will appear."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.browser.conftest import screenshot, sign_in
from tests.integration.wave_helpers import make_audience, make_service

pytestmark = pytest.mark.browser


async def test_manager_creates_opens_and_closes_a_wave(page, db):
    await make_service(db, name="Service Desk")
    await make_audience(db, size=7, name="Everyone")
    await sign_in(page, "manager")
    await page.goto("/waves")
    await page.get_by_text("No waves yet").wait_for()
    form = page.locator("#create-form")
    await form.wait_for()
    # Missing fields are named, next to the field and in the summary.
    await form.get_by_role("button", name="Create the wave (as a draft)").click()
    summary = page.locator("#create-errors")
    assert "Title: Required." in await summary.inner_text()
    assert await page.get_by_label("Title").get_attribute("aria-invalid") == "true"
    await page.get_by_label("Title").fill("Spring survey")
    await page.get_by_label("Service").select_option(label="Service Desk")
    await page.get_by_label("Instrument").select_option(value="servqual")
    await page.get_by_label("Audience group").select_option(label="Everyone (7 people)")
    # The planning helper: 40% of 7 is 2 answers, fewer than k = 5: the report would stay suppressed.
    plan = page.locator("#w-plan")
    assert "About 2 answers from 7 people" in await plan.inner_text()
    assert "fewer than k = 5" in await plan.inner_text()
    await page.get_by_label("Expected response rate (%)").fill("100")
    assert "About 7 answers" in await plan.inner_text() and "Margin of error (95%): ±0.00" in await plan.inner_text()
    await page.get_by_label("Opens on").fill(str(date.today()))
    await page.get_by_label("Closes on").fill(str(date.today() + timedelta(days=14)))
    await form.get_by_role("button", name="Create the wave (as a draft)").click()
    row = page.locator("tbody tr", has_text="Spring survey")
    await row.wait_for()
    assert "draft" in await row.inner_text()
    await row.get_by_role("button", name="Open Spring survey").click()
    await page.get_by_text("“Spring survey” is now open.").wait_for()
    row = page.locator("tbody tr", has_text="Spring survey")
    assert "open" in await row.inner_text()
    await screenshot(page, "waves")
    await row.get_by_role("link", name="Spring survey").click()
    await page.locator("#tokens-issued").wait_for()
    assert "fewer than 5" in await page.locator("#tokens-issued").inner_text()
    assert "fewer than 5" in await page.locator("#responses").inner_text()
    assert "rounded down" in await page.locator("#progress-rounding").inner_text()
    # An open wave has no report: the page says when it will, instead of an error.
    closes_on = str(date.today() + timedelta(days=14))
    assert f"Results appear when the wave closes on {closes_on}" in await page.locator("#report-not-yet").inner_text()
    assert not await page.locator("[role=alert]").count()
    await screenshot(page, "wave")
    await page.go_back()
    await page.locator("tbody tr", has_text="Spring survey").get_by_role("button", name="Close Spring survey").click()
    await page.get_by_text("“Spring survey” is now closed.").wait_for()
    recorder = page.context.recorder
    assert not recorder.foreign() and not recorder.csp_violations() and not recorder.page_errors
