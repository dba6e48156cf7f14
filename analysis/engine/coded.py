"""Answer matrices that keep the stored answers as byte codes, floats only on demand.

A wave's answers are small integers (1..points, null for "not applicable"). The report
counts byte codes (:class:`analysis.engine.codes.CodeEngine`,
:func:`analysis.engine.respondents.respondent_dimension_scores`); it never needs the
``n x items`` float matrices of a million-response wave, which cost more memory and time
than all the statistics. :class:`CodedMatrices` is an :class:`AnswerMatrices` whose
``scores`` and ``not_applicable`` are built from the codes the first time something
asks for them (a general-engine format, an export, an action verdict): the very arrays
:func:`analysis.matrices.matrices_from_arrays` gives for the same answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from analysis.matrices import AnswerMatrices
from analysis.moments import BoolArray, FloatArray
from instruments.schema import Instrument

__all__ = ["Codes", "CodedMatrices", "coded_matrices", "column_names", "not_applicable_count"]

Codes = NDArray[np.uint8]
Int16Array = NDArray[np.int16]


def _no_codes() -> dict[str, Codes]:
    return {}


@dataclass(frozen=True)
class CodedMatrices(AnswerMatrices):
    """Answer matrices held as byte codes.

    ``codes[c]``: the item-major ``(items, n)`` uint8 matrix of column ``c``, the answer
    or 0 where it is missing / not applicable; ``rows``: ``n``. ``scores`` and
    ``not_applicable`` are computed from the codes on first access and then kept.
    """

    codes: dict[str, Codes] = field(default_factory=_no_codes)
    rows: int = 0
    #: Results derived from the codes, kept for the next asker (respondent scores).
    derived: dict[object, Any] = field(default_factory=dict[object, Any], compare=False, repr=False)

    def __post_init__(self) -> None:
        # the placeholders go: the first read of either attribute builds it (__getattr__)
        object.__delattr__(self, "scores")
        object.__delattr__(self, "not_applicable")

    def __getattr__(self, name: str) -> Any:
        if name == "scores":
            value: dict[str, FloatArray] | dict[str, BoolArray] = {c: _floats(t) for c, t in self.codes.items()}
        elif name == "not_applicable":
            value = {c: np.ascontiguousarray((t == 0).T) for c, t in self.codes.items()}
        else:
            raise AttributeError(name)
        object.__setattr__(self, name, value)
        return value

    @property
    def n(self) -> int:
        return self.rows


def _floats(codes: Codes) -> FloatArray:
    out = np.ascontiguousarray(codes.T, dtype=np.float64)
    out[out == 0] = np.nan
    return out


def column_names(m: AnswerMatrices) -> set[str]:
    """The answer columns ``m`` holds (without building a coded wave's floats)."""
    return set(m.codes) if isinstance(m, CodedMatrices) else set(m.scores)


def not_applicable_count(m: AnswerMatrices, column: str) -> int:
    """Answers of ``column`` marked not applicable (without building a coded wave's floats)."""
    if isinstance(m, CodedMatrices):
        t = m.codes[column]
        return t.size - int(np.count_nonzero(t))
    return int(np.count_nonzero(m.not_applicable[column]))


def coded_matrices(instrument: Instrument, values: Int16Array, importance: Int16Array | None,
                   null: int) -> AnswerMatrices:
    """Answer matrices from stored integer arrays: :class:`CodedMatrices` when every
    answer fits a byte (1..255), else plain float matrices.

    Parameters
    ----------
    values : ndarray of int16, shape (n, items x columns)
        Each response's ``item_values`` (item-major, the instrument's column order), with
        ``null`` for "not applicable".
    importance : ndarray of int16, shape (n, dimensions or items), optional
        Allocation points or importance ratings, ``null`` where missing.

    Either way the matrices equal :func:`analysis.matrices.matrices_from_arrays` of the
    same answers with ``NaN`` for ``null``.
    """
    columns = instrument.columns
    n, width = values.shape
    k, c = len(instrument.items), len(columns)
    if width != k * c:
        raise ValueError(f"values must have {k * c} answers per response, got {width}")
    missing = values == null
    fits = not bool((((values < 1) | (values > 255)) & ~missing).any())
    imp: FloatArray | None = None
    if instrument.importance is not None:
        w = len(instrument.dimensions) if instrument.importance.kind == "allocation" else k
        if importance is None:
            imp = np.full((n, w), np.nan)
        else:
            imp = importance.astype(np.float64)
            imp[importance == null] = np.nan
    head: dict[str, Any] = {
        "instrument_id": instrument.id,
        "item_keys": tuple(i.key for i in instrument.items),
        "item_dimensions": tuple(i.dimension for i in instrument.items),
        "dimension_keys": tuple(d.key for d in instrument.dimensions),
        "importance_kind": instrument.importance.kind if instrument.importance else None,
        "importance": imp,
        "importance_total": instrument.importance.total if instrument.importance else None,
    }
    if fits:
        codes = {column: np.ascontiguousarray(np.where(missing[:, j::c], 0, values[:, j::c]).T, dtype=np.uint8)
                 for j, column in enumerate(columns)}
        return CodedMatrices(**head, scores={}, not_applicable={}, codes=codes, rows=n)
    scores: dict[str, FloatArray] = {}
    na: dict[str, BoolArray] = {}
    for j, column in enumerate(columns):
        f = values[:, j::c].astype(np.float64)
        f[missing[:, j::c]] = np.nan
        scores[column] = f
        na[column] = np.isnan(f)
    return AnswerMatrices(**head, scores=scores, not_applicable=na)
