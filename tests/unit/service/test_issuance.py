"""The one issuer behind waves and threads (service.issuance), without a database.

What it must keep: every stored key still opens (the associated data is byte-for-byte
what the two old implementations wrote), a key copied into another wave's or month's
row never opens — not even when the original is already in the cache —, both kinds
speak the same RFC 9578 wire format, a batch is signed all or nothing, every invalid
token is refused alike, and the cache stays bounded.
"""

from __future__ import annotations

import asyncio
import secrets
from datetime import date
from uuid import UUID, uuid4

import msgspec
import pytest

from crypto.blindrsa import SigningKey
from crypto.keys import KeyDecryptionError, encrypt_private_key, generate_issuer_key, spki_from_public_key, token_key_id
from crypto.tokens import (
    TOKEN_TYPE_BLIND_RSA,
    Token,
    TokenChallenge,
    TokenRequest,
    create_token_request,
    finalize_token,
    format_authorization,
    parse_www_authenticate,
)
from service.errors import Problem
from service.issuance import (
    THREAD_PERIOD,
    TOKEN_REQUEST_LEN,
    WAVE,
    Issuer,
    IssuerKey,
    generate_keys,
    private_key,
    publish_key,
    read_token_requests,
)

KEK = bytes(range(32))
MAY = date(2024, 5, 1)
ISSUER_NAME = "candor.example"


# Made once per module (RSA key generation is the slow part), outside any test's loop.
@pytest.fixture(scope="module")
def wave_key() -> IssuerKey[UUID]:
    return asyncio.run(generate_keys(WAVE, uuid4(), issuer_name=ISSUER_NAME, kek=KEK))


@pytest.fixture(scope="module")
def thread_key() -> IssuerKey[date]:
    return asyncio.run(generate_keys(THREAD_PERIOD, MAY, issuer_name=ISSUER_NAME, kek=KEK))


def _requests(key: IssuerKey, count: int):
    return [create_token_request(key.token_key, key.challenge) for _ in range(count)]


# Stored keys keep opening ----------------------------------------------------------------------


def test_the_associated_data_is_what_the_stored_rows_were_wrapped_with():
    # The two formulas the old waves.py and threads.py used, copied verbatim: every key
    # already in a database was encrypted under exactly these bytes.
    campaign_id, key_id = uuid4(), secrets.token_bytes(32)
    assert WAVE.aad(campaign_id, key_id) == b"candor-issuer-key\x00" + campaign_id.bytes + key_id
    assert THREAD_PERIOD.aad(MAY, key_id) == b"candor-thread-key\x00" + MAY.isoformat().encode() + key_id


def test_a_key_wrapped_by_the_old_code_opens():
    generated = generate_issuer_key()
    spki = spki_from_public_key(generated.public_key())
    key_id = token_key_id(spki)
    campaign_id = uuid4()
    blob = encrypt_private_key(generated, KEK, b"candor-issuer-key\x00" + campaign_id.bytes + key_id)
    stored = IssuerKey(kind=WAVE, owner=campaign_id, token_key=spki, token_key_id=key_id, challenge=b"",
                       private_key=blob)
    assert private_key(stored, KEK).private_numbers() == generated.private_numbers()


def test_an_owner_of_the_wrong_type_is_refused():
    with pytest.raises(TypeError):
        WAVE.aad(MAY, secrets.token_bytes(32))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        THREAD_PERIOD.aad(uuid4(), secrets.token_bytes(32))  # type: ignore[arg-type]


# A key copied into another row ---------------------------------------------------------------


async def test_a_wave_key_copied_to_another_wave_does_not_open(wave_key):
    copied = msgspec.structs.replace(wave_key, owner=uuid4())
    with pytest.raises(KeyDecryptionError):
        private_key(copied, KEK)
    # Not even once the original is unwrapped and cached: the cache is keyed by row, not by key id.
    issuer = Issuer(KEK)
    request, _ = create_token_request(wave_key.token_key, wave_key.challenge)
    assert len(await issuer.issue(wave_key, [request])) == 256
    with pytest.raises(KeyDecryptionError):
        await issuer.issue(copied, [request])


