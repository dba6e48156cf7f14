"""Issuer keys: RSASSA-PSS SPKI (RFC 9578 §6.5), key ids, private keys encrypted at rest."""

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.blindrsa import KeySizeError
from crypto.keys import (
    KeyDecryptionError,
    KeyFormatError,
    decrypt_private_key,
    encrypt_private_key,
    generate_issuer_key,
    public_key_from_spki,
    spki_from_public_key,
    token_key_id,
)

KEK = bytes(range(32))


def test_spki_matches_rfc9578_pks_byte_for_byte(rfc9578, rfc9578_key):
    assert spki_from_public_key(rfc9578_key.public_key()) == rfc9578["pkS"]


def test_token_key_id_matches_rfc9578(rfc9578, rfc9578_key):
    assert token_key_id(rfc9578_key.public_key()) == rfc9578["token_key_id"]
    assert token_key_id(rfc9578["pkS"]) == rfc9578["token_key_id"]


def test_spki_parses_back(rfc9578, rfc9578_key, key2048):
    assert public_key_from_spki(rfc9578["pkS"]).public_numbers() == rfc9578_key.public_key().public_numbers()
    spki = spki_from_public_key(key2048.public_key())
    assert public_key_from_spki(spki).public_numbers() == key2048.public_key().public_numbers()


def test_plain_rsa_encryption_spki_is_rejected(key2048):
    plain = key2048.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(KeyFormatError):
        public_key_from_spki(plain)


def test_every_truncation_of_the_spki_is_rejected(rfc9578):
    pks = rfc9578["pkS"]
    for cut in range(len(pks)):
        with pytest.raises(KeyFormatError):
            public_key_from_spki(pks[:cut])
    with pytest.raises(KeyFormatError):
        public_key_from_spki(pks + b"\x00")


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=400))
def test_random_bytes_raise_only_key_errors(data):
    with pytest.raises((KeyFormatError, KeySizeError)):
        public_key_from_spki(data)


def test_salt_length_in_spki_matters(rfc9578):
    pks = bytearray(rfc9578["pkS"])
    i = pks.index(bytes.fromhex("a203020130"))
    pks[i + 4] = 0x20  # saltLength 32 instead of 48
    with pytest.raises(KeyFormatError):
        public_key_from_spki(bytes(pks))


def test_small_key_in_spki_is_rejected():
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(KeySizeError):
        public_key_from_spki(spki_from_public_key(small.public_key()))


def test_generated_issuer_key_is_2048_bit_f4():
    key = generate_issuer_key()
    assert key.key_size == 2048
    assert key.public_key().public_numbers().e == 65537


def test_private_key_round_trip_encrypted(key2048):
    blob = encrypt_private_key(key2048, KEK, b"key-id-1")
    assert decrypt_private_key(blob, KEK, b"key-id-1").private_numbers() == key2048.private_numbers()
    # Nothing of the key is readable in the blob: the modulus bytes do not appear.
    n = key2048.public_key().public_numbers().n.to_bytes(256, "big")
    assert n[:32] not in blob
    assert encrypt_private_key(key2048, KEK, b"key-id-1") != blob  # fresh nonce


def test_blob_cannot_move_between_rows_or_keys(key2048):
    blob = encrypt_private_key(key2048, KEK, b"row-a")
    with pytest.raises(KeyDecryptionError):
        decrypt_private_key(blob, KEK, b"row-b")
    with pytest.raises(KeyDecryptionError):
        decrypt_private_key(blob, bytes(32), b"row-a")


def test_tampered_or_short_blobs_are_rejected(key2048):
    blob = encrypt_private_key(key2048, KEK, b"a")
    for i in (0, 1, 13, 40, len(blob) - 1):
        bad = bytearray(blob)
        bad[i] ^= 1
        with pytest.raises(KeyDecryptionError):
            decrypt_private_key(bytes(bad), KEK, b"a")
    for cut in (0, 1, 12, 28, len(blob) - 1):
        with pytest.raises(KeyDecryptionError):
            decrypt_private_key(blob[:cut], KEK, b"a")


def test_kek_must_be_32_bytes(key2048):
    with pytest.raises(ValueError):
        encrypt_private_key(key2048, b"short", b"a")
