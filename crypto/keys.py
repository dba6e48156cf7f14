"""Issuer keys: generation, RSASSA-PSS SubjectPublicKeyInfo, key ids, encryption at rest.

RFC 9578 §6.5 identifies a type-2 issuer key by ``SHA-256`` of its
SubjectPublicKeyInfo with the id-RSASSA-PSS algorithm identifier (RFC 4055
§3.1: SHA-384, MGF1-SHA-384, salt length 48). ``cryptography`` only writes the
plain rsaEncryption form, so the PSS form is built here with a tiny DER
encoder; the output is byte-identical to the ``pkS`` of RFC 9578 Appendix A.2.
"""

from __future__ import annotations

import hashlib
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .blindrsa import MIN_MODULUS_BITS, KeySizeError

__all__ = [
    "KeyDecryptionError",
    "KeyFormatError",
    "decrypt_private_key",
    "encrypt_private_key",
    "generate_issuer_key",
    "public_key_from_spki",
    "spki_from_public_key",
    "token_key_id",
]

ISSUER_KEY_BITS = 2048
_BLOB_VERSION = b"\x01"
_NONCE_LEN = 12


class KeyFormatError(Exception):
    """Bytes that should be an RSASSA-PSS SubjectPublicKeyInfo are not one."""


class KeyDecryptionError(Exception):
    """An encrypted private key cannot be opened: wrong key, wrong row, or tampered bytes."""


# --- a DER encoder just big enough for SubjectPublicKeyInfo (X.690 §8) -------


def _der_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _tlv(tag: int, body: bytes) -> bytes:
    return bytes([tag]) + _der_len(len(body)) + body


def _seq(*items: bytes) -> bytes:
    return _tlv(0x30, b"".join(items))


