"""The general score engine: float answer matrices of any format, ``NaN`` for missing."""

from __future__ import annotations

import math

import numpy as np

from analysis.engine.base import Scores
from analysis.matrices import AnswerMatrices
from analysis.moments import BoolArray, FloatArray, IntArray
from analysis.parametric import paired_scores_from_filled, summarize_columns, summarize_differences
from analysis.reliability import AlphaResult, alpha_from_covariance
from instruments.schema import Instrument

__all__ = ["REFERENCE", "GeneralEngine", "score_matrix"]

#: The column a format's gap subtracts from perception.
REFERENCE = {"expectation-perception": "expectation", "zone-of-tolerance": "minimum"}


class _Columns:
    """Format-specific views of the answer matrices.

    ``used[r, i]``: respondent ``r`` answered every column of item ``i`` (pairwise per
    item). ``filled[c]``: column ``c`` with 0 wherever ``used`` is false (for sums);
    :meth:`masked` gives ``NaN`` there instead.
    """

    def __init__(self, instrument: Instrument, m: AnswerMatrices):
        self.format = instrument.format
        self.columns = instrument.columns
        self.raw = {c: m.scores[c] for c in self.columns}
        self.nan = {c: np.isnan(v) for c, v in self.raw.items()}
        missing = np.zeros((m.n, len(instrument.items)), dtype=bool)
        for v in self.nan.values():
            missing |= v
        self.used: BoolArray = ~missing
        self.all_used = not bool(missing.any())
        self.filled: dict[str, FloatArray] = {
            c: v if self.all_used else np.where(self.used, v, 0.0) for c, v in self.raw.items()
        }
        self.reference = REFERENCE.get(self.format)

    def masked(self, c: str) -> FloatArray:
        v = self.raw[c]
        return v if self.all_used else np.where(self.used, v, np.nan)


def score_matrix(instrument: Instrument, m: AnswerMatrices) -> FloatArray:
    """Each respondent's score per item: the gap (P - E, or MSA = P - minimum) or, for
    perception-only instruments, the perception; ``NaN`` unless every column was answered."""
    sc = _Columns(instrument, m)
    if sc.reference is None:
        return sc.masked("perception")
    return sc.masked("perception") - sc.masked(sc.reference)


class _CrossProducts:
    """Sums and cross-products of the zero-filled columns over all respondents.

    For Likert answers every entry is an integer, so the sums are exact and the
    covariance of any respondent subset follows without cancellation trouble.
    """

    def __init__(self, sc: _Columns):
        self.names = list(sc.columns)
        self.filled = sc.filled
        self.sum = {c: sc.filled[c].sum(axis=0) for c in self.names}
        self.cross = {
            (a, b): sc.filled[a].T @ sc.filled[b]
            for i, a in enumerate(self.names) for b in self.names[i:]
        }

    def covariance(self, cols: list[int], complete: BoolArray) -> tuple[FloatArray, int]:
        """Stacked covariance of ``[col1[:, cols], col2[:, cols], ...]`` on complete rows."""
        drop = ~complete
        n = int(complete.sum())
        small = {c: self.filled[c][drop][:, cols] for c in self.names} if drop.any() else None
        m = len(cols)
        q = len(self.names)
        gram = np.empty((q * m, q * m))
        sums = np.empty(q * m)
        ix = np.ix_(cols, cols)
        for i, a in enumerate(self.names):
            sums[i * m:(i + 1) * m] = self.sum[a][cols]
            if small is not None:
                sums[i * m:(i + 1) * m] -= small[a].sum(axis=0)
            for j, b in enumerate(self.names):
                if j < i:
                    continue
                block = self.cross[(a, b)][ix]
                if small is not None:
                    block = block - small[a].T @ small[b]
                gram[i * m:(i + 1) * m, j * m:(j + 1) * m] = block
                gram[j * m:(j + 1) * m, i * m:(i + 1) * m] = block.T
        if n < 2:
            return np.zeros_like(gram), n
        return (gram - np.outer(sums, sums) / n) / (n - 1), n


