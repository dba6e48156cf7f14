"""A member signs in through the organisation's OpenID provider in a real browser.

``oidc-provider-mock`` serves its own authorization page on 127.0.0.1; Chromium clicks
Candor's "Sign in with …" button, fills the provider's form, comes back through the
callback to the home page, whose module fetches the member's wave token at once.
Requests may reach Candor and the provider, nothing else (the provider page's CDN
stylesheet is refused).
"""

from __future__ import annotations

import httpx
import pytest

from tests.browser.conftest import READ_TOKEN, Recorder, screenshot
from tests.integration.oidc_helpers import mock_provider, oidc_settings, serve_app, set_mock_user
from tests.integration.wave_helpers import create_wave
from tests.support import role_email

pytestmark = pytest.mark.browser



async def test_member_signs_in_through_the_provider_and_gets_a_wave_token(browser, settings, db):
    with mock_provider(require_nonce=True) as idp, serve_app(oidc_settings(settings, idp)) as app:
        async with httpx.AsyncClient(base_url=app, timeout=30) as manager:
            wave = await create_wave(manager, db, title="Sign-in wave")
        # The provider vouches for member@'s address: the first sign-in links the account.
        await set_mock_user(idp, "member-at-idp", {"email": role_email("member"), "email_verified": True,
                                                   "name": "Member"})
        context = await browser.new_context(base_url=app)
        recorder = Recorder(origin=app)
        allowed = (app + "/", idp + "/")

        async def route(route):
            recorder.requests.append(route.request.url)
            if route.request.url.startswith(allowed) or route.request.url.startswith("data:"):
                await route.continue_()
            else:
                await route.abort()

        await context.route("**/*", route)
        page = await context.new_page()
        page.set_default_timeout(15_000)
        page.on("console", lambda msg: recorder.console.append((msg.type, msg.text)))

        await page.goto("/login")
        button = page.get_by_role("link", name="Sign in with Test IdP")
        await button.click()
        await page.wait_for_url(f"{idp}/oauth2/authorize**")
        await page.get_by_placeholder("sub").fill("member-at-idp")
        await page.get_by_role("button", name="Authorize").click()
        await page.wait_for_url(f"{app}/")
        assert "Signed in as Member" in await page.locator(".who").inner_text()
        ready = "async (id) => { const t = await (" + READ_TOKEN + ")(id); return t && t.state === 'ready'; }"
        await page.wait_for_function(ready, arg=wave["id"], polling=200)
        await screenshot(page, "oidc-signed-in")
        cookies = {c["name"]: c for c in await context.cookies(app)}
        assert cookies["candor_session"]["httpOnly"] and "candor_oidc_flow" not in cookies
        assert await db.fetchval("select oidc_subject from accounts where email = $1",
                                 role_email("member")) == "member-at-idp"
        # Signing out ends the session and sends the browser to the provider's logout
        # (RP-initiated), which returns it to Candor's sign-in page.
        await page.get_by_role("button", name="Sign out").click()
        await page.wait_for_url(f"{idp}/oauth2/end_session**")
        assert await db.fetchval("select count(*) from sessions s join accounts a on a.id = s.account_id "
                                 "where a.email = $1", role_email("member")) == 0
        await page.locator("form button[type=submit]").first.click()
        await page.wait_for_url(f"{app}/login")
        assert await page.get_by_role("link", name="Sign in with Test IdP").is_visible()
        assert not recorder.csp_violations()
        outside = [u for u in recorder.requests if not u.startswith(allowed)]
        assert all("cdn.jsdelivr.net" in u for u in outside), outside
        await context.close()
