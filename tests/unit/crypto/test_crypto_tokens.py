"""RFC 9578 §6 type-2 tokens and RFC 9577 encodings."""

import base64
import contextlib
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.keys import spki_from_public_key, token_key_id
from crypto.tokens import (
    Token,
    TokenChallenge,
    TokenChallengeMismatchError,
    TokenError,
    TokenFormatError,
    TokenKeyMismatchError,
    TokenRequest,
    TokenResponse,
    TokenTypeError,
    TokenVerificationError,
    create_token_request,
    finalize_token,
    format_authorization,
    format_www_authenticate,
    issue_token_response,
    parse_authorization,
    parse_www_authenticate,
    verify_token,
)

CHALLENGE = TokenChallenge(2, "candor.example", b"\x07" * 32, "candor.example")


# --- RFC 9578 Appendix A.2 -----------------------------------------------------


def test_rfc9578_challenge_decodes(rfc9578):
    ch = TokenChallenge.decode(rfc9578["token_challenge"])
    assert ch.token_type == 2
    assert ch.issuer_name == "issuer.example"
    assert len(ch.redemption_context) == 32
    assert ch.origin_info == ""
    assert ch.encode() == rfc9578["token_challenge"]


def test_rfc9578_client_request(rfc9578):
    request, state = create_token_request(
        rfc9578["pkS"], rfc9578["token_challenge"],
        nonce=rfc9578["nonce"], salt=rfc9578["salt"], r=rfc9578["blind"],
    )
    assert request.encode() == rfc9578["token_request"]
    assert request.truncated_token_key_id == rfc9578["token_key_id"][-1]
    assert state.token_key_id == rfc9578["token_key_id"]


def test_rfc9578_issuer_response(rfc9578, rfc9578_key):
    from crypto.blindrsa import SigningKey

    response = issue_token_response(SigningKey(rfc9578_key), rfc9578["token_key_id"], rfc9578["token_request"])
    assert response == rfc9578["token_response"]


def test_rfc9578_client_finalizes_token(rfc9578):
    _, state = create_token_request(
        rfc9578["pkS"], rfc9578["token_challenge"],
        nonce=rfc9578["nonce"], salt=rfc9578["salt"], r=rfc9578["blind"],
    )
    token = finalize_token(state, rfc9578["token_response"])
    assert token.encode() == rfc9578["token"]


def test_rfc9578_token_verifies(rfc9578, rfc9578_key):
    token = verify_token(rfc9578["token"], rfc9578["pkS"], rfc9578["token_challenge"])
    assert token.nonce == rfc9578["nonce"]
    assert token.challenge_digest == hashlib.sha256(rfc9578["token_challenge"]).digest()
    assert token.token_key_id == rfc9578["token_key_id"]
    # Same answer with the key object and a stored key id.
    verify_token(rfc9578["token"], rfc9578_key.public_key(), rfc9578["token_challenge"], key_id=rfc9578["token_key_id"])


def test_any_single_flipped_bit_in_the_rfc_token_is_rejected(rfc9578):
    raw = rfc9578["token"]
    pub = rfc9578["pkS"]
    from crypto.keys import public_key_from_spki

    key = public_key_from_spki(pub)
    kinds = set()
    for bit in range(len(raw) * 8):
        bad = bytearray(raw)
        bad[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(TokenError) as info:
            verify_token(bytes(bad), key, rfc9578["token_challenge"], key_id=rfc9578["token_key_id"])
        kinds.add(type(info.value))
    assert kinds == {TokenTypeError, TokenVerificationError, TokenChallengeMismatchError, TokenKeyMismatchError}


# --- round trips ------------------------------------------------------------------


def _issue(key2048, signer2048, challenge=CHALLENGE):
    kid = token_key_id(key2048.public_key())
    request, state = create_token_request(spki_from_public_key(key2048.public_key()), challenge)
    return finalize_token(state, issue_token_response(signer2048, kid, request.encode()))


@settings(max_examples=10, deadline=None)
@given(
    issuer=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=40),
    ctx=st.sampled_from([b"", b"\x01" * 32]),
    origin=st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40),
)
def test_token_round_trip(issuer, ctx, origin, key2048, signer2048):
    challenge = TokenChallenge(2, issuer, ctx, origin)
    assert TokenChallenge.decode(challenge.encode()) == challenge
    token = _issue(key2048, signer2048, challenge)
    assert Token.decode(token.encode()) == token
    assert verify_token(token.encode(), key2048.public_key(), challenge.encode()) == token
    other = TokenChallenge(2, issuer + "x", ctx, origin)
    with pytest.raises(TokenChallengeMismatchError):
        verify_token(token, key2048.public_key(), other)


