"""The key transparency log: RFC 9162 Merkle trees, their proofs, and signed tree heads.

Every issuer key Candor uses is one *entry* of an append-only log, so that anyone
(browsers, the Python client, outside monitors) can check that everyone was served
the same key — the key-consistency problem of RFC 9576 §6. The log follows
Certificate Transparency version 2 (RFC 9162 §2.1):

* leaf hash ``SHA-256(0x00 || entry)``, interior node ``SHA-256(0x01 || left || right)``,
  and the hash of the empty tree is ``SHA-256("")`` (§2.1.1);
* inclusion proofs ``PATH(m, D[n])`` (§2.1.3.1) and consistency proofs
  ``PROOF(m, D[n])`` (§2.1.4.1), verified with the iterative algorithms of
  §2.1.3.2 and §2.1.4.2 — so a verifier never needs the whole tree.

An entry is canonical JSON (sorted keys, no whitespace, UTF-8) of
``{"kind", "id", "token_key_id", "token_key", "opened_on"}``; a tree head is signed
with Ed25519 (RFC 8032) over the canonical JSON of ``{"issued_on", "root_hash",
"tree_size"}``. Canonical JSON is what makes the bytes reproducible by a browser,
the Python client and a standard-library monitor alike.

Pure: no I/O. Functions taking leaf *hashes* (not entries) let the service keep the
hashes it stored instead of re-reading entries.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = [
    "EMPTY_ROOT",
    "ENTRY_KINDS",
    "HASH_LEN",
    "LogEntry",
    "ProofError",
    "SignedTreeHead",
    "TransparencyError",
    "TransparencyFormatError",
    "TreeHeadSignatureError",
    "canonical_json",
    "consistency_proof",
    "decrypt_log_key",
    "encrypt_log_key",
    "generate_log_key",
    "inclusion_proof",
    "leaf_hash",
    "log_public_key",
    "merkle_root",
    "node_hash",
    "sign_tree_head",
    "tree_head_message",
    "verify_consistency",
    "verify_inclusion",
    "verify_tree_head",
]

HASH_LEN = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()  # MTH({}) (RFC 9162 §2.1.1)
ENTRY_KINDS = ("wave", "thread-period")
_ENTRY_FIELDS: frozenset[object] = frozenset({"kind", "id", "token_key_id", "token_key", "opened_on"})
_HEAD_FIELDS: frozenset[object] = frozenset({"tree_size", "root_hash", "issued_on", "signature"})
_HEX64 = re.compile(r"[0-9a-f]{64}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_BLOB_VERSION = b"\x01"
_NONCE_LEN = 12
_ED25519_LEN = 32
_SIGNATURE_LEN = 64


class TransparencyError(Exception):
    """Base class: something about the log does not check out."""


class TransparencyFormatError(TransparencyError):
    """A tree head, entry, key or proof is not in the expected shape."""


class ProofError(TransparencyError):
    """An inclusion or consistency proof does not verify."""


class TreeHeadSignatureError(TransparencyError):
    """A tree head's signature is missing or does not verify under the log key."""


# --- encodings -------------------------------------------------------------------------


