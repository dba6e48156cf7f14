#!/usr/bin/env python3
"""Candor key-log monitor: check, from outside, that a Candor server shows everyone the same keys.

Candor hands every member a blind-signing key for each survey wave and each feedback-thread
period. A dishonest operator could give one member a key of their own and so recognise that
member's answers (the key-consistency attack of RFC 9576 §6). Candor therefore appends every
key it uses to a public, append-only log in the style of Certificate Transparency (RFC 9162)
and signs the log's tree head with an Ed25519 log key. Browsers check that their key is in the
log; this monitor checks the log itself, on behalf of people who do not run the server (a works
council, a staff representative), and prints one value to publish where the operator cannot
change it. If two people ever see different published values for the same tree size, the
operator has shown them different logs.

This file is deliberately self-contained — the Python standard library plus ``cryptography``
(for Ed25519) — so it can be downloaded alone, read in an afternoon and run without Candor's
code. It re-implements the few RFC 9162 algorithms it needs instead of importing the server's.

Each run:

1. fetches the log's public key and compares it with the one pinned in the state file (pinned
   on the first run unless ``--log-key`` is given); a changed key is a failure;
2. fetches the signed tree head and verifies its Ed25519 signature (RFC 8032) over the canonical
   JSON of ``{"issued_on", "root_hash", "tree_size"}``;
3. fetches every entry, page by page, and recomputes the Merkle Tree Hash (RFC 9162 §2.1.1)
   from them; it must equal the signed root;
4. checks the head is consistent with the one saved last time, twice over: the root of the
   first M entries it fetched now must equal the old root, and the server's consistency proof
   must verify (RFC 9162 §2.1.4.2);
5. checks every entry: a known kind, a well-formed wave or period id, ``token_key_id`` equal to
   SHA-256 of the key's SubjectPublicKeyInfo (RFC 9578 §6.5), exactly one key per wave and per
   thread period, and no key id twice;
6. spot-checks the server's inclusion proofs for a few random entries (RFC 9162 §2.1.3.2);
7. saves the new head — only if everything passed — and prints the value to publish.

Exit status: 0 the log is consistent; 1 it is not (the report says what); 2 the check could not
be done (network, an unreadable state file, a response that is not what the protocol says).

Usage::

    python candor_monitor.py --url https://feedback.example.org --state monitor-state.json
"""

# pyright: strict

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import os
import random
import re
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, cast

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

__version__ = "1"

EXIT_CONSISTENT = 0
EXIT_INCONSISTENT = 1
EXIT_UNCHECKED = 2

PAGE_SIZE = 256  # the most entries the server returns per request
STATE_FORMAT = "candor-monitor-state/1"
MAX_RESPONSE_BYTES = 32 * 1024 * 1024
HASH_LEN = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()  # MTH({}) (RFC 9162 §2.1.1)

ENTRY_FIELDS = frozenset({"kind", "id", "token_key_id", "token_key", "opened_on"})
HEAD_FIELDS = frozenset({"tree_size", "root_hash", "issued_on", "signature"})
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_PERIOD = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_B64URL = re.compile(r"[A-Za-z0-9_-]+")


class CouldNotCheck(Exception):
    """The check could not be done: the network, the state file, or a malformed response."""


class HttpStatusError(CouldNotCheck):
    """The server answered with an HTTP error status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class Inconsistent(Exception):
    """A failure after which nothing further can be checked (wrong log key, bad signature)."""


# --- encodings ------------------------------------------------------------------------------


def canonical_json(value: object) -> bytes:
    """Sorted keys, no whitespace, UTF-8: the bytes the log hashes and the log key signs."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: object, what: str) -> bytes:
    """Strict standard base64 (RFC 4648 §4); anything else is a malformed response."""
    if not isinstance(text, str):
        raise CouldNotCheck(f"{what} is not a base64 string")
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise CouldNotCheck(f"{what} is not valid base64") from None


def unb64url(text: str) -> bytes | None:
    """Unpadded base64url (RFC 4648 §5), or None when ``text`` is not that."""
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        return None
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def as_object(value: object, what: str) -> dict[str, Any]:
    """``value`` if it is a JSON object (its keys are strings, as ``json.loads`` makes them)."""
    if not isinstance(value, dict):
        raise CouldNotCheck(f"{what} is not a JSON object")
    return cast(dict[str, Any], value)