def test_nonces_differ_between_tokens(key2048, signer2048):
    assert _issue(key2048, signer2048).nonce != _issue(key2048, signer2048).nonce


def test_token_from_another_key_is_rejected(key2048, signer2048, rfc9578):
    token = _issue(key2048, signer2048)
    with pytest.raises(TokenKeyMismatchError):
        verify_token(token, rfc9578["pkS"], CHALLENGE)


def test_forged_token_with_right_key_id_is_rejected(key2048):
    kid = token_key_id(key2048.public_key())
    forged = Token(2, b"\x01" * 32, CHALLENGE.digest(), kid, b"\x02" * 256)
    with pytest.raises(TokenVerificationError):
        verify_token(forged.encode(), key2048.public_key(), CHALLENGE)


# --- issuer checks ------------------------------------------------------------------


def test_client_refuses_keys_that_are_not_2048_bits():
    from cryptography.hazmat.primitives.asymmetric import rsa

    big = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    with pytest.raises(TokenFormatError):
        create_token_request(spki_from_public_key(big.public_key()), CHALLENGE)


def test_issuer_rejects_wrong_truncated_key_id(key2048, signer2048):
    kid = token_key_id(key2048.public_key())
    request, _ = create_token_request(key2048.public_key(), CHALLENGE)
    wrong = TokenRequest(2, (kid[-1] + 1) % 256, request.blinded_msg)
    with pytest.raises(TokenKeyMismatchError):
        issue_token_response(signer2048, kid, wrong.encode())


def test_issuer_rejects_wrong_type_and_out_of_range(key2048, signer2048):
    kid = token_key_id(key2048.public_key())
    request, _ = create_token_request(key2048.public_key(), CHALLENGE)
    raw = bytearray(request.encode())
    raw[1] = 1
    with pytest.raises(TokenTypeError):
        issue_token_response(signer2048, kid, bytes(raw))
    too_big = TokenRequest(2, kid[-1], b"\xff" * 256)
    with pytest.raises(TokenFormatError):
        issue_token_response(signer2048, kid, too_big.encode())


def test_client_rejects_bad_response(key2048, signer2048):
    kid = token_key_id(key2048.public_key())
    request, state = create_token_request(key2048.public_key(), CHALLENGE)
    response = bytearray(issue_token_response(signer2048, kid, request.encode()))
    with pytest.raises(TokenFormatError):
        finalize_token(state, bytes(response[:-1]))
    with pytest.raises(TokenFormatError):
        finalize_token(state, b"\xff" * 256)
    response[5] ^= 4
    with pytest.raises(TokenVerificationError):
        finalize_token(state, bytes(response))


# --- malformed bytes -----------------------------------------------------------------


def test_every_truncation_or_extension_is_a_format_error(rfc9578):
    cases = [
        (Token.decode, rfc9578["token"]),
        (TokenRequest.decode, rfc9578["token_request"]),
        (TokenResponse.decode, rfc9578["token_response"]),
        (TokenChallenge.decode, rfc9578["token_challenge"]),
    ]
    for decode, good in cases:
        decode(good)
        for cut in range(len(good)):
            with pytest.raises(TokenFormatError):
                decode(good[:cut])
        with pytest.raises(TokenFormatError):
            decode(good + b"\x00")


def test_challenge_field_checks():
    with pytest.raises(TokenFormatError):
        TokenChallenge.decode(bytes.fromhex("0002" "0000" "00" "0000"))  # empty issuer
    with pytest.raises(TokenFormatError):
        TokenChallenge.decode(bytes.fromhex("0002" "0001" "61" "10") + b"\x00" * 16 + b"\x00\x00")
    with pytest.raises(TokenFormatError):
        TokenChallenge.decode(bytes.fromhex("0002" "0001" "ff" "00" "0000"))  # not ASCII
    with pytest.raises(TokenFormatError):
        TokenChallenge(2, "a", b"\x00" * 5).encode()
    with pytest.raises(TokenFormatError):
        TokenChallenge(2, "").encode()
    with pytest.raises(TokenFormatError):
        TokenChallenge(2, "é").encode()


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=400))
def test_random_bytes_raise_only_format_errors(data):
    for decode in (Token.decode, TokenRequest.decode, TokenResponse.decode, TokenChallenge.decode):
        with contextlib.suppress(TokenFormatError):
            decode(data)


