"""RSA blind signatures, RFC 9474 (RSABSSA), all four SHA-384 variants.

The protocol has three parties' worth of functions:

* client: :func:`prepare` (§4.1), :func:`blind` (§4.2), :func:`finalize` (§4.4);
* server: :func:`blind_sign` (§4.3) on a :class:`SigningKey`;
* anyone: :func:`verify` (§4.5), which is ordinary RSASSA-PSS verification
  (RFC 8017 §8.1.2) done by OpenSSL through ``cryptography``.

Randomness (message prefix, PSS salt, blinding inverse) can be injected so that
the RFC 9474 Appendix A vectors replay exactly; production callers leave those
arguments out and fresh randomness comes from :func:`secrets.token_bytes`.

The private-key operation is hardened (design invariant 7) and every blind
signature is checked (``s^e mod n == m`` with GMP, RFC 9474 §4.3 step 3) before
it leaves the function. It has two implementations:

* OpenSSL's own RSA private operation (:mod:`crypto.openssl_rsa`: the system
  ``libcrypto`` with ``RSA_NO_PADDING``), blinded and constant-time inside
  OpenSSL, as fast as OpenSSL's signing — used whenever libcrypto loads;
* the fallback, when it does not: CRT with GMP's constant-time
  ``mpz_powm_sec``, blinded here with a fresh random ``r`` per call (multiply by
  ``r^e``, unblind by ``r^-1``). Its remaining mpz reductions and the CRT
  recombination are ordinary GMP arithmetic; they only ever see the blinded
  value ``m * r^e``, never the client's message. It is about three times slower.

:func:`signing_backend` names the one in use (the service logs it at start-up).
Python's ``pow`` is never applied to secret values.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from dataclasses import dataclass

import gmpy2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from .openssl_rsa import LibcryptoUnavailableError, OpenSSLError, RawRSAPrivateKey, libcrypto

__all__ = [
    "BlindRSAError",
    "BlindResult",
    "KeySizeError",
    "LengthError",
    "MessageRangeError",
    "SignatureCheckError",
    "SigningKey",
    "Variant",
    "VerificationError",
    "blind",
    "blind_sign",
    "emsa_pss_encode",
    "finalize",
    "prepare",
    "signing_backend",
    "verify",
    "MIN_MODULUS_BITS",
]

#: RFC 9474 §6 / RFC 9578 §6: keys shorter than this are refused.
MIN_MODULUS_BITS = 2048

_HASH_LEN = 48  # SHA-384
_PREFIX_LEN = 32  # RFC 9474 §4.1 PrepareRandomize


class BlindRSAError(Exception):
    """Base class of every error raised by :mod:`crypto.blindrsa`."""


class MessageRangeError(BlindRSAError):
    """An integer representative is outside ``[0, n)`` or not invertible mod n.

    RFC 9474 §4.2 ("invalid input", "invalid blind") and §4.3 / RFC 8017
    §5.2.1 ("message representative out of range").
    """


class LengthError(BlindRSAError):
    """A byte string does not have the length the RFC requires (usually ``modulus_len``)."""


class KeySizeError(BlindRSAError):
    """The RSA modulus is shorter than :data:`MIN_MODULUS_BITS` bits."""


class SignatureCheckError(BlindRSAError):
    """The server's own check ``s^e mod n == m`` failed (RFC 9474 §4.3 step 3).

    Raised instead of returning a possibly faulty signature, which with CRT
    would leak a factor of ``n``.
    """


class VerificationError(BlindRSAError):
    """A (finalized) signature is not a valid RSASSA-PSS signature (RFC 9474 §4.4, §4.5)."""


class Variant(enum.Enum):
    """The four RSABSSA variants of RFC 9474 §5, all with SHA-384 and MGF1-SHA-384.

    The value is ``(name, salt_len, randomized)``.
    """

    PSS_RANDOMIZED = ("RSABSSA-SHA384-PSS-Randomized", 48, True)
    PSSZERO_RANDOMIZED = ("RSABSSA-SHA384-PSSZERO-Randomized", 0, True)
    PSS_DETERMINISTIC = ("RSABSSA-SHA384-PSS-Deterministic", 48, False)
    PSSZERO_DETERMINISTIC = ("RSABSSA-SHA384-PSSZERO-Deterministic", 0, False)

    @property
    def rfc_name(self) -> str:
        return self.value[0]

    @property
    def salt_len(self) -> int:
        return self.value[1]

    @property
    def randomized(self) -> bool:
        return self.value[2]

    @classmethod
    def from_name(cls, name: str) -> Variant:
        """Look a variant up by its RFC 9474 §5 name, e.g. ``"RSABSSA-SHA384-PSS-Deterministic"``."""
        for variant in cls:
            if variant.rfc_name == name:
                return variant
        raise ValueError(f"unknown RSABSSA variant {name!r}")


@dataclass(frozen=True, slots=True)
class BlindResult:
    """Output of :func:`blind` (RFC 9474 §4.2).

    Attributes
    ----------
    blinded_msg : bytes
        ``modulus_len`` bytes, sent to the server.
    inv : bytes
        ``r^-1 mod n`` as ``modulus_len`` big-endian bytes; the client keeps it
        secret until :func:`finalize`.
    """

    blinded_msg: bytes
    inv: bytes


def _modulus_len(n: int) -> int:
    return (n.bit_length() + 7) // 8


def _i2osp(x: int | gmpy2.mpz, length: int) -> bytes:
    return int(x).to_bytes(length, "big")


def _to_mpz(x: int | bytes) -> gmpy2.mpz:
    return gmpy2.mpz(int.from_bytes(x, "big") if isinstance(x, (bytes, bytearray)) else x)


def _check_key_size(n: int) -> None:
    if n.bit_length() < MIN_MODULUS_BITS:
        raise KeySizeError(f"RSA modulus has {n.bit_length()} bits; at least {MIN_MODULUS_BITS} are required")


def _mgf1_sha384(seed: bytes, length: int) -> bytes:
    out = bytearray()
    counter = 0
    while len(out) < length:
        out += hashlib.sha384(seed + counter.to_bytes(4, "big")).digest()
        counter += 1
    return bytes(out[:length])


def emsa_pss_encode(msg: bytes, em_bits: int, salt: bytes) -> bytes:
    """EMSA-PSS-ENCODE with SHA-384 and MGF1-SHA-384 (RFC 8017 §9.1.1).

    Parameters
    ----------
    msg : bytes
        Message ``M`` (for RSABSSA, the prepared message).
    em_bits : int
        ``modBits - 1`` (RFC 9474 §4.2 step 1).
    salt : bytes
        The salt; its length is ``sLen`` (48 or 0 for RFC 9474's variants).

    Returns
    -------
    bytes
        ``EM = maskedDB || H || 0xbc`` of ``ceil(em_bits / 8)`` bytes.
    """
    m_hash = hashlib.sha384(msg).digest()
    em_len = (em_bits + 7) // 8
    if em_len < _HASH_LEN + len(salt) + 2:
        raise LengthError("encoding error: modulus too short for SHA-384 PSS with this salt")
    m_prime = b"\x00" * 8 + m_hash + salt
    h = hashlib.sha384(m_prime).digest()
    ps = b"\x00" * (em_len - len(salt) - _HASH_LEN - 2)
    db = ps + b"\x01" + salt
    db_mask = _mgf1_sha384(h, em_len - _HASH_LEN - 1)
    masked = bytearray(a ^ b for a, b in zip(db, db_mask, strict=True))  # both emLen - hLen - 1 bytes
    masked[0] &= 0xFF >> (8 * em_len - em_bits)
    return bytes(masked) + h + b"\xbc"


def prepare(msg: bytes, variant: Variant, *, msg_prefix: bytes | None = None) -> bytes:
    """Prepare a message for blinding (RFC 9474 §4.1).

    Parameters
    ----------
    msg : bytes
        The message to sign.
    variant : Variant
        Deterministic variants use PrepareIdentity (``msg`` unchanged);
        randomized ones use PrepareRandomize (``msg_prefix || msg``).
    msg_prefix : bytes, optional
        32 bytes to use instead of fresh random bytes (test-vector replay only).

    Returns
    -------
    bytes
        ``input_msg``, which is what :func:`finalize` and :func:`verify` take.
    """
    if not variant.randomized:
        if msg_prefix:
            raise LengthError("deterministic variants take no message prefix")
        return bytes(msg)
    if msg_prefix is None:
        msg_prefix = secrets.token_bytes(_PREFIX_LEN)
    if len(msg_prefix) != _PREFIX_LEN:
        raise LengthError(f"message prefix must be {_PREFIX_LEN} bytes, got {len(msg_prefix)}")
    return bytes(msg_prefix) + bytes(msg)


def _public_numbers(public_key: rsa.RSAPublicKey) -> tuple[int, int]:
    numbers = public_key.public_numbers()
    _check_key_size(numbers.n)
    return numbers.n, numbers.e


def blind(
    public_key: rsa.RSAPublicKey,
    prepared_msg: bytes,
    variant: Variant,
    *,
    salt: bytes | None = None,
    r: int | bytes | None = None,
    inv: int | bytes | None = None,
) -> BlindResult:
    """Blind a prepared message (RFC 9474 §4.2).

    ``encoded_msg = EMSA-PSS-ENCODE(prepared_msg, modBits - 1)``,
    ``m = OS2IP(encoded_msg)``, ``r`` uniform in ``[1, n)`` with
    ``inv = r^-1 mod n``, ``blinded_msg = I2OSP(m * r^e mod n, modulus_len)``.

    Parameters
    ----------
    public_key : cryptography RSAPublicKey
        The signer's key, at least 2048 bits.
    prepared_msg : bytes
        Output of :func:`prepare`.
    variant : Variant
        Selects the salt length (48 or 0).
    salt : bytes, optional
        PSS salt to use instead of fresh random bytes (vector replay only).
    r : int or bytes, optional
        Blinding factor to use instead of a random one (vector replay only;
        RFC 9578 Appendix A calls it ``blind``).
    inv : int or bytes, optional
        Blinding inverse ``r^-1 mod n`` to use instead of a random one
        (vector replay only; RFC 9474 Appendix A gives ``inv``); ``r`` is
        recomputed from it. At most one of ``r`` and ``inv``.

    Returns
    -------
    BlindResult
        ``blinded_msg`` for the server and ``inv`` for :func:`finalize`.

    Raises
    ------
    KeySizeError
        Modulus under 2048 bits.
    LengthError
        Salt of the wrong length.
    MessageRangeError
        ``m`` not coprime to ``n`` ("invalid input") or an injected ``inv`` not
        invertible ("invalid blind").
    """
    n, e = _public_numbers(public_key)
    k = _modulus_len(n)
    if salt is None:
        salt = secrets.token_bytes(variant.salt_len)
    if len(salt) != variant.salt_len:
        raise LengthError(f"{variant.rfc_name} needs a {variant.salt_len}-byte salt, got {len(salt)}")
    encoded = emsa_pss_encode(prepared_msg, n.bit_length() - 1, salt)
    mn = gmpy2.mpz(n)
    m = gmpy2.mpz(int.from_bytes(encoded, "big"))
    if gmpy2.gcd(m, mn) != 1:
        raise MessageRangeError("invalid input: encoded message is not coprime to n")
    if r is not None and inv is not None:
        raise ValueError("inject r or inv, not both")
    injected = r if r is not None else inv
    if injected is None:
        while True:
            r_m = gmpy2.mpz(secrets.randbelow(n - 1) + 1)
            if gmpy2.gcd(r_m, mn) == 1:
                break
        inv_m = gmpy2.invert(r_m, mn)
    else:
        given = _to_mpz(injected)
        if not 0 < given < mn or gmpy2.gcd(given, mn) != 1:
            raise MessageRangeError("invalid blind: not invertible modulo n")
        other = gmpy2.invert(given, mn)
        r_m, inv_m = (given, other) if r is not None else (other, given)
    x = gmpy2.powmod(r_m, e, mn)
    z = (m * x) % mn
    return BlindResult(blinded_msg=_i2osp(z, k), inv=_i2osp(inv_m, k))


def signing_backend() -> str:
    """Which implementation of the private operation :class:`SigningKey` uses by default, in words.

    The OpenSSL one when the system libcrypto loads; otherwise the GMP fallback,
    with the reason libcrypto could not be used.
    """
    try:
        lib = libcrypto()
    except LibcryptoUnavailableError as exc:
        return f"GMP mpz_powm_sec fallback, about 3x slower ({exc})"
    return f"OpenSSL RSA private operation ({lib.version}, {lib.name}), verify-after-sign with GMP"


class SigningKey:
    """An RSA private key prepared for hardened blind signing.

    The key is loaded once: into OpenSSL (:class:`crypto.openssl_rsa.RawRSAPrivateKey`)
    when the system libcrypto is available; its CRT parameters are converted to GMP
    integers once too, for the fallback.

    Parameters
    ----------
    private_key : cryptography RSAPrivateKey
        At least 2048 bits (RFC 9474 §6 recommends 2048 or more; RFC 9578 §6 uses 2048).
    openssl : bool, optional
        ``None`` (the default): OpenSSL when libcrypto loads, else the GMP fallback.
        ``True``: OpenSSL or :class:`crypto.openssl_rsa.LibcryptoUnavailableError`.
        ``False``: the GMP fallback.

    Raises
    ------
    KeySizeError
        Modulus under 2048 bits.
    """

    __slots__ = ("_dp", "_dq", "_e", "_n", "_p", "_q", "_qinv", "_raw", "_rbits", "modulus_len", "public_key")

    def __init__(self, private_key: rsa.RSAPrivateKey, *, openssl: bool | None = None) -> None:
        numbers = private_key.private_numbers()
        pub = numbers.public_numbers
        _check_key_size(pub.n)
        self.public_key: rsa.RSAPublicKey = private_key.public_key()
        self.modulus_len = _modulus_len(pub.n)
        self._n = gmpy2.mpz(pub.n)
        self._e = gmpy2.mpz(pub.e)
        self._p = gmpy2.mpz(numbers.p)
        self._q = gmpy2.mpz(numbers.q)
        self._dp = gmpy2.mpz(numbers.dmp1)
        self._dq = gmpy2.mpz(numbers.dmq1)
        self._qinv = gmpy2.mpz(numbers.iqmp)
        # 64 extra bits make r mod n statistically uniform.
        self._rbits = pub.n.bit_length() + 64
        self._raw: RawRSAPrivateKey | None = None
        if openssl is not False:
            try:
                lib = libcrypto()
            except LibcryptoUnavailableError:
                if openssl:
                    raise
            else:
                der = private_key.private_bytes(
                    serialization.Encoding.DER,
                    serialization.PrivateFormat.TraditionalOpenSSL,  # PKCS #1 RSAPrivateKey
                    serialization.NoEncryption(),
                )
                self._raw = RawRSAPrivateKey(der, lib)

    @classmethod
    def from_der(cls, der: bytes, *, openssl: bool | None = None) -> SigningKey:
        """A key from its unencrypted PKCS #8 or PKCS #1 DER (how keys reach signing processes).

        Raises
        ------
        ValueError
            ``der`` is not an RSA private key.
        """
        key = serialization.load_der_private_key(bytes(der), password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("not an RSA private key")
        return cls(key, openssl=openssl)

    @property
    def uses_openssl(self) -> bool:
        """Whether the private operation is OpenSSL's (else the GMP fallback)."""
        return self._raw is not None

    def __repr__(self) -> str:  # never show key material
        engine = "openssl" if self._raw is not None else "gmp"
        return f"SigningKey(bits={int(self._n).bit_length()}, engine={engine})"

    def _rsasp1_blinded(self, m: gmpy2.mpz) -> gmpy2.mpz:
        """The fallback: blinded CRT with GMP's constant-time powm."""
        n = self._n
        # RSA blinding of the private operation: the exponentiations see
        # c = m * r^e, unrelated to m, and a fresh r every call.
        while True:
            r = gmpy2.mpz(secrets.randbits(self._rbits)) % n
            try:
                r_inv = gmpy2.invert(r, n)  # fails only for r sharing a factor with n
            except ZeroDivisionError:
                continue
            if r > 1:
                break
        c = (m * gmpy2.powmod(r, self._e, n)) % n
        # CRT (RFC 8017 §5.1.2, second form) with GMP's side-channel silent powm.
        s1 = gmpy2.powmod_sec(c % self._p, self._dp, self._p)
        s2 = gmpy2.powmod_sec(c % self._q, self._dq, self._q)
        h = (self._qinv * (s1 - s2)) % self._p
        s = s2 + h * self._q
        return (s * r_inv) % n

    def _rsasp1(self, blinded_msg: bytes, m: gmpy2.mpz) -> gmpy2.mpz:
        """RSASP1 (RFC 8017 §5.2.1) of ``m`` (= OS2IP(blinded_msg), already checked below n)."""
        if self._raw is None:
            return self._rsasp1_blinded(m)
        try:
            return gmpy2.mpz(int.from_bytes(self._raw.private_operation(blinded_msg), "big"))
        except OpenSSLError as exc:
            raise SignatureCheckError(f"signing failure: {exc}") from None

    def blind_sign(self, blinded_msg: bytes) -> bytes:
        """See :func:`blind_sign`."""
        if len(blinded_msg) != self.modulus_len:
            raise LengthError(f"blinded message must be {self.modulus_len} bytes, got {len(blinded_msg)}")
        blinded_msg = bytes(blinded_msg)
        m = gmpy2.mpz(int.from_bytes(blinded_msg, "big"))
        if m >= self._n:
            raise MessageRangeError("message representative out of range: blinded message >= n")
        s = self._rsasp1(blinded_msg, m)
        # RFC 9474 §4.3 step 3: never release a signature that does not verify
        # (a CRT fault would otherwise reveal a factor of n).
        if gmpy2.powmod(s, self._e, self._n) != m:
            raise SignatureCheckError("signing failure: blind signature did not verify")
        return _i2osp(s, self.modulus_len)


def blind_sign(key: SigningKey | rsa.RSAPrivateKey, blinded_msg: bytes) -> bytes:
    """Sign a blinded message (RFC 9474 §4.3, BlindSign).

    ``s = RSASP1(skS, OS2IP(blinded_msg))``, then the check
    ``RSAVP1(pkS, s) == m``, then ``I2OSP(s, modulus_len)``.

    Parameters
    ----------
    key : SigningKey or cryptography RSAPrivateKey
        Pass a :class:`SigningKey` when signing repeatedly: it loads the key once.
    blinded_msg : bytes
        Exactly ``modulus_len`` bytes, numerically below ``n``.

    Returns
    -------
    bytes
        ``blind_sig``, ``modulus_len`` bytes.

    Raises
    ------
    LengthError
        ``blinded_msg`` is not ``modulus_len`` bytes.
    MessageRangeError
        ``OS2IP(blinded_msg) >= n``.
    SignatureCheckError
        The self-check failed; nothing is returned.
    KeySizeError
        The key is under 2048 bits.
    """
    if not isinstance(key, SigningKey):
        key = SigningKey(key)
    return key.blind_sign(blinded_msg)


def _pss(variant: Variant) -> padding.PSS:
    return padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=variant.salt_len)