async def test_a_thread_key_copied_to_another_month_or_kind_does_not_open(thread_key):
    issuer = Issuer(KEK)
    request, _ = create_token_request(thread_key.token_key, thread_key.challenge)
    await issuer.issue(thread_key, [request])
    for copied in (msgspec.structs.replace(thread_key, owner=date(2024, 6, 1)),
                   IssuerKey(kind=WAVE, owner=uuid4(), token_key=thread_key.token_key,
                             token_key_id=thread_key.token_key_id, challenge=thread_key.challenge,
                             private_key=thread_key.private_key)):
        with pytest.raises(KeyDecryptionError):
            await issuer.issue(copied, [request])


async def test_another_key_encryption_key_does_not_open(wave_key):
    with pytest.raises(KeyDecryptionError):
        private_key(wave_key, secrets.token_bytes(32))


# One wire format -----------------------------------------------------------------------------


async def test_both_kinds_publish_the_same_fields(wave_key, thread_key):
    for key in (wave_key, thread_key):
        published = msgspec.json.decode(msgspec.json.encode(publish_key(key)))
        assert list(published) == ["token-type", "token-key", "token-key-id", "issuer-name", "challenge"]
        assert published["token-type"] == TOKEN_TYPE_BLIND_RSA
        assert published["token-key-id"] == key.token_key_id.hex() == token_key_id(key.token_key).hex()
        assert published["issuer-name"] == ISSUER_NAME
        # Each key has its own redemption context: a token of one is never valid for another.
        assert TokenChallenge.decode(key.challenge).redemption_context != b""
    assert wave_key.challenge != thread_key.challenge


@pytest.mark.parametrize("kind", ["wave", "thread"])
async def test_issued_tokens_finalize_and_redeem(kind, wave_key, thread_key):
    key = wave_key if kind == "wave" else thread_key
    issuer = Issuer(KEK)
    count = 3 if key.kind.batch else 1
    pairs = _requests(key, count)
    body = b"".join(request.encode() for request, _ in pairs)
    assert len(body) == count * TOKEN_REQUEST_LEN
    requests = read_token_requests(body, key)
    responses = await issuer.issue(key, requests)
    assert len(responses) == count * 256  # RFC 9578 §6.2: concatenated in request order
    for i, (_, state) in enumerate(pairs):
        token = finalize_token(state, responses[i * 256:(i + 1) * 256])
        redeemed = await issuer.redeem(format_authorization(token), key)
        assert redeemed.token.nonce == token.nonce and redeemed.key == key


async def test_a_wave_takes_one_token_request_and_a_thread_period_several(wave_key, thread_key):
    two_for_the_wave = b"".join(r.encode() for r, _ in _requests(wave_key, 2))
    with pytest.raises(Problem) as refused:
        read_token_requests(two_for_the_wave, wave_key)
    assert refused.value.status_code == 400
    with pytest.raises(Problem) as refused:
        read_token_requests(b"".join(r.encode() for r, _ in _requests(thread_key, 2))[:-1], thread_key)
    assert refused.value.detail == f"Send one or more {TOKEN_REQUEST_LEN}-byte TokenRequests"


async def test_a_request_for_another_key_is_refused_before_signing(wave_key, thread_key):
    (request, _), = _requests(thread_key, 1)
    other = TokenRequest(request.token_type, (wave_key.token_key_id[-1] + 1) % 256, request.blinded_msg)
    with pytest.raises(Problem) as refused:
        read_token_requests(other.encode(), wave_key)
    assert refused.value.detail == WAVE.another_key


async def test_a_batch_is_signed_all_or_nothing(thread_key):
    issuer = Issuer(KEK)
    good = [request for request, _ in _requests(thread_key, 2)]
    # blinded_msg = n (not below the modulus): the one bad request of the batch.
    n = SigningKey(private_key(thread_key, KEK)).public_key.public_numbers().n
    bad = TokenRequest(TOKEN_TYPE_BLIND_RSA, thread_key.token_key_id[-1], n.to_bytes(256, "big"))
    with pytest.raises(Problem) as refused:
        await issuer.issue(thread_key, [good[0], bad, good[1]])
    assert refused.value.status_code == 400 and refused.value.detail.startswith("Malformed TokenRequest")


# Redemption: one refusal ---------------------------------------------------------------------


async def _refusal(issuer: Issuer, header: str | None, key: IssuerKey, find=None) -> Problem:
    with pytest.raises(Problem) as refused:
        await issuer.redeem(header, key, find)
    return refused.value


