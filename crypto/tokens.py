"""Privacy Pass tokens of type 0x0002 (RFC 9578 §6) and their HTTP encodings (RFC 9577).

Wire structures (TLS presentation language, RFC 8446 §3):

* ``TokenChallenge`` (RFC 9577 §2.1.1)::

      struct {
          uint16_t token_type;
          opaque issuer_name<1..2^16-1>;
          opaque redemption_context<0..32>;   /* 0 or 32 bytes */
          opaque origin_info<0..2^16-1>;
      } TokenChallenge;

* ``Token`` (RFC 9577 §2.2 with RFC 9578 §6: Nid = 32, Nk = 256)::

      struct {
          uint16_t token_type = 0x0002;
          uint8_t nonce[32];
          uint8_t challenge_digest[32];       /* SHA-256(TokenChallenge) */
          uint8_t token_key_id[32];
          uint8_t authenticator[256];
      } Token;

* ``TokenRequest`` (RFC 9578 §6.1)::

      struct {
          uint16_t token_type = 0x0002;
          uint8_t truncated_token_key_id;
          uint8_t blinded_msg[256];
      } TokenRequest;

* ``TokenResponse`` (RFC 9578 §6.2): ``uint8_t blind_sig[256]``.

The signature scheme is RSABSSA-SHA384-PSS-Deterministic (RFC 9474) over
``token_input = token_type || nonce || challenge_digest || token_key_id``.

Every parser raises :class:`TokenFormatError` (or a subclass) for malformed
input; it never lets ``IndexError``, ``ValueError`` or ``struct.error`` escape.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import struct
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import rsa

from . import blindrsa
from .blindrsa import SigningKey, Variant
from .keys import KeyFormatError, public_key_from_spki, spki_from_public_key, token_key_id

__all__ = [
    "NK",
    "NID",
    "TOKEN_REQUEST",
    "TOKEN_RESPONSE",
    "TOKEN_TYPE_BLIND_RSA",
    "AuthenticateChallenge",
    "ClientState",
    "Token",
    "TokenChallenge",
    "TokenChallengeMismatchError",
    "TokenError",
    "TokenFormatError",
    "TokenKeyMismatchError",
    "TokenRequest",
    "TokenResponse",
    "TokenTypeError",
    "TokenVerificationError",
    "create_token_request",
    "finalize_token",
    "format_authorization",
    "format_www_authenticate",
    "issue_token_response",
    "parse_authorization",
    "parse_www_authenticate",
    "verify_token",
]

TOKEN_TYPE_BLIND_RSA = 0x0002
NK = 256  # RFC 9578 §6: authenticator length, the 2048-bit modulus length
NID = 32  # RFC 9578 §6: token_key_id length
NONCE_LEN = 32
DIGEST_LEN = 32
VARIANT = Variant.PSS_DETERMINISTIC
# The media types RFC 9578 registers for an issuance request and response body.
TOKEN_REQUEST = "application/private-token-request"
TOKEN_RESPONSE = "application/private-token-response"

_TOKEN_LEN = 2 + NONCE_LEN + DIGEST_LEN + NID + NK
_REQUEST_LEN = 2 + 1 + NK


class TokenError(Exception):
    """Base class of every error raised by :mod:`crypto.tokens`."""


class TokenFormatError(TokenError):
    """Bytes or a header value that do not parse as the expected structure."""


class TokenTypeError(TokenFormatError):
    """A structure carries a token type other than 0x0002."""


class TokenKeyMismatchError(TokenError):
    """The (truncated) token key id names a different issuer key."""


class TokenChallengeMismatchError(TokenError):
    """A token's challenge digest is not SHA-256 of the expected TokenChallenge."""


class TokenVerificationError(TokenError):
    """A token's authenticator is not a valid signature over its token input."""


# --- byte readers ------------------------------------------------------------


class _Reader:
    """Bounds-checked cursor over bytes; every shortfall is a TokenFormatError."""

    __slots__ = ("buf", "pos", "what")

    def __init__(self, data: object, what: str) -> None:
        if isinstance(data, (bytes, bytearray)):
            self.buf = bytes(data)
        elif isinstance(data, memoryview):
            self.buf = data.tobytes()
        else:
            raise TokenFormatError(f"{what} must be bytes")
        self.pos = 0
        self.what = what

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.buf):
            raise TokenFormatError(f"{self.what} is truncated")
        out = self.buf[self.pos : self.pos + n]
        self.pos += n
        return out

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return int.from_bytes(self.take(2), "big")

    def end(self) -> None:
        if self.pos != len(self.buf):
            raise TokenFormatError(f"{self.what} has {len(self.buf) - self.pos} trailing bytes")


