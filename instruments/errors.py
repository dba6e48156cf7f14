"""Errors of the instruments package, shaped for a problem+json ``errors`` member."""

from __future__ import annotations

import msgspec


class FieldError(msgspec.Struct, frozen=True, kw_only=True):
    """One problem with one field.

    ``field`` is a dotted path: ``items[3].dimension`` in an instrument file,
    ``items.q07.perception`` in a set of answers; ``""`` means the whole document.
    """

    field: str
    reason: str


class InstrumentError(ValueError):
    """An instrument file (built-in or uploaded) that cannot be used.

    Attributes
    ----------
    name
        The file name as given by the caller (never resolved to a full path).
    errors
        ``[{"field": path, "path": path, "reason": reason}, ...]`` in document order;
        ``field`` and ``path`` carry the same value so the list can be used as the
        ``errors`` member of a problem+json response as it is.
    """

    def __init__(self, name: str, errors: list[FieldError]) -> None:
        if not errors:
            raise ValueError("InstrumentError needs at least one error")
        self.name = name
        self.field_errors = tuple(errors)
        self.errors = [{"field": e.field, "path": e.field, "reason": e.reason} for e in errors]
        super().__init__(_message(name, errors))


def _describe(error: FieldError) -> str:
    return f"{error.field}: {error.reason}" if error.field else error.reason


def _message(name: str, errors: list[FieldError]) -> str:
    if len(errors) == 1:
        return f"{name}: {_describe(errors[0])}"
    listed = "; ".join(_describe(e) for e in errors)
    return f"{name}: {len(errors)} problems: {listed}"
