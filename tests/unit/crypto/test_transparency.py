"""The key transparency log's RFC 9162 hashing, proofs and signed tree heads.

Expected values come from a second, deliberately naive implementation written below
straight from the recursive definitions of RFC 9162 (Certificate Transparency v2):

* §2.1.1   MTH({}) = SHA-256(); MTH({d0}) = SHA-256(0x00 || d0);
           MTH(D[n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n])), k the largest power of 2 < n.
* §2.1.3.1 PATH(0, {d0}) = {};
           PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n])       for m < k,
                         = PATH(m - k, D[k:n]) : MTH(D[0:k])   for m >= k.
* §2.1.4.1 PROOF(m, D[n]) = SUBPROOF(m, D[n], true);
           SUBPROOF(m, D[m], true) = {};  SUBPROOF(m, D[m], false) = {MTH(D[m])};
           SUBPROOF(m, D[n], b) = SUBPROOF(m, D[0:k], b) : MTH(D[k:n])            for m <= k,
                                = SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])    for m > k.

It works on the entries themselves, slices lists and recomputes every subtree from
scratch — slow and obviously the RFC's text. ``crypto.transparency`` computes the same
from leaf hashes, iteratively, and verifies with the RFC's bit-twiddling algorithms
(§2.1.3.2, §2.1.4.2), which share no code with either.

``tests/vectors/transparency.json`` is produced by the naive code (``python -m
tests.unit.crypto.test_transparency`` rewrites it); the browser's node tests read it.
"""

import base64
import hashlib
import json
import sys
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import transparency as t

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "transparency.json"


# --- the naive reference implementation (RFC 9162 §2.1, recursive, on entries) ---------------


def _sha256(data):
    return hashlib.sha256(data).digest()


