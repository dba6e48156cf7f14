"""Answer matrices: responses turned into respondents x items arrays, one per column.

Two sources share one result: the survey's stored answers (a list of answer dicts, see
below) and an analyst's CSV file. ``NaN`` marks both a missing answer and a
not-applicable one; ``not_applicable`` tells them apart so a report can state how many
of each it left out.

Answer dict of one response::

    {"items": {"<item key>": {"<column>": int 1..points | None}},  # None = not applicable
     "importance": {"<dimension key>": int points} | {"<item key>": int rating},
     "satisfaction": {...}, "comments": {...}}
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np

from analysis.moments import BoolArray, FloatArray
from instruments.schema import Instrument

__all__ = ["AnswerMatrices", "MatrixError", "matrices_from_answers", "matrices_from_arrays", "matrices_from_csv"]

NA_TOKENS = frozenset({"na", "n/a"})


class MatrixError(ValueError):
    """Bad input, naming the row (1-based data row) and the column where it was found."""

    def __init__(self, message: str, *, row: int | None = None, column: str | None = None):
        where: list[str] = []
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)
        self.row = row
        self.column = column


@dataclass(frozen=True)
class AnswerMatrices:
    """Respondents x items score arrays for one wave of one instrument.

    Attributes
    ----------
    item_keys, dimension_keys : tuple of str
        Column order of the item and allocation arrays (the instrument's order).
    item_dimensions : tuple of str
        Dimension key of each item.
    scores : dict of str to ndarray
        ``column -> (n_respondents, n_items)`` float arrays, ``NaN`` for missing / N/A.
    not_applicable : dict of str to ndarray
        Boolean arrays, ``True`` where the answer was "not applicable".
    importance_kind : {"allocation", "rating"} or None
    importance : ndarray or None
        ``(n, n_dimensions)`` allocation points or ``(n, n_items)`` ratings.
    """

    instrument_id: str
    item_keys: tuple[str, ...]
    item_dimensions: tuple[str, ...]
    dimension_keys: tuple[str, ...]
    scores: dict[str, FloatArray]
    not_applicable: dict[str, BoolArray]
    importance_kind: str | None = None
    importance: FloatArray | None = None
    importance_total: int | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def n(self) -> int:
        """Number of respondents (rows)."""
        first = next(iter(self.scores.values()))
        return int(first.shape[0])


Arrays = tuple[dict[str, FloatArray], dict[str, BoolArray], FloatArray | None]


def _empty(instrument: Instrument, n: int) -> Arrays:
    k = len(instrument.items)
    scores: dict[str, FloatArray] = {c: np.full((n, k), np.nan) for c in instrument.columns}
    na: dict[str, BoolArray] = {c: np.zeros((n, k), dtype=bool) for c in instrument.columns}
    imp: FloatArray | None = None
    if instrument.importance is not None:
        width = len(instrument.dimensions) if instrument.importance.kind == "allocation" else k
        imp = np.full((n, width), np.nan)
    return scores, na, imp


def _finish(instrument: Instrument, scores: dict[str, FloatArray], na: dict[str, BoolArray],
            imp: FloatArray | None) -> AnswerMatrices:
    return AnswerMatrices(
        instrument_id=instrument.id,
        item_keys=tuple(i.key for i in instrument.items),
        item_dimensions=tuple(i.dimension for i in instrument.items),
        dimension_keys=tuple(d.key for d in instrument.dimensions),
        scores=scores,
        not_applicable=na,
        importance_kind=instrument.importance.kind if instrument.importance else None,
        importance=imp,
        importance_total=instrument.importance.total if instrument.importance else None,
    )


def _check_instrument(instrument: Instrument) -> None:
    dims = {d.key for d in instrument.dimensions}
    for item in instrument.items:
        if item.dimension not in dims:
            raise ValueError(f"item {item.key!r} names unknown dimension {item.dimension!r}")


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def matrices_from_arrays(
    instrument: Instrument, values: np.ndarray, importance: np.ndarray | None = None
) -> AnswerMatrices:
    """Build answer matrices from stored arrays (the survey's storage layout).

    Parameters
    ----------
    values : ndarray, shape (n, items, columns)
        Scores in the instrument's item order and ``instrument.columns`` order; ``NaN``
        where the answer was "not applicable" (stored responses answer every item).
    importance : ndarray, shape (n, dimensions or items), optional
        Allocation points per dimension or ratings per item, in the instrument's order.
    """
    _check_instrument(instrument)
    values = np.asarray(values, dtype=float)
    expected = (len(instrument.items), len(instrument.columns))
    if values.ndim != 3 or values.shape[1:] != expected:
        raise ValueError(f"values must have shape (n, {expected[0]}, {expected[1]}), got {values.shape}")
    scores = {c: np.ascontiguousarray(values[:, :, j]) for j, c in enumerate(instrument.columns)}
    na = {c: np.isnan(s) for c, s in scores.items()}
    imp = None
    if instrument.importance is not None:
        width = len(instrument.dimensions) if instrument.importance.kind == "allocation" else len(instrument.items)
        imp = np.full((values.shape[0], width), np.nan) if importance is None else np.asarray(importance, dtype=float)
    return _finish(instrument, scores, na, imp)


def _object(v: object, message: str, *, row: int, column: str | None = None) -> dict[str, Any]:
    """``v`` as a JSON object, or a MatrixError naming where it was."""
    if not isinstance(v, dict):
        raise MatrixError(message, row=row, column=column)
    return cast(dict[str, Any], v)


def matrices_from_answers(instrument: Instrument, answers: Sequence[object]) -> AnswerMatrices:
    """Build answer matrices from stored answer dicts (one per response).

    Parameters
    ----------
    instrument : Instrument
    answers : list of dict
        Answer dicts as described in the module docstring. A missing item or column is
        a missing answer, ``None`` is "not applicable"; satisfaction and comments are
        ignored here.

    Returns
    -------
    AnswerMatrices

    Raises
    ------
    MatrixError
        Unknown item, column or dimension, or a value outside the scale (the message
        names the response, 1-based, and the field).
    """
    _check_instrument(instrument)
    n = len(answers)
    scores, na, imp = _empty(instrument, n)
    points = instrument.scale.points
    item_index = {it.key: j for j, it in enumerate(instrument.items)}
    dim_index = {d.key: j for j, d in enumerate(instrument.dimensions)}
    columns = set(instrument.columns)
    kind = instrument.importance.kind if instrument.importance else None
    total = instrument.importance.total if instrument.importance else 0
    for r, answer in enumerate(answers):
        row = r + 1
        ans = _object(answer, "a response must be an object", row=row)
        items = _object(ans.get("items") or {}, "`items` must be an object", row=row, column="items")
        for key, item in items.items():
            j = item_index.get(key)
            if j is None:
                raise MatrixError("unknown item", row=row, column=f"items.{key}")
            cols = _object(item, "an item's answers must be an object", row=row, column=f"items.{key}")
            for col, v in cols.items():
                name = f"items.{key}.{col}"
                if col not in columns:
                    raise MatrixError("column not in this instrument's format", row=row,
                                      column=name)
                if v is None:
                    na[col][r, j] = True
                elif _is_int(v) and 1 <= v <= points:
                    scores[col][r, j] = v
                else:
                    raise MatrixError(f"{v!r} is not an integer 1..{points}", row=row,
                                      column=name)
        importance: object = ans.get("importance") or {}
        if importance and imp is None:  # the instrument has no importance question
            raise MatrixError("this instrument asks no importance", row=row, column="importance")
        for key, v in _object(importance, "`importance` must be an object", row=row,
                              column="importance").items():
            name = f"importance.{key}"
            index = dim_index if kind == "allocation" else item_index
            j = index.get(key)
            if j is None:
                raise MatrixError("unknown " + ("dimension" if kind == "allocation" else "item"),
                                  row=row, column=name)
            if v is None:
                continue
            hi = total if kind == "allocation" else points
            lo = 0 if kind == "allocation" else 1
            if not (_is_int(v) and lo <= v <= hi):
                raise MatrixError(f"{v!r} is not an integer {lo}..{hi}", row=row, column=name)
            if imp is not None:  # always, once a key was found (see above)
                imp[r, j] = v
    return _finish(instrument, scores, na, imp)


def matrices_from_csv(instrument: Instrument, text: str) -> AnswerMatrices:
    """Build answer matrices from an analyst's CSV export, one row per respondent.

    Parameters
    ----------
    instrument : Instrument
    text : str
        CSV with a header row. Columns ``<item key>.<column>`` for every column of the
        instrument's format (``expectation``, ``perception``, ``minimum``, ``desired``),
        optional ``<item key>.importance`` (rating importance) or
        ``importance.<dimension key>`` (allocation), and, ignored, ``respondent``,
        ``satisfaction.<key>`` and ``comments.<key>``. A blank cell is a missing answer,
        ``NA`` / ``n/a`` (any case) is "not applicable".

    Returns
    -------
    AnswerMatrices

    Raises
    ------
    MatrixError
        Unknown or duplicate column, a format column absent, or a bad value; the message
        names the data row (1-based, header excluded) and the column.
    """
    _check_instrument(instrument)
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = next(reader)
    except StopIteration:
        raise MatrixError("the CSV file is empty") from None
    header = [h.strip() for h in header]
    rows = list(reader)
    rows = [r for r in rows if any(c.strip() for c in r)]
    n = len(rows)
    scores, na, imp = _empty(instrument, n)
    points = instrument.scale.points
    item_index = {it.key: j for j, it in enumerate(instrument.items)}
    dim_index = {d.key: j for j, d in enumerate(instrument.dimensions)}
    kind = instrument.importance.kind if instrument.importance else None
    total = instrument.importance.total if instrument.importance else 0
    sat = {s.key for s in instrument.satisfaction}
    txt = {t.key for t in instrument.free_text}

    # (position, target array, na array or None, item/dim index, lo, hi)
    plan: list[tuple[int, str, FloatArray, BoolArray | None, int, int, int]] = []
    seen: set[str] = set()
    for pos, name in enumerate(header):
        if name in seen:
            raise MatrixError("duplicate column", column=name)
        seen.add(name)
        head, _, tail = name.partition(".")
        if name == "respondent":
            continue
        if head == "satisfaction" and tail in sat or head == "comments" and tail in txt:
            continue
        if head == "importance" and kind == "allocation" and tail in dim_index and imp is not None:
            plan.append((pos, name, imp, None, dim_index[tail], 0, total))
            continue
        if head in item_index and tail in instrument.columns:
            plan.append((pos, name, scores[tail], na[tail], item_index[head], 1, points))
            continue
        if head in item_index and tail == "importance" and kind == "rating" and imp is not None:
            plan.append((pos, name, imp, None, item_index[head], 1, points))
            continue
        raise MatrixError(
            "unknown column (expected <item>.<"
            + "|".join(instrument.columns)
            + (">, importance.<dimension>" if kind == "allocation" else ">")
            + (", <item>.importance" if kind == "rating" else "")
            + ", respondent, satisfaction.<key> or comments.<key>)",
            column=name,
        )
    for it in instrument.items:
        for col in instrument.columns:
            if f"{it.key}.{col}" not in seen:
                raise MatrixError("required column is absent", column=f"{it.key}.{col}")

    width = len(header)
    for r, cells in enumerate(rows):
        row = r + 1
        if len(cells) > width:
            raise MatrixError(f"{len(cells)} cells but the header has {width}", row=row)
        for pos, name, target, na_arr, j, lo, hi in plan:
            raw = cells[pos].strip() if pos < len(cells) else ""
            if raw == "":
                continue
            if raw.lower() in NA_TOKENS:
                if na_arr is None:
                    continue  # importance not given
                na_arr[r, j] = True
                continue
            try:
                v = int(raw)
            except ValueError:
                raise MatrixError(f"{raw!r} is not an integer {lo}..{hi}, blank or NA",
                                  row=row, column=name) from None
            if not lo <= v <= hi:
                raise MatrixError(f"{raw!r} is outside {lo}..{hi}", row=row, column=name)
            target[r, j] = v
    return _finish(instrument, scores, na, imp)
