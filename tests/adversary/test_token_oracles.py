"""Attack: learn something from how the server refuses a token.

A prober who holds tokens (their own, or one copied from someone's browser) and can
forge any bytes tries to tell apart: a forged token, a forged token carrying a nonce that
was spent (does the server look the nonce up before checking the signature?), a token of
another wave, a tampered one, and a genuine token that was already spent. Apart from what
RFC 9577 requires — a genuine, spent token is refused as spent — every refusal must be the
same answer: same status, same problem body, same challenge. And a spent token must not be
told apart from an unspent one when the answers are invalid (that refusal comes first).
"""

from __future__ import annotations

import base64
import secrets

import httpx

from crypto.tokens import Token, format_authorization
from service.client import StoredToken, redeem
from tests.integration.wave_helpers import MEMBERS, answers_for, create_wave, token_for
from tests.support import role_email


def _token(stored: StoredToken) -> Token:
    return Token.decode(base64.urlsafe_b64decode(stored.token))


async def _send(client, wave_id: str, token: Token | bytes, answers: dict) -> httpx.Response:
    header = format_authorization(token) if isinstance(token, Token) else (
        "PrivateToken token=" + base64.urlsafe_b64encode(token).decode())
    client.cookies.clear()
    return await client.post(f"/anon/campaigns/{wave_id}/responses", json=answers,
                             headers={"authorization": header})


def _shape(response: httpx.Response) -> tuple:
    return (response.status_code, response.headers.get("content-type"), response.headers.get("www-authenticate"),
            response.content)


async def test_every_invalid_token_gets_the_same_answer(client, db):
    wave = await create_wave(client, db, instrument="pulse", size=8)
    other = await create_wave(client, db, instrument="pulse", size=8, title="Other")
    spent = await token_for(client, wave["id"], role_email("member"))
    assert (await redeem(client, spent, answers_for("pulse"))).status_code == 201
    fresh = await token_for(client, wave["id"], MEMBERS[0])
    foreign = await token_for(client, other["id"], MEMBERS[0])
    genuine = _token(fresh)

    forged = Token(genuine.token_type, secrets.token_bytes(32), genuine.challenge_digest, genuine.token_key_id,
                   secrets.token_bytes(len(genuine.authenticator)))
    forged_spent_nonce = Token(genuine.token_type, _token(spent).nonce, genuine.challenge_digest,
                               genuine.token_key_id, forged.authenticator)
    flipped = bytearray(genuine.authenticator)
    flipped[-1] ^= 1
    tampered = Token(genuine.token_type, genuine.nonce, genuine.challenge_digest, genuine.token_key_id,
                     bytes(flipped))
    wrong_digest = Token(genuine.token_type, genuine.nonce, secrets.token_bytes(32), genuine.token_key_id,
                         genuine.authenticator)
    attempts = {
        "forged": forged,
        "forged with a spent nonce": forged_spent_nonce,
        "tampered": tampered,
        "another wave's token": _token(foreign),
        "another challenge": wrong_digest,
        "truncated": genuine.encode()[:-7],
        "garbage": secrets.token_bytes(40),
    }
    answers = answers_for("pulse")
    shapes = {name: _shape(await _send(client, wave["id"], token, answers)) for name, token in attempts.items()}
    reference = shapes["forged"]
    assert reference[0] == 401 and reference[2].startswith("PrivateToken ")
    for name, shape in shapes.items():
        assert shape == reference, f"{name} is refused differently from a plain forgery: {shape} vs {reference}"

    # Nothing was spent by any of it: the genuine token still works, once.
    assert (await redeem(client, fresh, answers)).status_code == 201
    # The one distinction RFC 9577 asks for: a genuine token spent twice.
    again = await redeem(client, fresh, answers)
    assert again.status_code == 409 and again.json()["type"] == "/problems/token-spent"


async def test_invalid_answers_do_not_reveal_whether_a_token_was_spent(client, db):
    wave = await create_wave(client, db, instrument="pulse", size=8)
    spent = await token_for(client, wave["id"], role_email("member"))
    assert (await redeem(client, spent, answers_for("pulse"))).status_code == 201
    unspent = await token_for(client, wave["id"], MEMBERS[1])
    invalid = answers_for("pulse", value=99)

    refused_spent = await _send(client, wave["id"], _token(spent), invalid)
    refused_unspent = await _send(client, wave["id"], _token(unspent), invalid)
    assert refused_spent.status_code == 422
    assert _shape(refused_spent) == _shape(refused_unspent)
    assert (await redeem(client, unspent, answers_for("pulse"))).status_code == 201


async def test_every_invalid_thread_token_gets_the_same_answer(client, db):
    from service.client import open_thread
    from service.threads import new_secret
    from tests.integration.thread_helpers import thread_token

    service_id = str(await db.fetchval("insert into services (name) values ('Print') returning id"))
    genuine = await thread_token(client, "member")

    async def attempt(token: Token) -> httpx.Response:
        client.cookies.clear()
        return await open_thread(client, token, service_id=service_id, category="problem", title="Jams",
                                 body="It jams.", secret=new_secret())

    assert (await attempt(genuine)).status_code == 201

    def variant(**change) -> Token:
        fields = {"token_type": genuine.token_type, "nonce": genuine.nonce,
                  "challenge_digest": genuine.challenge_digest, "token_key_id": genuine.token_key_id,
                  "authenticator": genuine.authenticator, **change}
        return Token(**fields)

    attempts = {
        "forged": variant(nonce=secrets.token_bytes(32), authenticator=secrets.token_bytes(256)),
        "forged with the spent nonce": variant(authenticator=secrets.token_bytes(256)),
        "unknown key": variant(token_key_id=secrets.token_bytes(32)),
    }
    shapes = {name: _shape(await attempt(token)) for name, token in attempts.items()}
    reference = shapes["forged"]
    assert reference[0] == 401
    for name, shape in shapes.items():
        assert shape == reference, f"{name}: {shape} vs {reference}"
    again = await attempt(genuine)
    assert again.status_code == 409 and again.json()["type"] == "/problems/token-spent"