def verify(public_key: rsa.RSAPublicKey, prepared_msg: bytes, sig: bytes, variant: Variant) -> None:
    """Verify a finalized signature (RFC 9474 §4.5): RSASSA-PSS-VERIFY, RFC 8017 §8.1.2.

    Verification is OpenSSL's, through ``cryptography``.

    Parameters
    ----------
    public_key : cryptography RSAPublicKey
    prepared_msg : bytes
        The prepared message (``msg_prefix || msg`` for randomized variants).
    sig : bytes
        ``modulus_len`` bytes.
    variant : Variant
        Selects the salt length.

    Raises
    ------
    KeySizeError
        Key under 2048 bits.
    VerificationError
        The signature is invalid (including a wrong length).
    """
    # key_size, not public_numbers(): verifying is the hot path of every redemption.
    if public_key.key_size < MIN_MODULUS_BITS:
        raise KeySizeError(
            f"RSA modulus has {public_key.key_size} bits; at least {MIN_MODULUS_BITS} are required"
        )
    if len(sig) != (public_key.key_size + 7) // 8:
        raise VerificationError("invalid signature: wrong length")
    try:
        public_key.verify(bytes(sig), bytes(prepared_msg), _pss(variant), hashes.SHA384())
    except InvalidSignature:
        raise VerificationError("invalid signature") from None


