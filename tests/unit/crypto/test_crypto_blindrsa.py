"""RFC 9474 blind RSA: Appendix A vectors, round trips, hardening and input checks."""

import gmpy2
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import blindrsa
from crypto.blindrsa import (
    BlindRSAError,
    KeySizeError,
    LengthError,
    MessageRangeError,
    SignatureCheckError,
    SigningKey,
    Variant,
    VerificationError,
    blind,
    blind_sign,
    emsa_pss_encode,
    finalize,
    prepare,
    verify,
)

from .vectors import load_rfc9474, private_key_from_vector

VECTORS = load_rfc9474()
H = bytes.fromhex


def _id(v):
    return v["variant"]


def test_every_variant_has_a_vector():
    assert {Variant.from_name(v["variant"]) for v in VECTORS} == set(Variant)


ENGINES = pytest.mark.parametrize("openssl", [True, False], ids=["openssl", "gmp-fallback"])


@ENGINES
@pytest.mark.parametrize("v", VECTORS, ids=_id)
def test_rfc9474_vector_replays(v, openssl):
    variant = Variant.from_name(v["variant"])
    key = private_key_from_vector(v)
    pub = key.public_key()
    assert variant.salt_len == v["salt_len"]
    assert variant.randomized is v["is_randomized"]

    prepared = prepare(H(v["msg"]), variant, msg_prefix=H(v["msg_prefix"]) or None)
    assert prepared == H(v["prepared_msg"])
    assert emsa_pss_encode(prepared, pub.key_size - 1, H(v["salt"])) == H(v["encoded_msg"])

    result = blind(pub, prepared, variant, salt=H(v["salt"]), inv=H(v["inv"]))
    assert result.blinded_msg == H(v["blinded_msg"])
    assert result.inv == H(v["inv"])

    signer = SigningKey(key, openssl=openssl)
    assert signer.uses_openssl is openssl
    blind_sig = signer.blind_sign(result.blinded_msg)
    assert blind_sig == H(v["blind_sig"])
    assert blind_sign(key, result.blinded_msg) == blind_sig  # the one-shot form, default engine

    sig = finalize(pub, prepared, blind_sig, result.inv, variant)
    assert sig == H(v["sig"])
    verify(pub, prepared, sig, variant)
    # The final signature is an ordinary RSASSA-PSS signature for OpenSSL too.
    pub.verify(sig, prepared, padding.PSS(padding.MGF1(hashes.SHA384()), v["salt_len"]), hashes.SHA384())


@ENGINES
def test_pss_zero_deterministic_alternative_inverse_gives_same_signature(openssl):
    v = next(x for x in VECTORS if x["variant"] == "RSABSSA-SHA384-PSSZERO-Deterministic")
    alt = v["alt_inv_set_draft14"]
    key = private_key_from_vector(v)
    variant = Variant.PSSZERO_DETERMINISTIC
    result = blind(key.public_key(), H(v["msg"]), variant, salt=b"", inv=H(alt["inv"]))
    assert result.blinded_msg == H(alt["blinded_msg"])
    blind_sig = SigningKey(key, openssl=openssl).blind_sign(result.blinded_msg)
    assert blind_sig == H(alt["blind_sig"])
    assert finalize(key.public_key(), H(v["msg"]), blind_sig, result.inv, variant) == H(v["sig"])


def test_injected_r_and_inv_are_equivalent():
    v = VECTORS[2]
    key = private_key_from_vector(v)
    n = key.public_key().public_numbers().n
    r = int(gmpy2.invert(int(v["inv"], 16), n))
    by_r = blind(key.public_key(), H(v["msg"]), Variant.PSS_DETERMINISTIC, salt=H(v["salt"]), r=r)
    assert by_r.blinded_msg == H(v["blinded_msg"])
    assert by_r.inv == H(v["inv"])


