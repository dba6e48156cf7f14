"""The survey in the respondent's language, and answers in progress that survive a reload.

A member picks German on the form (the answer sent carries no language), a manager reads
the report in German, and a half-answered survey comes back after a reload from this
browser's own storage — nothing of it reaches the server before Submit.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import httpx
import pytest

from instruments import instrument_hash, load_builtin
from service.db import init_connection
from service.demo import open_wave, store_synthetic_responses, synthetic_answers
from service.queries.campaigns import close_campaign
from tests.browser.conftest import idb_reader, screenshot, sign_in
from tests.browser.test_survey import fill_visible_part
from tests.conftest import TEST_SETTINGS
from tests.integration.wave_helpers import create_wave, make_audience, make_service
from tests.support import role_email

pytestmark = pytest.mark.browser

READ_DRAFT = idb_reader("candor-drafts", "drafts")
SERVQUAL = load_builtin("servqual")
GERMAN = SERVQUAL.localized("de")


async def arrange(live_server: str, db, instrument: str) -> dict:
    async with httpx.AsyncClient(base_url=live_server) as client:
        return await create_wave(client, db, instrument=instrument, title=f"Wave {instrument} languages")


async def open_survey(page, wave) -> None:
    await sign_in(page, "member")
    await page.goto(f"/surveys/{wave['id']}")
    await page.locator("#survey-form").wait_for()


async def test_a_member_answers_in_german_and_the_answer_carries_no_language(page, live_server, db):
    wave = await arrange(live_server, db, "servqual")
    await open_survey(page, wave)
    picker = page.get_by_label("Language of the questions")
    assert await picker.input_value() == "en"  # the page is English: the instrument's English
    assert [await o.get_attribute("value") for o in await picker.locator("option").all()] == ["en", "de"]
    # Answer the first part in English, then switch: the answers stay, the words change.
    await fill_visible_part(page, 6)
    await picker.select_option("de")
    first = page.locator("section.part:not([hidden])")
    assert await first.locator("h2").inner_text() == GERMAN.dimensions[0].title
    assert GERMAN.items[0].statements["perception"] in await first.inner_text()
    assert await first.locator("input[type=radio]:checked").count() == 8
    assert await page.locator("#survey-form").get_attribute("lang") == "de"
    await screenshot(page, "survey-german")
    await page.locator("#next").click()
    while await page.locator("#next").is_visible():
        await fill_visible_part(page)
        await page.locator("#next").click()
    async with page.expect_request(re.compile(r"/anon/campaigns/.*/responses$")) as sent:
        await page.locator("#submit").click()
    body = (await sent.value).post_data_json
    assert set(body) == {"items", "importance", "satisfaction"}  # no language, by construction
    assert body["items"]["q01"] == {"expectation": 6, "perception": 6}
    await page.locator("#receipt-code").wait_for()
    row = await db.fetchrow("select * from responses where campaign_id = $1", wave["id"])
    assert row is not None and "de" not in str(row["comments"])


async def test_the_page_language_picks_the_questions_language(page, live_server, db):
    wave = await arrange(live_server, db, "servperf")
    await sign_in(page, "member")
    await page.goto(f"/language?lang=de&back=/surveys/{wave['id']}")
    await page.locator("#survey-form").wait_for()
    assert await page.locator("#survey-language").input_value() == "de"
    servperf_de = load_builtin("servperf").localized("de")
    assert servperf_de.items[0].statements["perception"] in await page.locator("section.part:not([hidden])").inner_text()


async def test_a_half_answered_survey_survives_a_reload_and_is_gone_after_submit(page, live_server, db):
    wave = await arrange(live_server, db, "servqual")
    requests: list[tuple[str, str, str | None]] = []
    page.on("request", lambda r: requests.append((r.method, r.url, r.post_data)))
    await open_survey(page, wave)
    await fill_visible_part(page, 3)
    await page.locator("#next").click()
    await fill_visible_part(page, 4)
    await page.get_by_label("Language of the questions").select_option("de")
    draft = await page.evaluate(READ_DRAFT, wave["id"])
    assert draft["lang"] == "de" and draft["part"] == 1
    assert draft["values"]["items.q01.expectation"] == "3" and draft["values"]["items.q05.perception"] == "4"

    await page.reload()
    await page.locator("#survey-form").wait_for()
    # Back where it was left: the same part, the same language, the answers filled in.
    assert await page.locator("#survey-language").input_value() == "de"
    visible = page.locator("section.part:not([hidden])")
    assert await visible.locator("h2").inner_text() == GERMAN.dimensions[1].title
    assert await visible.locator('input[name="items.q05.perception"]:checked').get_attribute("value") == "4"
    assert await page.locator('input[name="items.q01.expectation"]:checked').get_attribute("value") == "3"
    await screenshot(page, "survey-resumed")

    # Nothing of the answers left the page before Submit: no request carried a body but
    # the token request, and none went to the anonymous endpoint.
    assert not [url for _, url, _ in requests if "/anon/" in url]
    posted = [(url, data) for method, url, data in requests if method != "GET"]
    assert all(url.endswith(("/login", "/token-requests")) for url, _ in posted), posted
    assert not [url for url, data in posted if data and "items." in data]

    while await page.locator("#next").is_visible():
        await fill_visible_part(page)
        await page.locator("#next").click()
    async with page.expect_request(re.compile(r"/anon/campaigns/.*/responses$")) as sent:
        await page.locator("#submit").click()
    answers = (await sent.value).post_data_json
    assert answers["items"]["q01"] == {"expectation": 3, "perception": 3}
    await page.locator("#receipt-code").wait_for()
    assert await page.evaluate(READ_DRAFT, wave["id"]) is None


async def test_signing_out_deletes_the_drafts(page, live_server, db):
    wave = await arrange(live_server, db, "pulse")
    await open_survey(page, wave)
    await fill_visible_part(page, 2)
    await page.wait_for_function(
        f"({READ_DRAFT})('{wave['id']}').then((d) => d !== null && Object.keys(d.values).length > 0)")
    # The form is sent only after the drafts are deleted: wait for the signed-out page itself.
    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url(re.compile(r"/login$"))
    await page.wait_for_load_state()
    assert await page.evaluate(READ_DRAFT, wave["id"]) is None


async def test_the_report_in_german(page, db):
    await init_connection(db)
    service_id = await make_service(db, name="Service Desk DE")
    group_id = await make_audience(db, size=7, name="Alle")
    manager = await db.fetchval("select id from accounts where email = $1", role_email("manager"))
    today = date.today()
    wave = await open_wave(
        db, TEST_SETTINGS, title="Herbstumfrage", description="", service_id=service_id,
        instrument_hash=instrument_hash(SERVQUAL), audience_group_id=group_id, opens_on=today - timedelta(days=9),
        closes_on=today - timedelta(days=1), k_scores=5, k_comments=10, created_by=manager,
    )
    await store_synthetic_responses(db, wave, SERVQUAL, synthetic_answers(SERVQUAL, 40))
    async with db.transaction():
        await close_campaign(db, campaign_id=wave)

    await sign_in(page, "manager")
    german = {i.statements["perception"] for i in GERMAN.items} | {d.title for d in GERMAN.dimensions}
    english = {i.statements["perception"] for i in SERVQUAL.items}
    api = await page.request.get(f"/api/campaigns/{wave}/report?lang=de")
    report = await api.json()
    assert {r["wording"] for r in report["items"]} <= german
    # The page in German shows the report in German: the focus areas in the words German respondents read.
    await page.goto(f"/language?lang=de&back=/waves/{wave}")
    await page.locator("#summary-focus li").first.wait_for()
    focus = page.locator("#summary-focus li")
    texts = [await focus.nth(i).inner_text() for i in range(await focus.count())]
    assert texts and all(any(s in t for s in german) for t in texts)
    assert not any(s in t for t in texts for s in english)
    await screenshot(page, "report-german")
