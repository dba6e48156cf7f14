"""OpenSSL's raw RSA private operation (crypto.openssl_rsa) behind blind signing, and the GMP fallback.

Both engines must give the same blind signatures (``m^d mod n`` is unique), refuse the
same inputs, and neither may release a faulty result: verify-after-sign (RFC 9474 §4.3
step 3) catches a corrupted private operation. The RFC 9474 vectors for both engines are
in test_crypto_blindrsa.py.
"""

import gc
import threading

import gmpy2
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import blindrsa, openssl_rsa
from crypto.blindrsa import SignatureCheckError, SigningKey, Variant, blind, finalize
from crypto.openssl_rsa import LibcryptoUnavailableError, OpenSSLError, RawRSAPrivateKey, libcrypto


@pytest.fixture(scope="module")
def engines(key2048):
    return SigningKey(key2048, openssl=True), SigningKey(key2048, openssl=False)


def _expected(key, m: int) -> bytes:
    numbers = key.private_numbers()
    return int(gmpy2.powmod(m, numbers.d, numbers.public_numbers.n)).to_bytes(256, "big")


def test_the_system_libcrypto_is_openssl_3_and_used_by_default(signer2048):
    lib = libcrypto()
    assert lib.version_number >= 0x30000000
    assert lib.version.startswith("OpenSSL 3")
    assert signer2048.uses_openssl
    assert "OpenSSL RSA private operation" in blindrsa.signing_backend()
    assert "engine=openssl" in repr(signer2048)


@settings(max_examples=40, deadline=None)
@given(m=st.integers(min_value=0, max_value=2**2048 - 1))
def test_both_engines_give_identical_signatures(m, key2048, engines):
    n = key2048.public_key().public_numbers().n
    m %= n
    fast, fallback = engines
    blinded = m.to_bytes(256, "big")
    signature = fast.blind_sign(blinded)
    assert signature == fallback.blind_sign(blinded) == _expected(key2048, m)


@pytest.mark.parametrize("variant", list(Variant), ids=lambda v: v.rfc_name)
def test_openssl_signatures_finalize_to_valid_pss_signatures(variant, key2048, engines):
    pub = key2048.public_key()
    prepared = blindrsa.prepare(b"token input", variant)
    result = blind(pub, prepared, variant)
    finalize(pub, prepared, engines[0].blind_sign(result.blinded_msg), result.inv, variant)


def test_openssl_itself_refuses_values_not_below_n(key2048):
    # Below the Python checks of SigningKey: OpenSSL's own range check, and the length check.
    der = key2048.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption())
    raw = RawRSAPrivateKey(der)
    n = key2048.public_key().public_numbers().n
    assert raw.modulus_len == 256
    for value in (n, n + 1, 2**2048 - 1):
        with pytest.raises(OpenSSLError, match="too large"):
            raw.private_operation(value.to_bytes(256, "big"))
    for length in (0, 255, 257):
        with pytest.raises(ValueError):
            raw.private_operation(b"\x01" * length)
    assert raw.private_operation((n - 1).to_bytes(256, "big")) == _expected(key2048, n - 1)
    assert "RawRSAPrivateKey(bytes=256" in repr(raw)


def test_a_refusal_from_openssl_is_a_signing_failure(monkeypatch, key2048):
    signer = SigningKey(key2048, openssl=True)

    def refuse(self, c):
        raise OpenSSLError("EVP_PKEY_decrypt failed")

    monkeypatch.setattr(RawRSAPrivateKey, "private_operation", refuse)
    with pytest.raises(SignatureCheckError):
        signer.blind_sign(blind(key2048.public_key(), b"m", Variant.PSS_DETERMINISTIC).blinded_msg)


@pytest.mark.parametrize("fault", ["flip-low-bit", "flip-high-bit", "zero", "input-echoed"])
def test_a_corrupted_private_operation_is_caught_by_verify_after_sign(monkeypatch, key2048, fault):
    signer = SigningKey(key2048, openssl=True)
    real = RawRSAPrivateKey.private_operation

    def faulty(self, c):
        out = bytearray(real(self, c))
        if fault == "flip-low-bit":
            out[-1] ^= 1
        elif fault == "flip-high-bit":
            out[1] ^= 0x80
        elif fault == "zero":
            out = bytearray(len(out))
        else:
            out = bytearray(c)
        return bytes(out)

    monkeypatch.setattr(RawRSAPrivateKey, "private_operation", faulty)
    blinded = blind(key2048.public_key(), b"m", Variant.PSS_DETERMINISTIC).blinded_msg
    with pytest.raises(SignatureCheckError):
        signer.blind_sign(blinded)


