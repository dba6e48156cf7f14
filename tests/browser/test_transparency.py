"""A member's browser checks the key transparency log before it blinds (issue 15).

Happy path: signing in gets the wave's token, and the browser keeps the log key and the
tree head it verified. Attacks, made with Playwright routes standing in for a dishonest
server: one member is served a wave key of their own (consistently, in the wave list and
at the key endpoint), and a browser that saw the real log is shown a forked one, signed
with the real log key. Each time the browser sends no token request and tells the member
not to answer and whom to tell.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from datetime import date

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from crypto.keys import spki_from_public_key
from crypto.transparency import canonical_json, leaf_hash, merkle_root, sign_tree_head
from service import transparency
from tests.browser.conftest import READ_TOKEN, idb_reader, new_context, new_page, sign_in
from tests.integration.wave_helpers import MEMBERS, create_wave
from tests.support import PASSWORD

pytestmark = pytest.mark.browser

READ_LOG = "() => (" + idb_reader("candor-log", "state") + ")('candor')"


async def open_wave(live_server: str, db, title: str) -> dict:
    async with httpx.AsyncClient(base_url=live_server) as client:
        return await create_wave(client, db, title=title)


async def log_json(live_server: str, path: str) -> dict:
    async with httpx.AsyncClient(base_url=live_server) as client:
        response = await client.get(f"/api/transparency/{path}")
        assert response.status_code == 200, response.text
        return response.json()


def token_posts(page) -> list[str]:
    """Every token request the page sends, recorded as it happens."""
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" and "token-requests" in r.url else None)
    return posts


async def sign_in_as(page, email: str) -> None:
    await page.goto("/login")
    await page.get_by_label("Email address").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_load_state()


async def surveys_card(page, wave: dict) -> str:
    await page.goto("/surveys")
    card = page.locator(f'li.card[data-campaign-id="{wave["id"]}"]')
    await card.wait_for()
    await page.wait_for_function("!document.querySelector('#surveys').textContent.includes('Loading')")
    return await card.inner_text()


def assert_clean(page) -> None:
    recorder = page.context.recorder
    assert not recorder.foreign() and not recorder.csp_violations() and not recorder.page_errors, recorder.page_errors


async def test_a_member_gets_a_token_and_keeps_the_verified_head(page, live_server, db):
    wave = await open_wave(live_server, db, "Logged wave")
    checked: list[dict] = []
    page.on("request", lambda r: checked.append({"url": r.url, "headers": r.headers})
            if "/api/transparency/" in r.url else None)
    await sign_in(page, "member")
    # The home page fetches this month's thread tokens: their key is checked the same way.
    await page.get_by_text(re.compile(r"This browser holds [1-9]\d* thread tokens?")).wait_for()
    async with httpx.AsyncClient(base_url=live_server) as client:
        thread_key = (await client.get("/api/threads/token-key")).json()
    assert any(f"inclusion?token_key_id={thread_key['token-key-id']}" in c["url"] for c in checked)
    assert "Ready" in await surveys_card(page, wave)
    token = await page.evaluate(READ_TOKEN, wave["id"])
    assert token["state"] == "ready" and token["keyId"] == wave["token_key_id"]
    kept = await page.evaluate(READ_LOG)
    assert kept is not None, "the verified head is kept in IndexedDB"
    assert kept["publicKey"] == (await log_json(live_server, "log-key"))["public_key"]
    head = await log_json(live_server, "tree-head")
    assert kept["head"]["tree_size"] >= 1
    assert kept["head"] == head or kept["head"]["tree_size"] < head["tree_size"]
    # The page shows it as the monitor prints it, for the member to compare with what is published.
    shown = await page.locator("#log-head").inner_text()
    assert f"tree_size={kept['head']['tree_size']} root_hash={kept['head']['root_hash']}" in shown
    # The inclusion proof asked for was this wave's key, and no log request carried a cookie.
    assert any(f"token_key_id={wave['token_key_id']}" in c["url"] for c in checked)
    assert all("cookie" not in c["headers"] for c in checked)
    assert not await page.locator("#log-alarm").count()
    assert_clean(page)


async def test_a_member_served_a_key_of_their_own_refuses_to_blind(browser, live_server, db):
    wave = await open_wave(live_server, db, "Targeted wave")
    # The dishonest server's key for one member: a real RSASSA-PSS key, published as the
    # server publishes its own, so that only the log can tell it apart.
    spki = spki_from_public_key(rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key())
    fake_id = hashlib.sha256(spki).hexdigest()

    async def wave_list(route):
        response = await route.fetch()
        waves = await response.json()
        for w in waves:
            if w["id"] == wave["id"]:
                w["token_key_id"] = fake_id
        await route.fulfill(response=response, body=json.dumps(waves))

    async def token_key(route):
        response = await route.fetch()
        key = await response.json()
        key.update({"token-key": base64.urlsafe_b64encode(spki).decode(), "token-key-id": fake_id})
        await route.fulfill(response=response, body=json.dumps(key))

    targeted = await new_context(browser, live_server)
    page = await new_page(targeted)
    await page.route(re.compile(r"/api/campaigns$"), wave_list)
    await page.route(f"**/api/campaigns/{wave['id']}/token-key", token_key)
    posts = token_posts(page)
    await sign_in(page, "member")
    await page.locator("#log-alarm").wait_for()  # the home page says so at once
    card = await surveys_card(page, wave)
    assert "Stopped: the public key log does not confirm this wave's key" in card
    alarm = page.locator("#log-alarm")
    text = await alarm.inner_text()
    assert "do not answer" in text.lower() and "works council or the data-protection officer" in text
    assert "not-in-log" in text
    assert await alarm.get_by_role("link", name="see the privacy page").get_attribute("href") == "/privacy#key-log-check"
    assert not [url for url in posts if wave["id"] in url], "no token request was sent for the targeted wave"
    assert await page.evaluate(READ_TOKEN, wave["id"]) is None
    # The survey page itself refuses too.
    await page.goto(f"/surveys/{wave['id']}")
    await page.locator("#log-alarm").wait_for()
    assert not await page.locator("#survey-form").count()
    assert not [url for url in posts if wave["id"] in url]
    assert_clean(page)

    # Another member, served honestly, gets the token.
    honest = await new_context(browser, live_server)
    other = await new_page(honest)
    await sign_in_as(other, MEMBERS[0])
    assert "Ready" in await surveys_card(other, wave)
    assert not await other.locator("#log-alarm").count()


async def test_a_forked_log_is_refused_by_a_browser_that_saw_the_real_one(page, live_server, db, settings):
    first = await open_wave(live_server, db, "First wave")
    posts = token_posts(page)
    await sign_in(page, "member")
    assert "Ready" in await surveys_card(page, first)
    seen = await page.evaluate(READ_LOG)
    assert seen is not None

    second = await open_wave(live_server, db, "Second wave")
    # A fork of the real log, signed with the real log key: its first entry (the key this
    # browser already checked, or any before) swapped for another.
    head = await log_json(live_server, "tree-head")
    entries = (await log_json(live_server, f"entries?start=0&end={head['tree_size']}"))["entries"]
    entries[0] = {**entries[0], "token_key": base64.urlsafe_b64encode(b"another key").decode().rstrip("=")}
    root = merkle_root([leaf_hash(canonical_json(e)) for e in entries])
    log_key = await transparency.log_key(db, settings.key_encryption_key)
    forked = sign_tree_head(log_key, len(entries), root, date.today()).to_json()

    async def fork(route):
        await route.fulfill(json=forked)

    await page.route("**/api/transparency/tree-head", fork)
    card = await surveys_card(page, second)
    assert "Stopped: the public key log does not confirm this wave's key" in card
    assert "forked" in await page.locator("#log-alarm").inner_text()
    assert not [url for url in posts if second["id"] in url], "no token request for the wave under the forked log"
    assert await page.evaluate(READ_TOKEN, second["id"]) is None
    assert await page.evaluate(READ_LOG) == seen, "the forked head was not kept"
    # The first wave's token, checked against the real log, is still there to answer with.
    assert (await page.evaluate(READ_TOKEN, first["id"]))["state"] == "ready"

    # Served the real log again, the browser accepts it (it extends the head it kept).
    await page.unroute("**/api/transparency/tree-head", fork)
    assert "Ready" in await surveys_card(page, second)
    assert (await page.evaluate(READ_LOG))["head"]["tree_size"] >= seen["head"]["tree_size"]
    assert_clean(page)


async def test_a_month_key_of_their_own_gets_no_thread_tokens(page, live_server):
    spki = spki_from_public_key(rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key())
    fake_id = hashlib.sha256(spki).hexdigest()

    async def rewrite(route, changes):
        response = await route.fetch()
        body = {**await response.json(), **changes}
        await route.fulfill(response=response, body=json.dumps(body))

    await page.route("**/api/threads/allowance", lambda r: rewrite(r, {"token_key_id": fake_id}))
    await page.route("**/api/threads/token-key", lambda r: rewrite(
        r, {"token-key": base64.urlsafe_b64encode(spki).decode(), "token-key-id": fake_id}))
    posts = token_posts(page)
    await sign_in(page, "member")
    assert "not-in-log" in await page.locator("#log-alarm").inner_text()
    await page.goto("/threads/new")
    alarm = page.locator("#log-alarm")
    await alarm.wait_for()
    assert "works council or the data-protection officer" in await alarm.inner_text()
    assert not [url for url in posts if "/api/threads/token-requests" in url], "no thread token was asked for"
    assert_clean(page)
