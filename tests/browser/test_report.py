"""A manager opens a closed wave's report and sees the charts, the tables and the ranked
candidates; suppressed cells are shown as such."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from instruments import instrument_hash, load_builtin
from service.db import init_connection
from service.demo import open_wave, store_synthetic_responses, synthetic_answers
from service.queries.campaigns import close_campaign
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import TEST_SETTINGS
from tests.integration.wave_helpers import make_audience, make_service
from tests.support import role_email

pytestmark = pytest.mark.browser


async def test_manager_reads_the_report_with_charts(page, db):
    await init_connection(db)
    service_id = await make_service(db, name="Service Desk")
    group_id = await make_audience(db, size=7, name="Everyone")
    manager = await db.fetchval("select id from accounts where email = $1", role_email("manager"))
    servqual = load_builtin("servqual")
    today = date.today()
    wave = await open_wave(
        db, TEST_SETTINGS, title="Autumn survey", description="", service_id=service_id,
        instrument_hash=instrument_hash(servqual), audience_group_id=group_id, opens_on=today - timedelta(days=9),
        closes_on=today - timedelta(days=1), k_scores=5, k_comments=10, created_by=manager,
    )
    await store_synthetic_responses(db, wave, servqual, synthetic_answers(servqual, 40))
    async with db.transaction():  # closing fences submissions with a lock held until commit
        await close_campaign(db, campaign_id=wave)

    await sign_in(page, "manager")
    await page.goto(f"/waves/{wave}")
    # Summary first: overall score, response rate, three focus areas in respondents' words.
    await page.locator("#summary-overall").wait_for()
    overall = await page.locator("#summary-overall").inner_text()
    assert "Overall gap" in overall and "95% CI" in overall
    focus = page.locator("#summary-focus li")
    statements = {it.statements["perception"] for it in servqual.items}
    texts = [await focus.nth(i).inner_text() for i in range(await focus.count())]
    assert 1 <= len(texts) <= 3
    assert all(any(s in t for s in statements) for t in texts)  # wording, not item keys
    assert "priority = weight × max(0, −upper bound)" in texts[0]
    assert await page.locator("#trend-table tbody tr").count() == 1
    # Everything else is below, collapsed until asked for.
    assert not await page.locator("#all-candidates").is_visible()
    await page.locator("#full-analysis > summary").click()
    charts = page.locator("svg[role=img]")
    await charts.nth(2).wait_for()
    titles = [await charts.nth(i).locator("title").first.text_content() for i in range(await charts.count())]
    assert any("dimension" in t.lower() for t in titles)
    assert any("importance" in t.lower() for t in titles)
    body = await page.locator("main").inner_text()
    assert "All ranked action candidates" in body
    assert "Reliability" in body and "Benjamini" in body
    assert "Responses analysed: 40" in body
    # Comments need k_comments = 10 responses; with 40 the two written ones are shown.
    assert "comments from 10" in body
    assert "Tickets sit for days before anyone looks at them." in body
    await screenshot(page, "report")
    recorder = page.context.recorder
    assert not recorder.foreign() and not recorder.csp_violations() and not recorder.page_errors
