"""Closed waves' reports stored once (service.report_snapshots, migration 0017).

What it must keep: a stored report is served as it was computed — the same JSON in a
fresh process, without reading the responses again —; one made by other code, or in
another context (a different previous wave), is never served; a damaged one is computed
again rather than trusted or failing; the background builder makes every language's
report of a closed wave and leaves a wave another replica is building alone.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from types import SimpleNamespace

import asyncpg
import msgspec
import pytest
from litestar.testing import AsyncTestClient

from analysis.report_types import Suppressed, SuppressedRow
from service import report_snapshots as snapshots
from service.app import app_state, create_app
from service.client import redeem
from service.db import create_pool
from service.i18n import SUPPORTED
from service.reports import WaveReport, report_builder
from tests.integration.wave_helpers import MEMBERS, answers_for, create_wave, token_for
from tests.support import login, role_email

EIGHT = [role_email("member"), *MEMBERS]


async def _closed_wave(client, db, *, size: int = 8, title: str = "Spring survey", first: dict | None = None) -> dict:
    if first is None:
        wave = await create_wave(client, db, instrument="servqual", size=size, k_comments=5, title=title)
    else:
        today = date.today()
        body = {"title": title, "service_id": first["service"]["id"], "instrument_id": "servqual",
                "audience_group_id": first["audience_group_id"], "opens_on": str(today),
                "closes_on": str(today + timedelta(days=30)), "k_scores": 5, "k_comments": 5}
        created = await client.post("/api/campaigns", json=body)
        assert created.status_code == 201, created.text
        wave = (await client.post(f"/api/campaigns/{created.json()['id']}/open")).json()
    for i, email in enumerate(EIGHT[:size]):
        stored = await token_for(client, wave["id"], email)
        answers = answers_for("servqual", 1 + i % 7)
        answers["comments"] = {"general": f"Comment number {i} about the desk"}
        assert (await redeem(client, stored, answers)).status_code == 201
    client.cookies.clear()
    await login(client, "manager")
    assert (await client.post(f"/api/campaigns/{wave['id']}/close")).status_code == 200
    return wave


async def _stored(db: asyncpg.Connection, wave_id: str) -> dict[str, tuple[str, str]]:
    rows = await db.fetch("select language, version, context from report_snapshots where campaign_id = $1", wave_id)
    return {r["language"]: (r["version"], r["context"]) for r in rows}


async def test_a_stored_report_is_served_by_a_fresh_process_without_the_responses(client, db, settings):
    wave = await _closed_wave(client, db)
    first = await client.get(f"/api/campaigns/{wave['id']}/report")
    assert first.status_code == 200, first.text
    stored = await _stored(db, wave["id"])
    assert stored["en"][0] == snapshots.code_version()

    # The responses are gone (only a test can do this): a fresh process must serve the stored report, unchanged.
    await db.execute("delete from responses where campaign_id = $1", wave["id"])
    async with AsyncTestClient(create_app(settings), base_url="http://127.0.0.1:8000") as fresh:
        await login(fresh, "manager")
        again = await fresh.get(f"/api/campaigns/{wave['id']}/report")
        assert again.status_code == 200, again.text
        assert again.content == first.content

        # A snapshot made by other code is not served: computed again, from what is stored now (nothing).
        await db.execute("update report_snapshots set version = 'older code' where campaign_id = $1", wave["id"])
    async with AsyncTestClient(create_app(settings), base_url="http://127.0.0.1:8000") as fresh:
        await login(fresh, "manager")
        recomputed = await fresh.get(f"/api/campaigns/{wave['id']}/report")
        assert recomputed.status_code == 200, recomputed.text
        assert recomputed.json()["n"] != first.json()["n"]
    assert (await _stored(db, wave["id"]))["en"][0] == snapshots.code_version()


async def test_a_damaged_snapshot_is_computed_again(client, db, settings):
    wave = await _closed_wave(client, db)
    first = await client.get(f"/api/campaigns/{wave['id']}/report")
    assert first.status_code == 200
    for body in (b"\xc1 not msgpack", msgspec.msgpack.encode({"n": 8}), msgspec.msgpack.encode([1, 2, 3])):
        await db.execute("update report_snapshots set body = $2 where campaign_id = $1", wave["id"], body)
        async with AsyncTestClient(create_app(settings), base_url="http://127.0.0.1:8000") as fresh:
            await login(fresh, "manager")
            again = await fresh.get(f"/api/campaigns/{wave['id']}/report")
            assert again.status_code == 200, again.text
            assert again.json()["n"] == first.json()["n"] and again.json()["items"] == first.json()["items"]
        assert await db.fetchval("select body from report_snapshots where campaign_id = $1 and language = 'en'",
                                 wave["id"]) != body  # stored again, whole


async def test_a_snapshot_from_another_context_is_not_served(client, db, settings):
    first = await _closed_wave(client, db)
    second = await _closed_wave(client, db, first=first, title="Autumn survey")
    assert (await client.get(f"/api/campaigns/{first['id']}/report")).status_code == 200
    report = (await client.get(f"/api/campaigns/{second['id']}/report")).json()
    assert report["summary"]["change"]["previous_wave_id"] == first["id"]
    assert (await _stored(db, second["id"]))["en"][1] == snapshots.context_key(first["id"], 8)
    # Stored as if made when the second wave had no previous wave (the first closed later with an earlier
    # closing date): a valid report, of the same code, but of another context. It must not be served.
    first_body = await db.fetchval("select body from report_snapshots where campaign_id = $1 and language = 'en'",
                                   first["id"])
    assert first_body is not None
    await db.execute("update report_snapshots set body = $2, context = $3 where campaign_id = $1 and language = 'en'",
                     second["id"], first_body, snapshots.context_key(None, 8))
    async with AsyncTestClient(create_app(settings), base_url="http://127.0.0.1:8000") as fresh:
        await login(fresh, "manager")
        again = (await fresh.get(f"/api/campaigns/{second['id']}/report")).json()
    assert {**again, "comments": None} == {**report, "comments": None}  # comments are shuffled anew
    assert (await _stored(db, second["id"]))["en"][1] == snapshots.context_key(first["id"], 8)


async def test_every_struct_of_a_report_survives_the_round_trip(client, db):
    wave = await _closed_wave(client, db)
    response = await client.get(f"/api/campaigns/{wave['id']}/report")
    body = await db.fetchval("select body from report_snapshots where campaign_id = $1 and language = 'en'", wave["id"])
    decoded = snapshots.decode(body, WaveReport)
    assert msgspec.json.encode(decoded) == response.content
    # Suppressed rows and markers decode as themselves (untagged unions told apart by their fields).
    row = SuppressedRow.below(5, "q01", dimension="reliability")
    hidden = msgspec.structs.replace(decoded, comments=Suppressed(reason="fewer than k=5 responses"),
                                     items=(row, *decoded.items[1:]))
    again = snapshots.decode(snapshots.encode(hidden), WaveReport)
    assert msgspec.json.encode(again) == msgspec.json.encode(hidden)
    assert isinstance(again.items[0], SuppressedRow) and isinstance(again.comments, Suppressed)
    with pytest.raises(ValueError):
        snapshots.decode(msgspec.msgpack.encode({"items": [{"unknown": 1}]}), WaveReport)


async def test_the_builder_makes_every_language_and_skips_a_wave_being_built(db, settings, database_url):
    quiet = replace(settings, disabled_jobs=frozenset({"report_builder"}))  # this test runs the job itself
    async with AsyncTestClient(create_app(quiet), base_url="http://127.0.0.1:8000") as client:
        wave = await _closed_wave(client, db)
        other = await _closed_wave(client, db, first=wave, title="Autumn survey")
    assert await _stored(db, wave["id"]) == {} and await _stored(db, other["id"]) == {}
    state = app_state(settings)
    state.pool = await create_pool(quiet)
    app = SimpleNamespace(state=state)
    build = report_builder()
    holder = await asyncpg.connect(database_url)
    try:
        async with holder.transaction():  # another replica is building the newer wave's English report
            await holder.fetchval("select pg_try_advisory_xact_lock(hashtext('report:' || $1 || ':en'))",
                                  other["id"])
            made = sum([await build(app) for _ in range(4)])
            assert set(await _stored(db, wave["id"])) == set(SUPPORTED)
            assert set(await _stored(db, other["id"])) == set(SUPPORTED) - {"en"}
        made += await build(app)
        assert set(await _stored(db, other["id"])) == set(SUPPORTED)
        assert made == 2 * len(SUPPORTED)
        assert await build(app) == 0  # nothing left to make
    finally:
        await holder.close()
        await state.pool.close()
