"""A member answers survey waves in the browser: token at sign-in, the form for any
instrument, an anonymous cookie-less submission, a receipt, and clear refusals."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.browser.conftest import READ_TOKEN, screenshot, sign_in
from tests.integration.wave_helpers import create_wave

pytestmark = pytest.mark.browser

WRITE_TOKEN = """async (record) => {
  const db = await new Promise((ok, no) => { const r = indexedDB.open("candor"); r.onsuccess = () => ok(r.result); r.onerror = no; });
  await new Promise((ok) => { const tx = db.transaction("tokens", "readwrite"); tx.objectStore("tokens").put(record); tx.oncomplete = ok; });
  db.close();
}"""


async def arrange(live_server: str, db, instrument: str) -> dict:
    async with httpx.AsyncClient(base_url=live_server) as client:
        return await create_wave(client, db, instrument=instrument, title=f"Wave {instrument}")


async def open_survey(page, wave) -> None:
    await sign_in(page, "member")
    await page.goto("/surveys")
    await page.get_by_role("link", name=f"Answer “{wave['title']}”").click()
    await page.locator("#survey-form").wait_for()


async def fill_visible_part(page, value: int = 5) -> None:
    part = page.locator("section.part:not([hidden])")
    for fieldset in await part.locator("fieldset.scale[data-field]").all():
        if await fieldset.get_attribute("data-field") == "importance":
            continue
        await fieldset.locator("label").filter(has=page.locator(f'input[value="{value}"]')).click()
    inputs = await part.locator('input[type="number"]').all()
    for i, number in enumerate(inputs):
        share, rest = divmod(100, len(inputs))
        await number.fill(str(share + (rest if i == 0 else 0)))


async def tab_to(page, condition: str, limit: int = 40) -> None:
    for _ in range(limit):
        await page.keyboard.press("Tab")
        if await page.evaluate(condition):
            return
    raise AssertionError(f"Tab never reached: {condition}")


async def answer_everything(page) -> None:
    while await page.locator("#next").is_visible():
        await fill_visible_part(page)
        await page.locator("#next").click()


async def test_member_answers_servqual_and_gets_a_receipt(page, live_server, db):
    wave = await arrange(live_server, db, "servqual")
    await open_survey(page, wave)
    stored = await page.evaluate(READ_TOKEN, wave["id"])
    assert stored["state"] == "ready" and stored["keyId"] == wave["token_key_id"]
    await screenshot(page, "survey-servqual")
    assert (await page.locator("#progress-text").inner_text()).startswith("Part 1 of 8: Tangibles")
    # Next without answers: the summary names what is missing, and the fields say so too.
    await page.locator("#next").click()
    summary = page.locator("#error-summary")
    assert "8 answers need attention" in await summary.inner_text()
    assert await page.evaluate("document.activeElement.id") == "error-summary"
    await screenshot(page, "survey-errors")
    remaining = page.locator("#remaining")
    while not await remaining.is_visible():
        await fill_visible_part(page)
        await page.locator("#next").click()
    # The allocation shows a live remaining total, and refuses a sum other than 100.
    assert await remaining.inner_text() == "Points left to give: 100 of 100"
    await page.get_by_role("spinbutton", name=re.compile("^Reliability")).fill("30")
    assert await remaining.inner_text() == "Points left to give: 70 of 100"
    await page.get_by_role("spinbutton", name=re.compile("^Tangibles")).fill("80")
    assert await remaining.inner_text() == "Too many points: 10 over 100"
    await page.locator("#next").click()
    assert "they must add up to exactly 100" in await summary.inner_text()
    await screenshot(page, "survey-allocation")
    await answer_everything(page)
    notice = await page.locator("#who-sees-what").inner_text()
    assert "at least 5 people" in notice and "at least 10 people" in notice
    await screenshot(page, "survey-review")
    async with page.expect_request(re.compile(r"/anon/campaigns/.*/responses$")) as sent:
        await page.get_by_role("button", name="Submit anonymously").click()
    request = await sent.value
    headers = await request.all_headers()
    assert "cookie" not in headers, "the anonymous submission must not carry the session cookie"
    assert headers["authorization"].startswith("PrivateToken token=")
    assert "referer" not in headers
    body = request.post_data_json
    assert set(body) == {"items", "importance", "satisfaction"}
    assert body["items"]["q07"] == {"expectation": 5, "perception": 5}
    assert sum(body["importance"].values()) == 100
    receipt = page.locator("#receipt-code")
    await receipt.wait_for()
    code = await receipt.inner_text()
    assert re.fullmatch(r"[0-9a-f]{16,}", code)
    await screenshot(page, "survey-receipt")
    # The receipt page checks the server's copy against what this browser sent.
    await page.goto("/receipts")
    card = page.locator(f'[data-receipt="{code}"]')
    await card.get_by_role("button", name="Check against the server").click()
    await card.get_by_text("Matches: the server stored exactly what you sent").wait_for()
    await screenshot(page, "receipts")
    # A second attempt from this browser is refused before anything is sent.
    await page.goto(f"/surveys/{wave['id']}")
    await page.get_by_text("You have already answered this survey").wait_for()
    recorder = page.context.recorder
    assert not recorder.foreign() and not recorder.csp_violations() and not recorder.page_errors


async def test_spent_token_is_refused_with_a_clear_message(page, live_server, db):
    wave = await arrange(live_server, db, "pulse")
    await open_survey(page, wave)
    token = await page.evaluate(READ_TOKEN, wave["id"])
    await answer_everything(page)
    await page.get_by_role("button", name="Submit anonymously").click()
    await page.locator("#receipt-code").wait_for()
    # Put the spent token back, as a copied or replayed token would be, and answer again.
    await page.evaluate(WRITE_TOKEN, token)
    await page.goto(f"/surveys/{wave['id']}")
    await page.locator("#survey-form").wait_for()
    await answer_everything(page)
    async with page.expect_response(re.compile(r"/anon/campaigns/.*/responses$")) as answered:
        await page.get_by_role("button", name="Submit anonymously").click()
    assert (await answered.value).status == 409
    alert = page.get_by_role("alert")
    assert "already answered with your token" in await alert.inner_text()
    await screenshot(page, "survey-spent")


async def test_network_failure_keeps_the_answers_and_the_token(page, live_server, db):
    wave = await arrange(live_server, db, "pulse")
    await open_survey(page, wave)
    await answer_everything(page)
    await page.route(re.compile(r"/anon/campaigns/.*/responses$"), lambda route: route.abort())
    await page.get_by_role("button", name="Submit anonymously").click()
    alert = page.get_by_role("alert")
    await alert.wait_for()
    assert "Your answers are still here and your token was not used" in await alert.inner_text()
    assert (await page.evaluate(READ_TOKEN, wave["id"]))["state"] == "ready"
    await page.unroute(re.compile(r"/anon/campaigns/.*/responses$"))
    await page.get_by_role("button", name="Submit anonymously").click()
    await page.locator("#receipt-code").wait_for()


async def test_a_changed_key_id_is_refused(page, live_server, db):
    wave = await arrange(live_server, db, "pulse")
    await open_survey(page, wave)
    token = await page.evaluate(READ_TOKEN, wave["id"])
    # As if the token had been issued under another key than the one the wave publishes.
    await page.evaluate(WRITE_TOKEN, {**token, "keyId": "00" * 32})
    await page.reload()
    await page.locator("#survey-form").wait_for()
    await answer_everything(page)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    await page.get_by_role("button", name="Submit anonymously").click()
    alert = page.get_by_role("alert")
    await alert.wait_for()
    assert "published key id differs" in await alert.inner_text()
    assert not [url for url in requests if "/anon/" in url], "nothing may be sent under a mismatched key"


async def test_keyboard_only_completion(page, live_server, db):
    wave = await arrange(live_server, db, "pulse")
    await open_survey(page, wave)
    # Part 1..5: one statement each. Tab into the radio group, arrow to a value, Tab to Next.
    for _ in range(5):
        await tab_to(page, "document.activeElement.type === 'radio'")
        for _ in range(3):
            await page.keyboard.press("ArrowRight")
        await tab_to(page, "document.activeElement.id === 'next'")
        await page.keyboard.press("Enter")
        assert await page.evaluate("document.activeElement.tagName") == "H2", "focus moves to the next part"
    # Overall + comment part: skip the optional questions, then on to the review.
    await tab_to(page, "document.activeElement.id === 'next'")
    await page.keyboard.press("Enter")
    await tab_to(page, "document.activeElement.id === 'submit'")
    await page.keyboard.press("Enter")
    await page.locator("#receipt-code").wait_for()
    assert await page.evaluate("document.activeElement.id") == "receipt"