@pytest.mark.parametrize("variant", list(Variant), ids=lambda x: x.rfc_name)
@settings(max_examples=15, deadline=None)
@given(msg=st.binary(max_size=300))
def test_round_trip_random_messages(variant, msg, key2048, signer2048):
    pub = key2048.public_key()
    prepared = prepare(msg, variant)
    assert prepared[-len(msg) :] == msg if msg else True
    assert len(prepared) == len(msg) + (32 if variant.randomized else 0)
    result = blind(pub, prepared, variant)
    sig = finalize(pub, prepared, signer2048.blind_sign(result.blinded_msg), result.inv, variant)
    verify(pub, prepared, sig, variant)
    with pytest.raises(VerificationError):
        verify(pub, prepared + b"x", sig, variant)


def test_blinding_hides_the_message(key2048):
    pub = key2048.public_key()
    a = blind(pub, b"same message", Variant.PSS_DETERMINISTIC)
    b = blind(pub, b"same message", Variant.PSS_DETERMINISTIC)
    assert a.blinded_msg != b.blinded_msg
    assert a.inv != b.inv


def test_deterministic_pss_zero_signatures_are_unique(key2048, signer2048):
    pub = key2048.public_key()
    sigs = set()
    for _ in range(2):
        r = blind(pub, b"m", Variant.PSSZERO_DETERMINISTIC)
        sigs.add(finalize(pub, b"m", signer2048.blind_sign(r.blinded_msg), r.inv, Variant.PSSZERO_DETERMINISTIC))
    assert len(sigs) == 1