def _check_type(token_type: int, what: str) -> None:
    if token_type != TOKEN_TYPE_BLIND_RSA:
        raise TokenTypeError(f"{what} has token type 0x{token_type:04x}, expected 0x0002")


def _fixed(value: object, length: int, name: str) -> bytes:
    if not isinstance(value, (bytes, bytearray)) or len(value) != length:
        raise TokenFormatError(f"{name} must be {length} bytes")
    return bytes(value)


# --- structures --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TokenChallenge:
    """RFC 9577 §2.1.1 TokenChallenge.

    Attributes
    ----------
    token_type : int
    issuer_name : str
        ASCII host name of the issuer.
    redemption_context : bytes
        Empty or 32 bytes.
    origin_info : str
        ASCII, ``,``-separated origin names; empty for cross-origin tokens.
    """

    token_type: int
    issuer_name: str
    redemption_context: bytes = b""
    origin_info: str = ""

    def encode(self) -> bytes:
        """Serialise per RFC 9577 §2.1.1."""
        try:
            issuer = self.issuer_name.encode("ascii")
            origin = self.origin_info.encode("ascii")
        except (UnicodeEncodeError, AttributeError):
            raise TokenFormatError("issuer_name and origin_info must be ASCII strings") from None
        if not 1 <= len(issuer) <= 0xFFFF:
            raise TokenFormatError("issuer_name must be 1..65535 bytes")
        if len(self.redemption_context) not in (0, 32):
            raise TokenFormatError("redemption_context must be 0 or 32 bytes")
        if len(origin) > 0xFFFF:
            raise TokenFormatError("origin_info must be at most 65535 bytes")
        if not 0 <= self.token_type <= 0xFFFF:
            raise TokenFormatError("token_type must fit in 16 bits")
        return b"".join(
            (
                struct.pack(">HH", self.token_type, len(issuer)),
                issuer,
                bytes([len(self.redemption_context)]),
                bytes(self.redemption_context),
                struct.pack(">H", len(origin)),
                origin,
            )
        )

    @classmethod
    def decode(cls, data: bytes) -> TokenChallenge:
        """Parse RFC 9577 §2.1.1 bytes; raises :class:`TokenFormatError`."""
        r = _Reader(data, "TokenChallenge")
        token_type = r.u16()
        issuer_len = r.u16()
        if issuer_len == 0:
            raise TokenFormatError("TokenChallenge issuer_name is empty")
        issuer = r.take(issuer_len)
        ctx_len = r.u8()
        if ctx_len not in (0, 32):
            raise TokenFormatError("TokenChallenge redemption_context must be 0 or 32 bytes")
        ctx = r.take(ctx_len)
        origin = r.take(r.u16())
        r.end()
        try:
            return cls(token_type, issuer.decode("ascii"), ctx, origin.decode("ascii"))
        except UnicodeDecodeError:
            raise TokenFormatError("TokenChallenge names must be ASCII") from None

    def digest(self) -> bytes:
        """``challenge_digest = SHA-256(TokenChallenge)`` (RFC 9578 §6.1)."""
        return hashlib.sha256(self.encode()).digest()


@dataclass(frozen=True, slots=True)
class Token:
    """RFC 9577 §2.2 Token for type 0x0002 (354 bytes)."""

    token_type: int
    nonce: bytes
    challenge_digest: bytes
    token_key_id: bytes
    authenticator: bytes

    @property
    def token_input(self) -> bytes:
        """``token_type || nonce || challenge_digest || token_key_id``, the signed message (RFC 9578 §6.3)."""
        return struct.pack(">H", self.token_type) + self.nonce + self.challenge_digest + self.token_key_id

    def encode(self) -> bytes:
        _fixed(self.nonce, NONCE_LEN, "nonce")
        _fixed(self.challenge_digest, DIGEST_LEN, "challenge_digest")
        _fixed(self.token_key_id, NID, "token_key_id")
        _fixed(self.authenticator, NK, "authenticator")
        return self.token_input + self.authenticator

    @classmethod
    def decode(cls, data: bytes) -> Token:
        """Parse a type-2 Token; raises :class:`TokenFormatError` / :class:`TokenTypeError`."""
        r = _Reader(data, "Token")
        token_type = r.u16()
        _check_type(token_type, "Token")
        token = cls(token_type, r.take(NONCE_LEN), r.take(DIGEST_LEN), r.take(NID), r.take(NK))
        r.end()
        return token


