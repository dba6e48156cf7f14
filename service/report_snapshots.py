"""Closed waves' reports stored in the database, computed once per wave and language.

A closed wave never changes, so its report is computed once — by the ``report_builder``
job soon after the wave closes, or by the first reader if the job has not got there —
and kept in ``report_snapshots`` (migration 0017). Every later read, in any process and
after any restart, decodes the stored report instead of reading a million responses
again. Only aggregates that a reader of the report is shown anyway are stored (numbers,
sentences, and the comments already in random order, suppressed below k).

A snapshot is used only when it was made by the same code and in the same context:

* ``version`` hashes the analysis, the instruments' code, the report assembly and the
  message catalogs its sentences come from. After an upgrade every snapshot is stale
  and is made again (by the job, one wave at a time, or on the first read).
* ``context`` names what besides the wave's own responses went into it: the previous
  closed wave of the series (the change section) and the audience size. A wave closing
  later with an earlier closing date changes another wave's previous wave; the
  snapshot then no longer matches and is made again.

The report structs are untagged unions (an item row *or* a suppressed row, told apart by
their fields, see :class:`analysis.report_types.ReportStruct`), which msgspec encodes but
does not decode; :func:`decode` walks the type hints and picks each union member by the
fields present. Never pickle: a database row must not be able to run code in the app.
"""

from __future__ import annotations

import hashlib
import logging
import types
import typing
from functools import cache
from pathlib import Path
from typing import Any, TypeVar, Union
from uuid import UUID

import msgspec

log = logging.getLogger("candor.reports")

ROOT = Path(__file__).resolve().parents[1]

#: What a stored report depends on besides its wave (paths relative to the repository root).
SOURCES = ("analysis", "instruments", "service/reports.py", "service/report_snapshots.py", "service/i18n.py",
           "service/locale")

S = TypeVar("S", bound=msgspec.Struct)


@cache
def code_version() -> str:
    """A hash of every file in :data:`SOURCES` (code and catalogs), by path and content."""
    digest = hashlib.sha256()
    for source in SOURCES:
        path = ROOT / source
        files = sorted(p for p in path.rglob("*") if p.suffix in (".py", ".po", ".toml")) if path.is_dir() else [path]
        for file in files:
            digest.update(str(file.relative_to(ROOT)).encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()[:32]


def context_key(previous: UUID | None, audience: int | None) -> str:
    """What a report depends on outside its own wave: its previous wave and audience."""
    return f"previous={previous or '-'};audience={audience if audience is not None else '-'}"


def encode(report: msgspec.Struct) -> bytes:
    return msgspec.msgpack.encode(report)


def decode(body: bytes, kind: type[S]) -> S:
    """The report ``encode`` stored, as the struct ``kind``; ValueError when the body does
    not fit it (the caller then computes the report again)."""
    try:
        value = _convert(msgspec.msgpack.decode(body), kind)
    except Exception as exc:  # noqa: BLE001 - whatever a damaged body makes the walk raise
        raise ValueError(f"stored report does not decode as {kind.__name__}: {exc}") from exc
    if not isinstance(value, kind):
        raise ValueError(f"stored report is not a {kind.__name__}")
    return value


@cache
def _hints(kind: type[msgspec.Struct]) -> tuple[dict[str, tuple[str, Any]], frozenset[str], frozenset[str]]:
    """Per encoded field name: (attribute name, type hint); all encoded names; required ones."""
    hints = typing.get_type_hints(kind)
    fields = msgspec.structs.fields(kind)
    by_name = {f.encode_name: (f.name, hints[f.name]) for f in fields}
    return by_name, frozenset(by_name), frozenset(f.encode_name for f in fields if f.required)


def _convert(value: Any, hint: Any) -> Any:
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        return _union(value, typing.get_args(hint))
    if isinstance(hint, type) and issubclass(hint, msgspec.Struct):
        return _struct(value, hint)
    if origin is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(v, args[0]) for v in value)
        return tuple(_convert(v, a) for v, a in zip(value, args, strict=True))
    if origin is dict:
        _, value_hint = typing.get_args(hint)
        return {k: _convert(v, value_hint) for k, v in value.items()}
    if origin is list:
        (item_hint,) = typing.get_args(hint)
        return [_convert(v, item_hint) for v in value]
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def _union(value: Any, members: tuple[Any, ...]) -> Any:
    if value is None:
        return None
    if isinstance(value, dict):
        keys = frozenset(typing.cast(dict[str, Any], value))
        structs = [m for m in members if isinstance(m, type) and issubclass(m, msgspec.Struct)]
        fitting = [s for s in structs if keys <= _hints(s)[1] and _hints(s)[2] <= keys]
        if fitting:
            # The member the fields describe most closely: fewest of its fields left unset.
            return _struct(value, min(fitting, key=lambda s: len(_hints(s)[1] - keys)))
        mappings = [m for m in members if typing.get_origin(m) is dict]
        if not mappings:
            raise TypeError(f"no member of {members} has the fields {sorted(keys)}")
        return _convert(value, mappings[0])
    if isinstance(value, list):
        sequences = [m for m in members if typing.get_origin(m) in (tuple, list)]
        return _convert(value, sequences[0])
    if isinstance(value, int) and not isinstance(value, bool) and int not in members and float in members:
        return float(value)
    return value


def _struct(value: dict[str, Any], kind: type[msgspec.Struct]) -> msgspec.Struct:
    by_name, _, _ = _hints(kind)
    return kind(**{by_name[key][0]: _convert(v, by_name[key][1]) for key, v in value.items()})