def _uint(x: int) -> bytes:
    # Minimal two's-complement: a leading 0x00 when the top bit is set.
    return _tlv(0x02, x.to_bytes(x.bit_length() // 8 + 1, "big"))


_OID_RSASSA_PSS = bytes.fromhex("06092a864886f70d01010a")  # 1.2.840.113549.1.1.10
_OID_MGF1 = bytes.fromhex("06092a864886f70d010108")  # 1.2.840.113549.1.1.8
_OID_SHA384 = bytes.fromhex("0609608648016503040202")  # 2.16.840.1.101.3.4.2.2
_SHA384_ALG = _seq(_OID_SHA384)  # parameters absent, as in the RFC 9578 vector

#: RSASSA-PSS-params (RFC 4055 §3.1) for SHA-384, MGF1-SHA-384, saltLength 48.
PSS_ALGORITHM_IDENTIFIER = _seq(
    _OID_RSASSA_PSS,
    _seq(
        _tlv(0xA0, _SHA384_ALG),
        _tlv(0xA1, _seq(_OID_MGF1, _SHA384_ALG)),
        _tlv(0xA2, _tlv(0x02, bytes([48]))),
    ),
)


def spki_from_public_key(public_key: rsa.RSAPublicKey) -> bytes:
    """Encode an RSA public key as an RSASSA-PSS SubjectPublicKeyInfo (DER).

    ``SEQUENCE { AlgorithmIdentifier(id-RSASSA-PSS, RSASSA-PSS-params(SHA-384,
    MGF1-SHA-384, 48)), BIT STRING { RSAPublicKey } }`` (RFC 5280 §4.1,
    RFC 4055 §3.1, RFC 8017 Appendix A.1.1), as RFC 9578 §6.5 requires.

    Parameters
    ----------
    public_key : cryptography RSAPublicKey

    Returns
    -------
    bytes
        DER bytes; identical to RFC 9578 Appendix A.2 ``pkS`` for that key.
    """
    numbers = public_key.public_numbers()
    rsa_public_key = _seq(_uint(numbers.n), _uint(numbers.e))
    return _seq(PSS_ALGORITHM_IDENTIFIER, _tlv(0x03, b"\x00" + rsa_public_key))


def _read_tlv(buf: bytes, pos: int, tag: int) -> tuple[bytes, int]:
    """Read one DER TLV with ``tag`` at ``pos``; return (body, position after it)."""
    if pos + 2 > len(buf) or buf[pos] != tag:
        raise KeyFormatError(f"expected DER tag 0x{tag:02x} at offset {pos}")
    first = buf[pos + 1]
    pos += 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or pos + count > len(buf):
            raise KeyFormatError("unsupported DER length")
        length = int.from_bytes(buf[pos : pos + count], "big")
        if length < 0x80 or buf[pos] == 0:
            raise KeyFormatError("non-minimal DER length")
        pos += count
    end = pos + length
    if end > len(buf):
        raise KeyFormatError("DER value runs past the end of the input")
    return bytes(buf[pos:end]), end


def _read_uint(buf: bytes, pos: int) -> tuple[int, int]:
    body, pos = _read_tlv(buf, pos, 0x02)
    if not body or body[0] & 0x80:
        raise KeyFormatError("RSA key integers must be positive")
    if len(body) > 1 and body[0] == 0 and not body[1] & 0x80:
        raise KeyFormatError("non-minimal DER integer")
    return int.from_bytes(body, "big"), pos


def public_key_from_spki(spki: bytes) -> rsa.RSAPublicKey:
    """Parse an RSASSA-PSS SubjectPublicKeyInfo written by :func:`spki_from_public_key`.

    Only the exact RFC 9578 §6.5 algorithm identifier (SHA-384, MGF1-SHA-384,
    salt 48) is accepted, so a key id always names a key that will be used with
    those parameters.

    Raises
    ------
    KeyFormatError
        Anything other than that DER structure, including trailing bytes.
    KeySizeError
        Modulus under 2048 bits.
    """
    try:
        spki = bytes(spki)
    except TypeError:
        raise KeyFormatError("SPKI must be bytes") from None
    outer, end = _read_tlv(spki, 0, 0x30)
    if end != len(spki):
        raise KeyFormatError("trailing bytes after SubjectPublicKeyInfo")
    if not outer.startswith(PSS_ALGORITHM_IDENTIFIER):
        raise KeyFormatError("algorithm is not RSASSA-PSS with SHA-384, MGF1-SHA-384, salt 48")
    bits, end = _read_tlv(outer, len(PSS_ALGORITHM_IDENTIFIER), 0x03)
    if end != len(outer) or not bits or bits[0] != 0:
        raise KeyFormatError("malformed subjectPublicKey BIT STRING")
    seq, end = _read_tlv(bits, 1, 0x30)
    if end != len(bits):
        raise KeyFormatError("trailing bytes after RSAPublicKey")
    n, pos = _read_uint(seq, 0)
    e, pos = _read_uint(seq, pos)
    if pos != len(seq):
        raise KeyFormatError("trailing bytes inside RSAPublicKey")
    if n.bit_length() < MIN_MODULUS_BITS:
        raise KeySizeError(f"RSA modulus has {n.bit_length()} bits; at least {MIN_MODULUS_BITS} are required")
    if e < 3 or e % 2 == 0 or n % 2 == 0:
        raise KeyFormatError("not a valid RSA public key")
    try:
        return rsa.RSAPublicNumbers(e, n).public_key()
    except ValueError as exc:
        raise KeyFormatError(f"not a valid RSA public key: {exc}") from None


def token_key_id(public_key: rsa.RSAPublicKey | bytes) -> bytes:
    """``token_key_id = SHA-256(SerializedPublicKey)`` (RFC 9578 §6.5).

    Parameters
    ----------
    public_key : cryptography RSAPublicKey or bytes
        The key, or its RSASSA-PSS SPKI bytes (as published).

    Returns
    -------
    bytes
        32 bytes; the last byte is the ``truncated_token_key_id`` of a TokenRequest.
    """
    spki = public_key if isinstance(public_key, (bytes, bytearray)) else spki_from_public_key(public_key)
    return hashlib.sha256(spki).digest()


def generate_issuer_key() -> rsa.RSAPrivateKey:
    """Generate a fresh 2048-bit RSA issuer key with ``e = 65537`` (RFC 9578 §6: Nk = 256)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=ISSUER_KEY_BITS)


def _aesgcm(kek: object) -> AESGCM:
    if not isinstance(kek, (bytes, bytearray)) or len(kek) != 32:
        raise ValueError("the key-encryption key must be exactly 32 bytes")
    return AESGCM(bytes(kek))


def encrypt_private_key(private_key: rsa.RSAPrivateKey, kek: bytes, aad: bytes) -> bytes:
    """Encrypt an issuer private key for storage (AES-256-GCM, NIST SP 800-38D).

    Blob layout: ``0x01 || nonce (12 random bytes) || AES-GCM(kek, nonce,
    PKCS#8 DER, aad)``. Pass the row's key id (or another value that names
    the row) as ``aad`` so a ciphertext copied into another row fails to open.

    Parameters
    ----------
    private_key : cryptography RSAPrivateKey
    kek : bytes
        32-byte key-encryption key from the settings, never stored in the database.
    aad : bytes
        Associated data binding the blob to its row.

    Returns
    -------
    bytes
    """
    der = private_key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    nonce = secrets.token_bytes(_NONCE_LEN)
    return _BLOB_VERSION + nonce + _aesgcm(kek).encrypt(nonce, der, bytes(aad))


def decrypt_private_key(blob: bytes, kek: bytes, aad: bytes) -> rsa.RSAPrivateKey:
    """Open a blob made by :func:`encrypt_private_key`.

    Raises
    ------
    KeyDecryptionError
        Wrong ``kek``, wrong ``aad`` (blob from another row), truncated or
        modified blob, or contents that are not an RSA private key.
    """
    blob = bytes(blob)
    if len(blob) < 1 + _NONCE_LEN + 16 or blob[:1] != _BLOB_VERSION:
        raise KeyDecryptionError("not an encrypted private key blob")
    nonce = blob[1 : 1 + _NONCE_LEN]
    try:
        der = _aesgcm(kek).decrypt(nonce, blob[1 + _NONCE_LEN :], bytes(aad))
    except InvalidTag:
        raise KeyDecryptionError("private key blob does not authenticate under this key and row") from None
    try:
        key = serialization.load_der_private_key(der, password=None)
    except (ValueError, TypeError):
        raise KeyDecryptionError("decrypted blob is not a private key") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise KeyDecryptionError("decrypted blob is not an RSA private key")
    return key