@dataclass(frozen=True, slots=True)
class TokenRequest:
    """RFC 9578 §6.1 TokenRequest (259 bytes)."""

    token_type: int
    truncated_token_key_id: int
    blinded_msg: bytes

    def encode(self) -> bytes:
        _fixed(self.blinded_msg, NK, "blinded_msg")
        return struct.pack(">HB", self.token_type, self.truncated_token_key_id) + self.blinded_msg

    @classmethod
    def decode(cls, data: bytes) -> TokenRequest:
        r = _Reader(data, "TokenRequest")
        token_type = r.u16()
        _check_type(token_type, "TokenRequest")
        req = cls(token_type, r.u8(), r.take(NK))
        r.end()
        return req


@dataclass(frozen=True, slots=True)
class TokenResponse:
    """RFC 9578 §6.2 TokenResponse: the 256-byte blind signature."""

    blind_sig: bytes

    def encode(self) -> bytes:
        return _fixed(self.blind_sig, NK, "blind_sig")

    @classmethod
    def decode(cls, data: bytes) -> TokenResponse:
        r = _Reader(data, "TokenResponse")
        resp = cls(r.take(NK))
        r.end()
        return resp


@dataclass(frozen=True, slots=True)
class ClientState:
    """What a client keeps between sending a TokenRequest and finalizing the Token.

    ``inv`` is secret: whoever holds it can link the TokenRequest to the Token.
    """

    public_key: rsa.RSAPublicKey
    token_key_id: bytes
    nonce: bytes
    challenge_digest: bytes
    inv: bytes

    @property
    def token_input(self) -> bytes:
        return struct.pack(">H", TOKEN_TYPE_BLIND_RSA) + self.nonce + self.challenge_digest + self.token_key_id


def _challenge_bytes(challenge: TokenChallenge | bytes) -> bytes:
    if isinstance(challenge, TokenChallenge):
        return challenge.encode()
    return TokenChallenge.decode(challenge).encode()  # validates


def _public_key(key: rsa.RSAPublicKey | bytes) -> tuple[rsa.RSAPublicKey, bytes]:
    """Return (public key, its RSASSA-PSS SPKI) from either form."""
    if isinstance(key, (bytes, bytearray)):
        try:
            return public_key_from_spki(bytes(key)), bytes(key)
        except (KeyFormatError, blindrsa.KeySizeError) as exc:
            raise TokenFormatError(f"token key: {exc}") from None
    return key, spki_from_public_key(key)


# --- the three roles ---------------------------------------------------------


def create_token_request(
    public_key: rsa.RSAPublicKey | bytes,
    challenge: TokenChallenge | bytes,
    *,
    nonce: bytes | None = None,
    salt: bytes | None = None,
    r: bytes | int | None = None,
) -> tuple[TokenRequest, ClientState]:
    """Client: build a TokenRequest for a type-2 challenge (RFC 9578 §6.1).

    ``nonce`` random 32 bytes, ``challenge_digest = SHA-256(challenge)``,
    ``token_input = 0x0002 || nonce || challenge_digest || token_key_id``,
    ``blinded_msg, inv = Blind(pkI, PrepareIdentity(token_input))``.

    Parameters
    ----------
    public_key : RSAPublicKey or bytes
        Issuer key, or its RSASSA-PSS SPKI as published (``token-key``).
    challenge : TokenChallenge or bytes
    nonce, salt, r : optional
        Injected randomness for test-vector replay only.

    Returns
    -------
    (TokenRequest, ClientState)
    """
    key, spki = _public_key(public_key)
    if key.key_size != 8 * NK:
        raise TokenFormatError(f"token type 2 needs a {8 * NK}-bit issuer key, got {key.key_size} bits")
    key_id = token_key_id(spki)
    digest = hashlib.sha256(_challenge_bytes(challenge)).digest()
    nonce = secrets.token_bytes(NONCE_LEN) if nonce is None else _fixed(nonce, NONCE_LEN, "nonce")
    state = ClientState(key, key_id, nonce, digest, b"")
    result = blindrsa.blind(key, state.token_input, VARIANT, salt=salt, r=r)
    request = TokenRequest(TOKEN_TYPE_BLIND_RSA, key_id[-1], result.blinded_msg)
    return request, ClientState(key, key_id, nonce, digest, result.inv)