@pytest.mark.parametrize("kind", ["wave", "thread"])
async def test_every_invalid_token_is_refused_alike(kind, wave_key, thread_key):
    key, other = (wave_key, thread_key) if kind == "wave" else (thread_key, wave_key)
    issuer = Issuer(KEK)
    (request, state), = _requests(key, 1)
    genuine = finalize_token(state, await issuer.issue(key, [request]))
    (foreign_request, foreign_state), = _requests(other, 1)
    foreign = finalize_token(foreign_state, await issuer.issue(other, [foreign_request]))
    flipped = bytearray(genuine.authenticator)
    flipped[0] ^= 1
    attempts = {
        "forged": Token(genuine.token_type, secrets.token_bytes(32), genuine.challenge_digest,
                        genuine.token_key_id, secrets.token_bytes(256)),
        "tampered": Token(genuine.token_type, genuine.nonce, genuine.challenge_digest, genuine.token_key_id,
                          bytes(flipped)),
        "another challenge": Token(genuine.token_type, genuine.nonce, secrets.token_bytes(32),
                                   genuine.token_key_id, genuine.authenticator),
        "another kind's key": foreign,
    }
    shapes = set()
    for name, token in attempts.items():
        problem = await _refusal(issuer, format_authorization(token), key)
        shapes.add((problem.status_code, problem.slug, problem.detail, problem.commit,
                    tuple(sorted((problem.headers or {}).items()))))
        assert problem.detail == key.kind.invalid_token, name
    for garbage in ("PrivateToken token=\"AAAA\"", "Bearer abc"):
        problem = await _refusal(issuer, garbage, key)
        shapes.add((problem.status_code, problem.slug, problem.detail, problem.commit,
                    tuple(sorted((problem.headers or {}).items()))))
    assert len(shapes) == 1, shapes
    # And the genuine one passes.
    assert (await issuer.redeem(format_authorization(genuine), key)).token.nonce == genuine.nonce


async def test_a_missing_token_gets_the_challenge(wave_key, thread_key):
    issuer = Issuer(KEK)
    for key in (wave_key, thread_key):
        problem = await _refusal(issuer, None, key)
        assert (problem.status_code, problem.slug, problem.detail) == (401, "token-invalid", key.kind.missing_token)
        # A period key may have been made by this very request: its refusal keeps it.
        assert problem.commit is key.kind.made_on_demand
        challenge, = parse_www_authenticate((problem.headers or {})["WWW-Authenticate"])
        assert challenge.challenge_bytes == key.challenge and challenge.token_key == key.token_key


async def test_find_decides_which_keys_are_accepted(thread_key):
    issuer = Issuer(KEK)
    last_month = await generate_keys(THREAD_PERIOD, date(2024, 4, 1), issuer_name=ISSUER_NAME, kek=KEK)
    (request, state), = _requests(last_month, 1)
    token = finalize_token(state, await issuer.issue(last_month, [request]))
    looked_up: list[bytes] = []

    async def find(key_id: bytes) -> IssuerKey[date] | None:
        looked_up.append(key_id)
        return last_month if key_id == last_month.token_key_id else None

    redeemed = await issuer.redeem(format_authorization(token), thread_key, find)
    assert redeemed.key == last_month and looked_up == [last_month.token_key_id]

    async def find_none(key_id: bytes) -> IssuerKey[date] | None:
        return None

    # A key the resource no longer accepts: refused like any forgery, with this month's challenge.
    problem = await _refusal(issuer, format_authorization(token), thread_key, find_none)
    assert problem.detail == THREAD_PERIOD.invalid_token
    challenge, = parse_www_authenticate((problem.headers or {})["WWW-Authenticate"])
    assert challenge.token_key == thread_key.token_key
    # Without find, only the challenged key is accepted.
    problem = await _refusal(issuer, format_authorization(token), thread_key)
    assert problem.detail == THREAD_PERIOD.invalid_token


# The cache -----------------------------------------------------------------------------------


async def test_the_cache_is_bounded(wave_key, thread_key):
    issuer = Issuer(KEK, size=2)
    last_month = await generate_keys(THREAD_PERIOD, date(2024, 4, 1), issuer_name=ISSUER_NAME, kek=KEK)
    for key in (wave_key, thread_key, last_month, wave_key):
        (request, state), = _requests(key, 1)
        token = finalize_token(state, await issuer.issue(key, [request]))
        await issuer.redeem(format_authorization(token), key)
        assert len(issuer) <= 2
    assert len(issuer) == 2
    with pytest.raises(ValueError):
        Issuer(KEK, size=0)
