"""Feedback threads in a real browser: a member opens a thread anonymously (after the
identifying-details warning), the owner answers, the author reads and replies with the
secret on another browser profile, a moderator hides a message and publishes the
thread, and it appears on the public board."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import new_context, new_page, screenshot, sign_in
from tests.integration.wave_helpers import make_service

pytestmark = pytest.mark.browser


def clean(page) -> None:
    recorder = page.context.recorder
    assert not recorder.foreign(), recorder.foreign()
    assert not recorder.csp_violations(), recorder.csp_violations()
    assert not recorder.page_errors, recorder.page_errors


async def _open_thread(page, title: str, body: str) -> str:
    await page.goto("/threads/new")
    await page.get_by_text(re.compile(r"holds [1-9]\d* unused thread tokens?")).wait_for()
    await page.get_by_label("Service").select_option(label="Service Desk")
    await page.get_by_label("Kind of feedback").select_option("problem")
    await page.get_by_label("Title").fill(title)
    await page.get_by_label("Your message").fill(body)
    await page.get_by_role("button", name="Send anonymously").click()
    await page.locator("#thread-secret").wait_for()
    return (await page.locator("#thread-secret").inner_text()).strip()


async def test_thread_from_opening_to_the_public_board(browser, live_server, db):
    await make_service(db)
    member_ctx = await new_context(browser, live_server)
    member = await new_page(member_ctx)
    await sign_in(member, "member")
    # Tokens arrive at sign-in, before anyone writes anything.
    await member.get_by_text(re.compile(r"holds 10 thread tokens")).wait_for()
    assert await db.fetchval("select issued from thread_token_issuances") == 10

    await member.goto("/threads/new")
    await member.get_by_text(re.compile(r"holds 10 unused thread tokens")).wait_for()
    await member.get_by_label("Service").select_option(label="Service Desk")
    await member.get_by_label("Title").fill("VPN drops every hour")
    await member.get_by_label("Your message").fill(
        "Since 12 March the VPN drops. Call me on +44 20 7946 0958 or mail jane.doe@example.org. Employee E-12345.")
    await member.get_by_role("button", name="Send anonymously").click()
    alert = member.get_by_role("alert").filter(has_text="This may identify you")
    await alert.wait_for()
    text = await alert.inner_text()
    for kind in ("e-mail address: “jane.doe@example.org”", "phone number", "date", "employee or staff number"):
        assert kind in text, (kind, text)
    await screenshot(member, "thread-identify-warning")
    assert not [u for u in member_ctx.recorder.requests if "/anon/threads" in u], "nothing left before the choice"
    # Edit the details out, and send.
    await member.get_by_label("Your message").fill("The VPN drops every hour, since last month.")
    async with member.expect_request(re.compile(r"/anon/threads$")) as sent:
        await member.get_by_role("button", name="Send anonymously").click()
    headers = await (await sent.value).all_headers()
    assert "cookie" not in headers and headers["authorization"].startswith("PrivateToken ")
    secret_box = member.locator("#thread-secret")
    await secret_box.wait_for()
    secret = (await secret_box.inner_text()).strip()
    assert len(secret.split()) == 12
    await screenshot(member, "thread-opened")

    # The owner answers from the inbox.
    owner_ctx = await new_context(browser, live_server)
    owner = await new_page(owner_ctx)
    await sign_in(owner, "owner")
    await owner.goto("/threads/inbox")
    await owner.get_by_role("link", name="VPN drops every hour").click()
    await owner.get_by_label("Your answer (signed with your name)").fill("We are replacing the VPN gateway on Friday.")
    await owner.get_by_role("button", name="Send answer").click()
    await owner.get_by_text("We are replacing the VPN gateway on Friday.").wait_for()
    await owner.get_by_role("button", name="Mark answered").click()
    await owner.get_by_text(re.compile("Answered")).first.wait_for()
    await owner.get_by_text("The author has read up to message #1.").wait_for()

    # The author, on another browser profile, with nothing but the secret.
    author_ctx = await new_context(browser, live_server)
    author = await new_page(author_ctx)
    await author.goto("/threads/follow")
    await author.get_by_label("Thread secret (twelve words)").fill(secret.upper().replace(" ", "-"))
    await author.get_by_role("button", name="Open thread").click()
    await author.get_by_text("We are replacing the VPN gateway on Friday.").wait_for()
    assert "Owner (service team)" in await author.locator("ol.messages").inner_text()
    await author.get_by_label("Your reply").fill("Thanks, that would help a lot.")
    await author.get_by_role("button", name="Send reply").click()
    await author.get_by_text("Thanks, that would help a lot.").wait_for()
    await author.get_by_label(re.compile("I agree that this thread may appear on the public board")).check()
    await author.get_by_text(re.compile("On the public board")).or_(author.locator("#consent:checked")).first.wait_for()
    await screenshot(author, "thread-author")
    anonymous = [u for u in author_ctx.recorder.requests if "/anon/" in u]
    # The secret travels in a header, never in an address.
    assert anonymous and not [u for u in author_ctx.recorder.requests if "-".join(secret.split()) in u.lower()
                              or "%20".join(secret.split()) in u.lower()]

    # The owner sees the read marker move and asks for publication.
    await owner.reload()
    await owner.get_by_text("The author has read every message.").wait_for()
    await owner.get_by_role("button", name="Ask to publish on the board").click()
    await owner.get_by_role("button", name="Send answer").wait_for()

    # A moderator hides nothing here but approves; the thread reaches the board.
    mod_ctx = await new_context(browser, live_server)
    moderator = await new_page(mod_ctx)
    await sign_in(moderator, "moderator")
    await moderator.goto("/moderation")
    await moderator.get_by_role("link", name="VPN drops every hour").click()
    await moderator.get_by_role("button", name="Approve for the board").click()
    await moderator.get_by_text("Approved for the public board.").wait_for()
    await screenshot(moderator, "thread-moderator")

    await member.goto("/board")
    await member.get_by_label("Search the board").fill("gateway")
    await member.get_by_role("button", name="Search").click()
    await member.get_by_role("link", name="VPN drops every hour").click()
    await member.get_by_text("We are replacing the VPN gateway on Friday.").wait_for()
    await screenshot(member, "thread-board")
    for page in (member, owner, author, moderator):
        clean(page)
    for ctx in (member_ctx, owner_ctx, author_ctx, mod_ctx):
        await ctx.close()


async def test_moderator_hides_a_message_and_the_author_sees_why(browser, live_server, db):
    await make_service(db)
    member_ctx = await new_context(browser, live_server)
    member = await new_page(member_ctx)
    await sign_in(member, "member")
    secret = await _open_thread(member, "Rude admin", "the admin is useless and lazy")
    mod_ctx = await new_context(browser, live_server)
    moderator = await new_page(mod_ctx)
    await sign_in(moderator, "moderator")
    await moderator.goto("/threads/inbox")
    await moderator.get_by_role("link", name="Rude admin").click()
    await moderator.get_by_label("Reason for hiding message #1 (the author sees it)").fill("Personal attack on staff")
    await moderator.get_by_role("button", name="Hide message #1").click()
    await moderator.get_by_text("Hidden by a moderator. Reason: Personal attack on staff").wait_for()
    await moderator.goto("/moderation")
    await moderator.get_by_role("cell", name="Personal attack on staff").wait_for()
    assert "Moderator" in await moderator.locator("#log").inner_text()

    # The author's own browser kept the thread: open it from the list.
    await member.goto("/threads/follow")
    await member.get_by_role("button", name="Open “Rude admin”").click()
    await member.get_by_text("Hidden by a moderator. Reason: Personal attack on staff").wait_for()
    assert "the admin is useless and lazy" in await member.locator("ol.messages").inner_text()
    assert secret
    await screenshot(member, "thread-hidden")
    for page in (member, moderator):
        clean(page)
    await member_ctx.close()
    await mod_ctx.close()


async def test_keyboard_only_thread_opening(page, db):
    await make_service(db)
    await sign_in(page, "member")
    await page.goto("/threads/new")
    await page.get_by_text(re.compile(r"holds [1-9]\d* unused thread tokens?")).wait_for()
    await page.get_by_label("Service").focus()
    await page.keyboard.press("ArrowDown")  # first service
    await page.keyboard.press("Tab")
    await page.keyboard.press("Tab")
    await page.keyboard.type("Wiki search finds nothing")
    await page.keyboard.press("Tab")
    await page.keyboard.type("Searching the wiki for printers returns an empty page.")
    await page.keyboard.press("Tab")
    await page.keyboard.press("Enter")
    await page.locator("#thread-secret").wait_for()
    assert await page.evaluate("document.activeElement.id") == "thread-opened"
    clean(page)


async def test_owner_sends_a_thread_to_the_service_desk_and_makes_an_action_item(browser, live_server, db):
    """The webhook goes to a receiver on 127.0.0.1 only; the app's own worker delivers it."""
    from playwright.async_api import expect

    from tests.integration.thread_helpers import Receiver

    await make_service(db)
    member_ctx = await new_context(browser, live_server)
    member = await new_page(member_ctx)
    await sign_in(member, "member")
    await _open_thread(member, "Laptop battery dies", "The battery lasts one hour.")
    owner_ctx = await new_context(browser, live_server)
    owner = await new_page(owner_ctx)
    await sign_in(owner, "owner")
    with Receiver([503]) as receiver:
        await owner.goto("/threads/inbox")
        await owner.get_by_label("Webhook address for Service Desk").fill(receiver.url)
        await owner.get_by_label("Shared signing secret for Service Desk (16 characters or more)").fill("desk secret 0123456789")
        await owner.get_by_role("button", name="Save webhook for Service Desk").click()
        await owner.get_by_text("Saved. The secret is stored encrypted").wait_for()
        await owner.get_by_role("link", name="Laptop battery dies").click()
        await owner.get_by_role("button", name="Send to the service desk").click()
        await owner.get_by_text("Queued for the service desk").wait_for()
        # The first attempt gets 503; the worker retries after the back-off (moved to now here).
        await owner.goto("/threads/inbox")
        # The log refreshes itself while a delivery is pending.
        log = owner.locator("#webhooks table")
        await expect(log).to_contain_text("HTTP 503", timeout=20_000)
        await db.execute("update webhook_deliveries set next_attempt_at = now()")
        await expect(log).to_contain_text("delivered", timeout=20_000)
    assert len(receiver.requests) == 2
    assert b"The battery lasts one hour." in receiver.requests[-1][1]
    await screenshot(owner, "thread-webhooks")
    # Turning the thread into an action item hands over to the action-item pages.
    await owner.goto("/threads/inbox")
    await owner.get_by_role("link", name="Laptop battery dies").click()
    await owner.get_by_role("button", name="Turn into an action item").click()
    await owner.wait_for_url(re.compile(r"/actions/[0-9a-f-]{36}$"))
    for page in (member, owner):
        clean(page)
    await member_ctx.close()
    await owner_ctx.close()
