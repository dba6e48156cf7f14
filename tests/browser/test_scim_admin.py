"""Directory provisioning on the admin pages: an admin creates a SCIM token (shown once),
sees it listed with its days, the directory uses it, the admin revokes it; a group the
directory manages is shown read-only, "managed by your directory (SCIM)"."""

from __future__ import annotations

import httpx
import pytest

from service.scim import GROUP_SCHEMA, USER_SCHEMA
from tests.browser.conftest import screenshot, sign_in

pytestmark = pytest.mark.browser


async def test_admin_creates_uses_and_revokes_a_token(page, live_server):
    await sign_in(page, "admin")
    await page.goto("/admin/groups")
    form = page.locator("#scim-form")
    await form.get_by_label("Name").fill("Entra ID")
    await form.get_by_role("button", name="Create a token").click()
    token = await page.locator("#scim-token-value").inner_text()
    assert token.startswith("candor_scim_")
    row = page.locator("#scim-token-table tbody tr", has_text="Entra ID")
    await row.wait_for()
    assert "never" in await row.inner_text()

    headers = {"authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=f"{live_server}/scim/v2", headers=headers) as directory:
        user = await directory.post("/Users", json={"schemas": [USER_SCHEMA], "userName": "ada@example.org"})
        assert user.status_code == 201, user.text
        group = await directory.post("/Groups", json={"schemas": [GROUP_SCHEMA], "displayName": "Directory staff",
                                                      "members": [{"value": user.json()["id"]}]})
        assert group.status_code == 201, group.text

        await page.reload()
        listed = page.locator("#groups tbody tr", has_text="Directory staff")
        assert "managed by your directory (SCIM)" in await listed.inner_text()
        await listed.get_by_role("button", name="View Directory staff").click()
        editor = page.locator("#edit-group")
        await editor.locator("#group-managed").wait_for()
        assert "ada@example.org" in await editor.locator("#group-members").inner_text()
        assert await editor.get_by_role("button", name="Save members").count() == 0
        assert "directory (SCIM)" in await editor.locator("#group-history").inner_text()
        await screenshot(page, "admin-groups-scim")

        row = page.locator("#scim-token-table tbody tr", has_text="Entra ID")
        assert "never" not in await row.inner_text()  # its last use is today's date
        await row.get_by_role("button", name="Revoke “Entra ID”…").click()
        await row.get_by_role("button", name="Yes, revoke “Entra ID”").click()
        await page.locator("#scim-token-table tbody tr", has_text="revoked").wait_for()
        assert (await directory.get("/Users")).status_code == 401
