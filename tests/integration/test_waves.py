"""Survey waves end to end: eligibility → blind token → anonymous submission."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest

from crypto.tokens import Token, format_authorization, parse_www_authenticate
from service.auth import SESSION_COOKIE
from service.client import StoredToken, fetch_token_key, redeem
from tests.integration.wave_helpers import MEMBERS, answers_for, create_wave, token_for
from tests.support import login, role_email


async def test_full_flow_with_receipt(client, db):
    wave = await create_wave(client, db, instrument="servqual")
    assert wave["status"] == "open" and len(wave["token_key_id"]) == 64
    stored = await token_for(client, wave["id"], role_email("member"))
    answers = answers_for("servqual")
    answers["items"]["q07"]["perception"] = 2
    answers["comments"] = {"general": "The desk is friendly but slow."}
    response = await redeem(client, stored, answers)
    assert response.status_code == 201, response.text
    receipt = response.json()["receipt"]
    # The receipt names the wave (in its URL) and no date: no time finer than the wave.
    assert set(response.json()) == {"receipt", "response_id"}
    check = await client.get(f"/anon/campaigns/{wave['id']}/receipts/{receipt}")
    assert check.status_code == 200
    body = check.json()
    assert body["verified"] is True
    assert body["answers"]["items"]["q07"] == {"expectation": 5, "perception": 2}
    assert body["answers"]["comments"] == {"general": "The desk is friendly but slow."}
    assert body["answers"]["importance"] == answers["importance"]
    assert (await client.get(f"/anon/campaigns/{wave['id']}/receipts/{'0' * 64}")).status_code == 404


async def test_token_key_is_public_and_consistent(client, db):
    wave = await create_wave(client, db)
    client.cookies.clear()
    response = await client.get(f"/api/campaigns/{wave['id']}/token-key")
    assert response.status_code == 200
    body = response.json()
    assert body["token-type"] == 2
    assert body["token-key-id"] == wave["token_key_id"]
    assert body["issuer-name"] == "localhost"
    key = await fetch_token_key(client, wave["id"], expected_key_id=wave["token_key_id"])
    assert key.token_key_id.hex() == wave["token_key_id"]


async def test_second_issuance_is_refused(client, db):
    wave = await create_wave(client, db)
    await token_for(client, wave["id"], role_email("member"))
    with pytest.raises(Exception, match="409"):
        await token_for(client, wave["id"], role_email("member"))
    assert await db.fetchval("select count(*) from token_issuances") == 1


async def test_non_member_is_refused(client, db):
    wave = await create_wave(client, db)
    with pytest.raises(Exception, match="403"):
        await token_for(client, wave["id"], role_email("owner"))


async def test_malformed_token_requests(client, db):
    wave = await create_wave(client, db)
    client.cookies.clear()
    csrf = await login(client, "member")
    url = f"/api/campaigns/{wave['id']}/token-requests"
    headers = {"content-type": "application/private-token-request", "x-csrf-token": csrf}
    short = await client.post(url, content=b"\x00\x02\x01", headers=headers)
    assert short.status_code == 400 and short.headers["content-type"] == "application/problem+json"
    key_id = bytes.fromhex(wave["token_key_id"])
    wrong_key = await client.post(url, content=b"\x00\x02" + bytes([key_id[-1] ^ 1]) + b"\x01" * 256, headers=headers)
    assert wrong_key.status_code == 400
    assert "key" in wrong_key.json()["detail"]
    wrong_type = await client.post(url, content=b"\x00\x02\x00", headers={**headers, "content-type": "application/json"})
    assert wrong_type.status_code == 415
    # None of these used up the member's one token.
    assert await db.fetchval("select count(*) from token_issuances") == 0


async def test_double_spend_is_refused(client, db):
    wave = await create_wave(client, db)
    stored = await token_for(client, wave["id"], role_email("member"))
    first = await redeem(client, stored, answers_for("pulse"))
    assert first.status_code == 201
    again = await redeem(client, stored, answers_for("pulse", 3))
    assert again.status_code == 409
    assert again.json()["type"] == "/problems/token-spent"
    assert await db.fetchval("select count(*) from responses") == 1


async def test_fifty_concurrent_redemptions_exactly_one_wins(client, db, settings):
    wave = await create_wave(client, db)
    stored = await token_for(client, wave["id"], role_email("member"))
    header = format_authorization(Token.decode(_decode(stored.token)))
    url = f"/anon/campaigns/{wave['id']}/responses"

    async def attempt():
        return (await client.post(url, json=answers_for("pulse"), headers={"authorization": header})).status_code

    statuses = await asyncio.gather(*(attempt() for _ in range(50)))
    assert sorted(statuses) == [201] + [409] * 49
    assert await db.fetchval("select count(*) from responses") == 1
    assert await db.fetchval("select count(*) from spent_tokens") == 1


def _decode(text: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


async def test_invalid_answers_leave_the_token_unspent(client, db):
    wave = await create_wave(client, db)
    stored = await token_for(client, wave["id"], role_email("member"))
    bad = answers_for("pulse")
    bad["items"]["q07"]["perception"] = 9
    del bad["items"]["q11"]
    rejected = await redeem(client, stored, bad)
    assert rejected.status_code == 422
    fields = {e["field"] for e in rejected.json()["errors"]}
    assert {"items.q07.perception", "items.q11"} <= fields or any(f.startswith("items.q11") for f in fields)
    assert await db.fetchval("select count(*) from spent_tokens") == 0
    fixed = await redeem(client, stored, answers_for("pulse"))
    assert fixed.status_code == 201


async def test_missing_and_invalid_tokens_get_a_challenge(client, db):
    wave = await create_wave(client, db)
    url = f"/anon/campaigns/{wave['id']}/responses"
    client.cookies.clear()
    for headers in ({}, {"authorization": "Bearer abc"}, {"authorization": 'PrivateToken token="AAAA"'}):
        response = await client.post(url, json=answers_for("pulse"), headers=headers)
        assert response.status_code == 401, headers
        challenges = parse_www_authenticate(response.headers["www-authenticate"])
        assert len(challenges) == 1
        key = await fetch_token_key(client, wave["id"])
        assert challenges[0].token_key == key.token_key
        assert challenges[0].challenge_bytes == key.challenge


async def test_forged_wrong_key_and_wrong_wave_tokens(client, db):
    wave = await create_wave(client, db, title="A")
    other = await create_wave(client, db, title="B")
    stored = await token_for(client, wave["id"], role_email("member"))
    raw = bytearray(_decode(stored.token))
    # Forged: a flipped bit in the authenticator.
    forged = bytes(raw[:-1]) + bytes([raw[-1] ^ 1])
    # Truncated.
    truncated = bytes(raw[:-10])
    url = f"/anon/campaigns/{wave['id']}/responses"
    for token in (forged, truncated):
        header = 'PrivateToken token="' + __import__("base64").urlsafe_b64encode(token).decode() + '"'
        assert (await client.post(url, json=answers_for("pulse"), headers={"authorization": header})).status_code == 401
    # Wrong wave: a valid token of wave A offered to wave B (another key and challenge).
    other_url = f"/anon/campaigns/{other['id']}/responses"
    header = format_authorization(Token.decode(bytes(raw)))
    assert (await client.post(other_url, json=answers_for("pulse"), headers={"authorization": header})).status_code == 401
    # The genuine token still works where it belongs.
    assert (await redeem(client, stored, answers_for("pulse"))).status_code == 201


async def test_client_refuses_a_changed_key(client, db):
    wave = await create_wave(client, db)
    stored = await token_for(client, wave["id"], role_email("member"))
    tampered = StoredToken(campaign_id=stored.campaign_id, token_key_id="00" * 32, token=stored.token)
    with pytest.raises(Exception, match="changed"):
        await redeem(client, tampered, answers_for("pulse"))


async def test_closed_wave_accepts_nothing(client, db):
    wave = await create_wave(client, db)
    stored = await token_for(client, wave["id"], role_email("member"))
    client.cookies.clear()
    await login(client, "manager")
    closed = await client.post(f"/api/campaigns/{wave['id']}/close")
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    response = await redeem(client, stored, answers_for("pulse"))
    assert response.status_code == 409
    assert response.json()["type"] == "/problems/campaign-closed"
    with pytest.raises(Exception, match="409"):
        await token_for(client, wave["id"], MEMBERS[0])
    assert (await client.post(f"/api/campaigns/{wave['id']}/close")).status_code in (401, 403, 409)


async def test_anonymous_endpoint_ignores_cookies(client, db):
    wave = await create_wave(client, db)
    stored = await token_for(client, wave["id"], role_email("member"))
    # A session cookie (and a bogus CSRF header) sent along changes nothing and is never read.
    assert client.cookies.get(SESSION_COOKIE)
    header = format_authorization(Token.decode(_decode(stored.token)))
    response = await client.post(f"/anon/campaigns/{wave['id']}/responses", json=answers_for("pulse"),
                                 headers={"authorization": header, "x-csrf-token": "nonsense"})
    assert response.status_code == 201
    assert "set-cookie" not in response.headers
    assert response.headers["cache-control"] == "no-store"
    last_seen = await db.fetchval("select last_seen_at from sessions")
    await client.post(f"/anon/campaigns/{wave['id']}/responses", json=answers_for("pulse"),
                      headers={"authorization": header})
    assert await db.fetchval("select last_seen_at from sessions") == last_seen


async def test_opening_needs_an_audience_of_k(client, db):
    wave = await create_wave(client, db, size=4, k_scores=5, open_it=False)
    response = await client.post(f"/api/campaigns/{wave['id']}/open")
    assert response.status_code == 409
    assert "fewer than k_scores" in response.json()["detail"]
    assert (await client.get(f"/api/campaigns/{wave['id']}")).json()["status"] == "draft"
    assert await db.fetchval("select count(*) from campaign_audience") == 0


async def test_k_never_below_three(client, db):
    with pytest.raises(AssertionError):
        await create_wave(client, db, k_scores=2)


async def test_manifest_is_frozen_after_opening(client, db):
    wave = await create_wave(client, db)
    manifest = (await client.get(f"/api/campaigns/{wave['id']}/manifest")).json()
    assert manifest["manifest"]["token_key_id"] == wave["token_key_id"]
    assert manifest["manifest"]["k_scores"] == 5 and manifest["manifest"]["audience_size"] == 7
    patched = await client.patch(f"/api/campaigns/{wave['id']}", json={"k_scores": 3})
    assert patched.status_code == 409
    import asyncpg

    for statement in (
        "update campaigns set k_scores = 3",
        "update campaigns set token_key_id = sha256('x')",
        "update campaigns set status = 'draft'",
    ):
        with pytest.raises(asyncpg.IntegrityConstraintViolationError):
            await db.execute(statement)
    # The audience was snapshotted: a later group change does not make anyone eligible.
    owner = await db.fetchval("select id from accounts where email = $1", role_email("owner"))
    await db.execute("insert into group_members select audience_group_id, $1 from campaigns", owner)
    with pytest.raises(Exception, match="403"):
        await token_for(client, wave["id"], role_email("owner"))


async def test_draft_can_be_edited(client, db):
    wave = await create_wave(client, db, open_it=False)
    assert wave["token_key_id"] is None
    edited = await client.patch(f"/api/campaigns/{wave['id']}", json={"title": "Autumn pulse", "k_comments": 12})
    assert edited.status_code == 200
    assert (edited.json()["title"], edited.json()["k_comments"]) == ("Autumn pulse", 12)
    backwards = await client.patch(f"/api/campaigns/{wave['id']}",
                                   json={"closes_on": str(date.today() - timedelta(days=1))})
    assert backwards.status_code == 422
    assert backwards.json()["errors"][0]["field"] == "closes_on"
    ghost = await client.patch(f"/api/campaigns/{wave['id']}", json={"instrument_id": "no-such"})
    assert ghost.json()["errors"][0]["field"] == "instrument_id"
    # A token key for a draft does not exist.
    assert (await client.get(f"/api/campaigns/{wave['id']}/token-key")).status_code == 404


async def test_wave_not_yet_open_issues_nothing(client, db):
    start = date.today() + timedelta(days=3)
    wave = await create_wave(client, db, opens_on=str(start), closes_on=str(start + timedelta(days=7)))
    with pytest.raises(Exception, match="409"):
        await token_for(client, wave["id"], role_email("member"))


async def test_progress_is_suppressed_below_k(client, db):
    wave = await create_wave(client, db)
    url = f"/api/campaigns/{wave['id']}/progress"
    tokens = [await token_for(client, wave["id"], email) for email in [role_email("member"), *MEMBERS[:4]]]
    client.cookies.clear()
    await login(client, "manager")
    body = (await client.get(url)).json()
    assert (body["tokens_issued"], body["responses"], body["k"]) == (5, None, 5)
    assert "rounded down to whole multiples of k = 5" in body["rounding"]
    for stored in tokens[:4]:
        assert (await redeem(client, stored, answers_for("pulse"))).status_code == 201
    assert (await client.get(url)).json()["responses"] is None
    assert (await redeem(client, tokens[4], answers_for("pulse"))).status_code == 201
    assert (await client.get(url)).json()["responses"] == 5
    client.cookies.clear()
    await login(client, "owner")
    assert (await client.get(url)).status_code == 200
    client.cookies.clear()
    await login(client, "member")
    assert (await client.get(url)).status_code == 403


async def test_members_see_only_their_open_waves(client, db):
    wave = await create_wave(client, db)
    await create_wave(client, db, open_it=False, title="Draft")
    client.cookies.clear()
    await login(client, "member")
    listed = (await client.get("/api/campaigns")).json()
    assert [w["id"] for w in listed] == [wave["id"]]
    client.cookies.clear()
    await login(client, "moderator")
    assert (await client.get("/api/campaigns")).json() == []
    assert (await client.get(f"/api/campaigns/{wave['id']}")).status_code == 404


async def test_waves_past_their_last_day_are_closed_by_housekeeping(client, db, database_url):
    from types import SimpleNamespace

    import asyncpg

    from service.waves import close_expired_waves

    past = date.today() - timedelta(days=10)
    wave = await create_wave(client, db, opens_on=str(past), closes_on=str(past + timedelta(days=9)))
    current = await create_wave(client, db, title="Current")
    assert wave["status"] == "open"
    with pytest.raises(Exception, match="409"):
        await token_for(client, wave["id"], role_email("member"))
    # The job as a replica's loop runs it, on a pool of its own.
    async with asyncpg.create_pool(database_url, min_size=1, max_size=2) as pool:
        app = SimpleNamespace(state=SimpleNamespace(pool=pool))
        closed = await close_expired_waves(app)
        assert [str(c) for c in closed] == [wave["id"]]
        assert await close_expired_waves(app) == []
    statuses = dict(await db.fetch("select id::text, status from campaigns"))
    assert statuses == {wave["id"]: "closed", current["id"]: "open"}


async def test_a_waves_audience_group_cannot_be_deleted(client, db):
    wave = await create_wave(client, db)
    client.cookies.clear()
    await login(client, "admin")
    response = await client.delete(f"/api/groups/{wave['audience_group_id']}")
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert "audience" in response.json()["detail"]
    assert await db.fetchval("select count(*) from groups where id = $1::uuid", wave["audience_group_id"]) == 1


async def test_malformed_answers_body_leaves_the_token_unspent(client, db):
    wave = await create_wave(client, db)
    stored = await token_for(client, wave["id"], role_email("member"))
    header = format_authorization(Token.decode(_decode(stored.token)))
    url = f"/anon/campaigns/{wave['id']}/responses"
    broken = await client.post(url, content=b'{"items": ', headers={"authorization": header,
                                                                    "content-type": "application/json"})
    assert broken.status_code == 400 and broken.json()["type"] == "/problems/malformed-body"
    not_object = await client.post(url, json=["items"], headers={"authorization": header})
    assert not_object.status_code == 422
    wrong_type = await client.post(url, content=b"items=1", headers={"authorization": header,
                                                                     "content-type": "text/plain"})
    assert wrong_type.status_code == 415
    assert await db.fetchval("select count(*) from spent_tokens") == 0
    assert (await redeem(client, stored, answers_for("pulse"))).status_code == 201