def as_list(value: object, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise CouldNotCheck(f"{what} is not a JSON list")
    return cast(list[Any], value)


def is_date(text: object) -> bool:
    if not isinstance(text, str) or not _DATE.fullmatch(text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


# --- RFC 9162 §2.1: Merkle tree hashes and proof verification ----------------------------------


def leaf_hash(entry: bytes) -> bytes:
    """``SHA-256(0x00 || entry)`` (RFC 9162 §2.1.1)."""
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 || left || right)`` (RFC 9162 §2.1.1)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    """``MTH(D[n])`` of a list of leaf hashes (RFC 9162 §2.1.1).

    The RFC splits D[n] at k, the largest power of two below n, and hashes the two halves. A
    stack of complete subtrees gives the same tree in one pass: push each leaf, merge the top
    two while they have equal size, and at the end fold what is left from the right; the
    sizes on the stack are the binary digits of n, left to right, which is exactly that split.
    """
    if not leaves:
        return EMPTY_ROOT
    stack: list[tuple[int, bytes]] = []
    for leaf in leaves:
        size, h = 1, leaf
        while stack and stack[-1][0] == size:
            left_size, left = stack.pop()
            size, h = left_size + size, node_hash(left, h)
        stack.append((size, h))
    root = stack.pop()[1]
    while stack:
        root = node_hash(stack.pop()[1], root)
    return root


def verify_inclusion(leaf: bytes, index: int, tree_size: int, path: Sequence[bytes], root: bytes) -> bool:
    """The inclusion proof verification of RFC 9162 §2.1.3.2, step by step."""
    if not 0 <= index < tree_size:
        return False
    fn, sn, r = index, tree_size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes,
                       proof: Sequence[bytes]) -> bool:
    """The consistency proof verification of RFC 9162 §2.1.4.2, for 0 < first < second."""
    if not 0 < first < second or not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:  # first is a power of two: its root is a node of the new tree
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0


# --- tree heads -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TreeHead:
    """A signed tree head as the server serves it."""

    tree_size: int
    root_hash: bytes
    issued_on: str
    signature: bytes

    def message(self) -> bytes:
        """What the log key signs: canonical JSON of ``{"issued_on", "root_hash", "tree_size"}``."""
        return canonical_json({"issued_on": self.issued_on, "root_hash": b64(self.root_hash),
                               "tree_size": self.tree_size})

    def to_json(self) -> dict[str, Any]:
        return {"tree_size": self.tree_size, "root_hash": b64(self.root_hash), "issued_on": self.issued_on,
                "signature": b64(self.signature)}

    def fingerprint(self) -> str:
        """SHA-256 (hex) of the canonical JSON of the whole signed head: the value to publish."""
        return hashlib.sha256(canonical_json(self.to_json())).hexdigest()

    def verify(self, log_key: bytes) -> str | None:
        """None when the Ed25519 signature verifies under ``log_key``, else what is wrong."""
        if not self.signature:
            return "the tree head is not signed"
        if len(self.signature) != 64:
            return f"the tree head's signature is {len(self.signature)} bytes, not an Ed25519 signature (64)"
        try:
            Ed25519PublicKey.from_public_bytes(log_key).verify(self.signature, self.message())
        except (InvalidSignature, ValueError):
            return "the tree head's signature does not verify under the log key"
        return None


def parse_head(obj: object, what: str = "tree head") -> TreeHead:
    """A tree head object, or :class:`CouldNotCheck` naming what is malformed.

    A missing or empty signature parses (as empty bytes), so that an unsigned head is reported
    as a failure of the log rather than as a broken response.
    """
    fields = as_object(obj, f"the {what}")
    missing = {"tree_size", "root_hash", "issued_on"} - set(fields)
    if missing:
        raise CouldNotCheck(f"the {what} lacks {', '.join(sorted(missing))}")
    size = fields["tree_size"]
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise CouldNotCheck(f"the {what}'s tree_size is not a non-negative integer")
    root = unb64(fields["root_hash"], f"the {what}'s root_hash")
    if len(root) != HASH_LEN:
        raise CouldNotCheck(f"the {what}'s root_hash is {len(root)} bytes, not {HASH_LEN}")
    if not is_date(fields["issued_on"]):
        raise CouldNotCheck(f"the {what}'s issued_on is not a YYYY-MM-DD date")
    signature = fields.get("signature")
    sig = b"" if signature in (None, "") else unb64(signature, f"the {what}'s signature")
    return TreeHead(size, root, str(fields["issued_on"]), sig)


