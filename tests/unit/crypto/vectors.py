"""Loaders for the RFC vectors in tests/vectors/."""

import json
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import rsa

VECTORS = Path(__file__).resolve().parents[2] / "vectors"


def load_rfc9474():
    return json.loads((VECTORS / "rfc9474-vectors.json").read_text())["vectors"]


def load_rfc9578():
    raw = json.loads((VECTORS / "rfc9578-type2-vector.json").read_text())
    return {k: bytes.fromhex(v) for k, v in raw.items() if k != "source"}


def private_key_from_vector(v):
    n, e, d, p, q = (int(v[x], 16) for x in ("n", "e", "d", "p", "q"))
    return rsa.RSAPrivateNumbers(
        p, q, d, rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q), rsa.rsa_crt_iqmp(p, q),
        rsa.RSAPublicNumbers(e, n),
    ).private_key()
