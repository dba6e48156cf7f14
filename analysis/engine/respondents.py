"""Each respondent's dimension scores, from byte codes when the matrices keep them.

A wave's answers are small integers (1..points, ``NULL`` for "not applicable"). The
report's per-item and per-dimension statistics come from counting byte codes
(:class:`analysis.engine.codes.CodeEngine`); the summary's overall score and the key
drivers need one score per respondent and dimension. Both used to recover the codes from
float matrices first (several passes over ``n x items`` floats); with the codes kept
beside the floats (:class:`CodedMatrices`) a million-response wave is one pass over
bytes. Every result is the very same number: integer sums are exact in both ways, and a
mean is the same division of the same two integers.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from analysis.engine.coded import CodedMatrices
from analysis.engine.general import REFERENCE, score_matrix
from analysis.matrices import AnswerMatrices
from analysis.moments import FloatArray
from analysis.scales import respondent_means
from instruments.schema import Instrument

__all__ = ["respondent_dimension_scores"]


def respondent_dimension_scores(instrument: Instrument, m: AnswerMatrices, groups: list[list[int]], *,
                                perception: bool, min_fraction: float = 0.5) -> FloatArray:
    """Each respondent's score per dimension, shape ``(n, dimensions)``: the mean over the
    dimension's answered items of the gap (:func:`analysis.engine.score_matrix`) or, with
    ``perception``, of the perception; ``NaN`` below ``min_fraction`` of its items.

    The same numbers as :func:`analysis.scales.respondent_means` of those matrices, from
    the byte codes when ``m`` has them.
    """
    codes = m.codes if isinstance(m, CodedMatrices) else {}
    if not codes or not 0.0 < min_fraction <= 1.0 or any(not cols for cols in groups):
        x = m.scores["perception"] if perception else score_matrix(instrument, m)
        return respondent_means(x, groups, min_fraction=min_fraction)
    assert isinstance(m, CodedMatrices)
    key = ("respondent_dimension_scores", instrument.format, perception, min_fraction,
           tuple(tuple(cols) for cols in groups))
    if (found := m.derived.get(key)) is None:
        found = m.derived[key] = _coded_scores(instrument, codes, m.n, groups, perception=perception,
                                               min_fraction=min_fraction)
    return np.array(found)  # a copy: callers may write to it


def _coded_scores(instrument: Instrument, codes: dict[str, NDArray[np.uint8]], n: int, groups: list[list[int]], *,
                  perception: bool, min_fraction: float) -> FloatArray:
    tp = codes["perception"]
    reference = None if perception else REFERENCE.get(instrument.format)
    used: NDArray[np.bool_] | None = None
    if not perception:
        # an item's gap (or perception-only score) needs every column of the item
        for column in instrument.columns:
            answered = codes[column] > 0
            used = answered if used is None else used & answered
    out = np.empty((n, len(groups)))
    for g, cols in enumerate(groups):
        need = max(math.ceil(min_fraction * len(cols) - 1e-12), 1)
        p = tp[cols].astype(np.int32)
        ok = p > 0 if used is None else used[cols]
        if reference is not None:
            p -= codes[reference][cols]
        if used is not None:
            p *= ok
        total = p.sum(axis=0)
        count = ok.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            score = total / count
        score[count < need] = np.nan
        out[:, g] = score
    return out
