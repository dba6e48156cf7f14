"""Validating one respondent's answers against an instrument.

The answer shape, shared with the survey form and the analysis::

    {"items": {"<item key>": {"<column>": <int 1..points> | null}},
     "importance": {"<dimension key>": <int points>}      # allocation
                 | {"<item key>": <int 1..points>},        # rating
     "satisfaction": {"<key>": <int 1..points>},           # optional
     "comments": {"<text prompt key>": "<text>"},          # optional
     "measures": {"<measure key>": <int>}}                 # when the instrument has measures

Decisions
---------
- Every item is answered in every column of the format. ``null`` ("not applicable",
  or "no opinion" in the three-column format) is allowed only when
  ``scale.allow_not_applicable``; it is an answer, so the key must still be there.
- The ``importance`` section is *required* when the instrument has one and forbidden
  when it has none: a response without weights would silently drop out of the weighted
  scores and the action ranking, and a partly weighted wave cannot be compared.
  An allocation names every dimension (0 is a valid allocation; a missing key is not,
  because "forgot" and "gave nothing" must not look alike) with non-negative integer
  points summing to exactly ``importance.total``. A rating names every item with an
  integer ``1..points``; ``null`` is not allowed there (importance is asked of everyone).
- ``satisfaction`` and ``comments`` are optional, key by key; a comment is a string
  of at most the prompt's ``max_length`` characters.
- ``measures`` (IT experience): each measure's whole number in its kind's range
  (:data:`instruments.schema.MEASURE_RANGES`; minutes 0..``max``). Required unless
  ``optional`` (an optional one may be left out or ``null``), so the section is required
  when any measure is; forbidden when the instrument has none.
- A bool is not an integer here, though Python says it is; neither is ``7.0``.

Fields are named ``items.q07.perception``, ``importance.reliability``,
``satisfaction.overall``, ``comments.general``, ``measures.time_lost``; a whole section is ``items`` etc.
"""

from __future__ import annotations

from typing import Any, cast

from instruments.errors import N_, FieldError
from instruments.schema import MEASURE_RANGES, Instrument

__all__ = ["FieldError", "validate_answers"]

_SECTIONS = ("items", "importance", "satisfaction", "comments", "measures")


def validate_answers(instrument: Instrument, answers: Any) -> list[FieldError]:
    """Everything wrong with ``answers`` for ``instrument``; an empty list when valid.

    ``answers`` is the decoded JSON object (plain dicts, lists, ints, strings, None).
    Unknown sections come first, then each section in the order of the instrument,
    unknown keys after the known ones.
    """
    errors: list[FieldError] = []
    if not isinstance(answers, dict):
        return [FieldError(field="", reason=N_("answers must be an object"))]
    sections = cast("dict[Any, Any]", answers)
    for key in sections:
        if key not in _SECTIONS:
            errors.append(
                FieldError(field=str(key), reason=N_("unknown section (sections: {sections})",
                                                     sections=', '.join(_SECTIONS)))
            )
    _check_items(instrument, sections.get("items"), errors)
    _check_importance(instrument, sections.get("importance", _MISSING), errors)
    _check_satisfaction(instrument, sections.get("satisfaction", _MISSING), errors)
    _check_comments(instrument, sections.get("comments", _MISSING), errors)
    _check_measures(instrument, sections.get("measures", _MISSING), errors)
    return errors


_MISSING = object()


def _add(errors: list[FieldError], field: str, reason: str) -> None:
    errors.append(FieldError(field=field, reason=reason))


def _section(value: Any, name: str, errors: list[FieldError]) -> dict[Any, Any] | None:
    # Decoded JSON: the keys are str, the values anything.
    if not isinstance(value, dict):
        _add(errors, name, N_("must be an object"))
        return None
    return cast("dict[Any, Any]", value)


def _check_point(
    value: Any, field: str, points: int, errors: list[FieldError], *, allow_null: bool = False
) -> None:
    if value is None:
        if not allow_null:
            _add(errors, field, N_("an answer is required here (not applicable is not allowed)"))
        return
    if isinstance(value, bool) or not isinstance(value, int):
        _add(errors, field, N_("must be a whole number from 1 to {points}, not {kind}",
                               points=points, kind=_kind(value)))
    elif not 1 <= value <= points:
        _add(errors, field, N_("must be from 1 to {points}, not {value}", points=points, value=value))


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return N_("true/false")
    if isinstance(value, float):
        return N_("the decimal {value}", value=value)
    if isinstance(value, str):
        return N_("text")
    if isinstance(value, (list, tuple)):
        return N_("a list")
    if isinstance(value, dict):
        return N_("an object")
    return type(value).__name__


