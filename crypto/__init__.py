"""Candor's pure cryptography: RFC 9474 blind RSA, RFC 9578 type-2 Privacy Pass tokens, issuer keys.

No I/O, no web framework, no database: the service imports this package, never the reverse.
"""

from .blindrsa import BlindRSAError, SignatureCheckError, SigningKey, Variant
from .keys import (
    KeyDecryptionError,
    KeyFormatError,
    decrypt_private_key,
    encrypt_private_key,
    generate_issuer_key,
    public_key_from_spki,
    spki_from_public_key,
    token_key_id,
)
from .tokens import (
    Token,
    TokenChallenge,
    TokenError,
    TokenFormatError,
    create_token_request,
    finalize_token,
    format_authorization,
    format_www_authenticate,
    issue_token_response,
    parse_authorization,
    parse_www_authenticate,
    verify_token,
)

__all__ = [
    "BlindRSAError",
    "KeyDecryptionError",
    "KeyFormatError",
    "SignatureCheckError",
    "SigningKey",
    "Token",
    "TokenChallenge",
    "TokenError",
    "TokenFormatError",
    "Variant",
    "create_token_request",
    "decrypt_private_key",
    "encrypt_private_key",
    "finalize_token",
    "format_authorization",
    "format_www_authenticate",
    "generate_issuer_key",
    "issue_token_response",
    "parse_authorization",
    "parse_www_authenticate",
    "public_key_from_spki",
    "spki_from_public_key",
    "token_key_id",
    "verify_token",
]
