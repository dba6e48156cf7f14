"""The instrument schema: what a survey instrument is, as frozen msgspec structs.

An instrument is data, not code. The built-in library (``instruments/library/*.toml``)
and custom uploads decode into these structs; everything downstream (response
validation, the survey form, the gap analysis) reads them and nothing else.

Languages
---------
``language`` is the primary language: the texts written in the instrument's own fields.
``languages`` lists every language the instrument is offered in (the primary among them;
left out, it is just ``[language]``). Each other language has a ``[translations.<lang>]``
table that mirrors the instrument's *text* fields by key, and nothing else — keys, order,
formats and scale points are the instrument's own, so answers and the analysis never
depend on the language a respondent read::

    language = "en"
    languages = ["en", "de"]

    [translations.de]
    title = "..."
    scale.low_label = "..."                    # and high_label, not_applicable_label
    importance.prompt = "..."                  # and low_label, high_label
    dimensions.<key>.title = "..."             # and description
    items.<key>.<column> = "..."               # one per statement of the item
    satisfaction.<key> = "..."                 # a section with one text field: the text itself
    free_text.<key> = "..."
    measures.<key>.statement = "..."
    measures.<key>.labels = ["...", "..."]     # as many as the measure has

:data:`TRANSLATABLE` says which fields those are, section by section; a new section adds
its text fields there and is translated like the others. Every text the form shows in the
primary language is required in each declared language (the loader names the field and
the language that lack it); a text that is empty in the primary language, or never shown
(``not_applicable_label`` without ``allow_not_applicable``, the rating anchors of an
allocation), may be left out. :meth:`Instrument.localized` gives the instrument in one
language.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

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


MeasureKind = Literal["csat", "effort", "minutes", "nps"]

#: The answer range of each measure kind. Fixed, not configurable: the reported figures
#: (top-2-box of 5, "easy" = 5..7 of 7, promoters 9..10 of 0..10) are defined on them.
MEASURE_RANGES: dict[str, tuple[int, int]] = {"csat": (1, 5), "effort": (1, 7), "nps": (0, 10)}


class Measure(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """One IT experience measure, asked beside (or instead of) the SERVQUAL items.

    ``kind``: ``csat`` (satisfaction, 1..5, one label per point), ``effort`` (customer
    effort, 1..7 agreement, one label per point), ``minutes`` (minutes lost, a whole
    number 0..``max``; no labels) or ``nps`` (likelihood to recommend, 0..10, ``labels``
    are the two anchors). ``optional`` measures may be left out.
    """

    key: Key
    kind: MeasureKind
    statement: Text
    labels: tuple[Text, ...] = ()
    max: int = 10_000
    optional: bool = False


#: Translatable text fields, by section of :class:`Instrument`: ``""`` is the instrument
#: itself, a struct section (``scale``) names its fields, a keyed list section
#: (``items``) the fields of each entry. A ``dict`` field (an item's ``statements``) is
#: translated key by key, a tuple of texts (a measure's ``labels``) by a list of as many.
#: See the module notes for the TOML layout.
TRANSLATABLE: dict[str, tuple[str, ...]] = {
    "": ("title",),
    "scale": ("low_label", "high_label", "not_applicable_label"),
    "importance": ("prompt", "low_label", "high_label"),
    "dimensions": ("title", "description"),
    "items": ("statements",),
    "satisfaction": ("statement",),
    "free_text": ("prompt",),
    "measures": ("statement", "labels"),
}

#: One language's texts, mirroring the text fields (see the module notes).
Translation = dict[str, Any]


class Instrument(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    id: Key
    version: str
    title: Text
    language: str = "en"
    #: Every language offered, the primary ``language`` among them; empty: only ``language``.
    languages: tuple[str, ...] = ()
    #: ``{lang: texts}`` for each language of ``languages`` but the primary.
    translations: dict[str, Translation] = {}
    format: Format
    source: str = ""
    scale: Scale = Scale()
    dimensions: tuple[Dimension, ...]
    items: tuple[Item, ...]
    importance: Importance | None = None
    satisfaction: tuple[SatisfactionItem, ...] = ()
    free_text: tuple[TextPrompt, ...] = ()
    #: IT experience measures (CSAT, effort, minutes lost, NPS); an instrument may have
    #: only these and no dimensions or items.
    measures: tuple[Measure, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        return FORMAT_COLUMNS[self.format]

    @property
    def offered_languages(self) -> tuple[str, ...]:
        """The languages a respondent may pick, the primary first when it is listed first."""
        return self.languages or (self.language,)

    def localized(self, lang: str) -> Instrument:
        """This instrument with the texts of ``lang`` (one of :attr:`offered_languages`).

        Keys, order, format and scale points stay as they are; ``language`` becomes
        ``lang`` and ``translations`` is emptied: the result is a view to show, not a
        document to store or fingerprint. Raises ``KeyError`` for a language not offered.
        """
        from instruments.translations import localize

        return localize(self, lang)