def finalize_token(state: ClientState, response: TokenResponse | bytes) -> Token:
    """Client: unblind the TokenResponse into a Token (RFC 9578 §6.3).

    Raises
    ------
    TokenFormatError
        The response is not 256 bytes or not below ``n``.
    TokenVerificationError
        The unblinded signature does not verify: the issuer misbehaved.
    """
    if not isinstance(response, TokenResponse):
        response = TokenResponse.decode(response)
    try:
        sig = blindrsa.finalize(state.public_key, state.token_input, response.blind_sig, state.inv, VARIANT)
    except (blindrsa.LengthError, blindrsa.MessageRangeError) as exc:
        raise TokenFormatError(f"TokenResponse: {exc}") from None
    except blindrsa.VerificationError:
        raise TokenVerificationError("the issuer's signature does not verify") from None
    return Token(TOKEN_TYPE_BLIND_RSA, state.nonce, state.challenge_digest, state.token_key_id, sig)


def issue_token_response(
    signing_key: SigningKey,
    key_id: bytes,
    request: TokenRequest | bytes,
) -> bytes:
    """Issuer: answer a TokenRequest (RFC 9578 §6.2) with encoded TokenResponse bytes.

    Checks ``token_type == 0x0002`` and ``truncated_token_key_id ==
    key_id[-1]``, then ``blind_sig = BlindSign(skI, blinded_msg)``, which
    is hardened and self-checked (see :class:`crypto.blindrsa.SigningKey`).

    Parameters
    ----------
    signing_key : SigningKey
        The wave's key, prepared once (``SigningKey(private_key)``).
    key_id : bytes
        ``token_key_id(signing_key.public_key)``, usually stored with the key.
    request : TokenRequest or bytes
        The body of an ``application/private-token-request``.

    Returns
    -------
    bytes
        The body of the ``application/private-token-response``.

    Raises
    ------
    TokenFormatError, TokenTypeError
        Malformed request, or ``blinded_msg`` not below ``n``.
    TokenKeyMismatchError
        The truncated key id names another key.
    crypto.blindrsa.SignatureCheckError
        The signer's self-check failed (a server fault; nothing is returned).
    """
    if not isinstance(request, TokenRequest):
        request = TokenRequest.decode(request)
    _check_type(request.token_type, "TokenRequest")
    if len(key_id) != NID:
        raise ValueError("key_id must be 32 bytes")
    if request.truncated_token_key_id != key_id[-1]:
        raise TokenKeyMismatchError("TokenRequest is for another issuer key")
    try:
        blind_sig = signing_key.blind_sign(request.blinded_msg)
    except (blindrsa.LengthError, blindrsa.MessageRangeError) as exc:
        raise TokenFormatError(f"TokenRequest: {exc}") from None
    return TokenResponse(blind_sig).encode()


def verify_token(
    token: Token | bytes,
    public_key: rsa.RSAPublicKey | bytes,
    challenge: TokenChallenge | bytes,
    *,
    key_id: bytes | None = None,
    challenge_digest: bytes | None = None,
) -> Token:
    """Verifier: check a type-2 Token (RFC 9578 §6.4).

    Checks, in order: token type 0x0002; ``challenge_digest ==
    SHA-256(challenge)``; ``token_key_id`` equals the key's id;
    RSASSA-PSS-VERIFY(pkI, token_input, authenticator) with SHA-384,
    MGF1-SHA-384, salt 48. Spending the nonce is the caller's job.

    Parameters
    ----------
    token : Token or bytes
    public_key : RSAPublicKey or bytes (RSASSA-PSS SPKI)
    challenge : TokenChallenge or bytes
        The challenge the server issued for this resource.
    key_id : bytes, optional
        The key's stored ``token_key_id``, to skip recomputing it.
    challenge_digest : bytes, optional
        ``SHA-256(challenge)`` computed once by a verifier that checks many tokens
        against the same challenge.

    Returns
    -------
    Token
        The parsed, verified token (its ``nonce`` is what to spend).

    Raises
    ------
    TokenFormatError, TokenTypeError, TokenChallengeMismatchError,
    TokenKeyMismatchError, TokenVerificationError
    """
    if not isinstance(token, Token):
        token = Token.decode(token)
    _check_type(token.token_type, "Token")
    if key_id is not None and isinstance(public_key, rsa.RSAPublicKey):
        key = public_key  # a verifier's cached key and id: no SPKI round trip per token
    else:
        key, spki = _public_key(public_key)
        key_id = token_key_id(spki) if key_id is None else key_id
    expected_digest = challenge_digest or hashlib.sha256(_challenge_bytes(challenge)).digest()
    if not hmac.compare_digest(token.challenge_digest, expected_digest):
        raise TokenChallengeMismatchError("token was issued for another challenge")
    if not hmac.compare_digest(token.token_key_id, key_id):
        raise TokenKeyMismatchError("token was signed by another issuer key")
    try:
        blindrsa.verify(key, token.token_input, token.authenticator, VARIANT)
    except blindrsa.VerificationError:
        raise TokenVerificationError("token signature does not verify") from None
    return token