def _k(n):
    """The largest power of two smaller than n (n > 1), by counting up."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def naive_mth(entries):
    n = len(entries)
    if n == 0:
        return _sha256(b"")
    if n == 1:
        return _sha256(b"\x00" + entries[0])
    k = _k(n)
    return _sha256(b"\x01" + naive_mth(entries[:k]) + naive_mth(entries[k:]))


def naive_path(m, entries):
    n = len(entries)
    if n == 1:
        assert m == 0
        return []
    k = _k(n)
    if m < k:
        return naive_path(m, entries[:k]) + [naive_mth(entries[k:])]
    return naive_path(m - k, entries[k:]) + [naive_mth(entries[:k])]


def naive_subproof(m, entries, b):
    n = len(entries)
    if m == n:
        return [] if b else [naive_mth(entries)]
    k = _k(n)
    if m <= k:
        return naive_subproof(m, entries[:k], b) + [naive_mth(entries[k:])]
    return naive_subproof(m - k, entries[k:], False) + [naive_mth(entries[:k])]


def naive_proof(m, entries):
    return naive_subproof(m, entries, True)


def _entries(n):
    """n distinct entries (arbitrary bytes; the tree does not care what they are)."""
    return [b"entry %d" % i for i in range(n)]


def _hashes(entries):
    return [t.leaf_hash(e) for e in entries]


# --- hashing and proof generation against the naive implementation ---------------------------

EXHAUSTIVE = 33  # every size up to one past a power of two; each m <= n


def test_empty_tree_root_is_sha256_of_nothing():
    assert t.EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert t.merkle_root([]) == t.EMPTY_ROOT == naive_mth([])


def test_leaf_and_node_hash_prefixes():
    assert t.leaf_hash(b"abc") == _sha256(b"\x00abc")
    assert t.node_hash(b"L" * 32, b"R" * 32) == _sha256(b"\x01" + b"L" * 32 + b"R" * 32)


@pytest.mark.parametrize("n", range(0, EXHAUSTIVE + 1))
def test_root_matches_naive(n):
    entries = _entries(n)
    assert t.merkle_root(_hashes(entries)) == naive_mth(entries)


@pytest.mark.parametrize("n", range(1, EXHAUSTIVE + 1))
def test_every_inclusion_proof_matches_naive_and_verifies(n):
    entries = _entries(n)
    hashes, root = _hashes(entries), naive_mth(entries)
    for m in range(n):
        path = t.inclusion_proof(hashes, m)
        assert path == naive_path(m, entries)
        t.verify_inclusion(hashes[m], m, n, path, root)


@pytest.mark.parametrize("n", range(1, EXHAUSTIVE + 1))
def test_every_consistency_proof_matches_naive_and_verifies(n):
    entries = _entries(n)
    hashes = _hashes(entries)
    for m in range(1, n + 1):
        proof = t.consistency_proof(hashes, m)
        assert proof == naive_proof(m, entries)
        t.verify_consistency(m, n, naive_mth(entries[:m]), naive_mth(entries), proof)


def test_empty_tree_is_consistent_with_every_tree():
    t.verify_consistency(0, 5, t.EMPTY_ROOT, naive_mth(_entries(5)), [])
    with pytest.raises(t.ProofError):
        t.verify_consistency(0, 5, naive_mth(_entries(1)), naive_mth(_entries(5)), [])


def test_generation_refuses_out_of_range_arguments():
    hashes = _hashes(_entries(4))
    for bad in (-1, 4):
        with pytest.raises(ValueError):
            t.inclusion_proof(hashes, bad)
    for bad in (0, 5):
        with pytest.raises(ValueError):
            t.consistency_proof(hashes, bad)
    with pytest.raises(ValueError):
        t.merkle_root([b"short"])


# --- every tampering fails -------------------------------------------------------------------


def _flips(data):
    """``data`` with each byte in turn XOR 0x01."""
    return [data[:i] + bytes([data[i] ^ 1]) + data[i + 1:] for i in range(len(data))]


@pytest.mark.parametrize("n", range(1, 18))
def test_tampered_inclusion_proofs_fail(n):
    entries = _entries(n)
    hashes = _hashes(entries)
    roots = {size: naive_mth(entries[:size]) for size in range(1, n + 1)}
    grown = _entries(n + 3)
    roots.update({size: naive_mth(grown[:size]) for size in range(n + 1, n + 4)})
    for m in range(n):
        path = t.inclusion_proof(hashes, m)
        for bad_leaf in [*_flips(hashes[m])[:3], hashes[(m + 1) % n] if n > 1 else t.leaf_hash(b"x")]:
            with pytest.raises(t.ProofError):
                t.verify_inclusion(bad_leaf, m, n, path, roots[n])
        for i, p in enumerate(path):
            for bad in _flips(p):
                with pytest.raises(t.ProofError):
                    t.verify_inclusion(hashes[m], m, n, [*path[:i], bad, *path[i + 1:]], roots[n])
        for other in range(-1, n + 1):
            if other != m:
                with pytest.raises(t.ProofError):
                    t.verify_inclusion(hashes[m], other, n, path, roots[n])
        for size in roots:
            if size != n:
                with pytest.raises(t.ProofError):
                    t.verify_inclusion(hashes[m], m, size, path, roots[size])
        for bad_root in _flips(roots[n]):
            with pytest.raises(t.ProofError):
                t.verify_inclusion(hashes[m], m, n, path, bad_root)
        with pytest.raises(t.ProofError):
            t.verify_inclusion(hashes[m], m, n, [*path, hashes[m]], roots[n])
        if path:
            with pytest.raises(t.ProofError):
                t.verify_inclusion(hashes[m], m, n, path[:-1], roots[n])


@pytest.mark.parametrize("n", range(1, 18))
def test_tampered_consistency_proofs_fail(n):
    entries = _entries(n)
    hashes = _hashes(entries)
    second = naive_mth(entries)
    for m in range(1, n + 1):
        first = naive_mth(entries[:m])
        proof = t.consistency_proof(hashes, m)
        for i, p in enumerate(proof):
            for bad in _flips(p):
                with pytest.raises(t.ProofError):
                    t.verify_consistency(m, n, first, second, [*proof[:i], bad, *proof[i + 1:]])
        for bad_first in _flips(first):
            with pytest.raises(t.ProofError):
                t.verify_consistency(m, n, bad_first, second, proof)
        for bad_second in _flips(second):
            with pytest.raises(t.ProofError):
                t.verify_consistency(m, n, first, bad_second, proof)
        if m != n:
            with pytest.raises(t.ProofError):  # swapped roots
                t.verify_consistency(m, n, second, first, proof)
            with pytest.raises(t.ProofError):
                t.verify_consistency(m, n, first, second, [])
            with pytest.raises(t.ProofError):
                t.verify_consistency(m, n, first, second, proof[:-1])
            with pytest.raises(t.ProofError):
                t.verify_consistency(m, n, first, second, [*proof, second])
        for other in range(1, n + 1):  # the proof is for (m, n) only
            if other != m:
                with pytest.raises(t.ProofError):
                    t.verify_consistency(other, n, naive_mth(entries[:other]), second, proof)
        with pytest.raises(t.ProofError):  # a larger first than second
            t.verify_consistency(n + 1, n, second, second, proof)


def test_a_forked_tree_is_not_consistent():
    """Same size, one entry changed: no proof from the honest tree connects the fork."""
    honest = _entries(7)
    fork = [*honest[:3], b"another key", *honest[4:]]
    longer = [*fork, b"entry 7"]
    for m in range(1, 8):
        proof = t.consistency_proof(_hashes(longer), m)
        if m <= 3:
            t.verify_consistency(m, 8, naive_mth(honest[:m]), naive_mth(longer), proof)
        else:
            with pytest.raises(t.ProofError):
                t.verify_consistency(m, 8, naive_mth(honest[:m]), naive_mth(longer), proof)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), n=st.integers(min_value=1, max_value=300))
def test_random_sizes_match_naive_and_reject_a_flipped_byte(data, n):
    entries = _entries(n)
    hashes, root = _hashes(entries), naive_mth(entries)
    m = data.draw(st.integers(min_value=0, max_value=n - 1), label="leaf")
    path = t.inclusion_proof(hashes, m)
    assert path == naive_path(m, entries)
    t.verify_inclusion(hashes[m], m, n, path, root)
    first = data.draw(st.integers(min_value=1, max_value=n), label="first")
    proof = t.consistency_proof(hashes, first)
    assert proof == naive_proof(first, entries)
    t.verify_consistency(first, n, naive_mth(entries[:first]), root, proof)
    if path:
        i = data.draw(st.integers(min_value=0, max_value=len(path) - 1))
        byte = data.draw(st.integers(min_value=0, max_value=31))
        bad = bytearray(path[i])
        bad[byte] ^= data.draw(st.integers(min_value=1, max_value=255))
        with pytest.raises(t.ProofError):
            t.verify_inclusion(hashes[m], m, n, [*path[:i], bytes(bad), *path[i + 1:]], root)
    if proof:
        i = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
        bad = bytearray(proof[i])
        bad[data.draw(st.integers(min_value=0, max_value=31))] ^= 0x80
        with pytest.raises(t.ProofError):
            t.verify_consistency(first, n, naive_mth(entries[:first]), root, [*proof[:i], bytes(bad), *proof[i + 1:]])


def test_proof_hashes_of_the_wrong_length_are_refused():
    hashes = _hashes(_entries(4))
    path = t.inclusion_proof(hashes, 1)
    with pytest.raises(t.ProofError):
        t.verify_inclusion(hashes[1], 1, 4, [path[0][:31], *path[1:]], t.merkle_root(hashes))
    with pytest.raises(t.ProofError):
        t.verify_consistency(2, 4, t.merkle_root(hashes[:2]), t.merkle_root(hashes), [b""])


# --- entries ---------------------------------------------------------------------------------

SPKI = bytes(range(256)) + bytes(86)  # 342 bytes, as long as a real RSASSA-PSS SPKI


def _entry(**over):
    fields = {"kind": "wave", "id": "0b8f6f8e-8d7e-4a53-9e3a-2f0c1d6b7a10", "token_key_id": _sha256(SPKI),
              "token_key": SPKI, "opened_on": date(2026, 3, 2)} | over
    return t.LogEntry(**fields)


def test_entry_is_canonical_json_of_the_contract():
    entry = _entry()
    b64url = base64.urlsafe_b64encode(SPKI).rstrip(b"=").decode()
    expected = ('{"id":"0b8f6f8e-8d7e-4a53-9e3a-2f0c1d6b7a10","kind":"wave","opened_on":"2026-03-02",'
                f'"token_key":"{b64url}","token_key_id":"{_sha256(SPKI).hex()}"}}').encode()
    assert entry.encode() == expected
    assert t.LogEntry.from_json(json.loads(expected)) == entry
    assert entry.leaf_hash() == _sha256(b"\x00" + expected)


def test_canonical_json_keeps_non_ascii_as_utf8():
    assert t.canonical_json({"b": 1, "a": "é"}) == '{"a":"é","b":1}'.encode()


@pytest.mark.parametrize("change", [
    {"kind": "other"},
    {"token_key_id": "00" * 32},
    {"token_key_id": _sha256(SPKI).hex().upper()},
    {"token_key": base64.urlsafe_b64encode(SPKI + b"\x00").decode()},  # padded
    {"token_key": base64.b64encode(SPKI).decode()},  # standard alphabet
    {"opened_on": "2026-3-2"},
    {"opened_on": "2026-02-30"},
    {"id": ""},
    {"extra": 1},
])
def test_malformed_entries_are_refused(change):
    obj = _entry().to_json() | change
    with pytest.raises(t.TransparencyFormatError):
        t.LogEntry.from_json(obj)


def test_entry_missing_a_field_is_refused():
    obj = _entry().to_json()
    del obj["opened_on"]
    with pytest.raises(t.TransparencyFormatError):
        t.LogEntry.from_json(obj)
    with pytest.raises(t.TransparencyFormatError):
        t.LogEntry.from_json([obj])


# --- signed tree heads ----------------------------------------------------------------------

SEED = bytes(range(32))


def _log_key():
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.from_private_bytes(SEED)


def test_signed_head_verifies_and_every_change_is_refused():
    key = _log_key()
    public = t.log_public_key(key)
    root = naive_mth(_entries(5))
    head = t.sign_tree_head(key, 5, root, date(2026, 3, 2))
    root_b64 = base64.b64encode(root).decode()
    assert head.message() == f'{{"issued_on":"2026-03-02","root_hash":"{root_b64}","tree_size":5}}'.encode()
    t.verify_tree_head(public, head)
    t.verify_tree_head(public, t.SignedTreeHead.from_json(json.loads(json.dumps(head.to_json()))))
    changed = [
        t.SignedTreeHead(6, head.root_hash, head.issued_on, head.signature),
        t.SignedTreeHead(5, naive_mth(_entries(6)), head.issued_on, head.signature),
        t.SignedTreeHead(5, head.root_hash, date(2026, 3, 3), head.signature),
        t.SignedTreeHead(5, head.root_hash, head.issued_on, b""),  # unsigned
        t.SignedTreeHead(5, head.root_hash, head.issued_on, bytes(64)),
        *(t.SignedTreeHead(5, head.root_hash, head.issued_on, s) for s in _flips(head.signature)),
    ]
    for bad in changed:
        with pytest.raises(t.TreeHeadSignatureError):
            t.verify_tree_head(public, bad)
    other = t.log_public_key(t.generate_log_key())
    with pytest.raises(t.TreeHeadSignatureError):
        t.verify_tree_head(other, head)
    with pytest.raises(t.TransparencyFormatError):
        t.verify_tree_head(public[:31], head)


@pytest.mark.parametrize("change", [
    {"tree_size": -1}, {"tree_size": "5"}, {"tree_size": True}, {"tree_size": 5.0},
    {"root_hash": "not base64!"}, {"root_hash": base64.b64encode(b"x" * 31).decode()},
    {"issued_on": "yesterday"}, {"signature": 5}, {"extra": "x"},
])
def test_malformed_heads_are_refused(change):
    head = t.sign_tree_head(_log_key(), 1, naive_mth(_entries(1)), date(2026, 1, 1)).to_json() | change
    with pytest.raises(t.TransparencyFormatError):
        t.SignedTreeHead.from_json(head)


def test_log_key_wraps_and_unwraps_only_with_its_kek_and_aad():
    key, kek = t.generate_log_key(), bytes(range(32))
    blob = t.encrypt_log_key(key, kek, b"candor-log-key")
    assert t.log_public_key(t.decrypt_log_key(blob, kek, b"candor-log-key")) == t.log_public_key(key)
    for bad_kek, aad, bad_blob in [(bytes(32), b"candor-log-key", blob), (kek, b"other", blob),
                                   (kek, b"candor-log-key", blob[:-1] + bytes([blob[-1] ^ 1])),
                                   (kek, b"candor-log-key", blob[:20])]:
        with pytest.raises(t.TransparencyError):
            t.decrypt_log_key(bad_blob, bad_kek, aad)


# --- the vectors file (written by the naive implementation) ---------------------------------

VECTOR_SIZE = 8


def _b64(data):
    return base64.b64encode(data).decode()


def _vector_entries():
    """Eight entries of both kinds. ``token_key`` is placeholder bytes (SHA-256 chained,
    342 bytes like a real SPKI), not an RSA key; ``token_key_id`` is its SHA-256."""
    out = []
    for i in range(VECTOR_SIZE):
        spki = b"".join(_sha256(b"candor test key %d/%d" % (i, j)) for j in range(11))[:342]
        if i % 3 == 2:
            kind, ident = "thread-period", f"2026-{i:02d}"
        else:
            kind, ident = "wave", f"00000000-0000-4000-8000-{i:012d}"
        out.append({"kind": kind, "id": ident, "token_key_id": _sha256(spki).hex(),
                    "token_key": base64.urlsafe_b64encode(spki).rstrip(b"=").decode(),
                    "opened_on": f"2026-{i + 1:02d}-{i + 10:02d}"})
    return out


def _canonical(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def build_vectors():
    """Every value here is computed by the naive functions above (signatures by
    ``cryptography``'s Ed25519, which is deterministic, RFC 8032 §5.1.6)."""
    from cryptography.hazmat.primitives import serialization

    entries = _vector_entries()
    raw = [_canonical(e) for e in entries]
    key = _log_key()
    public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    heads = []
    for n in range(VECTOR_SIZE + 1):
        head = {"issued_on": "2026-09-01", "root_hash": _b64(naive_mth(raw[:n])), "tree_size": n}
        heads.append(head | {"signature": _b64(key.sign(_canonical(head)))})
    return {
        "description": "RFC 9162 §2.1 Merkle tree vectors for Candor's key transparency log, computed by the "
                       "naive recursive implementation in tests/unit/crypto/test_transparency.py. Hashes and "
                       "signatures are standard base64. token_key values are placeholder bytes, not RSA keys.",
        "log_key": {"private_seed": _b64(SEED), "public_key": _b64(public)},
        "entries": entries,
        "entry_bytes": [r.decode() for r in raw],
        "leaf_hashes": [_b64(_sha256(b"\x00" + r)) for r in raw],
        "tree_heads": heads,
        "inclusion": [{"tree_size": n, "leaf_index": m, "audit_path": [_b64(h) for h in naive_path(m, raw[:n])]}
                      for n in range(1, VECTOR_SIZE + 1) for m in range(n)],
        "consistency": [{"first": m, "second": n, "proof": [_b64(h) for h in naive_proof(m, raw[:n])]}
                        for n in range(1, VECTOR_SIZE + 1) for m in range(1, n + 1)],
    }


def _dump(vectors):
    return json.dumps(vectors, indent=1, ensure_ascii=False) + "\n"


def test_vectors_file_is_what_the_naive_implementation_computes():
    assert VECTORS.read_text(encoding="utf-8") == _dump(build_vectors()), (
        "regenerate with: python -m tests.unit.crypto.test_transparency")


def test_library_agrees_with_the_vectors_file():
    v = json.loads(VECTORS.read_text(encoding="utf-8"))
    public = base64.b64decode(v["log_key"]["public_key"])
    entries = [t.LogEntry.from_json(e) for e in v["entries"]]
    assert [e.encode().decode() for e in entries] == v["entry_bytes"]
    hashes = [e.leaf_hash() for e in entries]
    assert [_b64(h) for h in hashes] == v["leaf_hashes"]
    for head in v["tree_heads"]:
        parsed = t.SignedTreeHead.from_json(head)
        t.verify_tree_head(public, parsed)
        assert parsed.root_hash == t.merkle_root(hashes[:parsed.tree_size])
    roots = [base64.b64decode(h["root_hash"]) for h in v["tree_heads"]]
    for case in v["inclusion"]:
        n, m = case["tree_size"], case["leaf_index"]
        assert [_b64(h) for h in t.inclusion_proof(hashes[:n], m)] == case["audit_path"]
        t.verify_inclusion(hashes[m], m, n, [base64.b64decode(h) for h in case["audit_path"]], roots[n])
    for case in v["consistency"]:
        m, n = case["first"], case["second"]
        assert [_b64(h) for h in t.consistency_proof(hashes[:n], m)] == case["proof"]
        t.verify_consistency(m, n, roots[m], roots[n], [base64.b64decode(h) for h in case["proof"]])


if __name__ == "__main__":
    VECTORS.write_text(_dump(build_vectors()), encoding="utf-8")
    sys.stdout.write(f"wrote {VECTORS}\n")
