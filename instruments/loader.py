"""Loading, validating and fingerprinting instruments.

An instrument file is TOML or JSON that decodes into :class:`instruments.schema.Instrument`.
Decoding checks shapes and types (msgspec); :func:`validate_instrument` then checks what a
type cannot say. Either way a bad file raises one :class:`InstrumentError` naming the file,
the field path (``items[3].dimension``) and the reason.

Rules beyond the types
----------------------
- ``version`` is non-empty; ``language`` is a language tag (``en``, ``de-CH``).
- ``languages`` and ``translations`` (:mod:`instruments.translations`): every declared
  language but the primary has a translation of every text the form shows, no
  translation is for an undeclared language, and a translation names no field the
  instrument does not have. Errors name the field and the language:
  ``translations.de.items.q03.perception``.
- ``scale.points`` is 2..11 (a scale needs two points to discriminate; more than 11 is not
  a Likert-type form any more) and its labels are non-empty.
- At least one dimension and one item, unless the instrument has measures (an IT
  experience instrument may have only those); dimension keys, item keys, satisfaction keys and
  text-prompt keys are each unique; every item names an existing dimension and every
  dimension has at least one item (an empty dimension has no score, yet could be weighted).
- Every item has a statement for exactly the columns of the instrument's format
  (:data:`instruments.schema.FORMAT_COLUMNS`): none missing, none extra.
- ``importance.kind = "allocation"`` (points spread over the dimensions) is valid only on
  formats that yield a gap, ``expectation-perception`` and ``zone-of-tolerance``: the
  allocation weights dimension *gap* scores (the weighted SERVQUAL score of Parasuraman,
  Berry & Zeithaml 1991) and the action ranking multiplies the weight by a gap. A
  perception-only instrument has no gap to weight, so it cannot carry an allocation.
  ``total`` must be at least 1 (100 is SERVQUAL's; other totals are allowed).
- ``importance.kind = "rating"`` (each item's importance on the instrument's scale, for
  importance-performance analysis) is valid on every format; ``total`` means nothing
  there and must be left at its default.
- ``free_text[*].max_length`` is 1..20000.
- ``measures``: unique keys; ``csat`` has 5 labels and ``effort`` 7 (one per point),
  ``nps`` 2 (the anchors of 0 and 10), ``minutes`` none; ``max`` (minutes only) is
  1..1000000 and stays at its default on the other kinds; an instrument with measures
  but no items has no importance section (there is nothing to weight).

Fingerprint
-----------
:func:`instrument_hash` is SHA-256 over a canonical JSON encoding in which keys are sorted
and fields equal to their schema default are left out. So the same content always has the
same hash whether or not a default was written out, any change of content changes it, and
adding a *new* defaulted field to the schema keeps existing hashes. The price: a default in
``schema.py`` must never change (that would change content without changing hashes).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.resources
import os
import re
import tomllib
from typing import Any, Literal, cast

import msgspec

from instruments.errors import N_, FieldError, InstrumentError
from instruments.schema import FORMAT_COLUMNS, Instrument, Text
from instruments.translations import LANGUAGE_TAG, translation_errors

__all__ = [
    "InstrumentError",
    "MAX_INSTRUMENT_BYTES",
    "instrument_hash",
    "list_builtin",
    "load_builtin",
    "load_instrument_bytes",
    "load_instrument_file",
    "validate_instrument",
]

#: Largest instrument document accepted; the 22-item SERVQUAL file is about 12 KB.
MAX_INSTRUMENT_BYTES = 1_000_000

#: Formats that produce a gap score, hence may carry an importance allocation.
GAP_FORMATS = frozenset({"expectation-perception", "zone-of-tolerance"})

MIN_SCALE_POINTS = 2
MAX_SCALE_POINTS = 11
MAX_TEXT_LENGTH = 20_000

_ALLOWED_VALUES = {
    "format": tuple(FORMAT_COLUMNS),
    "importance.kind": ("allocation", "rating"),
}
_ALL_COLUMNS = ("expectation", "perception", "minimum", "desired")


# --- public API ---------------------------------------------------------------------


def load_instrument_file(path: str | os.PathLike[str]) -> Instrument:
    """Load an instrument from a ``.toml`` or ``.json`` file.

    Raises :class:`InstrumentError` (named after the file's base name) for a malformed
    instrument; ``OSError`` when the file cannot be read.
    """
    file_path = os.fspath(path)
    name = os.path.basename(file_path)
    suffix = os.path.splitext(name)[1].lower()
    if suffix not in (".toml", ".json"):
        raise InstrumentError(
            name, [FieldError(field="", reason=N_("file name must end in .toml or .json"))]
        )
    with open(path, "rb") as f:
        data = f.read(MAX_INSTRUMENT_BYTES + 1)
    fmt: Literal["toml", "json"] = "toml" if suffix == ".toml" else "json"
    return load_instrument_bytes(data, name=name, fmt=fmt)


def load_instrument_bytes(
    data: bytes, *, name: str, fmt: Literal["toml", "json"]
) -> Instrument:
    """Decode and validate an instrument document, e.g. an upload.

    ``name`` only labels errors. Raises :class:`InstrumentError`; ``ValueError`` for an
    unknown ``fmt`` (a caller bug, not a bad document).
    """
    if fmt not in ("toml", "json"):
        raise ValueError(f"fmt must be 'toml' or 'json', not {fmt!r}")
    if len(data) > MAX_INSTRUMENT_BYTES:
        raise InstrumentError(
            name, [FieldError(field="", reason=N_("larger than {limit} bytes", limit=MAX_INSTRUMENT_BYTES))]
        )
    raw = _parse_toml(data, name) if fmt == "toml" else _parse_json(data, name)
    if not isinstance(raw, dict):
        raise InstrumentError(
            name, [FieldError(field="", reason=N_("the document must be an object (a table)"))]
        )
    try:
        instrument = msgspec.convert(raw, Instrument)
    except msgspec.ValidationError as exc:
        raise InstrumentError(name, [_translate(str(exc), raw)]) from None
    errors = validate_instrument(instrument)
    if errors:
        raise InstrumentError(name, errors)
    return instrument


def load_builtin(instrument_id: str) -> Instrument:
    """The built-in instrument ``instrument_id`` (``instruments/library/<id>.toml``).

    Raises ``KeyError`` when there is no such built-in.
    """
    if instrument_id not in _builtin_ids():
        raise KeyError(instrument_id)
    return _load_builtin(instrument_id)


def list_builtin() -> list[Instrument]:
    """All built-in instruments, ordered by id."""
    return [_load_builtin(i) for i in _builtin_ids()]


def instrument_hash(instrument: Instrument) -> str:
    """SHA-256 hex digest of the instrument's canonical encoding (see the module notes)."""
    canonical = msgspec.json.encode(_canonical(instrument), order="sorted")
    return hashlib.sha256(canonical).hexdigest()


def validate_instrument(instrument: Instrument) -> list[FieldError]:
    """The rules of the module notes that a decoded instrument breaks; empty when none."""
    errors: list[FieldError] = []

    def add(field: str, reason: str) -> None:
        errors.append(FieldError(field=field, reason=reason))

    if not instrument.version.strip():
        add("version", N_("must not be empty"))
    if not LANGUAGE_TAG.match(instrument.language):
        add("language", N_("{language!r} is not a language tag such as 'en' or 'de-CH'", language=instrument.language))

    scale = instrument.scale
    if not MIN_SCALE_POINTS <= scale.points <= MAX_SCALE_POINTS:
        add(
            "scale.points",
            N_("a scale has {low} to {high} points, not {points}",
               low=MIN_SCALE_POINTS, high=MAX_SCALE_POINTS, points=scale.points),
        )
    for label in ("low_label", "high_label", "not_applicable_label"):
        if not getattr(scale, label).strip():
            add(f"scale.{label}", N_("must not be empty"))

    if not instrument.dimensions and not instrument.measures:
        add("dimensions", N_("an instrument needs at least one dimension"))
    dimension_at: dict[str, int] = {}
    for i, dim in enumerate(instrument.dimensions):
        if dim.key in dimension_at:
            add(
                f"dimensions[{i}].key",
                N_("duplicate dimension key {key!r} (also dimensions[{first}])",
                   key=dim.key, first=dimension_at[dim.key]),
            )
        else:
            dimension_at[dim.key] = i

    if not instrument.items and not instrument.measures:
        add("items", N_("an instrument needs at least one item"))
    columns = FORMAT_COLUMNS[instrument.format]
    item_at: dict[str, int] = {}
    used_dimensions: set[str] = set()
    for i, item in enumerate(instrument.items):
        if item.key in item_at:
            add(
                f"items[{i}].key",
                N_("duplicate item key {key!r} (also items[{first}])", key=item.key, first=item_at[item.key]),
            )
        else:
            item_at[item.key] = i
        if item.dimension in dimension_at:
            used_dimensions.add(item.dimension)
        else:
            known = ", ".join(dimension_at) or "none defined"
            add(
                f"items[{i}].dimension",
                N_("unknown dimension {dimension!r} (dimensions: {known})", dimension=item.dimension, known=known),
            )
        for column in columns:
            if column not in item.statements:
                add(
                    f"items[{i}].statements.{column}",
                    N_("missing: format {format!r} asks for the {column!r} column",
                       format=instrument.format, column=column),
                )
        for column in item.statements:
            if column not in columns:
                add(
                    f"items[{i}].statements.{column}",
                    N_("format {format!r} has no {column!r} column (its columns: {columns})",
                       format=instrument.format, column=column, columns=', '.join(columns)),
                )
    for key, i in dimension_at.items():
        if instrument.items and key not in used_dimensions:
            add(f"dimensions[{i}]", N_("dimension {key!r} has no items", key=key))

    importance = instrument.importance
    if importance is not None:
        if importance.kind == "allocation":
            if instrument.format not in GAP_FORMATS:
                add(
                    "importance.kind",
                    N_("an allocation weights gap scores; format {format!r} has no gap (use kind = \"rating\" or a gap format)", format=instrument.format),
                )
            if importance.total < 1:
                add("importance.total", N_("must be at least 1, not {expected}", expected=importance.total))
        else:
            if importance.total != 100:
                add("importance.total", N_("only an allocation has a total; remove it"))
            for label in ("low_label", "high_label"):
                if not getattr(importance, label).strip():
                    add(f"importance.{label}", N_("must not be empty"))

    _check_unique(
        [s.key for s in instrument.satisfaction], "satisfaction", "satisfaction key", add
    )
    _check_unique([t.key for t in instrument.free_text], "free_text", "text prompt key", add)
    for i, prompt in enumerate(instrument.free_text):
        if not 1 <= prompt.max_length <= MAX_TEXT_LENGTH:
            add(
                f"free_text[{i}].max_length",
                N_("must be 1 to {limit}, not {given}", limit=MAX_TEXT_LENGTH, given=prompt.max_length),
            )
    _check_measures(instrument, add)
    errors.extend(translation_errors(instrument))
    return errors


# --- helpers -------------------------------------------------------------------------


#: How many labels each measure kind carries (see the module notes).
_MEASURE_LABELS = {"csat": 5, "effort": 7, "nps": 2, "minutes": 0}
MAX_MINUTES = 1_000_000


def _check_measures(instrument: Instrument, add: Any) -> None:
    _check_unique([m.key for m in instrument.measures], "measures", "measure key", add)
    for i, measure in enumerate(instrument.measures):
        want = _MEASURE_LABELS[measure.kind]
        if len(measure.labels) != want:
            what = {"csat": "one per point 1..5", "effort": "one per point 1..7",
                    "nps": "the anchors of 0 and 10", "minutes": "none: minutes are a number"}[measure.kind]
            add(f"measures[{i}].labels", N_("a {kind} measure has {want} labels ({what}), not {given}",
                                            kind=measure.kind, want=want, what=what, given=len(measure.labels)))
        if measure.kind == "minutes":
            if not 1 <= measure.max <= MAX_MINUTES:
                add(f"measures[{i}].max", N_("must be 1 to {limit}, not {given}", limit=MAX_MINUTES, given=measure.max))
        elif measure.max != 10_000:
            add(f"measures[{i}].max", N_("only a minutes measure has a maximum; remove it"))
    if instrument.measures and not instrument.items and instrument.importance is not None:
        add("importance", N_("an instrument without items has nothing to weight; remove the importance section"))


def _check_unique(keys: list[str], section: str, what: str, add: Any) -> None:
    seen: dict[str, int] = {}
    for i, key in enumerate(keys):
        if key in seen:
            add(f"{section}[{i}].key", N_("duplicate {what} {key!r} (also {section}[{first}])",
                                          what=what, key=key, section=section, first=seen[key]))
        else:
            seen[key] = i


def _parse_toml(data: bytes, name: str) -> Any:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InstrumentError(
            name, [FieldError(field="", reason=N_("not UTF-8 text (byte {byte})", byte=exc.start))]
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InstrumentError(name, [FieldError(field="", reason=N_("invalid TOML: {reason}",
                                                                    reason=str(exc)))]) from None


def _parse_json(data: bytes, name: str) -> Any:
    try:
        return msgspec.json.decode(data)
    except msgspec.DecodeError as exc:
        raise InstrumentError(name, [FieldError(field="", reason=N_("invalid JSON: {reason}",
                                                                    reason=str(exc)))]) from None


# "Message - at `$.a[0].b`" or "Message - at `key` in `$.a[0].b`" (an invalid dict key).
_LOCATED = re.compile(r"^(?P<msg>.*?) - at (?:`(?P<key>key)` in )?`\$(?P<path>[^`]*)`$", re.S)
_FIELD_NAMED = re.compile(r"^Object (?P<what>missing required|contains unknown) field `(?P<f>[^`]+)`$")
_BAD_ENUM = re.compile(r"^Invalid enum value (?P<v>.+)$")
_KEY_RULE = "'^[a-z0-9][a-z0-9_-]*$'"
_SEGMENT = re.compile(r"\.([^.\[]+)|\[(\d+)\]|\[\.\.\.\]")


def _translate(message: str, raw: Any) -> FieldError:
    """Turn a msgspec ``ValidationError`` message into a ``FieldError`` with a dotted path."""
    match = _LOCATED.match(message)
    if match:
        msg, path, is_key = match["msg"], match["path"], bool(match["key"])
    else:
        msg, path, is_key = message, "", False
    if "[...]" in path:
        path = _resolve_dict_values(path, raw)
    path = path.lstrip(".")

    named = _FIELD_NAMED.match(msg)
    if named:
        field = _join(path, named["f"])
        missing = named["what"] == "missing required"
        return FieldError(field=field, reason=N_("required field is missing") if missing else N_("unknown field"))

    enum = _BAD_ENUM.match(msg)
    if enum and is_key:
        # Only Item.statements has Literal keys: its keys are column names.
        value = enum["v"].strip("'\"")
        return FieldError(
            field=_join(path, value),
            reason=N_("unknown column {value!r} (columns: {columns})", value=value, columns=', '.join(_ALL_COLUMNS)),
        )
    if enum:
        allowed = _ALLOWED_VALUES.get(path)
        if allowed:
            return FieldError(field=path, reason=N_("invalid value {value} (one of: {allowed})", value=enum["v"],
                                                    allowed=", ".join(allowed)))
        return FieldError(field=path, reason=N_("invalid value {value}", value=enum["v"]))

    if msg.startswith("Expected `str` matching regex") and _KEY_RULE in msg:
        return FieldError(field=path, reason=N_("a key is 1-64 lowercase letters, digits, '-' or '_', starting with "
                                                "a letter or digit"))
    reason = msg.replace("`", "")
    reason = reason[:1].lower() + reason[1:]
    return FieldError(field=path, reason=N_("invalid key: {reason}", reason=reason) if is_key else reason)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _resolve_dict_values(path: str, raw: Any) -> str:
    """Replace msgspec's ``[...]`` (some value of a dict) by the key that is at fault.

    ``path`` is msgspec's path without the ``$``: ``.items[3].statements[...]``.

    The only dict-valued field of the schema is ``Item.statements`` (values are ``Text``),
    so the faulty value is the first one that is not valid ``Text``.
    """
    out: list[str] = []
    # Decoded JSON/TOML: objects have str keys.
    node: object = raw
    for m in _SEGMENT.finditer(path):
        name, index = m.group(1), m.group(2)
        if name is not None:
            out.append(f".{name}")
            node = cast("dict[str, object]", node).get(name) if isinstance(node, dict) else None
        elif index is not None:
            out.append(f"[{index}]")
            i = int(index)
            items = cast("list[object]", node) if isinstance(node, list) else []
            node = items[i] if i < len(items) else None
        else:
            bad: str | None = None
            fields = cast("dict[str, object]", node) if isinstance(node, dict) else {}
            if fields:
                for key, value in fields.items():
                    try:
                        msgspec.convert(value, Text)
                    except msgspec.ValidationError:
                        bad = key
                        break
            if bad is None:
                out.append("[...]")
                node = None
            else:
                out.append(f".{bad}")
                node = fields[bad]
    return "".join(out)


def _canonical(value: Any) -> Any:
    """Builtins for hashing: struct fields equal to their default are left out."""
    if isinstance(value, msgspec.Struct):
        out: dict[str, Any] = {}
        for field in msgspec.structs.fields(value):
            v = getattr(value, field.name)
            if field.default is not msgspec.NODEFAULT and v == field.default:
                continue
            if field.default_factory is not msgspec.NODEFAULT and v == field.default_factory():
                continue
            out[field.encode_name] = _canonical(v)
        return out
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in cast("list[Any] | tuple[Any, ...]", value)]
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in cast("dict[Any, Any]", value).items()}
    return value


@functools.cache
def _builtin_ids() -> tuple[str, ...]:
    library = importlib.resources.files("instruments") / "library"
    return tuple(
        sorted(p.name[: -len(".toml")] for p in library.iterdir() if p.name.endswith(".toml"))
    )


@functools.cache
def _load_builtin(instrument_id: str) -> Instrument:
    name = f"{instrument_id}.toml"
    data = (importlib.resources.files("instruments") / "library" / name).read_bytes()
    instrument = load_instrument_bytes(data, name=name, fmt="toml")
    if instrument.id != instrument_id:
        raise InstrumentError(
            name,
            [FieldError(field="id", reason=N_("a built-in's id must match its file name, {instrument_id!r}",
                                              instrument_id=instrument_id))],
        )
    return instrument