def _check_items(instrument: Instrument, value: Any, errors: list[FieldError]) -> None:
    if value is None:
        _add(errors, "items", N_("required: the answers to the items"))
        return
    answers = _section(value, "items", errors)
    if answers is None:
        return
    columns = instrument.columns
    points = instrument.scale.points
    allow_null = instrument.scale.allow_not_applicable
    found = 0
    for item in instrument.items:
        row = answers.get(item.key, _MISSING)
        if row is _MISSING:
            for column in columns:
                _add(errors, f"items.{item.key}.{column}", N_("missing answer"))
            continue
        if not isinstance(row, dict):
            _add(errors, f"items.{item.key}", N_("must be an object of column answers"))
            continue
        given = cast("dict[Any, Any]", row)
        found += 1
        complete = True
        for column in columns:
            point = given.get(column, _MISSING)
            if type(point) is int and 1 <= point <= points:
                continue  # the usual case: no field name to build (this runs for every answer)
            field = f"items.{item.key}.{column}"
            if point is _MISSING:
                complete = False
                _add(errors, field, N_("missing answer"))
            else:
                _check_point(point, field, points, errors, allow_null=allow_null)
        # Every required column present and no more keys than columns: nothing unknown.
        if not complete or len(given) != len(columns):
            for column in given:
                if column not in columns:
                    _add(
                        errors,
                        f"items.{item.key}.{column}",
                        N_("unknown column (this instrument asks for: {columns})", columns=', '.join(columns)),
                    )
    if len(answers) > found:
        known = {item.key for item in instrument.items}
        for key in answers:
            if key not in known:
                _add(errors, f"items.{key}", N_("unknown item"))


def _check_importance(instrument: Instrument, value: Any, errors: list[FieldError]) -> None:
    importance = instrument.importance
    if importance is None:
        if value is not _MISSING:
            _add(errors, "importance", N_("this instrument does not ask for importance"))
        return
    if value is _MISSING or value is None:
        _add(errors, "importance", N_("required: this instrument asks for importance"))
        return
    given = _section(value, "importance", errors)
    if given is None:
        return
    if importance.kind == "allocation":
        keys = [d.key for d in instrument.dimensions]
        unknown = N_("unknown dimension")
        all_valid = True
        total = 0
        for key in keys:
            field = f"importance.{key}"
            if key not in given:
                _add(errors, field, N_("missing: give every dimension its points (0 is allowed)"))
                all_valid = False
                continue
            points = given[key]
            if isinstance(points, bool) or not isinstance(points, int):
                _add(errors, field, N_("points must be a whole number, not {kind}", kind=_kind(points)))
                all_valid = False
            elif points < 0:
                _add(errors, field, N_("points cannot be negative ({points})", points=points))
                all_valid = False
            else:
                total += points
        if all_valid and total != importance.total:
            _add(
                errors,
                "importance",
                N_("the points add up to {total}; they must add up to exactly {expected}",
                   total=total, expected=importance.total),
            )
    else:
        keys = [item.key for item in instrument.items]
        unknown = N_("unknown item")
        for key in keys:
            field = f"importance.{key}"
            if key not in given:
                _add(errors, field, N_("missing importance rating"))
            else:
                _check_point(given[key], field, instrument.scale.points, errors)
    known = set(keys)
    for key in given:
        if key not in known:
            _add(errors, f"importance.{key}", unknown)


def _check_satisfaction(instrument: Instrument, value: Any, errors: list[FieldError]) -> None:
    if value is _MISSING:
        return
    given = _section(value, "satisfaction", errors)
    if given is None:
        return
    known = {s.key for s in instrument.satisfaction}
    for key, answer in given.items():
        field = f"satisfaction.{key}"
        if key not in known:
            _add(errors, field, N_("unknown satisfaction item"))
        else:
            _check_point(answer, field, instrument.scale.points, errors)


def _check_comments(instrument: Instrument, value: Any, errors: list[FieldError]) -> None:
    if value is _MISSING:
        return
    given = _section(value, "comments", errors)
    if given is None:
        return
    limits = {t.key: t.max_length for t in instrument.free_text}
    for key, text in given.items():
        field = f"comments.{key}"
        if key not in limits:
            _add(errors, field, N_("unknown text prompt"))
        elif not isinstance(text, str):
            _add(errors, field, N_("must be text, not {kind}", kind=_kind(text)))
        elif len(text) > limits[key]:
            _add(errors, field, N_("{length} characters; at most {limit} are allowed",
                                   length=len(text), limit=limits[key]))


def _check_measures(instrument: Instrument, value: Any, errors: list[FieldError]) -> None:
    measures = instrument.measures
    if not measures:
        if value is not _MISSING:
            _add(errors, "measures", N_("this instrument has no measures"))
        return
    if value is _MISSING or value is None:
        if any(not m.optional for m in measures):
            _add(errors, "measures", N_("required: the answers to the experience questions"))
        return
    given = _section(value, "measures", errors)
    if given is None:
        return
    for measure in measures:
        field = f"measures.{measure.key}"
        answer = given.get(measure.key)
        low, high = (0, measure.max) if measure.kind == "minutes" else MEASURE_RANGES[measure.kind]
        what = N_("a whole number of minutes") if measure.kind == "minutes" else N_("a whole number")
        if answer is None:
            if not measure.optional:
                _add(errors, field, N_("an answer is required here"))
        elif isinstance(answer, bool) or not isinstance(answer, int):
            _add(errors, field, N_("must be {what} from {low} to {high}, not {kind}", what=what, low=low, high=high,
                                   kind=_kind(answer)))
        elif not low <= answer <= high:
            _add(errors, field, N_("must be from {low} to {high}, not {answer}", low=low, high=high, answer=answer))
    known = {m.key for m in measures}
    for key in given:
        if key not in known:
            _add(errors, f"measures.{key}", N_("unknown measure"))