def test_der_that_is_not_an_rsa_private_key_is_refused(key2048):
    ec_der = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption())
    for der in (b"", b"\x30\x03\x02\x01\x00", ec_der):
        with pytest.raises(OpenSSLError):
            RawRSAPrivateKey(der)


def test_a_missing_library_is_named_and_the_fallback_takes_over(monkeypatch, key2048):
    with pytest.raises(LibcryptoUnavailableError, match="no-such-libcrypto.so.3"):
        libcrypto(["no-such-libcrypto.so.3"])

    def missing(names=None):
        raise LibcryptoUnavailableError("no OpenSSL 3 libcrypto could be loaded (libcrypto.so.3: not found)")

    monkeypatch.setattr(blindrsa, "libcrypto", missing)
    signer = SigningKey(key2048)
    assert not signer.uses_openssl
    backend = blindrsa.signing_backend()
    assert backend.startswith("GMP mpz_powm_sec fallback") and "libcrypto.so.3: not found" in backend
    with pytest.raises(LibcryptoUnavailableError):
        SigningKey(key2048, openssl=True)
    m = 12345
    assert signer.blind_sign(m.to_bytes(256, "big")) == _expected(key2048, m)


def test_an_old_openssl_is_not_accepted(monkeypatch):
    class Old:
        def __init__(self, name):
            pass

        def __getattr__(self, symbol):
            def version():
                return 0x1010117F  # OpenSSL 1.1.1w

            return version

    monkeypatch.setattr(openssl_rsa.ctypes, "CDLL", Old)
    with pytest.raises(LibcryptoUnavailableError, match="OpenSSL 3 is required"):
        libcrypto(["libcrypto.so.1.1"])


def test_one_key_signs_correctly_from_many_threads(key2048, engines):
    signer = engines[0]
    n = key2048.public_key().public_numbers().n
    values = [(n // 97) * i + 12345 for i in range(1, 81)]
    expected = {m: _expected(key2048, m) for m in values}
    wrong: list[int] = []
    barrier = threading.Barrier(4)

    def work(offset: int) -> None:
        barrier.wait()
        for m in values[offset::4] * 3:
            if signer.blind_sign(m.to_bytes(256, "big")) != expected[m]:
                wrong.append(m)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    assert wrong == []


def test_a_key_loaded_from_der_signs_like_the_original(key2048, signer2048):
    der = key2048.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    loaded = SigningKey.from_der(der)
    assert loaded.uses_openssl
    blinded = (987654321).to_bytes(256, "big")
    assert loaded.blind_sign(blinded) == signer2048.blind_sign(blinded)
    with pytest.raises(ValueError):
        SigningKey.from_der(ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


def test_each_thread_gets_its_own_context_and_it_is_freed_with_the_thread(key2048):
    der = key2048.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption())
    raw = RawRSAPrivateKey(der)
    freed: list[int] = []

    class Spy:
        """The loaded library, recording each EVP_PKEY_CTX_free."""

        def __init__(self, lib):
            self._lib = lib

        def __getattr__(self, name):
            return getattr(self._lib, name)

        def EVP_PKEY_CTX_free(self, ptr):  # noqa: N802 - OpenSSL's name
            freed.append(ptr)
            self._lib.EVP_PKEY_CTX_free(ptr)

    raw._lib = Spy(raw._lib)  # pyright: ignore[reportAttributeAccessIssue]
    made: list[int] = []

    def work() -> None:
        raw.private_operation((42).to_bytes(256, "big"))
        made.append(raw._local.ctx.ptr)

    for _ in range(3):
        t = threading.Thread(target=work)
        t.start()
        t.join(timeout=30)
    gc.collect()
    assert len(made) == 3
    assert freed == made  # each thread's context was freed when its thread ended
    assert raw.private_operation((42).to_bytes(256, "big")) == _expected(key2048, 42)  # the key still works