def finalize(
    public_key: rsa.RSAPublicKey,
    prepared_msg: bytes,
    blind_sig: bytes,
    inv: bytes | int,
    variant: Variant,
) -> bytes:
    """Unblind and verify a blind signature (RFC 9474 §4.4).

    ``sig = I2OSP(OS2IP(blind_sig) * inv mod n, modulus_len)``, then
    RSASSA-PSS-VERIFY of ``sig`` over ``prepared_msg``.

    Parameters
    ----------
    public_key : cryptography RSAPublicKey
    prepared_msg : bytes
        The same prepared message that was blinded.
    blind_sig : bytes
        The server's answer, ``modulus_len`` bytes.
    inv : bytes or int
        ``BlindResult.inv``.
    variant : Variant

    Returns
    -------
    bytes
        The signature, valid under ordinary RSASSA-PSS (SHA-384, MGF1-SHA-384).

    Raises
    ------
    LengthError
        ``blind_sig`` is not ``modulus_len`` bytes.
    MessageRangeError
        ``blind_sig`` is not below ``n``.
    VerificationError
        The unblinded signature does not verify.
    """
    n, _ = _public_numbers(public_key)
    k = _modulus_len(n)
    if len(blind_sig) != k:
        raise LengthError(f"blind signature must be {k} bytes, got {len(blind_sig)}")
    z = gmpy2.mpz(int.from_bytes(blind_sig, "big"))
    mn = gmpy2.mpz(n)
    if z >= mn:
        raise MessageRangeError("blind signature representative out of range")
    inv_m = _to_mpz(inv)
    if not 0 < inv_m < mn:
        raise MessageRangeError("blinding inverse out of range")
    sig = _i2osp((z * inv_m) % mn, k)
    verify(public_key, prepared_msg, sig, variant)
    return sig