@settings(max_examples=60, deadline=None)
@given(bit=st.integers(min_value=0, max_value=256 * 8 - 1))
def test_any_flipped_signature_bit_is_rejected(bit, key2048, signer2048):
    pub = key2048.public_key()
    variant = Variant.PSS_DETERMINISTIC
    r = blind(pub, b"token input", variant)
    sig = bytearray(finalize(pub, b"token input", signer2048.blind_sign(r.blinded_msg), r.inv, variant))
    sig[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(VerificationError):
        verify(pub, b"token input", bytes(sig), variant)


def test_flipped_blind_signature_is_rejected_by_finalize(key2048, signer2048):
    pub = key2048.public_key()
    r = blind(pub, b"m", Variant.PSS_DETERMINISTIC)
    bs = bytearray(signer2048.blind_sign(r.blinded_msg))
    bs[200] ^= 0x10
    with pytest.raises(VerificationError):
        finalize(pub, b"m", bytes(bs), r.inv, Variant.PSS_DETERMINISTIC)


def test_signature_for_other_variant_is_rejected(key2048, signer2048):
    pub = key2048.public_key()
    r = blind(pub, b"m", Variant.PSS_DETERMINISTIC)
    sig = finalize(pub, b"m", signer2048.blind_sign(r.blinded_msg), r.inv, Variant.PSS_DETERMINISTIC)
    with pytest.raises(VerificationError):
        verify(pub, b"m", sig, Variant.PSSZERO_DETERMINISTIC)


# --- hardening ----------------------------------------------------------------


def test_fallback_private_operation_is_blinded_constant_time_and_fresh(monkeypatch, key2048):
    signer = SigningKey(key2048, openssl=False)
    calls = []
    real = gmpy2.powmod_sec

    def spy(base, exp, mod):
        calls.append((int(base), int(mod)))
        return real(base, exp, mod)

    monkeypatch.setattr(gmpy2, "powmod_sec", spy)
    blinded = blind(key2048.public_key(), b"m", Variant.PSS_DETERMINISTIC).blinded_msg
    first = signer.blind_sign(blinded)
    second = signer.blind_sign(blinded)
    assert first == second
    p, q = key2048.private_numbers().p, key2048.private_numbers().q
    m = int.from_bytes(blinded, "big")
    assert sorted({mod for _, mod in calls}) == sorted({p, q})
    assert len(calls) == 4
    # The exponentiations never see the message itself, and a new r each call.
    assert all(base != m % mod for base, mod in calls)
    assert calls[0][0] != calls[2][0]


def test_faulty_fallback_signature_is_never_returned(key2048):
    signer = SigningKey(key2048, openssl=False)
    signer._dp = signer._dp + 2  # simulate a fault in the CRT half mod p
    blinded = blind(key2048.public_key(), b"m", Variant.PSS_DETERMINISTIC).blinded_msg
    with pytest.raises(SignatureCheckError):
        signer.blind_sign(blinded)


def test_signing_key_repr_hides_key_material(signer2048, key2048):
    text = repr(signer2048)
    assert str(key2048.private_numbers().p)[:20] not in text
    assert "2048" in text


# --- input checks ---------------------------------------------------------------


@ENGINES
def test_blinded_message_not_below_n_is_rejected(key2048, openssl):
    signer = SigningKey(key2048, openssl=openssl)
    n = key2048.public_key().public_numbers().n
    for value in (n, n + 1, 2**2048 - 1):
        with pytest.raises(MessageRangeError):
            signer.blind_sign(value.to_bytes(256, "big"))


@ENGINES
@pytest.mark.parametrize("length", [0, 1, 255, 257, 512])
def test_blinded_message_of_wrong_length_is_rejected(length, key2048, openssl):
    with pytest.raises(LengthError):
        SigningKey(key2048, openssl=openssl).blind_sign(b"\x01" * length)


def test_keys_under_2048_bits_are_rejected():
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(KeySizeError):
        SigningKey(small)
    with pytest.raises(KeySizeError):
        blind_sign(small, b"\x01" * 128)
    with pytest.raises(KeySizeError):
        blind(small.public_key(), b"m", Variant.PSS_DETERMINISTIC)
    with pytest.raises(KeySizeError):
        verify(small.public_key(), b"m", b"\x00" * 128, Variant.PSS_DETERMINISTIC)


def test_wrong_salt_and_prefix_lengths_are_rejected(key2048):
    pub = key2048.public_key()
    with pytest.raises(LengthError):
        blind(pub, b"m", Variant.PSS_DETERMINISTIC, salt=b"\x00" * 47)
    with pytest.raises(LengthError):
        blind(pub, b"m", Variant.PSSZERO_DETERMINISTIC, salt=b"\x00")
    with pytest.raises(LengthError):
        prepare(b"m", Variant.PSS_RANDOMIZED, msg_prefix=b"\x00" * 31)
    with pytest.raises(LengthError):
        prepare(b"m", Variant.PSS_DETERMINISTIC, msg_prefix=b"\x00" * 32)


def test_invalid_injected_blind_is_rejected(key2048):
    pub = key2048.public_key()
    n = pub.public_numbers().n
    p = key2048.private_numbers().p
    for bad in (0, n, p):
        with pytest.raises(MessageRangeError):
            blind(pub, b"m", Variant.PSS_DETERMINISTIC, inv=bad)


def test_finalize_input_checks(key2048, signer2048):
    pub = key2048.public_key()
    n = pub.public_numbers().n
    r = blind(pub, b"m", Variant.PSS_DETERMINISTIC)
    with pytest.raises(LengthError):
        finalize(pub, b"m", b"\x00" * 255, r.inv, Variant.PSS_DETERMINISTIC)
    with pytest.raises(MessageRangeError):
        finalize(pub, b"m", n.to_bytes(256, "big"), r.inv, Variant.PSS_DETERMINISTIC)
    with pytest.raises(VerificationError):
        verify(pub, b"m", b"\x00" * 255, Variant.PSS_DETERMINISTIC)


def test_exception_hierarchy():
    for exc in (MessageRangeError, LengthError, KeySizeError, SignatureCheckError, VerificationError):
        assert issubclass(exc, BlindRSAError)


def test_module_never_calls_python_pow():
    # The private operation must go through gmpy2.powmod_sec; builtin pow is not constant time.
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(blindrsa))
    names = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    assert "pow" not in names
