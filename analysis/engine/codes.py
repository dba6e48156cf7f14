"""The integer-code score engine: expectation-perception answers counted as bytes."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from analysis.engine.base import Scores
from analysis.engine.coded import CodedMatrices
from analysis.matrices import AnswerMatrices
from analysis.moments import FloatArray, IntArray, moments_of_values
from analysis.nonparametric import wilcoxon_of_values
from analysis.parametric import (
    ColumnSummary,
    DifferenceSummary,
    column_summaries,
    difference_summaries,
    paired_from_table,
)
from analysis.reliability import AlphaResult, alpha_from_covariance
from instruments.schema import Instrument

__all__ = ["FAST_MAX_BINS", "FAST_MAX_POINTS", "CodeEngine", "answer_codes"]

#: Largest scale for the integer-code engine (pair codes must fit a byte).
FAST_MAX_POINTS = 11
#: Largest per-dimension joint table (sum E, sum P, items answered) the engine builds.
FAST_MAX_BINS = 1 << 23

Codes = NDArray[np.uint8]


def answer_codes(raw: FloatArray, points: int) -> tuple[Codes, int] | None:
    """Item-major byte codes of one answer matrix: ``(k, n)`` uint8, the answer or 0 for NaN.

    Returns ``(codes, n_nan)``, or ``None`` when any non-NaN value is not an integer
    ``1..points`` (the general engine then handles -- and rejects -- it). Exact: NaN
    cells are exactly the 0 codes and every other cell equals its code.
    """
    if not isinstance(raw, np.ndarray) or raw.dtype != np.float64 or raw.ndim != 2:  # pyright: ignore[reportUnnecessaryIsInstance]
        return None
    n, k = raw.shape
    t = np.empty((k, n), np.uint8)
    with np.errstate(invalid="ignore", over="ignore"):
        np.fmax(raw, 0.0, out=t.T, casting="unsafe")  # NaN -> 0
    size = n * k
    n_nan = int(np.count_nonzero(np.isnan(raw)))
    if size and (size - int(np.count_nonzero(t)) != n_nan or int(t.max()) > points
                 or int(np.count_nonzero(raw == t.T)) != size - n_nan):
        return None
    return t, n_nan


def _stored_codes(codes: Codes, points: int) -> tuple[Codes, int] | None:
    """Codes kept with the matrices (:class:`CodedMatrices`) as :func:`answer_codes` gives
    them, or ``None`` when an answer exceeds ``points``."""
    if codes.size and int(codes.max()) > points:
        return None
    return codes, codes.size - int(np.count_nonzero(codes))


class _Dimension:
    """One dimension's respondents as a joint table of (sum of E, sum of P, items answered).

    ``count[r]``: items respondent ``r`` answered (both columns); ``e``, ``p``, ``c``,
    ``f``: the non-empty table cells with at least the needed items, and their frequency.
    """

    def __init__(self, cols: list[int], count: NDArray[np.int32], e: IntArray, p: IntArray,
                 c: IntArray, f: FloatArray):
        self.cols, self.count, self.e, self.p, self.c, self.f = cols, count, e, p, c, f


class CodeEngine:
    """:class:`analysis.engine.base.ScoreEngine` from small-integer answer codes.

    Answers are integers 1..points, so every item statistic follows from each item's
    joint (E, P) frequency table, every dimension statistic from each dimension's joint
    table of (sum of E, sum of P, items answered) per respondent, and every alpha from
    exact integer cross-products: one counting pass over bytes instead of repeated
    float passes (NaN filling, masking, copies) over the full matrices.
    """

    @classmethod
    def build(cls, instrument: Instrument, m: AnswerMatrices, groups: list[list[int]],
              min_fraction: float) -> CodeEngine | None:
        """The engine, or ``None`` when the answers are not expectation-perception codes
        on at most :data:`FAST_MAX_POINTS` points (or a dimension's table would be too big)."""
        points = instrument.scale.points
        if instrument.format != "expectation-perception" or points > FAST_MAX_POINTS:
            return None
        if isinstance(m, CodedMatrices) and m.codes:
            ce, cp = _stored_codes(m.codes["expectation"], points), _stored_codes(m.codes["perception"], points)
        else:
            ce = answer_codes(m.scores["expectation"], points)
            cp = answer_codes(m.scores["perception"], points) if ce is not None else None
        if ce is None or cp is None or ce[0].shape != cp[0].shape:
            return None
        for cols in groups:
            r = points * len(cols) + 1
            if r * r * (len(cols) + 1) > FAST_MAX_BINS:
                return None
        return cls(points, ce, cp, groups, min_fraction)

    def __init__(self, points: int, ce: tuple[Codes, int], cp: tuple[Codes, int],
                 groups: list[list[int]], min_fraction: float):
        te, self.nan_e = ce
        tp, self.nan_p = cp
        self.points = points
        k, n = te.shape
        self.n = n
        used = (te > 0) & (tp > 0)
        u8 = used.view(np.uint8)
        te = te * u8  # answers of items whose pair is complete, else 0
        tp = tp * u8
        self.te, self.tp = te, tp
        # ---- item joint tables: two items per bincount (code < 144**2)
        w = points + 1
        pc = te * np.uint8(w)
        pc += tp  # pair code u * w + v, 0 = pair not answered
        hist = np.empty((k, w * w), dtype=np.int64)
        ww = w * w
        for j in range(0, k - 1, 2):
            code = pc[j].astype(np.intp) * ww
            code += pc[j + 1]
            h = np.bincount(code, minlength=ww * ww).reshape(ww, ww)
            hist[j] = h.sum(axis=1)
            hist[j + 1] = h.sum(axis=0)
        if k % 2:
            hist[k - 1] = np.bincount(pc[k - 1], minlength=ww)
        self.table: FloatArray = hist.reshape(k, w, w)[:, 1:, 1:].astype(float)
        self.used_n: IntArray = self.table.sum(axis=(1, 2)).astype(np.int64)
        # ---- dimensions: joint table of (sum E, sum P, items answered) per respondent
        self.dims: list[_Dimension] = []
        for cols in groups:
            md = len(cols)
            need = max(math.ceil(min_fraction * md - 1e-12), 1)
            cnt = u8[cols].sum(axis=0, dtype=np.int32)
            se_ = te[cols].sum(axis=0, dtype=np.int32)
            sp_ = tp[cols].sum(axis=0, dtype=np.int32)
            r = points * md + 1
            key = se_ * r
            key += sp_
            key *= md + 1
            key += cnt
            h3 = np.bincount(key, minlength=r * r * (md + 1)).reshape(r, r, md + 1)
            a, b, c = np.nonzero(h3)
            f = h3[a, b, c].astype(float)
            keep = c >= need
            self.dims.append(_Dimension(cols, cnt, a[keep], b[keep], c[keep], f[keep]))

    def item_scores(self, confidence: float) -> Scores:
        ps = paired_from_table(self.table, self.points, confidence)
        return Scores(columns={"expectation": tuple(p.x for p in ps), "perception": tuple(p.y for p in ps)},
                      gap=tuple(p.difference for p in ps), mss=None)

    def dimension_scores(self, confidence: float) -> Scores:
        out_e: list[ColumnSummary] = []
        out_p: list[ColumnSummary] = []
        gaps: list[DifferenceSummary] = []
        for dim in self.dims:
            cf = dim.c.astype(float)
            out_e.append(column_summaries(moments_of_values(dim.e / cf, dim.f, confidence))[0])
            out_p.append(column_summaries(moments_of_values(dim.p / cf, dim.f, confidence))[0])
            g = (dim.p - dim.e) / cf
            gaps.append(difference_summaries(moments_of_values(g, dim.f, confidence),
                                             [wilcoxon_of_values(g, dim.f)])[0])
        return Scores(columns={"expectation": tuple(out_e), "perception": tuple(out_p)},
                      gap=tuple(gaps), mss=None)

    def dimension_alphas(self, d: int) -> dict[str, AlphaResult]:
        """From exact integer cross-products of the respondents who answered every item."""
        dim = self.dims[d]
        cols = dim.cols
        md = len(cols)
        complete = dim.count == md
        n = int(np.count_nonzero(complete))
        # rows: E items, P items, then a row of ones (its products are the column sums).
        # float32 products are exact while a chunk's sums stay below 2**24; the chunks'
        # sums add up exactly in float64: the same integers as one float64 product.
        step = max(1, (2**24 - 1) // (self.points * self.points))
        full = np.zeros((2 * md + 1, 2 * md + 1))
        te, tp = self.te[cols], self.tp[cols]
        for start in range(0, self.n, step):
            keep = complete[start:start + step]
            z = np.empty((2 * md + 1, keep.size), np.float32)
            z[:md] = te[:, start:start + step]
            z[md:2 * md] = tp[:, start:start + step]
            z[2 * md] = 1.0
            if not keep.all():
                z = z[:, keep]
            full += (z @ z.T).astype(np.float64)
        gram = full[:2 * md, :2 * md]
        sums = full[2 * md, :2 * md]
        cz = np.zeros_like(gram) if n < 2 else (gram - np.outer(sums, sums) / n) / (n - 1)
        cee, cep = cz[:md, :md], cz[:md, md:]
        cpe, cpp = cz[md:, :md], cz[md:, md:]
        return {
            "expectation": alpha_from_covariance(cee, n),
            "perception": alpha_from_covariance(cpp, n),
            "gap": alpha_from_covariance(cpp - cpe - cep + cee, n),
        }

    def missing_answers(self) -> dict[str, int]:
        return {"expectation": self.nan_e, "perception": self.nan_p}

    def items_used(self) -> IntArray:
        return self.used_n