# --- the server ----------------------------------------------------------------------------


Fetch = Callable[[str, Mapping[str, str | int]], Any]


class LogServer:
    """GETs the public transparency endpoints of one Candor server; JSON in, JSON out."""

    def __init__(self, base_url: str, timeout: float) -> None:
        parsed = urllib.parse.urlsplit(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise CouldNotCheck(f"--url must be an http(s) address, not {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def __call__(self, path: str, params: Mapping[str, str | int]) -> Any:
        url = f"{self.base_url}/api/transparency/{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        request = urllib.request.Request(url, headers={
            "Accept": "application/json", "User-Agent": f"candor-monitor/{__version__}"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body = response.read(MAX_RESPONSE_BYTES + 1)
        except urllib.error.HTTPError as error:
            raise HttpStatusError(f"GET {url} answered {error.code}: {problem_detail(error)}", error.code) from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise CouldNotCheck(f"GET {url} failed: {reason}") from None
        if len(body) > MAX_RESPONSE_BYTES:
            raise CouldNotCheck(f"GET {url}: the response is larger than {MAX_RESPONSE_BYTES} bytes")
        try:
            return json.loads(body)
        except (UnicodeDecodeError, ValueError):
            raise CouldNotCheck(f"GET {url}: the response is not JSON") from None


def problem_detail(error: urllib.error.HTTPError) -> str:
    """The ``detail`` of an RFC 9457 problem response, or the HTTP reason phrase."""
    try:
        problem = json.loads(error.read(64 * 1024))
        detail = as_object(problem, "a problem").get("detail")
        if isinstance(detail, str):
            return detail
    except (OSError, ValueError, CouldNotCheck):
        pass
    return str(error.reason)


# --- the check ------------------------------------------------------------------------------


@dataclass
class Report:
    """What one run found; ``problems`` non-empty means the log is inconsistent."""

    url: str
    problems: list[str] = field(default_factory=list[str])
    checks: list[str] = field(default_factory=list[str])
    log_key: bytes | None = None
    head: TreeHead | None = None
    previous: TreeHead | None = None
    first_run: bool = False
    unchecked: str | None = None

    @property
    def exit_code(self) -> int:
        if self.problems:
            return EXIT_INCONSISTENT
        return EXIT_UNCHECKED if self.unchecked else EXIT_CONSISTENT


def entry_problems(index: int, entry: dict[str, Any]) -> list[str]:
    """What is wrong with one entry on its own (its shape, and its key id against its key)."""
    where = f"entry {index}"
    if entry.keys() != ENTRY_FIELDS:
        return [f"{where} has the fields {sorted(entry)}, not exactly {sorted(ENTRY_FIELDS)}"]
    problems: list[str] = []
    kind, ident = entry["kind"], entry["id"]
    if kind == "wave":
        if not isinstance(ident, str) or not _UUID.fullmatch(ident):
            problems.append(f"{where}: a wave's id must be a lowercase UUID, not {ident!r}")
    elif kind == "thread-period":
        if not isinstance(ident, str) or not _PERIOD.fullmatch(ident):
            problems.append(f"{where}: a thread period's id must be YYYY-MM, not {ident!r}")
    else:
        problems.append(f"{where} has the unknown kind {kind!r}")
    if not is_date(entry["opened_on"]):
        problems.append(f"{where}: opened_on is not a YYYY-MM-DD date")
    key_id, key = entry["token_key_id"], entry["token_key"]
    spki = unb64url(key) if isinstance(key, str) else None
    if spki is None:
        problems.append(f"{where}: token_key is not unpadded base64url")
    elif not isinstance(key_id, str) or not _HEX64.fullmatch(key_id):
        problems.append(f"{where}: token_key_id is not 64 lowercase hex digits")
    elif hashlib.sha256(spki).hexdigest() != key_id:
        # RFC 9578 §6.5: token_key_id = SHA-256(SubjectPublicKeyInfo); a client checks the id.
        problems.append(f"{where}: token_key_id is not SHA-256 of its token_key")
    return problems


def fetch_entries(fetch: Fetch, tree_size: int) -> list[dict[str, Any]]:
    """Every entry ``0 .. tree_size-1``, at most :data:`PAGE_SIZE` per request."""
    entries: list[dict[str, Any]] = []
    while len(entries) < tree_size:
        start = len(entries)
        end = min(start + PAGE_SIZE, tree_size)
        page = as_object(fetch("entries", {"start": start, "end": end}), f"the page of entries from {start}")
        items = as_list(page.get("entries"), f"the entries from {start}")
        if not items or len(items) > end - start:
            raise CouldNotCheck(f"asked for entries {start}..{end - 1}, the server returned {len(items)}")
        entries.extend(as_object(item, f"entry {start + i}") for i, item in enumerate(items))
    return entries


def check_uniqueness(entries: Sequence[dict[str, Any]], report: Report) -> None:
    """Exactly one key per wave and per thread period, and no key id twice."""
    by_subject: dict[tuple[str, str], int] = {}
    by_key_id: dict[str, int] = {}
    counts = {"wave": 0, "thread-period": 0}
    clashes = 0
    for i, entry in enumerate(entries):
        subject = (str(entry.get("kind")), str(entry.get("id")))
        if subject in by_subject:
            clashes += 1
            report.problems.append(
                f"{subject[0]} {subject[1]} has a second key: entries {by_subject[subject]} and {i} "
                f"(someone may have been given a key of their own)")
        else:
            by_subject[subject] = i
            if subject[0] in counts:
                counts[subject[0]] += 1
        key_id = str(entry.get("token_key_id"))
        if key_id in by_key_id:
            clashes += 1
            report.problems.append(f"key id {key_id} is logged twice: entries {by_key_id[key_id]} and {i}")
        else:
            by_key_id[key_id] = i
    if not clashes:
        report.checks.append(f"keys: {counts['wave']} wave(s), {counts['thread-period']} thread period(s); "
                             "one key each, no key id twice")


def check_consistency(fetch: Fetch, previous: TreeHead, head: TreeHead, leaves: Sequence[bytes],
                      report: Report) -> None:
    """The head seen last time must describe a prefix of today's log (RFC 9162 §2.1.4)."""
    m, n = previous.tree_size, head.tree_size
    seen = f"the head seen before (size {m}, issued {previous.issued_on})"
    if n < m:
        report.problems.append(f"the log shrank: {seen}, now size {n}")
        return
    if merkle_root(leaves[:m]) != previous.root_hash:
        report.problems.append(
            f"the first {m} entries no longer hash to {seen}: an entry was changed or removed, or the log "
            "was forked")
        return
    if m == n or m == 0:
        report.checks.append(f"consistency with {seen}: prefix recomputed, matches")
        return
    try:
        answer = fetch("consistency", {"first": m, "second": n})
    except HttpStatusError as error:
        if error.status >= 500:
            raise
        report.problems.append(f"the server refused a consistency proof from {m} to {n}: {error}")
        return
    proof_items = as_list(as_object(answer, "the consistency answer").get("proof"), "the consistency proof")
    proof = [unb64(p, "a consistency proof hash") for p in proof_items]
    if any(len(p) != HASH_LEN for p in proof) or not verify_consistency(m, n, previous.root_hash,
                                                                        head.root_hash, proof):
        report.problems.append(f"the server's consistency proof from size {m} to {n} does not verify "
                               "(RFC 9162 §2.1.4.2)")
        return
    report.checks.append(f"consistency with {seen}: prefix recomputed and the server's proof verified")


def check_inclusion(fetch: Fetch, head: TreeHead, entries: Sequence[dict[str, Any]], leaves: Sequence[bytes],
                    count: int, rng: random.Random, report: Report) -> None:
    """Ask for inclusion proofs of ``count`` random entries and verify them (RFC 9162 §2.1.3.2)."""
    picks = rng.sample(range(len(entries)), min(count, len(entries)))
    for index in sorted(picks):
        entry = entries[index]
        try:
            answer = fetch("inclusion", {"token_key_id": str(entry["token_key_id"]), "tree_size": head.tree_size})
        except HttpStatusError as error:
            if error.status >= 500:
                raise
            report.problems.append(f"the server refused an inclusion proof for entry {index}: {error}")
            continue
        fields = as_object(answer, f"the inclusion answer for entry {index}")
        path = [unb64(p, "an audit path hash") for p in as_list(fields.get("audit_path"), "the audit path")]
        if fields.get("leaf_index") != index:
            report.problems.append(f"the server places entry {index} at leaf {fields.get('leaf_index')!r}")
        elif "entry" in fields and fields["entry"] != entry:
            report.problems.append(f"the inclusion answer for entry {index} carries a different entry")
        elif any(len(p) != HASH_LEN for p in path) or not verify_inclusion(
                leaves[index], index, head.tree_size, path, head.root_hash):
            report.problems.append(f"the inclusion proof for entry {index} does not verify (RFC 9162 §2.1.3.2)")
    if picks and not report.problems:
        report.checks.append(f"inclusion: {len(picks)} random proof(s) verified")


def check_log(report: Report, fetch: Fetch, state: dict[str, Any] | None, log_key_arg: bytes | None,
              inclusion_checks: int, rng: random.Random) -> None:
    """Run every check, filling ``report``.

    Raises
    ------
    Inconsistent
        A failure after which nothing else can be checked (the log key, the head's signature).
    CouldNotCheck
        The network, the state file, or a response not shaped as the protocol says.
    """
    report.first_run = state is None
    pinned = log_key_arg
    if state is not None:
        saved_key = unb64(state.get("log_key"), "the state file's log_key")
        if pinned is not None and pinned != saved_key:
            raise Inconsistent(f"--log-key {b64(pinned)} differs from the key pinned in the state file "
                               f"{b64(saved_key)}")
        pinned = saved_key
        report.previous = parse_head(state.get("tree_head"), "state file's tree head")
        if report.previous.verify(saved_key) is not None:
            raise CouldNotCheck("the state file's tree head is not signed by its pinned log key; "
                                "was the state file edited?")

    served = fetch("log-key", {})
    served_key = unb64(as_object(served, "the log key answer").get("public_key"), "the log key's public_key")
    if len(served_key) != 32:
        raise CouldNotCheck(f"the log key is {len(served_key)} bytes, not a raw Ed25519 key (32)")
    if pinned is not None and served_key != pinned:
        raise Inconsistent(f"the server's log key changed: pinned {b64(pinned)}, now served {b64(served_key)}")
    report.log_key = served_key
    report.checks.append("log key: " + ("matches the pinned key" if pinned is not None
                                        else "pinned now (first run) — compare it with the published one"))

    head = parse_head(fetch("tree-head", {}))
    wrong = head.verify(served_key)
    if wrong:
        raise Inconsistent(wrong)
    report.head = head
    report.checks.append(f"tree head: size {head.tree_size}, issued {head.issued_on}, signature valid")

    entries = fetch_entries(fetch, head.tree_size)
    for i, entry in enumerate(entries):
        report.problems.extend(entry_problems(i, entry))
    leaves = [leaf_hash(canonical_json(e)) for e in entries]
    if merkle_root(leaves) != head.root_hash:
        report.problems.append(f"the {len(entries)} entries do not hash to the signed root: an entry was "
                               "changed, added or removed without a new signed head")
    else:
        report.checks.append(f"entries: {len(entries)} fetched; their Merkle root matches the signed head")

    check_uniqueness(entries, report)
    if report.previous is not None:
        check_consistency(fetch, report.previous, head, leaves, report)
    if not report.problems and inclusion_checks > 0 and entries:
        check_inclusion(fetch, head, entries, leaves, inclusion_checks, rng, report)


# --- state file -----------------------------------------------------------------------------


def load_state(path: Path) -> dict[str, Any] | None:
    """The state saved by the last passing run, or None on the first run."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as error:
        raise CouldNotCheck(f"cannot read the state file {path}: {error.strerror}") from None
    try:
        state = json.loads(text)
    except ValueError:
        raise CouldNotCheck(f"the state file {path} is not JSON") from None
    if not isinstance(state, dict) or cast(dict[str, Any], state).get("format") != STATE_FORMAT:
        raise CouldNotCheck(f"the state file {path} is not a {STATE_FORMAT} file")
    return cast(dict[str, Any], state)


def save_state(path: Path, report: Report) -> None:
    """Write the state atomically (a temporary file renamed over the old one)."""
    assert report.head is not None and report.log_key is not None
    state = {"format": STATE_FORMAT, "url": report.url, "log_key": b64(report.log_key),
             "tree_head": report.head.to_json(), "checked_on": date.today().isoformat()}
    directory = path.resolve().parent
    fd, tmp = tempfile.mkstemp(prefix=".candor-monitor-", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(state, f, indent=2, sort_keys=True)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --- output ---------------------------------------------------------------------------------


def publish_values(head: TreeHead) -> dict[str, Any]:
    return {"tree_size": head.tree_size, "root_hash": b64(head.root_hash), "issued_on": head.issued_on,
            "head_sha256": head.fingerprint()}


def result_word(report: Report) -> str:
    return {EXIT_CONSISTENT: "consistent", EXIT_INCONSISTENT: "inconsistent",
            EXIT_UNCHECKED: "unchecked"}[report.exit_code]


def render_json(report: Report) -> str:
    return json.dumps({
        "result": result_word(report),
        "exit_code": report.exit_code,
        "url": report.url,
        "problems": report.problems,
        "could_not_check": report.unchecked,
        "checks": report.checks,
        "first_run": report.first_run,
        "log_key": b64(report.log_key) if report.log_key else None,
        "publish": publish_values(report.head) if report.head and report.exit_code == 0 else None,
        "previous": publish_values(report.previous) if report.previous else None,
    }, indent=2)


def render_text(report: Report) -> str:
    lines = [f"Candor key log at {report.url}"]
    lines += [f"  ok  {c}" for c in report.checks]
    if report.exit_code == EXIT_UNCHECKED:
        lines += [f"COULD NOT CHECK: {report.unchecked}",
                  "Nothing was concluded about the log; the saved state is unchanged. Try again later."]
    elif report.exit_code == EXIT_INCONSISTENT:
        lines += ["INCONSISTENT: the server's key log does not check out:"]
        lines += [f"  !!  {p}" for p in report.problems]
        lines += ["Members may have been given keys that identify them. Tell the works council and the data",
                  "protection officer, keep this output and the state file, and warn members not to answer",
                  "until it is explained. The saved state is unchanged."]
    else:
        assert report.head is not None and report.log_key is not None
        values = publish_values(report.head)
        lines += ["CONSISTENT", "", "Publish where the operator cannot change it:",
                  f"  candor-log tree_size={values['tree_size']} root_hash={values['root_hash']}",
                  f"  head_sha256={values['head_sha256']}",
                  f"  (log key {b64(report.log_key)})"]
        if report.first_run:
            lines += ["", "First run: the log key above is now pinned in the state file. Check it against the one",
                      "in Candor's README and privacy page before trusting this result."]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="candor_monitor.py",
        description="Check a Candor server's key transparency log and print the value to publish.",
        epilog="Exit status: 0 consistent, 1 inconsistent (tampering: the report says what), 2 could not check.")
    parser.add_argument("--url", required=True, help="the Candor server, e.g. https://feedback.example.org")
    parser.add_argument("--state", required=True, type=Path,
                        help="JSON file holding the pinned log key and the last verified head (created if missing)")
    parser.add_argument("--log-key", help="the published log key (base64 of 32 raw bytes); pinned on the "
                                          "first run when omitted")
    parser.add_argument("--inclusion-checks", type=int, default=3, metavar="N",
                        help="verify inclusion proofs of N random entries (default 3; 0 to skip)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per HTTP request (default 30)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None, fetch: Fetch | None = None) -> int:
    args = parse_args(argv)
    report = Report(url=args.url)
    try:
        log_key = None
        if args.log_key is not None:
            log_key = unb64(args.log_key, "--log-key")
            if len(log_key) != 32:
                raise CouldNotCheck("--log-key must be base64 of a raw 32-byte Ed25519 key")
        state = load_state(args.state)
        check_log(report, fetch or LogServer(args.url, args.timeout), state, log_key,
                  max(args.inclusion_checks, 0), random.SystemRandom())
    except Inconsistent as failure:
        report.problems.append(str(failure))
    except CouldNotCheck as error:
        report.unchecked = str(error)
    if report.exit_code == EXIT_CONSISTENT:
        try:
            save_state(args.state, report)
        except OSError as error:
            report.unchecked = f"cannot save the state file {args.state}: {error.strerror}"
    print(render_json(report) if args.json else render_text(report))
    return report.exit_code


if __name__ == "__main__":
    sys.exit(main())
