"""The IT experience instrument in the browser: the survey form renders its measures
(5- and 7-point scales, minutes as a number, a 0..10 row) and sends them anonymously; a
manager reads the closed wave's experience section with hours lost and the caveats."""

from __future__ import annotations

import re
import secrets
from datetime import date, timedelta

import httpx
import pytest

from instruments import instrument_hash, load_builtin
from service.db import init_connection
from service.demo import open_wave
from service.queries.campaigns import close_campaign
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import TEST_SETTINGS
from tests.integration.wave_helpers import create_wave, make_audience, make_service
from tests.support import role_email

pytestmark = pytest.mark.browser


async def test_member_answers_the_experience_measures(page, live_server, db):
    async with httpx.AsyncClient(base_url=live_server) as client:
        wave = await create_wave(client, db, instrument="it-experience", title="IT experience")
    await sign_in(page, "member")
    await page.goto(f"/surveys/{wave['id']}")
    await page.locator("#survey-form").wait_for()
    part = page.locator("section.part:not([hidden])")
    assert await part.locator('fieldset[data-field="measures.csat"] input[type=radio]').count() == 5
    assert await part.locator('fieldset[data-field="measures.effort"] input[type=radio]').count() == 7
    recommend = part.locator('fieldset[data-field="measures.recommend"]')
    assert await recommend.locator("input[type=radio]").count() == 11
    anchors = await recommend.locator(".anchors").inner_text()
    assert "0 = Not at all likely" in anchors and "10 = Extremely likely" in anchors
    minutes = part.get_by_role("spinbutton", name=re.compile("minutes of work"))
    await screenshot(page, "survey-experience")

    # Next with nothing answered: the required measures are named, the optional one is not.
    await page.locator("#next").click()
    summary = page.locator("#error-summary")
    await summary.get_by_text("3 answers need attention").wait_for()  # the checks load at the first Next
    await minutes.fill("-3")
    await part.locator('fieldset[data-field="measures.csat"] label').filter(has=page.locator('input[value="4"]')).click()
    await part.locator('fieldset[data-field="measures.effort"] label').filter(has=page.locator('input[value="6"]')).click()
    await page.locator("#next").click()
    await summary.get_by_text("One answer needs attention").wait_for()
    assert "whole number of minutes" in await page.locator('[data-field="measures.time_lost"] .field-error').inner_text()
    await minutes.fill("45")
    await recommend.locator("label").filter(has=page.locator('input[value="0"]')).click()
    while await page.locator("#next").is_visible():
        await page.locator("#next").click()
    async with page.expect_request(re.compile(r"/anon/campaigns/.*/responses$")) as sent:
        await page.get_by_role("button", name="Submit anonymously").click()
    request = await sent.value
    assert "cookie" not in await request.all_headers()
    assert request.post_data_json["measures"] == {"csat": 4, "effort": 6, "time_lost": 45, "recommend": 0}
    receipt = page.locator("#receipt-code")
    await receipt.wait_for()
    code = await receipt.inner_text()
    stored = await db.fetchval("select measures from responses where campaign_id = $1", wave["id"])
    assert stored == [4, 6, 45, 0]
    # The receipt page finds the server's copy, measures included, equal to what was sent.
    await page.goto("/receipts")
    card = page.locator(f'[data-receipt="{code}"]')
    await card.get_by_role("button", name="Check against the server").click()
    await card.get_by_text("Matches: the server stored exactly what you sent").wait_for()
    recorder = page.context.recorder
    assert not recorder.foreign() and not recorder.csp_violations() and not recorder.page_errors


async def test_manager_reads_the_experience_section(page, db):
    await init_connection(db)
    service_id = await make_service(db, name="Service Desk")
    group_id = await make_audience(db, size=7, name="Everyone")
    manager = await db.fetchval("select id from accounts where email = $1", role_email("manager"))
    instrument = load_builtin("it-experience")
    today = date.today()
    wave = await open_wave(
        db, TEST_SETTINGS, title="Experience survey", description="", service_id=service_id,
        instrument_hash=instrument_hash(instrument), audience_group_id=group_id, opens_on=today - timedelta(days=9),
        closes_on=today - timedelta(days=1), k_scores=5, k_comments=10, created_by=manager,
    )
    answers = [[5, 7, 0, 10], [4, 6, 30, 9], [4, 5, 60, 8], [2, 2, 240, 3], [3, 4, 20, None], [5, 6, 10, 10]]
    for row in answers:
        await db.execute("insert into responses (campaign_id, receipt, item_values, measures) values ($1, $2, '{}', $3)",
                         wave, secrets.token_hex(32), row)
    async with db.transaction():
        await close_campaign(db, campaign_id=wave)

    await sign_in(page, "manager")
    await page.goto(f"/waves/{wave}")
    section = page.locator("#experience")
    await section.wait_for()
    text = await section.inner_text()
    assert "Satisfaction (CSAT)" in text and "satisfied (4 or 5 of 5)" in text and "95% CI" in text
    # Mean minutes 60 × audience 7 ÷ 60 = 7 hours lost per month.
    assert "7 hours lost per month" in await section.locator(".hours-lost").inner_text()
    assert "NPS" in text and "Caveat:" in text and "recall" in text
    await screenshot(page, "wave-experience")
    recorder = page.context.recorder
    assert not recorder.foreign() and not recorder.csp_violations() and not recorder.page_errors
