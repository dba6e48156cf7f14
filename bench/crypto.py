"""Blind-signing budget (DESIGN.md, performance budgets): hardened blind-sign >= 0.8 x OpenSSL sign.

Run with ``python bench/crypto.py``. For one 2048-bit key, in one run, it measures:

* hardened blind-sign: RFC 9474 BlindSign through ``crypto.blindrsa.SigningKey`` as the
  service uses it — OpenSSL's RSA private operation (system libcrypto, RSA_NO_PADDING;
  blinded and constant-time inside OpenSSL) and verify-after-sign with GMP;
* the GMP fallback (blinded, constant-time CRT with ``powmod_sec``, verify-after-sign),
  used only where libcrypto cannot be loaded: its ratio is printed, not judged;
* OpenSSL's own RSA-PSS sign (SHA-384, salt 48) of the same key through ``cryptography``;
* type-2 token verification (``crypto.tokens.verify_token``).

The signers are measured in alternating rounds so that CPU frequency drift affects
them alike. Exit status 1 when the hardened ratio is below the budget, or when the
OpenSSL path is not available (the budget is then unreachable by design).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import padding  # noqa: E402

from crypto.blindrsa import SigningKey, signing_backend  # noqa: E402
from crypto.keys import generate_issuer_key, spki_from_public_key, token_key_id  # noqa: E402
from crypto.tokens import (  # noqa: E402
    TokenChallenge,
    create_token_request,
    finalize_token,
    issue_token_response,
    verify_token,
)

BUDGET = 0.8
ROUNDS = 6
ROUND_SECONDS = 0.5


def rate(fn, seconds: float) -> float:
    """Calls per second of ``fn`` over about ``seconds``."""
    count = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(20):
            fn()
        count += 20
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - start)


def main() -> int:
    key = generate_issuer_key()
    signer = SigningKey(key)
    fallback_signer = SigningKey(key, openssl=False)
    public_key = key.public_key()
    spki = spki_from_public_key(public_key)
    key_id = token_key_id(spki)
    challenge = TokenChallenge(2, "candor.example", b"\x01" * 32, "candor.example").encode()

    request, state = create_token_request(spki, challenge)
    blinded = request.blinded_msg
    token = finalize_token(state, issue_token_response(signer, key_id, request)).encode()
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48)
    message = state.token_input

    def hardened() -> None:
        signer.blind_sign(blinded)

    def fallback() -> None:
        fallback_signer.blind_sign(blinded)

    def openssl() -> None:
        key.sign(message, pss, hashes.SHA384())

    def verify() -> None:
        verify_token(token, public_key, challenge, key_id=key_id)

    hardened_rates, fallback_rates, openssl_rates = [], [], []
    rate(hardened, 0.2)  # warm-up
    rate(fallback, 0.2)
    rate(openssl, 0.2)
    for _ in range(ROUNDS):
        hardened_rates.append(rate(hardened, ROUND_SECONDS))
        openssl_rates.append(rate(openssl, ROUND_SECONDS))
        fallback_rates.append(rate(fallback, ROUND_SECONDS / 2))
    verify_rate = rate(verify, 2.0)

    h = statistics.median(hardened_rates)
    f = statistics.median(fallback_rates)
    o = statistics.median(openssl_rates)
    ratio = h / o
    print(f"key: RSA-{public_key.key_size}, e={public_key.public_numbers().e}")
    print(f"signing engine: {signing_backend()}")
    print(f"hardened blind-sign (OpenSSL private op, verify-after-sign):      {h:8.0f} /s")
    print(f"fallback blind-sign (blinded, powmod_sec CRT, verify-after-sign): {f:8.0f} /s")
    print(f"OpenSSL RSA-PSS-SHA384 sign (cryptography):                       {o:8.0f} /s")
    print(f"token verify (type 2, RSA-PSS verify + digest/key-id checks):      {verify_rate:8.0f} /s")
    print(f"fallback/OpenSSL = {f / o:.3f} (not judged: used only without libcrypto)")
    ok = signer.uses_openssl and ratio >= BUDGET
    verdict = "OK" if ok else "BELOW BUDGET" if signer.uses_openssl else "NO OPENSSL PATH"
    print(f"RATIO hardened/OpenSSL = {ratio:.3f} (budget >= {BUDGET}) {verdict}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