class GeneralEngine:
    """:class:`analysis.engine.base.ScoreEngine` over float matrices, every format.

    Items: paired Likert tables (:func:`analysis.parametric.paired_scores_from_filled`),
    or column t-intervals for perception-only; dimensions: each respondent's mean over
    the dimension's items by one matrix product per column (as
    :func:`analysis.scales.respondent_means`); alpha: covariances of any respondent
    subset from one set of cross-products.
    """

    def __init__(self, instrument: Instrument, m: AnswerMatrices, groups: list[list[int]],
                 min_fraction: float):
        self._sc = _Columns(instrument, m)
        self._groups = groups
        self._min_fraction = min_fraction
        self._points = instrument.scale.points
        self._count: FloatArray | None = None
        self._xprod: _CrossProducts | None = None

    def item_scores(self, confidence: float) -> Scores:
        sc, points = self._sc, self._points
        if sc.format == "expectation-perception":
            ps = paired_scores_from_filled(sc.filled["expectation"], sc.filled["perception"],
                                           points=points, confidence=confidence)
            return Scores(columns={"expectation": tuple(p.x for p in ps),
                                   "perception": tuple(p.y for p in ps)},
                          gap=tuple(p.difference for p in ps), mss=None)
        if sc.format == "zone-of-tolerance":
            pm = paired_scores_from_filled(sc.filled["minimum"], sc.filled["perception"],
                                           points=points, confidence=confidence)
            pd_ = paired_scores_from_filled(sc.filled["desired"], sc.filled["perception"],
                                            points=points, confidence=confidence)
            return Scores(columns={"minimum": tuple(p.x for p in pm), "desired": tuple(p.x for p in pd_),
                                   "perception": tuple(p.y for p in pm)},
                          gap=tuple(p.difference for p in pm), mss=tuple(p.difference for p in pd_))
        return Scores(columns={"perception": summarize_columns(sc.raw["perception"], confidence=confidence)},
                      gap=None, mss=None)

    def dimension_scores(self, confidence: float) -> Scores:
        cnt, means, gaps = self._dimension_means()
        self._count = cnt
        return Scores(
            columns={c: summarize_columns(v, confidence=confidence) for c, v in means.items()},
            gap=summarize_differences(gaps["gap"], confidence=confidence) if "gap" in gaps else None,
            mss=summarize_differences(gaps["mss"], confidence=confidence) if "mss" in gaps else None,
        )

    def _dimension_means(self) -> tuple[FloatArray, dict[str, FloatArray], dict[str, FloatArray]]:
        """Items answered, and per-respondent dimension means of each column and of the
        gap(s), ``NaN`` where the respondent answered too few of the dimension's items."""
        sc, groups = self._sc, self._groups
        k = sc.used.shape[1]
        member = np.zeros((k, len(groups)))
        need = np.empty(len(groups))
        for g, cols in enumerate(groups):
            member[cols, g] = 1.0
            need[g] = max(math.ceil(self._min_fraction * len(cols) - 1e-12), 1)
        # products as (groups x respondents) then transposed: column-major results, which
        # the per-dimension statistics reduce fastest
        if sc.all_used:
            cnt: FloatArray = np.asfortranarray(np.broadcast_to(member.sum(axis=0),
                                                                (sc.used.shape[0], len(groups))))
        else:
            cnt = (member.T @ sc.used.T.astype(float)).T
        sums = {c: (member.T @ v.T).T for c, v in sc.filled.items()}
        short = cnt < need
        with np.errstate(invalid="ignore", divide="ignore"):
            means = {c: v / cnt for c, v in sums.items()}
            gaps: dict[str, FloatArray] = {}
            if sc.reference is not None:
                gaps["gap"] = (sums["perception"] - sums[sc.reference]) / cnt
            if sc.format == "zone-of-tolerance":
                gaps["mss"] = (sums["perception"] - sums["desired"]) / cnt
        for v in [*means.values(), *gaps.values()]:
            v[short] = np.nan
        return cnt, means, gaps

    def dimension_alphas(self, d: int) -> dict[str, AlphaResult]:
        """All columns share the complete rows (an item counts as answered only with all
        its columns), so one covariance matrix of the stacked columns gives every alpha."""
        if self._count is None:
            self._count = self._dimension_means()[0]
        if self._xprod is None:
            self._xprod = _CrossProducts(self._sc)
        cols = self._groups[d]
        complete = self._count[:, d] >= len(cols) - 0.5
        names = self._xprod.names
        cz, n = self._xprod.covariance(cols, complete)
        m = len(cols)

        def block(a: str, b: str) -> FloatArray:
            i, j = names.index(a), names.index(b)
            return cz[i * m:(i + 1) * m, j * m:(j + 1) * m]

        out = {c: alpha_from_covariance(block(c, c), n) for c in names}
        if (r := self._sc.reference) is not None:
            cg = block("perception", "perception") - block("perception", r) \
                - block(r, "perception") + block(r, r)
            out["gap"] = alpha_from_covariance(cg, n)
        return out

    def missing_answers(self) -> dict[str, int]:
        return {c: int(v.sum()) for c, v in self._sc.nan.items()}

    def items_used(self) -> IntArray:
        return self._sc.used.sum(axis=0).astype(np.int64)
