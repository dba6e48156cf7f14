"""The instrument schema: what a survey instrument is, as frozen msgspec structs.

An instrument is data, not code. The built-in library (``instruments/library/*.toml``)
and custom uploads decode into these structs; everything downstream (response
validation, the survey form, the gap analysis) reads them and nothing else.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

Format = Literal["expectation-perception", "zone-of-tolerance", "perception-only"]
Column = Literal["expectation", "perception", "minimum", "desired"]

#: The columns each format asks for, in the order a form shows them.
FORMAT_COLUMNS: dict[str, tuple[str, ...]] = {
    "expectation-perception": ("expectation", "perception"),
    "zone-of-tolerance": ("minimum", "desired", "perception"),
    "perception-only": ("perception",),
}

Key = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")]
Text = Annotated[str, Meta(min_length=1, max_length=2000)]


class Scale(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A Likert-type response scale ``1..points``."""

    points: int = 7
    low_label: str = "Strongly disagree"
    high_label: str = "Strongly agree"
    allow_not_applicable: bool = False
    #: What the form calls the "null" answer; the three-column format of
    #: Parasuraman, Zeithaml & Berry (1994) calls it "No opinion".
    not_applicable_label: str = "Not applicable"


class Dimension(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    key: Key
    title: Text
    description: str = ""


class Item(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """One item; ``statements`` maps each column of the format to its wording."""

    key: Key
    dimension: Key
    statements: dict[Column, Text]


class Importance(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """How respondents weight what matters to them.

    ``allocation``: distribute ``total`` points (100 in SERVQUAL) across the dimensions.
    ``rating``: rate each item's importance on the instrument's response scale (IPA).
    """

    kind: Literal["allocation", "rating"]
    prompt: Text
    total: int = 100
    #: Anchors of a ``rating`` (the agreement labels of ``Scale`` do not fit importance).
    low_label: str = "Not at all important"
    high_label: str = "Extremely important"


class SatisfactionItem(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    key: Key
    statement: Text


class TextPrompt(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    key: Key
    prompt: Text
    max_length: int = 2000


class Instrument(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    id: Key
    version: str
    title: Text
    language: str = "en"
    format: Format
    source: str = ""
    scale: Scale = Scale()
    dimensions: tuple[Dimension, ...]
    items: tuple[Item, ...]
    importance: Importance | None = None
    satisfaction: tuple[SatisfactionItem, ...] = ()
    free_text: tuple[TextPrompt, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        return FORMAT_COLUMNS[self.format]
