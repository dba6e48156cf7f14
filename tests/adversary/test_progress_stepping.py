"""Attack: watch `/progress` of an open wave before and after each single submission (or
token issuance). An exact count that moves by one tells the watcher that someone just
answered; with a sign-in log, who. The counts may only move when a whole multiple of k
is crossed, and then by k.
"""

from __future__ import annotations

from service.client import redeem
from tests.integration.wave_helpers import MEMBERS, answers_for, create_wave, token_for
from tests.support import login, role_email

K = 3


async def _progress(client, wave_id: str) -> bytes:
    client.cookies.clear()
    await login(client, "manager")
    response = await client.get(f"/api/campaigns/{wave_id}/progress")
    assert response.status_code == 200, response.text
    return response.content


async def test_progress_moves_only_in_whole_multiples_of_k(client, db):
    wave = await create_wave(client, db, instrument="pulse", size=8, k_scores=K)
    wave_id = wave["id"]
    emails = [role_email("member"), *MEMBERS]

    tokens = []
    seen = await _progress(client, wave_id)
    for issued, email in enumerate(emails, start=1):
        tokens.append(await token_for(client, wave_id, email))
        now = await _progress(client, wave_id)
        if issued % K:
            assert now == seen, f"progress changed after token {issued} without crossing a multiple of {K}"
        else:
            assert now != seen
        seen = now

    for answered, stored in enumerate(tokens, start=1):
        assert (await redeem(client, stored, answers_for("pulse"))).status_code == 201
        now = await _progress(client, wave_id)
        if answered % K:
            assert now == seen, f"progress changed after response {answered} without crossing a multiple of {K}"
        else:
            assert now != seen
        seen = now

    # Eight issued and eight answered, shown as "at least 6" with the rounding said plainly.
    client.cookies.clear()
    await login(client, "owner")
    body = (await client.get(f"/api/campaigns/{wave_id}/progress")).json()
    assert body["tokens_issued"] == 6 and body["responses"] == 6 and body["k"] == K
    assert "rounded down" in body["rounding"]


async def test_below_k_progress_says_only_fewer_than_k(client, db):
    wave = await create_wave(client, db, instrument="pulse", size=8, k_scores=5)
    stored = [await token_for(client, wave["id"], email) for email in [role_email("member"), *MEMBERS[:3]]]
    for one in stored:
        assert (await redeem(client, one, answers_for("pulse"))).status_code == 201
    client.cookies.clear()
    await login(client, "manager")
    body = (await client.get(f"/api/campaigns/{wave['id']}/progress")).json()
    assert body["tokens_issued"] is None and body["responses"] is None and body["k"] == 5
