"""The demo tells the story on first `make run`: after seeding, each demo role's pages
have data behind them through the same API calls the pages make — threads in every
state with replies on both sides, action items in every state (one overdue), posts on
the public board, the Service Desk's three closed waves and their trend."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.demo import DEMO_DOMAIN, DEMO_PASSWORD


@pytest.fixture
async def demo(demo_database_url, settings):
    async with AsyncTestClient(create_app(replace(settings, database_url=demo_database_url)),
                               base_url="http://127.0.0.1:8000") as client:
        yield client


async def sign_in(client: AsyncTestClient, local: str) -> None:
    client.cookies.clear()
    response = await client.post("/api/auth/login", json={"email": f"{local}@{DEMO_DOMAIN}",
                                                          "password": DEMO_PASSWORD})
    assert response.status_code == 200, response.text
    client.headers["x-csrf-token"] = response.json()["csrf_token"]


async def get(client: AsyncTestClient, url: str):
    response = await client.get(url)
    assert response.status_code == 200, (url, response.text)
    return response.json()


async def test_owner_inbox_has_threads_in_every_state_with_replies(demo):
    await sign_in(demo, "owner")
    inbox = await get(demo, "/api/threads")
    assert Counter(t["staff_status"] for t in inbox).keys() == {"new", "acknowledged", "answered"}
    assert {t["service"]["name"] for t in inbox} == {"Service Desk", "Email and Calendar"}
    assert {t["public"] for t in inbox} == {True, False}
    assert any(t["resolved"] for t in inbox) and not all(t["resolved"] for t in inbox)
    conversations = 0
    for summary in inbox:
        thread = await get(demo, f"/api/threads/{summary['id']}")
        messages = thread["messages"]
        assert messages[0]["from_staff"] is False and messages[0]["seq"] == 1
        days = [m["posted_on"] for m in messages]
        assert days == sorted(days) and days[0] == summary["opened_on"]
        sides = [m["from_staff"] for m in messages]
        if summary["staff_status"] == "answered":
            assert True in sides, summary["title"]
        if True in sides and sides.count(False) >= 2:
            conversations += 1  # the author followed up on a staff answer
        if summary["staff_status"] == "new":
            assert True not in sides
    assert conversations >= 2
    hidden = [m for t in inbox for m in (await get(demo, f"/api/threads/{t['id']}"))["messages"] if m["hidden_reason"]]
    assert len(hidden) == 1 and hidden[0]["body"] == ""  # owners see the reason, not the text
    for service in await get(demo, "/api/services"):
        metrics = await get(demo, f"/api/services/{service['id']}/thread-metrics")
        assert metrics["opened"] >= 3 and metrics["answered"] >= 1
        assert metrics["median_hours_to_first_answer"] is not None
        webhook = await get(demo, f"/api/services/{service['id']}/webhook")
        assert [d["state"] for d in webhook["deliveries"]] == ["delivered"]


async def test_moderator_has_a_queue_and_a_log(demo):
    await sign_in(demo, "moderator")
    waiting = await get(demo, "/api/threads?awaiting=publication")
    assert [t["title"] for t in waiting] == ["Thanks for the quick VPN fix"]
    log = await get(demo, "/api/threads/audit")
    assert {e["action"] for e in log} == {"approve-publication", "reject-publication", "hide-message"}
    assert all(e["actor"] == "Mo Moderator" for e in log)
    hidden = next(e for e in log if e["action"] == "hide-message")
    thread = await get(demo, f"/api/threads/{hidden['thread_id']}")
    assert thread["messages"][hidden["message_seq"] - 1]["body"]  # moderators see what they hid


async def test_member_sees_the_board_and_what_was_done(demo):
    await sign_in(demo, "member")
    board = await get(demo, "/api/board")
    assert len(board) == 2 and all(t["public"] for t in board)
    for post in board:
        messages = (await get(demo, f"/api/board/{post['id']}"))["messages"]
        assert any(m["from_staff"] for m in messages) and all(m["posted_at"] is None for m in messages)
    assert await get(demo, "/api/board?q=password")
    public = await get(demo, "/api/you-said-we-did")
    assert public
    allowance = await get(demo, "/api/threads/allowance")
    assert allowance["remaining"] == allowance["per_month"]  # the demo member's own allowance is untouched
    waves = await get(demo, "/api/campaigns")
    assert any(w["status"] == "open" for w in waves)


async def test_manager_tracks_action_items_in_every_state(demo):
    await sign_in(demo, "manager")
    items = await get(demo, "/api/actions")
    assert Counter(i["status"] for i in items).keys() == {"proposed", "accepted", "in_progress", "done", "wont_do"}
    assert [i["title"] for i in items if i["overdue"]] == ["Release held invitations from the mail filter"]
    assert {i["source"] for i in items} == {"candidate", "thread"}
    assert all(i["owner"]["name"] == "Olu Owner" and i["due_on"] for i in items)
    refused = next(i for i in items if i["status"] == "wont_do")
    assert refused["wont_do_reason"] and refused["thread_id"]
    dashboard = await get(demo, "/api/actions/dashboard")
    assert dashboard["total"] == len(items) and dashboard["overdue"] == 1
    assert dashboard["first_answer"]["available"] and dashboard["first_answer"]["answered"] >= 3
    done = next(i for i in items if i["status"] == "done")
    detail = await get(demo, f"/api/actions/{done['id']}")
    assert detail["outcome"]["state"] == "measured" and detail["outcome"]["verdict"] == "improved"
    assert [a["to_status"] for a in detail["activity"]] == ["proposed", "accepted", "in_progress", "done"]

    waves = await get(demo, "/api/campaigns")
    closed = sorted((w for w in waves if w["status"] == "closed"), key=lambda w: w["closes_on"])
    assert len(closed) == 3 and {w["service"]["name"] for w in closed} == {"Service Desk"}
    latest = closed[-1]
    report = await get(demo, f"/api/campaigns/{latest['id']}/report")
    assert len(report["summary"]["focus"]) == 3 and report["summary"]["change"]["verdict"] == "improved"
    assert len((await get(demo, f"/api/campaigns/{latest['id']}/trend"))["points"]) == 3
    # the latest wave's candidates were turned into items
    assert {i["campaign_id"] for i in items if i["source"] == "candidate"} == {closed[0]["id"], latest["id"]}


async def test_admin_pages_have_data(demo):
    await sign_in(demo, "admin")
    assert len(await get(demo, "/api/accounts")) >= 5
    groups = await get(demo, "/api/groups")
    assert len(groups) == 2
    assert await get(demo, f"/api/groups/{groups[0]['id']}/audit")
    assert len(await get(demo, "/api/services")) == 2
