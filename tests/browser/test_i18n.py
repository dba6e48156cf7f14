"""A reader switches the UI to German in the page header: the survey list and a closed wave's report are then
German, words and numbers alike (decimal comma), and the choice sticks across pages."""

from __future__ import annotations

import re
from datetime import date, timedelta

import httpx
import pytest

from instruments import instrument_hash, load_builtin
from service.db import init_connection
from service.demo import open_wave, store_synthetic_responses, synthetic_answers
from service.queries.campaigns import close_campaign
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import TEST_SETTINGS
from tests.integration.wave_helpers import create_wave, make_audience, make_service
from tests.support import role_email

pytestmark = pytest.mark.browser

# A German decimal number with two places, as Intl formats it for "de" (e.g. −0,42 or 1,05).
GERMAN_DECIMAL = re.compile(r"[−-]?\d+,\d{2}\b")


async def test_member_switches_to_german_and_sees_the_survey_list_in_german(page, live_server, db):
    async with httpx.AsyncClient(base_url=live_server) as client:
        wave = await create_wave(client, db, instrument="pulse", title="Frühjahrsumfrage")
    await sign_in(page, "member")
    await page.goto("/surveys")
    await page.get_by_text("Ready: your token is in this browser.").wait_for()
    assert await page.locator("html").get_attribute("lang") == "en"

    await page.get_by_role("navigation", name="Language").get_by_role("link", name="Deutsch").click()
    await page.wait_for_url("**/surveys")
    assert await page.locator("html").get_attribute("lang") == "de"
    assert await page.locator("main h1").inner_text() == "Offene Umfragen"
    card = page.locator(f'li[data-campaign-id="{wave["id"]}"]')
    await card.get_by_text("Bereit: Ihr Token liegt in diesem Browser.").wait_for()
    assert "offen bis" in await card.inner_text()
    await card.get_by_role("link", name="„Frühjahrsumfrage“ beantworten").wait_for()
    # The header is German too, and the choice holds on the next page.
    nav = await page.get_by_role("navigation", name="Hauptmenü").inner_text()
    assert "Offene Umfragen" in nav and "Quittungen" in nav
    await page.goto("/receipts")
    assert await page.locator("main h1").inner_text() == "Ihre Quittungen"
    await screenshot(page, "surveys-de")
    recorder = page.context.recorder
    assert not recorder.foreign() and not recorder.csp_violations() and not recorder.page_errors


async def test_a_wave_report_in_german_uses_german_words_and_numbers(page, db):
    await init_connection(db)
    service_id = await make_service(db, name="Service Desk")
    group_id = await make_audience(db, size=7, name="Alle")
    manager = await db.fetchval("select id from accounts where email = $1", role_email("manager"))
    servqual = load_builtin("servqual")
    today = date.today()
    wave = await open_wave(
        db, TEST_SETTINGS, title="Herbstumfrage", description="", service_id=service_id,
        instrument_hash=instrument_hash(servqual), audience_group_id=group_id, opens_on=today - timedelta(days=9),
        closes_on=today - timedelta(days=1), k_scores=5, k_comments=10, created_by=manager,
    )
    await store_synthetic_responses(db, wave, servqual, synthetic_answers(servqual, 40))
    async with db.transaction():
        await close_campaign(db, campaign_id=wave)

    await sign_in(page, "manager")
    await page.goto(f"/waves/{wave}")
    await page.locator("#summary-overall").wait_for()
    await page.get_by_role("link", name="Deutsch").click()
    await page.wait_for_url(f"**/waves/{wave}")
    await page.locator("#summary-overall").wait_for()

    overall = await page.locator("#summary-overall").inner_text()
    assert "Gesamtlücke" in overall and "95-%-KI" in overall
    assert GERMAN_DECIMAL.search(overall), overall
    assert not re.search(r"\d\.\d{2}\b", overall), "no English decimal points"
    main = await page.locator("main").inner_text()
    assert "Zusammenfassung" in main and "Handlungsfelder" in main and "Schwellen und Schlüssel" in main
    assert "Ausgegebene Tokens" in main and "Fortschritt" in main
    # The closing day is a German date (day.month.year).
    closed = (today - timedelta(days=1)).strftime("%d.%m.%Y")
    assert closed in main
    await page.locator("#full-analysis > summary").click()
    await page.locator("#report-n").wait_for()
    assert (await page.locator("#report-n").inner_text()) == "Ausgewertete Antworten: 40."
    table = await page.locator("#full-analysis table").first.inner_text()
    assert "Lücke" in table and GERMAN_DECIMAL.search(table)
    await screenshot(page, "report-de")
    recorder = page.context.recorder
    assert not recorder.foreign() and not recorder.csp_violations() and not recorder.page_errors
