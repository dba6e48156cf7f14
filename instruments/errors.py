"""Errors of the instruments package, shaped for a problem+json ``errors`` member.

A reason is read by whoever sent the document or the answers, in their language. The package knows no language:
it writes each reason as an English template with named placeholders marked with :func:`N_` (what
``make i18n-extract`` collects) and its parameters, and the service says it again in the reader's language when it
answers (``service.i18n.localize``). The result is still the English ``str`` it always was, so callers that only
print or compare reasons see no difference.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from uuid import UUID

import msgspec

Param = str | int | float | date | UUID
"""What a placeholder is filled with; numbers and dates are written the reader's way (``1.234``, ``02.01.2025``)."""


class Message(str):
    """English text that remembers the marked template and parameters it was made from.

    It *is* the English text (``template.format_map(params)``, exactly what an f-string wrote before), so logs,
    tests and string operations read it unchanged; ``template`` is the gettext msgid. msgspec does not encode
    ``str`` subclasses: the service renders every message to plain text before it answers.
    """

    template: str
    params: Mapping[str, Param]

    def __new__(cls, template: str, params: Mapping[str, Param]) -> Message:
        self = super().__new__(cls, template.format_map(params) if params else template)
        self.template = template
        self.params = params
        return self

    def __reduce__(self) -> tuple[type[Message], tuple[str, dict[str, Param]]]:
        # Copies and pickles (a process pool's results) keep the template, not only the text.
        return (Message, (self.template, dict(self.params)))


def N_(template: str, /, **params: Param) -> Message:  # noqa: N802 - gettext's name for a marker the extractor knows
    """Mark ``template`` (English, ``{name}`` placeholders) for translation, filled with ``params``."""
    return Message(template, params)


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
        self.errors = [{"field": e.field, "path": e.field, "reason": str(e.reason)} for e in errors]
        super().__init__(_message(name, errors))


def _describe(error: FieldError) -> str:
    return f"{error.field}: {error.reason}" if error.field else error.reason


def _message(name: str, errors: list[FieldError]) -> str:
    if len(errors) == 1:
        return f"{name}: {_describe(errors[0])}"
    listed = "; ".join(_describe(e) for e in errors)
    return f"{name}: {len(errors)} problems: {listed}"
