"""The key transparency log's public endpoints (RFC 9162-style), for browsers, the
Python client and outside monitors.

Nothing here needs or reads a session: the log is public, and whoever checks it
(anyone) is not asked who they are. Bad query parameters get a 400 problem naming the
parameter; query strings are parsed here rather than by the framework so that every
refusal has that one shape.
"""

from __future__ import annotations

import base64
import re

import asyncpg
import msgspec
from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromQuery

from instruments.errors import N_, FieldError
from service import transparency as log
from service.errors import Problem, problem_spec

_HEX_KEY_ID = re.compile(r"[0-9a-fA-F]{64}")
_INTEGER = re.compile(r"[0-9]{1,18}")
_BAD = {400: problem_spec("A parameter is missing, not an integer, or out of range")}


class LogKey(msgspec.Struct, frozen=True):
    public_key: str  # standard base64 of the raw 32-byte Ed25519 key


class TreeHead(msgspec.Struct, frozen=True):
    tree_size: int
    root_hash: str
    issued_on: str
    signature: str


class Entry(msgspec.Struct, frozen=True):
    kind: str
    id: str
    token_key_id: str
    token_key: str
    opened_on: str


class Entries(msgspec.Struct, frozen=True):
    entries: list[Entry]


class Inclusion(msgspec.Struct, frozen=True):
    leaf_index: int
    audit_path: list[str]
    entry: Entry


class Consistency(msgspec.Struct, frozen=True):
    proof: list[str]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _bad(field: str, reason: str) -> Problem:
    return Problem(400, "bad-request", N_("{field}: {reason}",
                                          field=field, reason=reason), errors=[FieldError(field=field, reason=reason)])


def _integer(name: str, value: str | None) -> int:
    if value is None:
        raise _bad(name, N_("required"))
    if not _INTEGER.fullmatch(value):
        raise _bad(name, N_("must be a non-negative integer"))
    return int(value)


def _entry(raw: bytes) -> Entry:
    return msgspec.json.decode(raw, type=Entry)


async def _size(db: asyncpg.Connection) -> int:
    return (await log.tree_head(db)).tree_size


class TransparencyController(Controller):
    path = "/api/transparency"
    tags = ["transparency"]

    @get("/log-key", operation_id="getTransparencyLogKey",
         responses={503: problem_spec("The log has not been set up yet (the service has not started once)")},
         summary="The log's Ed25519 public key (raw 32 bytes, base64); clients pin it")
    async def log_key(self, db: NamedDependency[asyncpg.Connection]) -> LogKey:
        public = await log.public_log_key(db)
        if public is None:
            raise Problem(503, "unavailable", N_("The transparency log has not been set up yet"))
        return LogKey(public_key=_b64(public))

    @get("/tree-head", operation_id="getTransparencyTreeHead", summary="The latest signed tree head")
    async def tree_head(self, db: NamedDependency[asyncpg.Connection]) -> TreeHead:
        head = await log.tree_head(db)
        return TreeHead(tree_size=head.tree_size, root_hash=_b64(head.root_hash),
                        issued_on=head.issued_on.isoformat(), signature=_b64(head.signature))

    @get("/entries", operation_id="getTransparencyEntries", responses=_BAD,
         summary=f"Entries start ≤ i < end, at most {log.ENTRIES_PAGE} at a time (page on from the last one)")
    async def entries(
        self, db: NamedDependency[asyncpg.Connection], start: FromQuery[str | None] = None,
        end: FromQuery[str | None] = None,
    ) -> Entries:
        first, last = _integer("start", start), _integer("end", end)
        size = await _size(db)
        if last > size:
            raise _bad("end", N_("must be at most the tree size, {size}", size=size))
        if first >= last:
            raise _bad("start", N_("must be smaller than end"))
        return Entries(entries=[_entry(raw) for raw in await log.entries(db, start=first, end=last)])

    @get("/inclusion", operation_id="getTransparencyInclusion",
         responses={**_BAD, 404: problem_spec("The key is not among the first tree_size entries")},
         summary="Audit path of a key (by token_key_id) in the tree of the first tree_size entries")
    async def inclusion(
        self, db: NamedDependency[asyncpg.Connection], token_key_id: FromQuery[str | None] = None,
        tree_size: FromQuery[str | None] = None,
    ) -> Inclusion:
        if token_key_id is None or not _HEX_KEY_ID.fullmatch(token_key_id):
            raise _bad("token_key_id", N_("must be 64 hex digits (SHA-256 of the key)"))
        size = _integer("tree_size", tree_size)
        current = await _size(db)
        if not 1 <= size <= current:
            raise _bad("tree_size", N_("must be between 1 and the tree size, {current}", current=current))
        found = await log.inclusion(db, token_key_id=bytes.fromhex(token_key_id), tree_size=size)
        if found is None:
            raise Problem(404, "not-found", N_("No key {key_id} among the first {size} log entries",
                                               key_id=token_key_id.lower(), size=size))
        index, path, raw = found
        return Inclusion(leaf_index=index, audit_path=[_b64(h) for h in path], entry=_entry(raw))

    @get("/consistency", operation_id="getTransparencyConsistency", responses=_BAD,
         summary="Proof that the tree of the first `first` entries is a prefix of the first `second`")
    async def consistency(
        self, db: NamedDependency[asyncpg.Connection], first: FromQuery[str | None] = None,
        second: FromQuery[str | None] = None,
    ) -> Consistency:
        m, n = _integer("first", first), _integer("second", second)
        current = await _size(db)
        if n > current:
            raise _bad("second", N_("must be at most the tree size, {current}", current=current))
        if not 1 <= m <= n:
            raise _bad("first", N_("must be between 1 and second"))
        return Consistency(proof=[_b64(h) for h in await log.consistency(db, first=m, second=n)])