def test_non_bytes_are_format_errors():
    for decode in (Token.decode, TokenRequest.decode, TokenChallenge.decode):
        # Deliberately the wrong types: what an untyped caller could pass.
        with pytest.raises(TokenFormatError):
            decode("not bytes")  # pyright: ignore[reportArgumentType]
        with pytest.raises(TokenFormatError):
            decode(None)  # pyright: ignore[reportArgumentType]


def test_token_of_other_type_is_a_type_error(rfc9578):
    raw = bytearray(rfc9578["token"])
    raw[1] = 1  # type 0x0001 (VOPRF)
    with pytest.raises(TokenTypeError):
        Token.decode(bytes(raw))


# --- HTTP headers ----------------------------------------------------------------------


def test_authorization_header_round_trip(rfc9578):
    token = Token.decode(rfc9578["token"])
    header = format_authorization(token)
    encoded = base64.urlsafe_b64encode(rfc9578["token"]).decode()
    assert header == f'PrivateToken token="{encoded}"'
    assert parse_authorization(header) == token


@pytest.mark.parametrize(
    "template",
    [
        'PrivateToken token="{p}"',
        'privatetoken token="{u}"',
        "PrivateToken token={p}",
        "PrivateToken   token = {u} ",
        'PRIVATETOKEN Token="{u}"',
    ],
)
def test_authorization_header_variants_parse(template, rfc9578):
    padded = base64.urlsafe_b64encode(rfc9578["token"]).decode()
    header = template.format(p=padded, u=padded.rstrip("="))
    assert parse_authorization(header).encode() == rfc9578["token"]


@pytest.mark.parametrize(
    "header",
    [
        "",
        "Bearer abc",
        "PrivateToken",
        'PrivateToken nonce="AAAA"',
        'PrivateToken token="not base64!"',
        'PrivateToken token="AAAA"',
        'PrivateToken token="AAA',
        'PrivateToken token="x", token="y"',
        'PrivateToken token="AAAA" junk',
        'PrivateToken token="A"',
        'PrivateToken token="+/+/"',
    ],
)
def test_bad_authorization_headers_are_format_errors(header):
    with pytest.raises(TokenFormatError):
        parse_authorization(header)


@settings(max_examples=300, deadline=None)
@given(header=st.text(max_size=200))
def test_random_authorization_headers_raise_only_format_errors(header):
    with pytest.raises(TokenFormatError):
        parse_authorization(header)


def test_www_authenticate_round_trip(rfc9578):
    header = format_www_authenticate(rfc9578["token_challenge"], rfc9578["pkS"], max_age=300)
    challenge_b64 = base64.urlsafe_b64encode(rfc9578["token_challenge"]).decode()
    key_b64 = base64.urlsafe_b64encode(rfc9578["pkS"]).decode()
    assert header == f'PrivateToken challenge="{challenge_b64}", token-key="{key_b64}", max-age=300'
    [parsed] = parse_www_authenticate(header)
    assert parsed.challenge_bytes == rfc9578["token_challenge"]
    assert parsed.challenge.issuer_name == "issuer.example"
    assert parsed.token_key == rfc9578["pkS"]
    assert parsed.max_age == 300


def test_www_authenticate_with_several_challenges(rfc9578):
    one = format_www_authenticate(rfc9578["token_challenge"], rfc9578["pkS"])
    two = format_www_authenticate(CHALLENGE, rfc9578["pkS"])
    parsed = parse_www_authenticate(f'Basic realm="x, y", {one}, {two}, Other')
    assert [p.challenge.issuer_name for p in parsed] == ["issuer.example", "candor.example"]
    assert all(p.max_age is None for p in parsed)


@pytest.mark.parametrize(
    "header",
    ['PrivateToken challenge="AAAA"', 'PrivateToken token-key="AAAA"', 'PrivateToken challenge="AAAA", token-key="AAAA"',
     'PrivateToken challenge="{c}", token-key="{k}", max-age=-1'],
)
def test_bad_www_authenticate_is_a_format_error(header, rfc9578):
    c = base64.urlsafe_b64encode(rfc9578["token_challenge"]).decode()
    k = base64.urlsafe_b64encode(rfc9578["pkS"]).decode()
    with pytest.raises(TokenFormatError):
        parse_www_authenticate(header.replace("{c}", c).replace("{k}", k))