# --- HTTP headers (RFC 9577 §2.1, §2.2; RFC 9110 §11) ------------------------

_B64URL = re.compile(r"[A-Za-z0-9_-]*={0,2}")
_SIMPLE_AUTHORIZATION = re.compile(r'[Pp][Rr][Ii][Vv][Aa][Tt][Ee][Tt][Oo][Kk][Ee][Nn] token="([A-Za-z0-9_-]+=*)"')
_TOKEN_CHARS = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def _b64url_encode(data: bytes) -> str:
    # Padded: strict decoders (e.g. Go's base64.URLEncoding) need it; ours accepts both.
    return base64.urlsafe_b64encode(data).decode("ascii")


def _b64url_decode(text: str, what: str) -> bytes:
    if not _B64URL.fullmatch(text):
        raise TokenFormatError(f"{what} is not base64url")
    body = text.rstrip("=")
    if len(body) % 4 == 1 or (text != body and len(text) % 4):
        raise TokenFormatError(f"{what} has invalid base64url length")
    try:
        return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        raise TokenFormatError(f"{what} is not base64url") from None


def _parse_challenges(header: object) -> list[tuple[str, dict[str, str]]]:
    """Parse ``#challenge`` (RFC 9110 §11.6.1) into (scheme, params) pairs.

    Parameter names are lower-cased; duplicate names are an error.
    """
    if not isinstance(header, str):
        raise TokenFormatError("header value must be a string")
    s, i, n = header, 0, len(header)
    out: list[tuple[str, dict[str, str]]] = []

    def ws(j: int) -> int:
        while j < n and s[j] in " \t":
            j += 1
        return j

    def token(j: int) -> tuple[str, int]:
        m = _TOKEN_CHARS.match(s, j)
        if not m:
            raise TokenFormatError("malformed authentication header")
        return m.group(), m.end()

    while True:
        i = ws(i)
        while i < n and s[i] == ",":  # empty list elements are allowed
            i = ws(i + 1)
        if i >= n:
            break
        scheme, i = token(i)
        params: dict[str, str] = {}
        out.append((scheme, params))
        while True:
            j = ws(i)
            while j < n and s[j] == ",":
                j = ws(j + 1)
            if j >= n:
                i = j
                break
            m = _TOKEN_CHARS.match(s, j)
            if not m:
                raise TokenFormatError("malformed authentication header")
            k = ws(m.end())
            if k >= n or s[k] != "=":
                i = j  # not a parameter: the next challenge's scheme
                break
            name = m.group().lower()
            k = ws(k + 1)
            if k < n and s[k] == '"':
                k += 1
                chars: list[str] = []
                while True:
                    if k >= n:
                        raise TokenFormatError("unterminated quoted string")
                    c = s[k]
                    if c == "\\":
                        if k + 1 >= n:
                            raise TokenFormatError("unterminated quoted string")
                        chars.append(s[k + 1])
                        k += 2
                    elif c == '"':
                        k += 1
                        break
                    else:
                        chars.append(c)
                        k += 1
                value = "".join(chars)
            else:
                # token, or token68-like value that may end in '=' padding
                m2 = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z/-]+=*").match(s, k)
                if not m2:
                    raise TokenFormatError(f"parameter {name!r} has no value")
                value, k = m2.group(), m2.end()
            if name in params:
                raise TokenFormatError(f"duplicate parameter {name!r}")
            params[name] = value
            i = ws(k)
            if i < n and s[i] != ",":
                raise TokenFormatError("malformed authentication header")
    return out