def canonical_json(value: object) -> bytes:
    """Canonical JSON: sorted keys, no whitespace, UTF-8, non-ASCII kept as is.

    ``json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)``
    encoded as UTF-8. For the values used here (ASCII strings, non-negative
    integers, no floats) this is also what RFC 8785 (JCS) produces, so a browser's
    ``JSON.stringify`` over sorted keys yields the same bytes.
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: object, what: str) -> bytes:
    if not isinstance(text, str):
        raise TransparencyFormatError(f"{what} must be a base64 string")
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise TransparencyFormatError(f"{what} is not valid base64") from None


def _unb64url(text: object, what: str) -> bytes:
    if not isinstance(text, str) or "=" in text or not re.fullmatch(r"[A-Za-z0-9_-]*", text):
        raise TransparencyFormatError(f"{what} must be unpadded base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise TransparencyFormatError(f"{what} is not valid base64url") from None


def _date(text: object, what: str) -> date:
    if not isinstance(text, str) or not _DATE.fullmatch(text):
        raise TransparencyFormatError(f"{what} must be a YYYY-MM-DD date")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise TransparencyFormatError(f"{what} is not a valid date") from None


def _size(value: object, what: str) -> int:
    # bool is an int in Python; a JSON true is not a tree size.
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise TransparencyFormatError(f"{what} must be a non-negative integer")
    return value


# --- RFC 9162 §2.1.1 hashing ---------------------------------------------------------------


def leaf_hash(entry: bytes) -> bytes:
    """``MTH({d}) = SHA-256(0x00 || d)`` (RFC 9162 §2.1.1)."""
    return hashlib.sha256(b"\x00" + bytes(entry)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 || left || right)``, an interior node (RFC 9162 §2.1.1)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _check_hashes(hashes: Sequence[bytes]) -> None:
    for h in hashes:
        if len(h) != HASH_LEN:
            raise ValueError(f"a leaf hash is {HASH_LEN} bytes, not {len(h)}")


def _root(hashes: Sequence[bytes], lo: int, hi: int) -> bytes:
    """MTH of the leaves ``lo .. hi-1``, computed level by level.

    Pairing neighbours and carrying an odd last node up unchanged gives the same
    tree as §2.1.1's split at the largest power of two below n: both build complete
    subtrees of size 2^i from the left and leave the remainder on the right.
    """
    if lo == hi:
        return EMPTY_ROOT
    level = list(hashes[lo:hi])
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def merkle_root(leaf_hashes: Sequence[bytes]) -> bytes:
    """The Merkle Tree Hash ``MTH(D[n])`` of a list of leaf hashes (RFC 9162 §2.1.1).

    Parameters
    ----------
    leaf_hashes : sequence of 32-byte leaf hashes (:func:`leaf_hash` of each entry)

    Returns
    -------
    bytes
        32 bytes; :data:`EMPTY_ROOT` for an empty list.
    """
    _check_hashes(leaf_hashes)
    return _root(leaf_hashes, 0, len(leaf_hashes))


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int) -> list[bytes]:
    """The audit path ``PATH(m, D[n])`` of leaf ``index`` in the tree of ``leaf_hashes``.

    RFC 9162 §2.1.3.1: with k the largest power of two below n,
    ``PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n])`` for m < k and
    ``PATH(m - k, D[k:n]) : MTH(D[0:k])`` for m ≥ k; ``PATH(0, {d}) = {}``.

    Returns
    -------
    list of bytes
        Sibling hashes from the leaf up to the root.
    """
    _check_hashes(leaf_hashes)
    n = len(leaf_hashes)
    if not 0 <= index < n:
        raise ValueError(f"leaf index {index} is outside a tree of size {n}")
    path: list[bytes] = []
    lo, hi, m = 0, n, index
    while hi - lo > 1:
        k = _split(hi - lo)
        if m < k:
            path.append(_root(leaf_hashes, lo + k, hi))
            hi = lo + k
        else:
            path.append(_root(leaf_hashes, lo, lo + k))
            lo, m = lo + k, m - k
    path.reverse()  # built from the root down; the path runs from the leaf up
    return path


def consistency_proof(leaf_hashes: Sequence[bytes], first: int) -> list[bytes]:
    """``PROOF(m, D[n])``: that the tree of the first ``first`` leaves is a prefix of this one.

    RFC 9162 §2.1.4.1: ``PROOF(m, D[n]) = SUBPROOF(m, D[n], true)``;
    ``SUBPROOF(m, D[m], true) = {}``, ``SUBPROOF(m, D[m], false) = {MTH(D[m])}``; for
    m < n with k the largest power of two below n:
    m ≤ k: ``SUBPROOF(m, D[0:k], b) : MTH(D[k:n])``,
    m > k: ``SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])``.

    Parameters
    ----------
    leaf_hashes : the leaf hashes of the larger tree (size n)
    first : the smaller tree's size, 1 ≤ first ≤ n (``first == n`` gives an empty proof)
    """
    _check_hashes(leaf_hashes)
    n = len(leaf_hashes)
    if not 1 <= first <= n:
        raise ValueError(f"a consistency proof needs 1 <= first <= {n}, not {first}")
    proof: list[bytes] = []
    lo, hi, m, whole = 0, n, first, True
    while m != hi - lo:
        k = _split(hi - lo)
        if m <= k:
            proof.append(_root(leaf_hashes, lo + k, hi))
            hi = lo + k
        else:
            proof.append(_root(leaf_hashes, lo, lo + k))
            lo, m, whole = lo + k, m - k, False
    if not whole:
        proof.append(_root(leaf_hashes, lo, hi))
    proof.reverse()
    return proof


def _proof_hashes(proof: Sequence[bytes]) -> list[bytes]:
    hashes = [bytes(p) for p in proof]
    if any(len(p) != HASH_LEN for p in hashes):
        raise ProofError(f"every proof hash must be {HASH_LEN} bytes")
    return hashes


def verify_inclusion(
    leaf: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf`` (a leaf hash) is leaf ``index`` of the tree with head ``root``.

    The algorithm of RFC 9162 §2.1.3.2: fold the path into ``r`` with ``fn = index``,
    ``sn = tree_size - 1``; a sibling goes on the left when ``fn`` is odd or ``fn == sn``
    (then shift until ``fn`` is odd or zero), otherwise on the right; shift once
    more per step. Valid iff ``sn`` ends at 0 and ``r == root``.

    Raises
    ------
    ProofError
        The proof does not verify (wrong hash, index, size, root, or path length).
    """
    if not 0 <= index < tree_size:
        raise ProofError(f"leaf index {index} is outside a tree of size {tree_size}")
    if len(leaf) != HASH_LEN or len(root) != HASH_LEN:
        raise ProofError(f"leaf and root hashes are {HASH_LEN} bytes")
    fn, sn, r = index, tree_size - 1, bytes(leaf)
    for p in _proof_hashes(proof):
        if sn == 0:
            raise ProofError("inclusion proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0 or not secrets.compare_digest(r, root):
        raise ProofError("inclusion proof does not lead to the tree head's root")


def verify_consistency(
    first_size: int, second_size: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree (``first_size``, ``first_root``) is a prefix of (``second_size``, ``second_root``).

    The algorithm of RFC 9162 §2.1.4.2, which recomputes both roots from one
    proof. Equal sizes need an empty proof and equal roots; a first size of 0 (the
    empty tree) is a prefix of every tree and needs an empty proof.

    Raises
    ------
    ProofError
        The proof does not show the first tree to be a prefix of the second.
    """
    if not 0 <= first_size <= second_size:
        raise ProofError(f"cannot prove size {first_size} consistent with smaller size {second_size}")
    if len(first_root) != HASH_LEN or len(second_root) != HASH_LEN:
        raise ProofError(f"root hashes are {HASH_LEN} bytes")
    path = _proof_hashes(proof)
    if first_size == 0:
        if path or not secrets.compare_digest(first_root, EMPTY_ROOT):
            raise ProofError("the empty tree's root is SHA-256 of nothing, with an empty proof")
        return
    if first_size == second_size:
        if path or not secrets.compare_digest(first_root, second_root):
            raise ProofError("two heads of the same size must have the same root")
        return
    if not path:
        raise ProofError("a consistency proof between different sizes is never empty")
    if first_size & (first_size - 1) == 0:  # a power of two: the old root is a node of the new tree
        path.insert(0, bytes(first_root))
    fn, sn = first_size - 1, second_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0 or not secrets.compare_digest(fr, first_root) or not secrets.compare_digest(sr, second_root):
        raise ProofError("consistency proof does not connect the two tree heads")


# --- entries ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One issuer key as logged: ``{"kind", "id", "token_key_id", "token_key", "opened_on"}``.

    ``id`` is the wave's UUID string or the thread period as ``YYYY-MM``;
    ``token_key`` is the RSASSA-PSS SPKI (RFC 9578 §6.5) and ``token_key_id`` its
    SHA-256, which :meth:`from_json` checks.
    """

    kind: str
    id: str
    token_key_id: bytes
    token_key: bytes
    opened_on: date

    def to_json(self) -> dict[str, str]:
        """The entry object: hex key id, unpadded base64url SPKI, ISO date."""
        return {
            "kind": self.kind,
            "id": self.id,
            "token_key_id": self.token_key_id.hex(),
            "token_key": _b64url(self.token_key),
            "opened_on": self.opened_on.isoformat(),
        }

    def encode(self) -> bytes:
        """The entry's bytes in the log: canonical JSON of :meth:`to_json`."""
        return canonical_json(self.to_json())

    def leaf_hash(self) -> bytes:
        return leaf_hash(self.encode())

    @classmethod
    def from_json(cls, obj: object) -> LogEntry:
        """Parse and check an entry object: exactly the five fields, a known kind, a
        lowercase hex key id equal to SHA-256 of the key, a valid date.

        Raises
        ------
        TransparencyFormatError
        """
        if not isinstance(obj, Mapping):
            raise TransparencyFormatError("a log entry is a JSON object")
        fields: Mapping[object, object] = obj  # pyright: ignore[reportUnknownVariableType]
        if set(fields) != set(_ENTRY_FIELDS):
            raise TransparencyFormatError(f"a log entry has exactly the fields {sorted(map(str, _ENTRY_FIELDS))}")
        kind, ident, key_id = fields["kind"], fields["id"], fields["token_key_id"]
        if kind not in ENTRY_KINDS:
            raise TransparencyFormatError(f"entry kind must be one of {ENTRY_KINDS}")
        if not isinstance(ident, str) or not ident:
            raise TransparencyFormatError("entry id must be a non-empty string")
        if not isinstance(key_id, str) or not _HEX64.fullmatch(key_id):
            raise TransparencyFormatError("token_key_id must be 64 lowercase hex digits")
        token_key = _unb64url(fields["token_key"], "token_key")
        if hashlib.sha256(token_key).hexdigest() != key_id:
            raise TransparencyFormatError("token_key_id is not SHA-256 of token_key")
        return cls(kind=str(kind), id=ident, token_key_id=bytes.fromhex(key_id), token_key=token_key,
                   opened_on=_date(fields["opened_on"], "opened_on"))


# --- signed tree heads -----------------------------------------------------------------------


def tree_head_message(tree_size: int, root_hash: bytes, issued_on: date) -> bytes:
    """The bytes a tree head signature covers: canonical JSON of
    ``{"issued_on": "YYYY-MM-DD", "root_hash": base64, "tree_size": integer}``."""
    return canonical_json({"issued_on": issued_on.isoformat(), "root_hash": _b64(root_hash), "tree_size": tree_size})


@dataclass(frozen=True, slots=True)
class SignedTreeHead:
    """A tree head and its Ed25519 signature (RFC 8032) by the log key."""

    tree_size: int
    root_hash: bytes
    issued_on: date
    signature: bytes

    def message(self) -> bytes:
        return tree_head_message(self.tree_size, self.root_hash, self.issued_on)

    def to_json(self) -> dict[str, int | str]:
        return {
            "tree_size": self.tree_size,
            "root_hash": _b64(self.root_hash),
            "issued_on": self.issued_on.isoformat(),
            "signature": _b64(self.signature),
        }

    @classmethod
    def from_json(cls, obj: object) -> SignedTreeHead:
        """Parse a tree head object (shape only; :func:`verify_tree_head` checks the signature).

        Raises
        ------
        TransparencyFormatError
        """
        if not isinstance(obj, Mapping):
            raise TransparencyFormatError("a tree head is a JSON object")
        fields: Mapping[object, object] = obj  # pyright: ignore[reportUnknownVariableType]
        if set(fields) != set(_HEAD_FIELDS):
            raise TransparencyFormatError(f"a tree head has exactly the fields {sorted(map(str, _HEAD_FIELDS))}")
        root = _unb64(fields["root_hash"], "root_hash")
        if len(root) != HASH_LEN:
            raise TransparencyFormatError(f"root_hash must be {HASH_LEN} bytes")
        signature = _unb64(fields["signature"], "signature")
        return cls(tree_size=_size(fields["tree_size"], "tree_size"), root_hash=root,
                   issued_on=_date(fields["issued_on"], "issued_on"), signature=signature)


def generate_log_key() -> Ed25519PrivateKey:
    """A fresh Ed25519 log signing key."""
    return Ed25519PrivateKey.generate()


def log_public_key(private_key: Ed25519PrivateKey) -> bytes:
    """The raw 32-byte public key (RFC 8032 §5.1.5), as published."""
    return private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def sign_tree_head(private_key: Ed25519PrivateKey, tree_size: int, root_hash: bytes, issued_on: date) -> SignedTreeHead:
    """Sign ``{"issued_on", "root_hash", "tree_size"}`` (:func:`tree_head_message`) with Ed25519."""
    if tree_size < 0 or len(root_hash) != HASH_LEN:
        raise ValueError("a tree head has a non-negative size and a 32-byte root")
    message = tree_head_message(tree_size, root_hash, issued_on)
    return SignedTreeHead(tree_size, bytes(root_hash), issued_on, private_key.sign(message))


def verify_tree_head(public_key: bytes, head: SignedTreeHead) -> None:
    """Check ``head``'s signature under the raw 32-byte Ed25519 ``public_key``.

    Raises
    ------
    TransparencyFormatError
        ``public_key`` is not 32 bytes.
    TreeHeadSignatureError
        Missing or wrong signature (another key, or any field changed).
    """
    if len(public_key) != _ED25519_LEN:
        raise TransparencyFormatError(f"the log key is {_ED25519_LEN} raw bytes")
    if len(head.signature) != _SIGNATURE_LEN:
        raise TreeHeadSignatureError("the tree head is not signed (an Ed25519 signature is 64 bytes)")
    try:
        Ed25519PublicKey.from_public_bytes(bytes(public_key)).verify(head.signature, head.message())
    except (InvalidSignature, ValueError):
        raise TreeHeadSignatureError("the tree head's signature does not verify under the log key") from None


def encrypt_log_key(private_key: Ed25519PrivateKey, kek: bytes, aad: bytes) -> bytes:
    """Wrap the log key for storage: ``0x01 || nonce || AES-256-GCM(kek, nonce, raw key, aad)``
    — the layout of the issuer keys (:func:`crypto.keys.encrypt_private_key`)."""
    if len(kek) != 32:
        raise ValueError("the key-encryption key must be exactly 32 bytes")
    raw = private_key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                    serialization.NoEncryption())
    nonce = secrets.token_bytes(_NONCE_LEN)
    return _BLOB_VERSION + nonce + AESGCM(bytes(kek)).encrypt(nonce, raw, bytes(aad))


def decrypt_log_key(blob: bytes, kek: bytes, aad: bytes) -> Ed25519PrivateKey:
    """Open a blob from :func:`encrypt_log_key`.

    Raises
    ------
    TransparencyError
        Wrong key-encryption key or associated data, or a tampered blob.
    """
    blob = bytes(blob)
    if len(kek) != 32:
        raise ValueError("the key-encryption key must be exactly 32 bytes")
    if len(blob) < 1 + _NONCE_LEN + 16 or blob[:1] != _BLOB_VERSION:
        raise TransparencyError("not an encrypted log key blob")
    try:
        raw = AESGCM(bytes(kek)).decrypt(blob[1:1 + _NONCE_LEN], blob[1 + _NONCE_LEN:], bytes(aad))
    except InvalidTag:
        raise TransparencyError("the log key blob does not authenticate under this key") from None
    if len(raw) != _ED25519_LEN:
        raise TransparencyError("the decrypted log key is not an Ed25519 key")
    return Ed25519PrivateKey.from_private_bytes(raw)
