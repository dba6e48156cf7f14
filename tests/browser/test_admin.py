"""An admin runs the organisation through the pages: creates an account, gives it roles,
deactivates another (after a confirmation), puts the new account in a group and makes it
a service's owner. Nothing leaves the origin and the Content Security Policy refuses
nothing; the pages fit a phone's width. Also: the wave report page links its exports."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from instruments import instrument_hash, load_builtin
from service.db import init_connection
from service.demo import open_wave, store_synthetic_responses, synthetic_answers
from service.queries.campaigns import close_campaign
from tests.browser.conftest import new_context, new_page, screenshot, sign_in
from tests.conftest import TEST_SETTINGS
from tests.integration.waves import make_audience, make_service as insert_service
from tests.support import role_email

pytestmark = pytest.mark.browser


def clean(page) -> None:
    recorder = page.context.recorder
    assert not recorder.foreign(), recorder.foreign()
    assert not recorder.csp_violations(), recorder.csp_violations()
    assert not recorder.page_errors, recorder.page_errors


async def focused_id(page) -> str:
    return await page.evaluate("document.activeElement && document.activeElement.id")


async def create_account(page) -> None:
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Accounts").click()
    await page.locator("#accounts tbody tr").first.wait_for()
    form = page.locator("#create-form")
    # Wrong input is named next to its field, tied to it, and listed in the focused summary.
    await form.get_by_label("Initial password").fill("short")
    await form.get_by_role("button", name="Create the account").click()
    summary = page.locator("#create-form-errors")
    assert await focused_id(page) == "create-form-errors"
    text = await summary.inner_text()
    assert "Email address: Enter an email address" in text and "Initial password: Use at least 10 characters." in text
    password = form.get_by_label("Initial password")
    assert await password.get_attribute("aria-invalid") == "true"
    assert "c-password-error" in (await password.get_attribute("aria-describedby")).split()
    assert await page.locator("#c-password-error").inner_text() == "Use at least 10 characters."
    # A taken email comes back from the server on the email field.
    await form.get_by_label("Email address").fill(role_email("member"))
    await form.get_by_label("Display name").fill("Dana Owner")
    await password.fill("a long enough password")
    await form.get_by_role("button", name="Create the account").click()
    await page.locator("#c-email-error").get_by_text("exists").wait_for()
    assert await form.get_by_label("Email address").get_attribute("aria-invalid") == "true"
    assert await password.get_attribute("aria-invalid") is None, "fixed fields lose their error"
    await form.get_by_label("Email address").fill("dana@test.example")
    await form.get_by_role("button", name="Create the account").click()
    await page.locator("#create-form-status").get_by_text("Created Dana Owner (dana@test.example) with roles member.").wait_for()
    await page.locator("#accounts tbody tr", has_text="dana@test.example").wait_for()


async def give_owner_role(page) -> None:
    row = page.locator("#accounts tbody tr", has_text="dana@test.example")
    await row.get_by_role("button", name="Manage Dana Owner").click()
    assert await focused_id(page) == "edit-account-heading", "opening the editor moves focus to it"
    editor = page.locator("#edit-account")
    await editor.get_by_label("Owner: owns services").check()
    await editor.get_by_role("button", name="Save name and roles").click()
    await editor.get_by_text("Saved Dana Owner: member, owner.").wait_for()
    assert "member, owner" in await page.locator("#accounts tbody tr", has_text="dana@test.example").inner_text()
    await editor.get_by_role("button", name="Close").click()
    assert await page.evaluate("document.activeElement.dataset.manage") is not None, "closing hands focus back"


async def deactivate_member(page) -> None:
    await page.locator("#accounts tbody tr", has_text=role_email("member")).get_by_role("button", name="Manage Member").click()
    editor = page.locator("#edit-account")
    await editor.get_by_role("button", name="Deactivate Member…").click()
    warning = editor.get_by_text("signs them out everywhere and stops them signing in")
    assert await warning.is_visible(), "deactivating asks first, saying what it does"
    await screenshot(page, "admin-accounts")
    await editor.get_by_role("button", name="Yes, deactivate Member").click()
    await editor.get_by_text("Member is deactivated and signed out everywhere.").wait_for()
    assert "deactivated" in await page.locator("#accounts tbody tr", has_text=role_email("member")).inner_text()
    await editor.get_by_role("button", name="Close").click()


async def make_group(page) -> None:
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Groups").click()
    form = page.locator("#create-form")
    await form.get_by_label("Name").fill("Pilots")
    await form.get_by_role("button", name="Create the group").click()
    row = page.locator("#groups tbody tr", has_text="Pilots")
    await row.wait_for()
    await row.get_by_role("button", name="Edit Pilots").click()
    editor = page.locator("#edit-group")
    await editor.get_by_label("Find accounts").fill("dana")
    dana = editor.get_by_label("Dana Owner (dana@test.example)")
    assert await dana.is_visible()
    assert not await editor.get_by_label(f"Admin ({role_email('admin')})").is_visible(), "the search hides the rest"
    await dana.focus()
    await page.keyboard.press("Space")  # keyboard only
    assert await dana.is_checked()
    assert "1 selected · 1 of" in await editor.locator("#e-members-count").inner_text()
    await editor.get_by_label("Find accounts").fill("")
    await editor.get_by_label(f"Owner ({role_email('owner')})").check()
    await editor.get_by_role("button", name="Save members").click()
    await editor.get_by_text("“Pilots” now has 2 members.").wait_for()
    await page.locator("#groups tbody tr", has_text="Pilots").locator("td.num", has_text="2").wait_for()
    await screenshot(page, "admin-groups")
    # Deleting asks first; the group leaves the list.
    await form.get_by_label("Name").fill("Temporary")
    await form.get_by_role("button", name="Create the group").click()
    await page.locator("#groups tbody tr", has_text="Temporary").get_by_role("button", name="Edit Temporary").click()
    await editor.get_by_role("button", name="Delete “Temporary”…").click()
    assert await editor.get_by_text("it cannot be undone").is_visible()
    await editor.get_by_role("button", name="Yes, delete “Temporary”").click()
    await page.locator("#admin-message").get_by_text("Deleted “Temporary”.").wait_for()
    assert await page.locator("#groups tbody tr", has_text="Temporary").count() == 0
    assert await focused_id(page) == "admin-message"


async def make_service(page) -> None:
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Services").click()
    form = page.locator("#create-form")
    await form.get_by_label("Name").fill("Mail")
    await form.get_by_label("First answer within (hours)").fill("0")
    await form.get_by_role("button", name="Create the service").click()
    assert "First answer within (hours): A whole number from 1 to 8760." in await page.locator("#create-form-errors").inner_text()
    await form.get_by_label("First answer within (hours)").fill("8")
    await form.get_by_label("Dana Owner (dana@test.example)").check()
    await form.get_by_label("First answer within (hours)").press("Enter")  # Enter submits, as in any form
    await page.locator("#create-form-status").get_by_text("Created “Mail”, owned by Dana Owner.").wait_for()
    row = page.locator("#services tbody tr", has_text="Mail")
    assert "Dana Owner" in await row.inner_text() and "8 h" in await row.inner_text()
    await row.get_by_role("button", name="Edit Mail").click()
    editor = page.locator("#edit-service")
    await editor.get_by_role("button", name="Archive “Mail”").click()
    await editor.get_by_text("“Mail” is archived").wait_for()
    assert "archived" in await page.locator("#services tbody tr", has_text="Mail").inner_text()
    await screenshot(page, "admin-services")


async def test_admin_creates_account_group_and_service(page, db):
    await sign_in(page, "admin")
    await create_account(page)
    await give_owner_role(page)
    await deactivate_member(page)
    await make_group(page)
    await make_service(page)
    dana = await db.fetchrow("select id, roles, active from accounts where email = 'dana@test.example'")
    assert sorted(dana["roles"]) == ["member", "owner"] and dana["active"]
    assert not await db.fetchval("select active from accounts where email = $1", role_email("member"))
    members = await db.fetch("select a.email from group_members m join groups g on g.id = m.group_id "
                             "join accounts a on a.id = m.account_id where g.name = 'Pilots' order by a.email")
    assert [r["email"] for r in members] == ["dana@test.example", role_email("owner")]
    service = await db.fetchrow("select id, sla_first_answer_hours, archived from services where name = 'Mail'")
    assert service["sla_first_answer_hours"] == 8 and service["archived"]
    assert await db.fetchval("select account_id from service_owners where service_id = $1", service["id"]) == dana["id"]
    clean(page)


@pytest.mark.parametrize("role", ("admin", "manager"))
async def test_pages_fit_a_phone(browser, live_server, role):
    context = await new_context(browser, live_server, viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    page = await new_page(context)
    try:
        await sign_in(page, role)
        paths = ("/admin/accounts", "/admin/groups", "/admin/services") if role == "admin" else ("/admin/services",)
        for path in paths:
            await page.goto(path)
            await page.locator("#create-form").wait_for()
            await page.locator("[aria-busy]").first.wait_for(state="detached")
            overflow = await page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"{path} scrolls sideways on a phone"
        # The manager edits the catalogue too, with the same owner choices.
        await page.goto("/admin/services")
        assert await page.get_by_label(f"Owner ({role_email('owner')})").count() == 1
        await screenshot(page, f"admin-services-phone-{role}")
        clean(page)
    finally:
        await context.close()


async def test_wave_report_links_its_exports(page, db):
    await init_connection(db)
    manager = await db.fetchval("select id from accounts where email = $1", role_email("manager"))
    pulse = load_builtin("pulse")
    today = date.today()
    wave = await open_wave(
        db, TEST_SETTINGS, title="Export me", description="", service_id=await insert_service(db, name="Desk"),
        instrument_hash=instrument_hash(pulse), audience_group_id=await make_audience(db, size=7, name="All"),
        opens_on=today - timedelta(days=9), closes_on=today - timedelta(days=1), k_scores=5, k_comments=10,
        created_by=manager,
    )
    await store_synthetic_responses(db, wave, pulse, synthetic_answers(pulse, 12), submitted_on=today)
    await close_campaign(db, campaign_id=wave)
    await sign_in(page, "manager")
    await page.goto(f"/waves/{wave}")
    exports = page.locator("#report-exports")
    json_link = exports.get_by_role("link", name="Download the report (JSON)")
    assert await json_link.get_attribute("href") == f"/api/campaigns/{wave}/export/json"
    async with page.expect_download() as download:
        await exports.get_by_role("link", name="Download the report (CSV)").click()
    assert (await download.value).suggested_filename == f"report-{wave}.csv"
    exported = await page.request.get(await json_link.get_attribute("href"))
    assert exported.ok and (await exported.json())["campaign"]["title"] == "Export me"
    clean(page)