def format_authorization(token: Token | bytes) -> str:
    """``PrivateToken token="<base64url(Token)>"`` (RFC 9577 §2.2)."""
    raw = token.encode() if isinstance(token, Token) else Token.decode(token).encode()
    return f'PrivateToken token="{_b64url_encode(raw)}"'


def parse_authorization(header: str) -> Token:
    """Parse an ``Authorization: PrivateToken token=...`` value (RFC 9577 §2.2).

    The scheme is case-insensitive; the value may be quoted or not, padded
    or not. Returns the decoded (not yet verified) :class:`Token`.

    Raises
    ------
    TokenFormatError
        Any other scheme, a missing token, bad base64url, or a malformed Token.
    """
    # Callers outside type checking may pass anything; only a str takes the fast path.
    is_str = isinstance(header, str)  # pyright: ignore[reportUnnecessaryIsInstance]
    if is_str and (fast := _SIMPLE_AUTHORIZATION.fullmatch(header)):
        # The form every client sends; anything else goes through the full parser.
        return Token.decode(_b64url_decode(fast.group(1), "token"))
    challenges = _parse_challenges(header)
    if len(challenges) != 1 or challenges[0][0].lower() != "privatetoken":
        raise TokenFormatError("Authorization is not a single PrivateToken credential")
    value = challenges[0][1].get("token")
    if value is None:
        raise TokenFormatError("PrivateToken credential has no token parameter")
    return Token.decode(_b64url_decode(value, "token"))


@dataclass(frozen=True, slots=True)
class AuthenticateChallenge:
    """One ``PrivateToken`` challenge from a WWW-Authenticate header (RFC 9577 §2.1)."""

    challenge: TokenChallenge
    challenge_bytes: bytes
    token_key: bytes
    max_age: int | None = None


def format_www_authenticate(
    challenge: TokenChallenge | bytes,
    token_key: rsa.RSAPublicKey | bytes,
    *,
    max_age: int | None = None,
) -> str:
    """``PrivateToken challenge="…", token-key="…"[, max-age=N]`` (RFC 9577 §2.1).

    ``token-key`` is base64url of the RSASSA-PSS SPKI (RFC 9578 §6.5).
    """
    raw = _challenge_bytes(challenge)
    spki = bytes(token_key) if isinstance(token_key, (bytes, bytearray)) else spki_from_public_key(token_key)
    header = f'PrivateToken challenge="{_b64url_encode(raw)}", token-key="{_b64url_encode(spki)}"'
    if max_age is not None:
        # A float or string from an untyped caller must not reach the header.
        if not isinstance(max_age, int) or max_age < 0:  # pyright: ignore[reportUnnecessaryIsInstance]
            raise ValueError("max_age must be a non-negative int")
        header += f", max-age={max_age}"
    return header


def parse_www_authenticate(header: str) -> list[AuthenticateChallenge]:
    """Parse the ``PrivateToken`` challenges of a WWW-Authenticate value (RFC 9577 §2.1).

    Challenges of other schemes are skipped. Each returned challenge has a
    decoded TokenChallenge and the raw ``token-key`` bytes (check its key id
    against the published one before using it: design, key consistency).

    Raises
    ------
    TokenFormatError
        Malformed header, or a PrivateToken challenge with missing or bad parameters.
    """
    found: list[AuthenticateChallenge] = []
    for scheme, params in _parse_challenges(header):
        if scheme.lower() != "privatetoken":
            continue
        if "challenge" not in params or "token-key" not in params:
            raise TokenFormatError("PrivateToken challenge needs challenge and token-key")
        raw = _b64url_decode(params["challenge"], "challenge")
        max_age = None
        if "max-age" in params:
            if not params["max-age"].isdigit() or not params["max-age"].isascii():
                raise TokenFormatError("max-age must be a non-negative integer")
            max_age = int(params["max-age"])
        found.append(
            AuthenticateChallenge(
                TokenChallenge.decode(raw), raw, _b64url_decode(params["token-key"], "token-key"), max_age
            )
        )
    return found
