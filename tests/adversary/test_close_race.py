"""Attack: a submission that races the close of a wave.

Closing a wave freezes its results: every reader of the closed wave, on every replica,
must see the same responses. A submission that read the wave as open just before the
close must therefore either commit before the close (and be in the results) or be
refused; it must never land in the wave after the close has committed, where one
replica's cached report would lack it and another's would have it (a one-person
difference, which is what the k-threshold forbids).
"""

from __future__ import annotations

import asyncio

import asyncpg
import httpx

from service.client import redeem
from service.queries import campaigns as q
from tests.integration.wave_helpers import MEMBERS, answers_for, create_wave, token_for
from tests.support import role_email


async def test_a_submission_racing_the_close_waits_for_it_and_is_refused(client, db, database_url, live_server):
    wave = await create_wave(client, db, instrument="pulse", size=8)
    wave_id = wave["id"]
    token = await token_for(client, wave_id, role_email("member"))
    early = await token_for(client, wave_id, MEMBERS[0])
    assert (await redeem(client, early, answers_for("pulse"))).status_code == 201

    # The racing submission goes to a real server (the in-process test client would block
    # this event loop while the app waits on the database).
    closer = await asyncpg.connect(database_url)
    http = httpx.AsyncClient(base_url=live_server, timeout=60)
    try:
        transaction = closer.transaction()
        await transaction.start()
        await q.close_campaign(closer, campaign_id=wave_id)
        # The close is decided but not committed: the racing submission must wait for it,
        # not slip in under the old status.
        submission = asyncio.ensure_future(redeem(http, token, answers_for("pulse")))
        done, _ = await asyncio.wait({submission}, timeout=1.0)
        assert not done, f"a submission committed into a wave being closed: {submission.result().status_code}"
        await transaction.commit()
        answer = await asyncio.wait_for(submission, timeout=30)
    finally:
        await http.aclose()
        await closer.close()

    assert answer.status_code == 409, answer.text
    assert answer.json()["type"] == "/problems/campaign-closed"
    assert await db.fetchval("select count(*) from responses where campaign_id = $1", wave_id) == 1
    assert await db.fetchval("select count(*) from spent_tokens where campaign_id = $1", wave_id) == 1
