"""The browser client (frontend/static/js) and the Python issuer/verifier interoperate.

Each test runs `node tests/js/cli.mjs` as a subprocess; skipped only when Node is absent
(`make test` installs it).
"""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from crypto.keys import spki_from_public_key, token_key_id
from crypto.tokens import (
    TokenChallenge,
    TokenChallengeMismatchError,
    TokenVerificationError,
    create_token_request,
    finalize_token,
    issue_token_response,
    parse_authorization,
    verify_token,
)

ROOT = Path(__file__).resolve().parents[3]
# `make test` installs Node when it is missing: these tests run, they never skip.
NODE = shutil.which("node") or "node"

CHALLENGE = TokenChallenge(2, "candor.example", b"\x11" * 32, "candor.example").encode()


def node(command, payload):
    proc = subprocess.run(
        [NODE, str(ROOT / "tests" / "js" / "cli.mjs"), command],
        input=json.dumps(payload), capture_output=True, text=True, timeout=60, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_js_client_python_issuer_python_verifier(key2048, signer2048):
    spki = spki_from_public_key(key2048.public_key())
    out = node("request", {"spki": spki.hex(), "challenge": CHALLENGE.hex()})
    request = bytes.fromhex(out["request"])
    assert len(request) == 259 and request[:2] == b"\x00\x02"
    response = issue_token_response(signer2048, token_key_id(spki), request)

    done = node("finalize", {"state": out["state"], "response": response.hex()})
    token = verify_token(bytes.fromhex(done["token"]), key2048.public_key(), CHALLENGE)
    assert parse_authorization(done["authorization"]) == token
    assert token.token_key_id == token_key_id(spki)

    # A different challenge or a flipped authenticator bit must not verify.
    with pytest.raises(TokenChallengeMismatchError):
        verify_token(bytes.fromhex(done["token"]), key2048.public_key(), CHALLENGE[:-1] + b"\x01")
    bad = bytearray.fromhex(done["token"])
    bad[-1] ^= 1
    with pytest.raises(TokenVerificationError):
        verify_token(bytes(bad), key2048.public_key(), CHALLENGE)


def test_python_client_state_finalized_and_verified_in_js(key2048, signer2048):
    spki = spki_from_public_key(key2048.public_key())
    request, state = create_token_request(spki, CHALLENGE)
    response = issue_token_response(signer2048, token_key_id(spki), request.encode())
    expected = finalize_token(state, response).encode()

    js_state = {"spki": spki.hex(), "tokenInput": state.token_input.hex(), "inv": state.inv.hex()}
    done = node("finalize", {"state": js_state, "response": response.hex()})
    assert bytes.fromhex(done["token"]) == expected  # unblinding is deterministic given inv

    assert node("verify", {"token": expected.hex(), "spki": spki.hex(), "challenge": CHALLENGE.hex()}) == {"valid": True}
    bad = bytearray(expected)
    bad[120] ^= 0x40
    assert node("verify", {"token": bytes(bad).hex(), "spki": spki.hex(), "challenge": CHALLENGE.hex()}) == {"valid": False}


def test_js_rejects_a_response_for_another_request(key2048, signer2048):
    spki = spki_from_public_key(key2048.public_key())
    first = node("request", {"spki": spki.hex(), "challenge": CHALLENGE.hex()})
    second = node("request", {"spki": spki.hex(), "challenge": CHALLENGE.hex()})
    # A valid blind signature, but over the other request's blinded message.
    wrong = issue_token_response(signer2048, token_key_id(spki), bytes.fromhex(second["request"]))
    proc = subprocess.run(
        [NODE, str(ROOT / "tests" / "js" / "cli.mjs"), "finalize"],
        input=json.dumps({"state": first["state"], "response": wrong.hex()}),
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert proc.returncode != 0
    assert "BlindRsaError: invalid signature" in proc.stderr
