"""The Request Tracker 5 connector against a fake RT on 127.0.0.1 that answers in the
shapes of RT's REST 2 documentation (tests/data/rt/*.json, each naming its source).

What must hold: exactly one ticket per thread, across retries, a second press of the
button and a crash between creating the ticket and recording it; the ticket holds the
thread's title, visible text and link and nothing else; the desk's status comes back to
the thread (by polling, and by RT's signed callback, replays refused); a desk answering
5xx is retried with the webhook's back-off; bad settings say what is wrong.

The opt-in ``test_real_request_tracker`` (marker ``integrations``, ``make
test-integrations``) runs the same flow against a real RT 5 from Debian.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from litestar.testing import AsyncTestClient

from service import servicedesk as desk
from service.app import create_app
from service.db import create_pool
from service.queries import servicedesk as desk_q
from service.servicedesk.rt import RequestTracker
from service.settings import Settings, SettingsError
from service.threads import BACKOFF_SECONDS
from tests.integration.thread_helpers import new_thread, signed_in
from tests.integration.wave_helpers import make_service

FIXTURES = Path(__file__).parent.parent / "data" / "rt"
TOKEN = "1-14-3e5fb4f2d4e2c1a2b3c4d5e6f7a8b9c0"
CALLBACK_SECRET = "a callback secret shared with the RT scrip"
JOBS = frozenset({"webhook_worker", "servicedesk_sender", "servicedesk_poller"})


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


class FakeRT:
    """RT 5's REST 2 API as far as Candor uses it, answering with the documented shapes.
    It holds tickets, records every request, and can be scripted to fail."""

    def __init__(self) -> None:
        self.tickets: dict[int, dict[str, str]] = {}
        self.requests: list[dict[str, Any]] = []
        self.create_statuses: list[int] = []  # answered to POST /ticket before a real create
        self.queues = {"General", "IT Support"}
        self.token = TOKEN
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).replace("XX_RT_URL_XX", fake.url).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json; charset=utf-8")
                self.send_header("content-length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value.replace("XX_RT_URL_XX", fake.url))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self, method: str) -> None:
                parts = urlsplit(self.path)
                raw = self.rfile.read(int(self.headers.get("content-length", 0)))
                fake.requests.append({"method": method, "path": parts.path, "query": parse_qs(parts.query),
                                      "headers": {k.lower(): v for k, v in self.headers.items()},
                                      "body": json.loads(raw) if raw else None})
                if self.headers.get("authorization") != f"token {fake.token}":
                    return self._answer(**_response(fixture("unauthorized")))
                self._answer(**fake.route(method, parts.path, parse_qs(parts.query), raw))

            def do_GET(self):  # noqa: N802
                self._handle("GET")

            def do_POST(self):  # noqa: N802
                self._handle("POST")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def route(self, method: str, path: str, query: dict[str, list[str]], raw: bytes) -> dict[str, Any]:
        if method == "GET" and path == "/REST/2.0/tickets":
            return self.search(query)
        if method == "POST" and path == "/REST/2.0/ticket":
            if self.create_statuses:
                return {"status": self.create_statuses.pop(0), "body": {"message": "Internal Server Error"}}
            return self.create(json.loads(raw))
        if method == "GET" and (found := re.fullmatch(r"/REST/2\.0/ticket/(\d+)", path)):
            return self.show(int(found[1]))
        return {"status": 404, "body": {"message": "Not Found"}}

    def search(self, query: dict[str, list[str]]) -> dict[str, Any]:
        shape = fixture("search_tickets")
        assert set(query) >= set(shape["request"]["query"]), query
        # RT's LIKE on a string field is a substring match.
        wanted = re.fullmatch(r"Subject LIKE '([^']*)'", query["query"][0])
        assert wanted, query["query"]
        item = shape["response"]["body"]["items"][0]
        items = [{**item, "Subject": t["Subject"], "id": str(n), "_url": f"XX_RT_URL_XX/REST/2.0/ticket/{n}"}
                 for n, t in self.tickets.items() if wanted[1] in t["Subject"]]
        body = {**shape["response"]["body"], "items": items, "count": len(items), "total": len(items),
                "pages": 1 if items else 0}
        return {"status": 200, "body": body}

    def create(self, data: dict[str, Any]) -> dict[str, Any]:
        if data.get("Queue") not in self.queues:
            return _response(fixture("unknown_queue"))
        number = 20 + len(self.tickets)
        self.tickets[number] = {"Subject": data["Subject"], "Status": "new", "Queue": data["Queue"]}
        answer = json.loads(json.dumps(fixture("create_ticket")["response"]).replace("/ticket/20", f"/ticket/{number}"))
        answer["body"]["id"] = str(number)
        return answer

    def show(self, number: int) -> dict[str, Any]:
        if number not in self.tickets:
            return {"status": 404, "body": {"message": "Resource does not exist"}}
        answer = fixture("get_ticket")["response"]
        text = json.dumps(answer).replace("/ticket/20", f"/ticket/{number}").replace('"id": "20"', f'"id": "{number}"')
        answer = json.loads(text)
        ticket = self.tickets[number]
        answer["body"].update(id=number, Subject=ticket["Subject"], Status=ticket["Status"])
        return answer

    def calls(self, method: str, path: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["method"] == method and r["path"] == path]

    def __enter__(self) -> FakeRT:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def _response(shape: dict[str, Any]) -> dict[str, Any]:
    answer = shape["response"]
    return {"status": answer["status"], "body": answer["body"], "headers": answer.get("headers")}


@pytest.fixture
def rt():
    with FakeRT() as fake:
        yield fake


@pytest.fixture
def rt_settings(settings: Settings, rt: FakeRT) -> Settings:
    return replace(settings, rt_url=rt.url, rt_token=TOKEN, rt_callback_secret=CALLBACK_SECRET, disabled_jobs=JOBS)


@pytest.fixture
async def dclient(rt_settings):
    async with AsyncTestClient(create_app(rt_settings), base_url="http://127.0.0.1:8000") as c:
        yield c


@pytest.fixture
async def pool(rt_settings):
    made = await create_pool(rt_settings)  # the test's own loop (the app runs in another)
    yield made
    await made.close()


@pytest.fixture
async def rt_desk(rt: FakeRT):
    made = RequestTracker(rt.url, TOKEN)
    yield made
    await made.aclose()


async def _arrange(client, db, *, queue: str = "IT Support") -> tuple[str, str]:
    """A service owned by owner@ with its RT queue set, and a thread in it; signed in as owner@."""
    service_id = await make_service(db)
    thread_id, _ = await new_thread(client, service_id, title="Printer on floor 3 jams",
                                    body="The printer jams every morning.")
    await signed_in(client, "owner")
    put = await client.put(f"/api/services/{service_id}/servicedesk", json={"queue": queue})
    assert put.status_code == 200, put.text
    assert put.json() == {"service_id": service_id, "desk": "Request Tracker", "queue": queue}
    return service_id, thread_id


def _later(seconds: float = 1) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


# One ticket, with the thread's text and nothing else ------------------------------------------------


async def test_one_ticket_with_title_visible_text_and_link_only(dclient, db, rt, pool, rt_desk):
    _, thread_id = await _arrange(dclient, db)
    await dclient.post(f"/api/threads/{thread_id}/messages", json={"body": "We ordered a new roller."})
    # A message a moderator hid is not visible text: it never reaches the desk.
    await db.execute("update thread_messages set hidden_reason = 'Off topic' where thread_id = $1 and seq = 1",
                     uuid.UUID(thread_id))
    sent = await dclient.post(f"/api/threads/{thread_id}/servicedesk")
    assert sent.status_code == 202, sent.text
    assert sent.json()["ticket"]["state"] == "pending" and rt.requests == []  # never inside the request
    again = await dclient.post(f"/api/threads/{thread_id}/servicedesk")
    assert again.status_code == 202 and again.json()["ticket"]["id"] == sent.json()["ticket"]["id"]

    assert await desk.send_due(pool, rt_desk, now=_later()) == 1
    assert await desk.send_due(pool, rt_desk, now=_later(3600)) == 0  # created: nothing more to send
    key = sent.json()["ticket"]["id"]
    [create] = rt.calls("POST", "/REST/2.0/ticket")
    link = f"http://127.0.0.1:8000/threads/staff/{thread_id}"
    assert create["body"] == {
        "Queue": "IT Support",
        "Subject": f"Printer on floor 3 jams [candor:{key}]",
        "Content": f"Printer on floor 3 jams\n\n[staff] We ordered a new roller.\n\n{link}\n",
        "ContentType": "text/plain",
    }
    assert create["headers"]["authorization"] == f"token {TOKEN}"
    assert create["headers"]["content-type"] == "application/json"
    # Searched by the key before creating (the idempotency check).
    [search] = rt.calls("GET", "/REST/2.0/tickets")
    assert search["query"]["query"] == [f"Subject LIKE 'candor:{key}'"]
    assert list(rt.tickets) == [20]
    view = (await dclient.get(f"/api/threads/{thread_id}/servicedesk")).json()
    assert view["ticket"]["state"] == "created" and view["ticket"]["ticket_ref"] == "20"
    assert view["ticket"]["ticket_url"] == f"{rt.url}/Ticket/Display.html?id=20"
    # Not the sent text: a message hidden after sending must not become readable to owners here.
    assert "We ordered" not in json.dumps(view)
    audit = await db.fetch("select action from thread_audit where thread_id = $1", uuid.UUID(thread_id))
    assert [r["action"] for r in audit] == ["send-ticket"]  # the second press queued nothing


async def test_a_crash_between_create_and_record_makes_no_second_ticket(dclient, db, rt, pool, rt_desk, monkeypatch):
    _, thread_id = await _arrange(dclient, db)
    await dclient.post(f"/api/threads/{thread_id}/servicedesk")

    async def crash(*args, **kwargs):
        raise ConnectionError("the worker died before recording")

    recorded = desk_q.record_created
    monkeypatch.setattr(desk_q, "record_created", crash)
    now = _later()
    await desk.send_due(pool, rt_desk, now=now)
    assert list(rt.tickets) == [20]
    row = await db.fetchrow("select state, attempts, ticket_ref from servicedesk_tickets")
    assert (row["state"], row["attempts"], row["ticket_ref"]) == ("pending", 1, None)
    monkeypatch.setattr(desk_q, "record_created", recorded)
    # Leased: not tried again until the lease runs out.
    assert await desk.send_due(pool, rt_desk, now=now + timedelta(seconds=10)) == 0
    await desk.send_due(pool, rt_desk, now=now + timedelta(seconds=desk.LEASE_SECONDS + 1))
    assert len(rt.calls("POST", "/REST/2.0/ticket")) == 1 and list(rt.tickets) == [20]
    row = await db.fetchrow("select state, attempts, ticket_ref from servicedesk_tickets")
    assert (row["state"], row["attempts"], row["ticket_ref"]) == ("created", 2, "20")


async def test_5xx_is_retried_with_back_off(dclient, db, rt, pool, rt_desk):
    _, thread_id = await _arrange(dclient, db)
    await dclient.post(f"/api/threads/{thread_id}/servicedesk")
    rt.create_statuses = [500, 503]
    now = _later()
    await desk.send_due(pool, rt_desk, now=now)
    row = await db.fetchrow("select state, attempts, last_error, next_attempt_at from servicedesk_tickets")
    assert (row["state"], row["attempts"]) == ("pending", 1) and "HTTP 500" in row["last_error"]
    assert row["next_attempt_at"] == now + timedelta(seconds=BACKOFF_SECONDS)
    assert await desk.send_due(pool, rt_desk, now=now + timedelta(seconds=1)) == 0  # not due yet
    now2 = now + timedelta(seconds=BACKOFF_SECONDS)
    await desk.send_due(pool, rt_desk, now=now2)
    row = await db.fetchrow("select state, attempts, last_error, next_attempt_at from servicedesk_tickets")
    assert (row["state"], row["attempts"]) == ("pending", 2) and "HTTP 503" in row["last_error"]
    assert row["next_attempt_at"] == now2 + timedelta(seconds=2 * BACKOFF_SECONDS)  # back-off doubles
    await desk.send_due(pool, rt_desk, now=row["next_attempt_at"])
    assert await db.fetchval("select state from servicedesk_tickets") == "created"
    assert len(rt.calls("POST", "/REST/2.0/ticket")) == 3 and list(rt.tickets) == [20]
    shown = (await dclient.get(f"/api/threads/{thread_id}/servicedesk")).json()["ticket"]
    assert (shown["state"], shown["attempts"], shown["last_error"]) == ("created", 3, "")


# Status back to the thread --------------------------------------------------------------------------


async def test_status_is_polled_until_final_and_shown_on_the_thread(dclient, db, rt, pool, rt_desk):
    _, thread_id = await _arrange(dclient, db)
    await dclient.post(f"/api/threads/{thread_id}/servicedesk")
    now = _later()
    await desk.send_due(pool, rt_desk, now=now)
    assert await desk.poll_due(pool, rt_desk, now=now) == 1
    assert (await dclient.get(f"/api/threads/{thread_id}/servicedesk")).json()["ticket"]["status"] == "new"
    rt.tickets[20]["Status"] = "open"
    assert await desk.poll_due(pool, rt_desk, now=now + timedelta(seconds=10)) == 0  # not due yet
    later = now + timedelta(seconds=desk.POLL_INTERVAL_SECONDS)
    await desk.poll_due(pool, rt_desk, now=later)
    assert (await dclient.get(f"/api/threads/{thread_id}/servicedesk")).json()["ticket"]["status"] == "open"
    rt.tickets[20]["Status"] = "resolved"
    later += timedelta(seconds=desk.POLL_INTERVAL_SECONDS)
    await desk.poll_due(pool, rt_desk, now=later)
    # Moderators read it too.
    await signed_in(dclient, "moderator")
    assert (await dclient.get(f"/api/threads/{thread_id}/servicedesk")).json()["ticket"]["status"] == "resolved"
    # Resolved is final: no more polling.
    gets = len(rt.calls("GET", "/REST/2.0/ticket/20"))
    assert await desk.poll_due(pool, rt_desk, now=later + timedelta(days=1)) == 0
    assert len(rt.calls("GET", "/REST/2.0/ticket/20")) == gets == 3


def _signed(body: dict[str, Any], *, secret: str = CALLBACK_SECRET, at: float | None = None) -> dict[str, Any]:
    raw = json.dumps(body).encode()
    stamp = str(int(at if at is not None else time.time()))
    return {"content": raw, "headers": {
        "content-type": "application/json", desk.CALLBACK_TIMESTAMP_HEADER: stamp,
        desk.CALLBACK_SIGNATURE_HEADER: desk.callback_signature(secret, stamp, raw)}}


async def test_rt_scrip_callback_is_signed_and_replays_change_nothing(dclient, db, rt, pool, rt_desk):
    _, thread_id = await _arrange(dclient, db)
    await dclient.post(f"/api/threads/{thread_id}/servicedesk")
    await desk.send_due(pool, rt_desk, now=_later())
    dclient.cookies.clear()  # RT calls with no session
    dclient.headers.pop("x-csrf-token", None)
    url = "/api/servicedesk/rt/status"
    resolved = _signed({"ticket": "20", "status": "resolved", "transaction": 41})
    answer = await dclient.post(url, **resolved)
    assert answer.status_code == 200 and answer.json() == {"applied": True}
    assert await db.fetchval("select status from servicedesk_tickets") == "resolved"
    # The same call again (a replay), and an older change sent later, change nothing.
    assert (await dclient.post(url, **resolved)).json() == {"applied": False}
    older = await dclient.post(url, **_signed({"ticket": "20", "status": "open", "transaction": 40}))
    assert older.json() == {"applied": False}
    assert await db.fetchval("select status from servicedesk_tickets") == "resolved"
    # Unsigned, signed with another secret, or stale: refused, nothing changed.
    reopen = {"ticket": "20", "status": "open", "transaction": 42}
    refused = [
        await dclient.post(url, json=reopen),
        await dclient.post(url, **_signed(reopen, secret="not the shared secret at all")),
        await dclient.post(url, **_signed(reopen, at=time.time() - desk.CALLBACK_WINDOW_SECONDS - 5)),
    ]
    assert [r.status_code for r in refused] == [401, 401, 401]
    assert "signature does not match" in refused[1].json()["detail"] and "timestamp" in refused[2].json()["detail"]
    assert await db.fetchval("select status from servicedesk_tickets") == "resolved"
    # A body changed after signing (the timestamp kept) fails the signature.
    tampered = _signed(reopen)
    tampered["content"] = tampered["content"].replace(b"42", b"43")
    assert (await dclient.post(url, **tampered)).status_code == 401
    assert (await dclient.post(url, **_signed(reopen))).json() == {"applied": True}
    assert await db.fetchval("select status from servicedesk_tickets") == "open"


# Configuration --------------------------------------------------------------------------------------


def test_bad_settings_are_refused_at_start_with_the_reason(settings):
    def problems(**changes: Any) -> str:
        with pytest.raises(SettingsError) as refused:
            create_app(replace(settings, **changes))
        return str(refused.value)

    assert "CANDOR_RT_TOKEN" in problems(rt_url="https://rt.example.org")
    assert "RT's base URL" in problems(rt_url="rt.example.org", rt_token=TOKEN)
    assert "no query" in problems(rt_url="https://rt.example.org/?token=abc", rt_token=TOKEN)
    assert "need CANDOR_RT_URL" in problems(rt_token=TOKEN)
    assert "https in production" in problems(environment="production", public_url="https://candor.example.org",
                                             rt_url="http://rt.example.org", rt_token=TOKEN)
    assert "at least 16" in problems(rt_url="https://rt.example.org", rt_token=TOKEN, rt_callback_secret="short")


async def test_without_a_desk_sending_and_queues_say_what_is_missing(client, db):
    service_id = await make_service(db)
    thread_id, _ = await new_thread(client, service_id)
    await signed_in(client, "owner")
    view = await client.get(f"/api/services/{service_id}/servicedesk")
    assert view.json() == {"service_id": service_id, "desk": None, "queue": None}
    for response in (await client.put(f"/api/services/{service_id}/servicedesk", json={"queue": "General"}),
                     await client.post(f"/api/threads/{thread_id}/servicedesk")):
        assert response.status_code == 409
        assert "CANDOR_RT_URL" in response.json()["detail"]
    assert (await client.post("/api/servicedesk/rt/status", json={})).status_code == 404


async def test_no_queue_wrong_token_and_unknown_queue_are_explained(dclient, db, rt, pool, rt_desk):
    service_id = await make_service(db)
    thread_id, _ = await new_thread(dclient, service_id)
    await signed_in(dclient, "owner")
    no_queue = await dclient.post(f"/api/threads/{thread_id}/servicedesk")
    assert no_queue.status_code == 409 and "no service-desk queue" in no_queue.json()["detail"]
    bad = await dclient.put(f"/api/services/{service_id}/servicedesk", json={"queue": "Line\nbreak"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "queue"
    await dclient.put(f"/api/services/{service_id}/servicedesk", json={"queue": "Nowhere"})
    await dclient.post(f"/api/threads/{thread_id}/servicedesk")
    # A token RT does not accept: retried (an admin can fix it), and the error says where to look.
    rt.token = "another"
    now = _later()
    await desk.send_due(pool, rt_desk, now=now)
    row = await db.fetchrow("select state, last_error, next_attempt_at from servicedesk_tickets")
    assert row["state"] == "pending" and "HTTP 401: Unauthorized" in row["last_error"]
    assert "CANDOR_RT_TOKEN" in row["last_error"]
    # A queue RT does not have: given up at once (retrying cannot help) with RT's own words.
    rt.token = TOKEN
    await desk.send_due(pool, rt_desk, now=row["next_attempt_at"])
    shown = (await dclient.get(f"/api/threads/{thread_id}/servicedesk")).json()["ticket"]
    assert shown["state"] == "failed" and "HTTP 400: Unable to find queue" in shown["last_error"]
    # The owner fixes the queue and sends again: same key, attempts from zero, one ticket.
    await dclient.put(f"/api/services/{service_id}/servicedesk", json={"queue": "General"})
    again = (await dclient.post(f"/api/threads/{thread_id}/servicedesk")).json()["ticket"]
    assert (again["id"], again["state"], again["attempts"], again["queue"]) == (shown["id"], "pending", 0, "General")
    await desk.send_due(pool, rt_desk, now=_later(2))
    assert rt.tickets == {20: {"Subject": f"Printer on floor 3 jams [candor:{shown['id']}]", "Status": "new",
                               "Queue": "General"}}


async def test_only_the_services_owners_send_and_set_queues(dclient, db, rt):
    service_id, thread_id = await _arrange(dclient, db)
    other = await db.fetchval("insert into services (name) values ('Other') returning id")
    assert (await dclient.put(f"/api/services/{other}/servicedesk", json={"queue": "General"})).status_code == 403
    await signed_in(dclient, "moderator")
    assert (await dclient.post(f"/api/threads/{thread_id}/servicedesk")).status_code == 403
    await signed_in(dclient, "member")
    assert (await dclient.get(f"/api/threads/{thread_id}/servicedesk")).status_code == 403
    assert await db.fetchval("select count(*) from servicedesk_tickets") == 0


# A real Request Tracker (opt-in: make test-integrations) -------------------------------------------


@pytest.mark.integrations
@pytest.mark.skipif(not os.environ.get("CANDOR_TEST_RT_URL"), reason="no real RT: run `make test-integrations`")
async def test_real_request_tracker(dclient, db, pool):
    """Against RT 5 from Debian, started by tests/integrations/rt_setup.sh, which exports
    CANDOR_TEST_RT_URL and CANDOR_TEST_RT_TOKEN."""
    url, token = os.environ["CANDOR_TEST_RT_URL"], os.environ["CANDOR_TEST_RT_TOKEN"]
    real = RequestTracker(url, token)
    try:
        _, thread_id = await _arrange(dclient, db, queue="General")
        await dclient.post(f"/api/threads/{thread_id}/servicedesk")
        await dclient.post(f"/api/threads/{thread_id}/servicedesk")
        now = _later()
        await desk.send_due(pool, real, now=now)
        row = await db.fetchrow("select id, state, ticket_ref, last_error from servicedesk_tickets")
        assert row["state"] == "created", row["last_error"]
        key, ref = row["id"], row["ticket_ref"]
        # As if the worker had died after RT created the ticket: the next attempt finds it by its key.
        await db.execute("update servicedesk_tickets set state = 'pending', ticket_ref = null, ticket_url = null, "
                         "next_attempt_at = $1", now)
        await desk.send_due(pool, real, now=now + timedelta(seconds=1))
        assert await db.fetchval("select ticket_ref from servicedesk_tickets") == ref
        await desk.poll_due(pool, real, now=now + timedelta(seconds=1))
        assert await db.fetchval("select status from servicedesk_tickets") == "new"
        async with httpx.AsyncClient(headers={"authorization": f"token {token}"}) as http:
            search = await http.get(f"{url}/REST/2.0/tickets", params={"query": f"Subject LIKE 'candor:{key}'"})
            assert search.json()["total"] == 1  # one ticket, however many attempts
            ticket = (await http.get(f"{url}/REST/2.0/ticket/{ref}")).json()
            assert ticket["Subject"] == f"Printer on floor 3 jams [candor:{key}]"
            resolved = await http.put(f"{url}/REST/2.0/ticket/{ref}", json={"Status": "resolved"})
            assert resolved.status_code == 200, resolved.text
        await desk.poll_due(pool, real, now=now + timedelta(seconds=desk.POLL_INTERVAL_SECONDS + 1))
        assert (await dclient.get(f"/api/threads/{thread_id}/servicedesk")).json()["ticket"]["status"] == "resolved"
    finally:
        await real.aclose()
