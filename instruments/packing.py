"""Validated answers ⇄ the flat arrays a response is stored as.

A response is stored as arrays in the instrument's own order so that a wave of
100,000 responses reads back as one matrix:

* ``item_values``: ``len(items) × len(columns)`` values, item-major, columns in
  :data:`~instruments.schema.FORMAT_COLUMNS` order; ``None`` = not applicable;
* ``importance``: per dimension (allocation) or per item (rating), or ``None``;
* ``satisfaction``: per satisfaction item, ``None`` where unanswered (or no section);
* ``comments``: prompt key → text, only the non-empty ones;
* ``measures``: per IT experience measure, ``None`` where unanswered (``None`` as a
  whole when the instrument has no measures).
"""

from __future__ import annotations

from typing import Any

import msgspec

from instruments.schema import Instrument


class PackedAnswers(msgspec.Struct, frozen=True):
    item_values: list[int | None]
    importance: list[int] | None
    satisfaction: list[int | None] | None
    comments: dict[str, str]
    measures: list[int | None] | None = None


def pack_answers(instrument: Instrument, answers: dict[str, Any]) -> PackedAnswers:
    """Flatten answers that :func:`instruments.validate_answers` accepted."""
    columns = instrument.columns
    items = answers["items"]
    values = [items[item.key][column] for item in instrument.items for column in columns]
    importance = None
    if instrument.importance is not None:
        given = answers["importance"]
        keys = (
            [d.key for d in instrument.dimensions]
            if instrument.importance.kind == "allocation"
            else [i.key for i in instrument.items]
        )
        importance = [given[key] for key in keys]
    satisfaction = None
    if instrument.satisfaction:
        answered: dict[str, int | None] = answers.get("satisfaction") or {}
        satisfaction = [answered.get(s.key) for s in instrument.satisfaction]
    texts: dict[str, str] = answers.get("comments") or {}
    comments = {k: v for k, v in texts.items() if v.strip()}
    measures = None
    if instrument.measures:
        chosen: dict[str, int | None] = answers.get("measures") or {}
        measures = [chosen.get(m.key) for m in instrument.measures]
    return PackedAnswers(values, importance, satisfaction, comments, measures)


def unpack_answers(instrument: Instrument, packed: PackedAnswers) -> dict[str, Any]:
    """The answers in their submitted shape (the inverse of :func:`pack_answers`)."""
    columns = instrument.columns
    width = len(columns)
    if len(packed.item_values) != width * len(instrument.items):
        raise ValueError("stored values do not match the instrument's items and columns")
    items = {
        item.key: dict(zip(columns, packed.item_values[i * width : (i + 1) * width], strict=True))
        for i, item in enumerate(instrument.items)
    }
    answers: dict[str, Any] = {"items": items}
    if instrument.importance is not None and packed.importance is not None:
        keys = (
            [d.key for d in instrument.dimensions]
            if instrument.importance.kind == "allocation"
            else [i.key for i in instrument.items]
        )
        answers["importance"] = dict(zip(keys, packed.importance, strict=True))
    if instrument.satisfaction and packed.satisfaction is not None:
        answers["satisfaction"] = {
            s.key: v for s, v in zip(instrument.satisfaction, packed.satisfaction, strict=True) if v is not None
        }
    if packed.comments:
        answers["comments"] = dict(packed.comments)
    if instrument.measures and packed.measures is not None:
        answers["measures"] = {
            m.key: v for m, v in zip(instrument.measures, packed.measures, strict=True) if v is not None
        }
    return answers
