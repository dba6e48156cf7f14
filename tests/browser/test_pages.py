"""The pages in a real browser: sign-in and out, home per role, privacy, keyboard use,
same-origin only, and a Content Security Policy that refuses nothing the pages do."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import new_context, new_page, screenshot, sign_in
from tests.support import PASSWORD, ROLES, role_email

pytestmark = pytest.mark.browser

HOME_CARDS = {
    "member": "Open surveys",
    "manager": "Survey waves and reports",
    "owner": "Your services",
    "admin": "Accounts, groups and services",
    "moderator": "Moderation queue",
}


def clean(page) -> None:
    recorder = page.context.recorder
    assert not recorder.foreign(), recorder.foreign()
    assert not recorder.csp_violations(), recorder.csp_violations()
    assert not recorder.page_errors, recorder.page_errors


async def test_sign_in_and_out(page):
    await page.goto("/")
    assert page.url.endswith("/login"), "a visitor who is not signed in is sent to the sign-in page"
    await screenshot(page, "login")
    await sign_in(page, "member")
    await page.wait_for_url(re.compile(r"/$"))
    assert await page.get_by_role("heading", level=1).inner_text() == "Hello, Member"
    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url(re.compile(r"/login$"))
    await page.goto("/")
    assert page.url.endswith("/login"), "after signing out, the session is gone"
    clean(page)


async def test_wrong_password_and_throttling_are_explained(page):
    for _ in range(3):
        await sign_in(page, "manager", password="not the password")
        assert "email or the password is wrong" in await page.get_by_role("alert").inner_text()
    email = page.get_by_label("Email address")
    assert await email.get_attribute("aria-invalid") == "true"
    assert await email.get_attribute("aria-describedby") == "login-error"
    assert await email.input_value() == role_email("manager")
    await screenshot(page, "login-error")
    await sign_in(page, "manager")  # the right password, but after too many failures
    assert "Too many failed attempts" in await page.get_by_role("alert").inner_text()
    assert page.url.endswith("/login")
    clean(page)


@pytest.mark.parametrize("role", ROLES)
async def test_home_shows_each_role_what_it_can_do(page, role):
    await sign_in(page, role)
    await page.wait_for_url(re.compile(r"/$"))
    assert await page.locator(".cards > .card h2").all_inner_texts() == [HOME_CARDS[role]]
    nav = await page.get_by_role("navigation", name="Main").inner_text()
    assert ("Open surveys" in nav) == (role == "member")
    assert ("Survey waves" in nav) == (role in ("manager", "owner", "admin"))
    if role == "member":
        await page.get_by_text("No survey is open for you right now").wait_for()
    await screenshot(page, f"home-{role}")
    clean(page)


async def test_privacy_page_is_public_and_plain(page):
    await page.goto("/privacy")
    text = (await page.get_by_role("main").inner_text()).lower()
    for words in ("a random id", "no date and no time", "spent token", "blind-signed",
                  "free text can identify you", "very small audiences", "live observer",
                  "random delay", "at least k"):
        assert words in text, words
    await page.locator("#wave-keys").get_by_text("Sign in to see the waves").wait_for()
    await screenshot(page, "privacy")
    await sign_in(page, "member")
    await page.goto("/privacy")
    await page.locator("#wave-keys").get_by_text("No waves yet").wait_for()
    clean(page)


async def test_keyboard_only_sign_in(page):
    await page.goto("/login")
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.textContent") == "Skip to main content"
    await page.keyboard.press("Enter")
    assert await page.evaluate("document.activeElement.id") == "main"
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.id") == "email"
    await page.keyboard.type(role_email("member"))
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.id") == "password"
    await page.keyboard.type(PASSWORD)
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r"/$"))
    assert "Hello, Member" in await page.get_by_role("heading", level=1).inner_text()
    clean(page)


async def test_pages_fit_a_phone(browser, live_server):
    context = await new_context(browser, live_server, viewport={"width": 360, "height": 740}, is_mobile=True)
    try:
        page = await new_page(context)
        for path in ("/login", "/privacy"):
            await page.goto(path)
            overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{path} scrolls sideways on a phone"
        await screenshot(page, "privacy-phone")
        clean(page)
    finally:
        await context.close()
