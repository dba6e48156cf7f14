"""Mail in the browser: a member switches reminders off on the home page; an admin reads
the development mailbox, its HTML part shown inert, without breaking the page's CSP."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from service import mail
from tests.browser.conftest import screenshot, sign_in
from tests.support import role_email

pytestmark = pytest.mark.browser


def clean(page) -> None:
    recorder = page.context.recorder
    assert not recorder.foreign(), recorder.foreign()
    assert not recorder.csp_violations(), recorder.csp_violations()
    assert not recorder.page_errors, recorder.page_errors


async def test_a_member_switches_reminders_off_and_on(page, db):
    await sign_in(page, "member")
    await page.wait_for_url(re.compile(r"/$"))
    box = page.get_by_label("E-mail me reminders")
    await expect(box).to_be_enabled()
    assert await box.is_checked()
    await box.uncheck()
    await page.get_by_text("Reminders off.").wait_for()
    account = await db.fetchval("select id from accounts where email = $1", role_email("member"))
    assert await db.fetchval("select count(*) from mail_reminder_opt_outs where account_id = $1", account) == 1
    await page.reload()
    await expect(page.get_by_label("E-mail me reminders")).to_be_enabled()
    assert not await page.get_by_label("E-mail me reminders").is_checked()
    await page.get_by_label("E-mail me reminders").check()
    await page.get_by_text("Reminders on.").wait_for()
    assert await db.fetchval("select count(*) from mail_reminder_opt_outs") == 0
    clean(page)


async def test_the_admin_reads_the_development_mailbox(page, db):
    text, html = mail.render("Survey open: Pulse", ["Hello <Member>,", mail.Link("http://127.0.0.1/surveys/x")])
    await db.execute(
        """insert into mail_outbox (recipient, kind, subject, text_body, html_body, state)
           values ('m1@test.example', 'invitation', 'Survey open: Pulse', $1, $2, 'held')""", text, html)
    await sign_in(page, "admin")
    await page.goto("/admin/mailbox")
    assert "Development mailbox" in await page.locator("#mail-delivery").inner_text()
    card = page.locator("#outbox li").first
    assert "To m1@test.example" in await card.inner_text()
    await card.get_by_text("Text part").click()
    assert "Hello <Member>," in await card.locator("pre.mail-text").inner_text()
    await card.get_by_text("HTML part").click()
    frame = page.frame_locator("iframe.mail-html")
    assert await frame.get_by_text("Hello <Member>,").inner_text() == "Hello <Member>,"
    await screenshot(page, "admin-mailbox")
    clean(page)
