"""The service-desk ticket on the staff thread page: an owner sends the thread to the
desk (queued, never sent inside the request), and the status the worker brought back
from Request Tracker is shown to owners and moderators."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace

import pytest

from service.settings import Settings
from tests.browser.conftest import new_context, new_page, screenshot, sign_in
from tests.conftest import TEST_SETTINGS
from tests.integration.wave_helpers import make_service

pytestmark = pytest.mark.browser


@pytest.fixture
def settings(database_url) -> Settings:
    # A desk is configured, but its jobs are off: the test plays the worker in the database.
    return replace(TEST_SETTINGS, database_url=database_url, rt_url="http://127.0.0.1:9", rt_token="test-token",
                   disabled_jobs=frozenset({"servicedesk_sender", "servicedesk_poller"}))


def clean(page) -> None:
    recorder = page.context.recorder
    assert not recorder.foreign(), recorder.foreign()
    assert not recorder.csp_violations(), recorder.csp_violations()
    assert not recorder.page_errors, recorder.page_errors


async def _thread(db, service_id: str) -> uuid.UUID:
    thread = await db.fetchval(
        "insert into threads (service_id, secret_hash, category, title) values ($1, $2, 'problem', $3) returning id",
        uuid.UUID(service_id), uuid.uuid4().bytes * 2, "Printer on floor 3 jams")
    await db.execute("insert into thread_messages (thread_id, seq, from_staff, body) values ($1, 1, false, 'Jams.')",
                     thread)
    return thread


async def test_owner_sends_to_the_desk_and_sees_its_status(browser, live_server, db):
    service_id = await make_service(db)
    thread = await _thread(db, service_id)
    context = await new_context(browser, live_server)
    page = await new_page(context)
    await sign_in(page, "owner")
    await page.goto(f"/threads/staff/{thread}")
    # No queue yet: the owner names it where they send.
    await page.get_by_text("This service has no queue at the service desk yet.").wait_for()
    await page.get_by_label("Request Tracker queue for Service Desk").fill("IT Support")
    await page.get_by_role("button", name="Save the queue").click()
    await page.get_by_text("Tickets of Service Desk go to the queue IT Support.").wait_for()
    assert await db.fetchval("select queue from servicedesk_queues") == "IT Support"
    await page.get_by_role("button", name="Send to service desk (Request Tracker)").click()
    await page.get_by_text("Queued for Request Tracker (queue IT Support)").wait_for()
    assert await page.get_by_role("button", name="Send to service desk (Request Tracker)").count() == 0
    row = await db.fetchrow("select state, payload from servicedesk_tickets where thread_id = $1", thread)
    assert row["state"] == "pending" and set(json.loads(row["payload"])) == {"title", "text", "link"}
    # What the worker records once RT has the ticket and a poll saw it resolved.
    await db.execute("""update servicedesk_tickets set state = 'created', ticket_ref = '20', status = 'resolved',
                        ticket_url = 'http://127.0.0.1:9/Ticket/Display.html?id=20' where thread_id = $1""", thread)
    await page.reload()
    status = page.locator("#ticket-status")
    await status.get_by_role("link", name="#20").wait_for()
    assert await page.locator("#ticket-state").inner_text() == "resolved"
    assert "queue IT Support" in await status.inner_text()
    await screenshot(page, "thread-servicedesk")
    clean(page)
    # Moderators read the status; they have no button.
    moderator = await new_page(await new_context(browser, live_server))
    await sign_in(moderator, "moderator")
    await moderator.goto(f"/threads/staff/{thread}")
    await moderator.locator("#ticket-state").wait_for()
    assert await moderator.locator("#ticket-state").inner_text() == "resolved"
    assert await moderator.get_by_role("button", name="Send to service desk (Request Tracker)").count() == 0
    clean(moderator)
