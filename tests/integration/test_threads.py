"""Feedback threads end to end: monthly thread tokens → anonymous thread → owner
answers → author reads and replies with the secret → moderation, board, search,
metrics, service-desk webhook."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from crypto.tokens import create_token_request, parse_www_authenticate
from service import threads as logic
from service.client import fetch_thread_key, open_thread, request_thread_token, request_thread_tokens, thread_call
from service.db import create_pool
from service.threads import new_secret
from tests.integration.thread_helpers import (
    FAILURES_PER_MINUTE,
    TOKENS_PER_MONTH,
    Receiver,
    new_thread,
    signed_in,
    thread_token,
)
from tests.integration.wave_helpers import create_wave, make_service, token_for
from tests.support import role_email


async def _service(db, name: str = "Service Desk") -> str:
    return await make_service(db, name)


# Tokens ---------------------------------------------------------------------------------------


async def test_monthly_allowance_is_counted_per_member(tclient, db):
    csrf = await signed_in(tclient, "member")
    key = await fetch_thread_key(tclient)
    assert key.period == date.today().isoformat()[:7]
    allowance = (await tclient.get("/api/threads/allowance")).json()
    assert allowance["remaining"] == TOKENS_PER_MONTH and allowance["token_key_id"] == key.token_key_id.hex()
    await request_thread_token(tclient, key, csrf_token=csrf)
    # More than what is left: refused, and nothing counted.
    too_many = b"".join(create_token_request(key.token_key, key.challenge)[0].encode() for _ in range(TOKENS_PER_MONTH))
    refused = await tclient.post("/api/threads/token-requests", content=too_many,
                                 headers={"content-type": "application/private-token-request"})
    assert refused.status_code == 409 and f"{TOKENS_PER_MONTH - 1} left" in refused.json()["detail"]
    # The rest in one request (what a browser does at sign-in): as many tokens back.
    rest = await request_thread_tokens(tclient, key, TOKENS_PER_MONTH - 1, csrf_token=csrf)
    assert len({t.nonce for t in rest}) == TOKENS_PER_MONTH - 1
    token_request, _ = create_token_request(key.token_key, key.challenge)
    over = await tclient.post("/api/threads/token-requests", content=token_request.encode(),
                              headers={"content-type": "application/private-token-request"})
    assert over.status_code == 409 and over.json()["type"] == "/problems/token-issued"
    assert (await tclient.get("/api/threads/allowance")).json()["remaining"] == 0
    # What is recorded: the account, the month, a count. Nothing finer.
    rows = [dict(r) for r in await db.fetch("select * from thread_token_issuances")]
    member = await db.fetchval("select id from accounts where email = $1", role_email("member"))
    # (``scrubbed``: whether the arrival-order pass has rewritten the row yet.)
    assert rows == [{"period": date.today().replace(day=1), "account_id": member, "issued": TOKENS_PER_MONTH,
                     "scrubbed": False}]
    # The key is the same for the whole month and its private half is stored encrypted.
    again = await fetch_thread_key(tclient, expected_key_id=key.token_key_id.hex())
    assert again.token_key == key.token_key
    stored = await db.fetchval("select private_key from thread_periods")
    assert b"PRIVATE KEY" not in bytes(stored) and len(bytes(stored)) > 1000


async def test_batched_tokens_all_verify_and_a_bad_batch_counts_nothing(tclient, db):
    csrf = await signed_in(tclient, "member")
    key = await fetch_thread_key(tclient)
    good = create_token_request(key.token_key, key.challenge)[0].encode()
    for body in (good + b"\x00" * 10, good[:1] + b"\x03" + good[2:] + good):
        response = await tclient.post("/api/threads/token-requests", content=body,
                                      headers={"content-type": "application/private-token-request"})
        assert response.status_code == 400
    assert await db.fetchval("select count(*) from thread_token_issuances") == 0
    tokens = await request_thread_tokens(tclient, key, 2, csrf_token=csrf)
    service_id = await _service(db)
    for token in tokens:
        opened = await open_thread(tclient, token, service_id=service_id, category="idea", title="t", body="b",
                                   secret=new_secret())
        assert opened.status_code == 201


async def test_only_members_get_thread_tokens(tclient):
    key = await fetch_thread_key(tclient)
    token_request, _ = create_token_request(key.token_key, key.challenge)
    await signed_in(tclient, "owner")
    response = await tclient.post("/api/threads/token-requests", content=token_request.encode(),
                                  headers={"content-type": "application/private-token-request"})
    assert response.status_code == 403


async def test_wave_tokens_and_thread_tokens_do_not_mix(tclient, client, db):
    wave = await create_wave(client, db)
    service_id = wave["service"]["id"]
    wave_token = await token_for(client, wave["id"], role_email("member"))
    from crypto.tokens import Token
    from service.client import _b64

    response = await open_thread(tclient, Token.decode(_b64(wave_token.token)), service_id=service_id,
                                 category="idea", title="t", body="b", secret=new_secret())
    assert response.status_code == 401
    thread_key = await fetch_thread_key(tclient)
    challenge = parse_www_authenticate(response.headers["www-authenticate"])[0]
    assert challenge.token_key == thread_key.token_key
    wave_challenge = await db.fetchval("select challenge from campaigns where id = $1", uuid.UUID(wave["id"]))
    assert bytes(wave_challenge) != thread_key.challenge


# Opening a thread -----------------------------------------------------------------------------


async def test_open_thread_spends_the_token_once(tclient, db):
    service_id = await _service(db)
    token = await thread_token(tclient)
    # Invalid fields: 422, and the token stays usable.
    bad = await open_thread(tclient, token, service_id=service_id, category="problem", title="x", body="y",
                            secret="too short")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "secret"
    unknown = await open_thread(tclient, token, service_id=str(uuid.uuid4()), category="problem", title="x",
                                body="y", secret=new_secret())
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "service_id"
    first = await open_thread(tclient, token, service_id=service_id, category="problem", title="VPN drops",
                              body="Every hour.", secret=new_secret())
    assert first.status_code == 201, first.text
    assert first.json()["opened_on"] == datetime.now(UTC).date().isoformat()
    assert uuid.UUID(first.json()["thread_id"]).version == 4
    again = await open_thread(tclient, token, service_id=service_id, category="problem", title="VPN drops",
                              body="Every hour.", secret=new_secret())
    assert again.status_code == 409 and again.json()["type"] == "/problems/token-spent"
    assert await db.fetchval("select count(*) from threads") == 1
    assert await db.fetchval("select count(*) from thread_spent_tokens") == 1


async def test_two_concurrent_redemptions_one_wins(tclient, db):
    service_id = await _service(db)
    token = await thread_token(tclient)
    results = await asyncio.gather(*(
        open_thread(tclient, token, service_id=service_id, category="idea", title=f"Idea {i}", body="b",
                    secret=new_secret()) for i in range(2)))
    assert sorted(r.status_code for r in results) == [201, 409]
    assert await db.fetchval("select count(*) from threads") == 1


async def test_missing_token_gets_the_thread_challenge(tclient, db):
    service_id = await _service(db)
    response = await tclient.post("/anon/threads", json={"service_id": service_id, "category": "idea",
                                                          "title": "t", "body": "b", "secret": new_secret()})
    assert response.status_code == 401 and response.json()["type"] == "/problems/token-invalid"
    assert response.headers["www-authenticate"].startswith("PrivateToken ")


# The author, with the secret alone --------------------------------------------------------------


async def test_owner_answers_and_author_reads_and_replies_without_an_account(tclient, db):
    service_id = await _service(db)
    thread_id, secret = await new_thread(tclient, service_id)
    # The owner sees it in the inbox and answers under their own name.
    await signed_in(tclient, "owner")
    inbox = (await tclient.get("/api/threads")).json()
    assert [t["id"] for t in inbox] == [thread_id] and inbox[0]["staff_status"] == "new"
    answer = await tclient.post(f"/api/threads/{thread_id}/messages", json={"body": "We ordered a new drum."})
    assert answer.status_code == 201
    assert answer.json()["author_read_seq"] == 1
    # The author, from another "browser": no cookies at all, only the secret.
    tclient.cookies.clear()
    tclient.headers.pop("x-csrf-token", None)
    read = await thread_call(tclient, "GET", "", secret)
    assert read.status_code == 200, read.text
    view = read.json()
    assert [(m["seq"], m["from_staff"], m["staff_name"]) for m in view["messages"]] == [
        (1, False, None), (2, True, "Owner")]
    assert view["messages"][1]["body"] == "We ordered a new drum."
    assert all(m["posted_at"] is None for m in view["messages"])
    # Spaces or hyphens, any case: the same phrase.
    assert (await thread_call(tclient, "GET", "", secret.upper())).status_code == 200
    reply = await thread_call(tclient, "POST", "/messages", secret, {"body": "Thanks, still jams today."})
    assert reply.status_code == 201 and reply.json()["messages"][-1]["seq"] == 3
    # The owner sees the read marker (a message number, no time) and the author's reply with its date only.
    await signed_in(tclient, "owner")
    staff_view = (await tclient.get(f"/api/threads/{thread_id}")).json()
    assert staff_view["author_read_seq"] == 3
    last = staff_view["messages"][-1]
    assert last["from_staff"] is False and last["posted_at"] is None and last["posted_on"] == str(datetime.now(UTC).date())
    assert staff_view["messages"][1]["posted_at"] is not None


async def test_statuses_resolve_and_reopen(tclient, db):
    service_id = await _service(db)
    thread_id, secret = await new_thread(tclient, service_id)
    await signed_in(tclient, "owner")
    for status in ("acknowledged", "answered"):
        response = await tclient.put(f"/api/threads/{thread_id}/status", json={"status": status})
        assert response.json()["thread"]["staff_status"] == status
    bad = await tclient.put(f"/api/threads/{thread_id}/status", json={"status": "resolved"})
    assert bad.status_code == 422  # resolving is the author's call
    resolved = await thread_call(tclient, "PUT", "/resolution", secret, {"resolved": True})
    assert resolved.json()["resolved"] is True
    reopened = await thread_call(tclient, "PUT", "/resolution", secret, {"resolved": False})
    assert reopened.json()["resolved"] is False
    audit = await db.fetch("select action, actor_id from thread_audit order by at")
    owner = await db.fetchval("select id from accounts where email = $1", role_email("owner"))
    assert [(r["action"], r["actor_id"]) for r in audit] == [("acknowledge", owner), ("answer", owner)]


async def test_wrong_secrets_are_refused_and_throttled(tclient, db):
    service_id = await _service(db)
    _, secret = await new_thread(tclient, service_id)
    tclient.cookies.clear()
    missing = await tclient.get("/anon/threads/by-secret")
    assert missing.status_code == 401 and missing.headers["www-authenticate"].startswith("ThreadSecret")
    for _ in range(FAILURES_PER_MINUTE - 1):
        assert (await thread_call(tclient, "GET", "", new_secret())).status_code == 401
    # The budget is service-wide per minute: past it wrong secrets get 429, but the
    # right one still opens its thread (a flood of guesses cannot lock its author out).
    # (One failure may have landed in the previous minute; send until the budget trips.)
    for _ in range(FAILURES_PER_MINUTE + 1):
        response = await thread_call(tclient, "GET", "", new_secret())
        if response.status_code == 429:
            break
    assert response.status_code == 429 and response.headers["retry-after"] == "60"
    assert (await thread_call(tclient, "GET", "", secret)).status_code == 200
    assert (await thread_call(tclient, "GET", "", new_secret())).status_code == 429
    # What the throttle keeps: minutes and counts, nothing about callers or threads.
    columns = {r["column_name"] for r in await db.fetch(
        "select column_name from information_schema.columns where table_name = 'thread_secret_failures'")}
    assert columns == {"minute", "failures"}


async def test_the_server_keeps_only_a_keyed_hash_of_the_secret(tclient, db, thread_settings):
    service_id = await _service(db)
    thread_id, secret = await new_thread(tclient, service_id)
    stored = bytes(await db.fetchval("select secret_hash from threads where id = $1", uuid.UUID(thread_id)))
    assert stored == logic.secret_hash(thread_settings.secret_key, secret)
    assert stored != hashlib.sha256(secret.encode()).digest()
    dump = " ".join(str(v) for r in await db.fetch("select * from threads") for v in dict(r).values())
    assert secret not in dump and "-".join(secret.split()) not in dump


# Access ------------------------------------------------------------------------------------------


async def test_threads_are_private_to_the_service_owners_and_moderators(tclient, db):
    service_id = await _service(db)
    other = await db.fetchval("insert into services (name) values ('Other') returning id")
    thread_id, _ = await new_thread(tclient, service_id)
    await new_thread(tclient, str(other), title="Other service thread")
    await signed_in(tclient, "owner")
    assert {t["title"] for t in (await tclient.get("/api/threads")).json()} == {"Printer on floor 3 jams"}
    # Another owner (not of this service) cannot see or answer it.
    await db.execute("update accounts set roles = '{owner}' where email = $1", role_email("manager"))
    await signed_in(tclient, "manager")
    assert (await tclient.get("/api/threads")).json() == []
    assert (await tclient.get(f"/api/threads/{thread_id}")).status_code == 404
    assert (await tclient.post(f"/api/threads/{thread_id}/messages", json={"body": "x"})).status_code == 404
    await signed_in(tclient, "moderator")
    assert len((await tclient.get("/api/threads")).json()) == 2
    assert (await tclient.get(f"/api/threads/{thread_id}")).status_code == 200
    # Moderators moderate; they do not answer for the owners.
    assert (await tclient.post(f"/api/threads/{thread_id}/messages", json={"body": "x"})).status_code == 403
    await signed_in(tclient, "member")
    assert (await tclient.get("/api/threads")).status_code == 403
    assert (await tclient.get(f"/api/board/{thread_id}")).status_code == 404


# Moderation and the board -------------------------------------------------------------------------


async def test_hidden_message_keeps_its_text_and_shows_the_reason(tclient, db):
    service_id = await _service(db)
    thread_id, secret = await new_thread(tclient, service_id, body="The admin Bob is an idiot.")
    await signed_in(tclient, "moderator")
    hidden = await tclient.post(f"/api/threads/{thread_id}/messages/1/hide", json={"reason": "Personal attack"})
    assert hidden.status_code == 200
    assert (await tclient.post(f"/api/threads/{thread_id}/messages/9/hide", json={"reason": "x"})).status_code == 404
    # Never edited: the stored text is unchanged.
    assert await db.fetchval("select body from thread_messages where seq = 1") == "The admin Bob is an idiot."
    author = (await thread_call(tclient, "GET", "", secret)).json()["messages"][0]
    assert author["hidden_reason"] == "Personal attack" and author["body"] == "The admin Bob is an idiot."
    await signed_in(tclient, "owner")
    owner_view = (await tclient.get(f"/api/threads/{thread_id}")).json()["messages"][0]
    assert owner_view["hidden_reason"] == "Personal attack" and owner_view["body"] == ""
    await signed_in(tclient, "moderator")
    log = (await tclient.get("/api/threads/audit", params={"thread_id": thread_id})).json()
    assert [(e["actor"], e["action"], e["reason"], e["message_seq"]) for e in log] == [
        ("Moderator", "hide-message", "Personal attack", 1)]
    # Moderators can hide but not edit: there is no route that changes a message's text.
    assert (await tclient.patch(f"/api/threads/{thread_id}/messages/1", json={"body": "x"})).status_code in (404, 405)


async def test_publication_needs_moderator_approval_and_author_consent(tclient, db):
    service_id = await _service(db)
    thread_id, secret = await new_thread(tclient, service_id, title="Printers jam on floor 3",
                                         body="Printers jam every morning.")
    await signed_in(tclient, "owner")
    await tclient.post(f"/api/threads/{thread_id}/messages", json={"body": "Fixed: new rollers installed."})
    assert (await tclient.post(f"/api/threads/{thread_id}/publication-request")).json()["thread"]["publish_requested"]
    await signed_in(tclient, "moderator")
    queue = (await tclient.get("/api/threads", params={"awaiting": "publication"})).json()
    assert [t["id"] for t in queue] == [thread_id]
    approved = await tclient.put(f"/api/threads/{thread_id}/publication", json={"approved": True})
    assert approved.json()["thread"]["public"] is False  # the author has not agreed yet
    await signed_in(tclient, "member")
    assert (await tclient.get("/api/board")).json() == []
    consent = await thread_call(tclient, "PUT", "/consent", secret, {"consent": True})
    assert consent.json()["public"] is True
    board = (await tclient.get("/api/board", params={"q": "printer jamming"})).json()
    assert [t["id"] for t in board] == [thread_id]
    assert (await tclient.get("/api/board", params={"q": "rollers"})).json()[0]["id"] == thread_id
    assert (await tclient.get("/api/board", params={"q": "kangaroo"})).json() == []
    public = (await tclient.get(f"/api/board/{thread_id}")).json()
    assert [m["body"] for m in public["messages"]] == ["Printers jam every morning.", "Fixed: new rollers installed."]
    assert all(m["posted_at"] is None for m in public["messages"])
    # The author withdraws consent: off the board at once.
    await thread_call(tclient, "PUT", "/consent", secret, {"consent": False})
    assert (await tclient.get("/api/board")).json() == []
    await signed_in(tclient, "moderator")
    log = (await tclient.get("/api/threads/audit")).json()
    assert [(e["actor"], e["action"]) for e in log] == [("Moderator", "approve-publication")]


async def test_owner_search_covers_all_threads_of_their_services(tclient, db):
    service_id = await _service(db)
    await new_thread(tclient, service_id, title="Laptop battery", body="The batteries die after an hour.")
    await new_thread(tclient, service_id, title="Wiki search", body="Search finds nothing.")
    await signed_in(tclient, "owner")
    found = (await tclient.get("/api/threads", params={"q": "battery"})).json()
    assert [t["title"] for t in found] == ["Laptop battery"]
    assert len((await tclient.get("/api/threads", params={"q": ""})).json()) == 2


# Metrics -------------------------------------------------------------------------------------------


async def test_metrics_per_service(tclient, db):
    service_id = await _service(db)
    first, secret = await new_thread(tclient, service_id, title="One")
    await new_thread(tclient, service_id, title="Two")
    await new_thread(tclient, service_id, title="Three")
    await signed_in(tclient, "owner")
    await tclient.post(f"/api/threads/{first}/messages", json={"body": "On it."})
    await thread_call(tclient, "PUT", "/resolution", secret, {"resolved": True})
    # A second thread was answered late: move its opening day back three days.
    second = await db.fetchval("select id from threads where title = 'Two'")
    await db.execute("update threads set opened_on = opened_on - 3 where id = $1", second)
    await signed_in(tclient, "owner")
    await tclient.post(f"/api/threads/{second}/messages", json={"body": "Sorry for the wait."})
    metrics = (await tclient.get(f"/api/services/{service_id}/thread-metrics")).json()
    assert metrics["opened"] == 3 and metrics["answered"] == 2 and metrics["resolved"] == 1
    assert metrics["acknowledged_within_sla"] == 1  # SLA 24 h: the late one is out
    hours = await db.fetch(
        """select extract(epoch from min(m.posted_at) - (t.opened_on::timestamp at time zone 'UTC')) / 3600 as h
           from threads t join thread_messages m on m.thread_id = t.id and m.from_staff group by t.id""")
    expected = sorted(float(r["h"]) for r in hours)
    assert metrics["median_hours_to_first_answer"] == pytest.approx(sum(expected) / 2, abs=0.01)
    await signed_in(tclient, "member")
    assert (await tclient.get(f"/api/services/{service_id}/thread-metrics")).status_code == 403


# Service-desk webhook --------------------------------------------------------------------------------


async def test_ticket_webhook_is_signed_retried_and_logged(tclient, db, thread_settings):
    service_id = await _service(db)
    thread_id, _ = await new_thread(tclient, service_id, body="Printer jams.")
    await signed_in(tclient, "owner")
    none_yet = await tclient.post(f"/api/threads/{thread_id}/ticket")
    assert none_yet.status_code == 409
    pool = await create_pool(thread_settings)  # the test's own loop (the app runs in another)
    kek = thread_settings.key_encryption_key
    with Receiver([500, 503]) as receiver:
        shared = "a shared secret of the desk"
        put = await tclient.put(f"/api/services/{service_id}/webhook", json={"url": receiver.url, "secret": shared})
        assert put.status_code == 200 and "secret" not in put.json()
        queued = await tclient.post(f"/api/threads/{thread_id}/ticket")
        assert queued.status_code == 202 and queued.json()["state"] == "pending"
        now = datetime.now(UTC) + timedelta(seconds=1)
        assert await logic.deliver_due(pool, kek, now=now, allow_private=True) == 1
        row = await db.fetchrow("select state, attempts, last_status, next_attempt_at from webhook_deliveries")
        assert (row["state"], row["attempts"], row["last_status"]) == ("pending", 1, 500)
        assert row["next_attempt_at"] == now + timedelta(seconds=logic.BACKOFF_SECONDS)
        # Not due yet: nothing is sent.
        assert await logic.deliver_due(pool, kek, now=now + timedelta(seconds=1), allow_private=True) == 0
        now2 = now + timedelta(seconds=logic.BACKOFF_SECONDS)
        await logic.deliver_due(pool, kek, now=now2, allow_private=True)
        row = await db.fetchrow("select state, attempts, last_status, next_attempt_at from webhook_deliveries")
        assert (row["state"], row["attempts"], row["last_status"]) == ("pending", 2, 503)
        assert row["next_attempt_at"] == now2 + timedelta(seconds=2 * logic.BACKOFF_SECONDS)  # back-off doubles
        await logic.deliver_due(pool, kek, now=row["next_attempt_at"], allow_private=True)
        assert await db.fetchval("select state from webhook_deliveries") == "delivered"
    assert len(receiver.requests) == 3
    headers, body = receiver.requests[-1]
    expected = "sha256=" + hmac.new(shared.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers[logic.SIGNATURE_HEADER.lower()], expected)
    payload = json.loads(body)
    assert set(payload) == {"title", "text", "link"}  # the thread's text and link, nothing else
    assert payload["link"].endswith(f"/threads/staff/{thread_id}") and "Printer jams." in payload["text"]
    await pool.close()
    log = (await tclient.get(f"/api/services/{service_id}/webhook")).json()
    assert [(d["state"], d["attempts"]) for d in log["deliveries"]] == [("delivered", 3)]
    # The signing secret is stored encrypted.
    stored = bytes(await db.fetchval("select secret from service_webhooks"))
    assert shared.encode() not in stored


async def test_webhook_gives_up_after_the_last_attempt(tclient, db, thread_settings):
    service_id = await _service(db)
    thread_id, _ = await new_thread(tclient, service_id)
    await signed_in(tclient, "owner")
    pool = await create_pool(thread_settings)
    with Receiver([500] * logic.MAX_ATTEMPTS) as receiver:
        await tclient.put(f"/api/services/{service_id}/webhook", json={"url": receiver.url, "secret": "x" * 16})
        await tclient.post(f"/api/threads/{thread_id}/ticket")
        now = datetime.now(UTC) + timedelta(seconds=1)
        for _ in range(logic.MAX_ATTEMPTS):
            await logic.deliver_due(pool, thread_settings.key_encryption_key, now=now, allow_private=True)
            now = await db.fetchval("select next_attempt_at from webhook_deliveries")
    await pool.close()
    row = await db.fetchrow("select state, attempts from webhook_deliveries")
    assert (row["state"], row["attempts"]) == ("failed", logic.MAX_ATTEMPTS)
    assert len(receiver.requests) == logic.MAX_ATTEMPTS


async def test_only_the_services_owners_configure_its_webhook(tclient, db):
    service_id = await _service(db)
    other = await db.fetchval("insert into services (name) values ('Other') returning id")
    await signed_in(tclient, "owner")
    response = await tclient.put(f"/api/services/{other}/webhook",
                                 json={"url": "http://127.0.0.1:9/x", "secret": "x" * 16})
    assert response.status_code == 403
    bad = await tclient.put(f"/api/services/{service_id}/webhook", json={"url": "ftp://x", "secret": "x" * 16})
    assert bad.status_code == 422


async def test_webhooks_do_not_reach_into_the_servers_own_network(tclient, db, thread_settings):
    """Without CANDOR_WEBHOOK_ALLOW_PRIVATE an owner cannot point the server at loopback,
    private or link-local addresses, neither when setting the webhook nor at delivery."""
    from dataclasses import replace

    from litestar.testing import AsyncTestClient

    from service.app import create_app

    service_id = await _service(db)
    strict = replace(thread_settings, webhook_allow_private=False)
    async with AsyncTestClient(create_app(strict), base_url="http://127.0.0.1:8000") as client:
        await signed_in(client, "owner")
        for url in ("http://127.0.0.1:9/hook", "http://10.1.2.3/hook", "http://169.254.169.254/latest",
                    "http://localhost/hook", "http://[::1]/hook"):
            response = await client.put(f"/api/services/{service_id}/webhook", json={"url": url, "secret": "x" * 16})
            assert response.status_code == 422, url
            assert response.json()["errors"][0]["field"] == "url"
    assert await db.fetchval("select count(*) from service_webhooks") == 0
    assert await logic.refuse_destination("http://127.0.0.1/x", allow_private=True) is None
    # A webhook set while private targets were allowed is refused at delivery once they are not.
    thread_id, _ = await new_thread(tclient, service_id)
    await signed_in(tclient, "owner")
    await tclient.put(f"/api/services/{service_id}/webhook", json={"url": "http://127.0.0.1:9/x", "secret": "x" * 16})
    await tclient.post(f"/api/threads/{thread_id}/ticket")
    pool = await create_pool(thread_settings)
    try:
        await logic.deliver_due(pool, thread_settings.key_encryption_key, now=datetime.now(UTC) + timedelta(seconds=1))
    finally:
        await pool.close()
    row = await db.fetchrow("select state, last_error from webhook_deliveries")
    assert row["state"] == "failed" and "private" in row["last_error"]
