"""Key-driver analysis: which perceptions actually move overall satisfaction.

Stated importance (the points respondents allocate) says what people *say* matters;
derived importance says what their answers show. Ordinary regression coefficients are a
poor guide to the second when the drivers are correlated, as SERVQUAL's dimensions always
are, so two decompositions of the model's R² are given, each summing to R²:

- **Relative weights** (Johnson 2000): the predictors are replaced by their closest
  orthogonal counterparts ``Z``; ``y`` is regressed on ``Z`` and each ``Z_k``'s share is
  mapped back to the original predictors by the squared loadings. Fast at any size.
- **General dominance** (Budescu 1993; Azen & Budescu 2003): a predictor's increase in
  R² when added to every subset of the others, averaged within each subset size and then
  over the sizes. Exact, but over ``2**p`` subsets, so only for a few predictors
  (:data:`MAX_DOMINANCE_PREDICTORS`: the five SERVQUAL dimensions, not the 22 items).

Both work on the correlation matrix of the complete rows (listwise deletion), and both get
percentile bootstrap intervals from resampled respondents with a fixed seed, so a report
shows the same numbers each time it is built.

References: Johnson, J. W. (2000). A heuristic method for estimating the relative weight of
predictor variables in multiple regression. *Multivariate Behavioral Research* 35(1), 1-19.
Budescu, D. V. (1993). Dominance analysis: a new approach to the problem of relative
importance of predictors in multiple regression. *Psychological Bulletin* 114(3), 542-551.
Tonidandel, S. & LeBreton, J. M. (2011). Relative importance analysis: a useful supplement
to regression analysis. *Journal of Business and Psychology* 26, 1-9 (bootstrap intervals).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from analysis.moments import BoolArray, FloatArray, IntArray, as_matrix, as_vector, check_confidence

__all__ = [
    "MAX_DOMINANCE_PREDICTORS",
    "Driver",
    "DriverAnalysis",
    "Disagreement",
    "compare_importance",
    "general_dominance",
    "key_drivers",
    "relative_weights",
    "resamples_for",
]

# 2**10 subsets, each a small solve, per bootstrap resample: still well under a second.
MAX_DOMINANCE_PREDICTORS = 10
DEFAULT_RESAMPLES = 1000
DEFAULT_SEED = 20001  # Johnson (2000): any fixed seed; this one names the method's year
# Resamples x resample size above which fewer resamples are drawn (resamples_for), the
# largest resample (bigger waves use the m-out-of-n bootstrap), and resamples per chunk.
BOOTSTRAP_BUDGET = 4_000_000
MAX_RESAMPLE_SIZE = 20_000
RESAMPLE_CHUNK = 50


@dataclass(frozen=True, slots=True)
class Driver:
    """One predictor's share of the explained variance, with bootstrap intervals.

    ``weight`` and ``dominance`` are parts of R² (they sum to it over the drivers);
    ``share`` is ``weight / R²``, the number people read ("explains 31% of what the model
    explains"). ``dominance`` is ``None`` above :data:`MAX_DOMINANCE_PREDICTORS`.
    """

    key: str
    weight: float
    weight_low: float | None
    weight_high: float | None
    share: float
    share_low: float | None
    share_high: float | None
    dominance: float | None
    dominance_low: float | None
    dominance_high: float | None


@dataclass(frozen=True, slots=True)
class DriverAnalysis:
    """Key drivers of one outcome: R² with its interval and one :class:`Driver` each."""

    outcome: str
    n: int
    r_squared: float
    r_squared_low: float | None
    r_squared_high: float | None
    drivers: tuple[Driver, ...]
    resamples: int
    confidence: float


@dataclass(frozen=True, slots=True)
class Disagreement:
    """Derived and stated importance of one driver, and whether they disagree."""

    key: str
    derived_share: float
    stated_share: float
    derived_rank: int
    stated_rank: int
    disagrees: bool


def _split(corr: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Predictor blocks and predictor-outcome columns of (a stack of) correlation matrices
    whose last row and column are the outcome."""
    return corr[..., :-1, :-1], corr[..., :-1, -1]


def relative_weights(corr: FloatArray) -> FloatArray:
    """Johnson's (2000) raw relative weights from a correlation matrix (or a stack of them).

    Parameters
    ----------
    corr : ndarray, shape (p + 1, p + 1) or (B, p + 1, p + 1)
        Correlations of the ``p`` predictors and, last, the outcome; the predictor block
        must be positive definite.

    Returns
    -------
    ndarray, shape (p,) or (B, p)
        ``eps_j = sum_k Lambda_jk**2 * beta_k**2`` with ``Lambda = Rxx**(1/2)`` (the
        loadings of the predictors on their orthogonal counterparts) and
        ``beta = Lambda**-1 rxy``; they sum to the model's R².
    """
    rxx, rxy = _split(corr)
    values, vectors = np.linalg.eigh(rxx)
    if values.size and float(values.min()) <= 1e-12:
        raise np.linalg.LinAlgError("the predictors are collinear: their correlation matrix is singular")
    loadings = (vectors * np.sqrt(values)[..., None, :]) @ np.swapaxes(vectors, -1, -2)
    beta = np.linalg.solve(loadings, rxy[..., None])[..., 0]
    return np.asarray(((loadings**2) @ (beta**2)[..., None])[..., 0], dtype=np.float64)


def _dominance_plan(p: int) -> tuple[list[IntArray], FloatArray]:
    """The subsets of each size (as index arrays, in mask order within the size) and the
    matrix ``M`` with general dominance = ``M @ r2`` over all ``2**p`` subsets' R².

    General dominance is linear in the subsets' R²: for predictor ``j``,
    ``(1/p) sum_k C(p-1, k)**-1 sum_{|S| = k, j not in S} (R²(S + j) - R²(S))``.
    """
    masks = range(1 << p)
    sizes = [bin(mask).count("1") for mask in masks]
    by_size: list[IntArray] = []
    for s in range(p + 1):
        subsets = [[i for i in range(p) if mask >> i & 1] for mask in masks if sizes[mask] == s]
        by_size.append(np.array(subsets, dtype=np.int64).reshape(len(subsets), s))
    m = np.zeros((p, 1 << p))
    for j in range(p):
        bit = 1 << j
        for mask in masks:
            if not mask & bit:
                share = 1.0 / (p * math.comb(p - 1, sizes[mask]))
                m[j, mask | bit] += share
                m[j, mask] -= share
    return by_size, m


def _subset_r2(rxx: FloatArray, rxy: FloatArray, by_size: list[IntArray]) -> FloatArray:
    """R² of every subset of predictors, shape (B, 2**p), in mask order."""
    batch, p = rxy.shape[0], rxy.shape[1]
    r2 = np.zeros((batch, 1 << p))
    masks_by_size: list[list[int]] = [[] for _ in range(p + 1)]
    for mask in range(1 << p):
        masks_by_size[bin(mask).count("1")].append(mask)
    for size in range(1, p + 1):
        idx = by_size[size]
        sub = rxx[:, idx[:, :, None], idx[:, None, :]]  # (B, subsets, size, size)
        v = rxy[:, idx]  # (B, subsets, size)
        beta = np.linalg.solve(sub, v[..., None])[..., 0]
        r2[:, masks_by_size[size]] = (v * beta).sum(axis=-1)
    return r2


def general_dominance(corr: FloatArray) -> FloatArray:
    """Budescu's (1993) general dominance weights from a correlation matrix (or a stack).

    For predictor ``j``: the mean over subset sizes ``k = 0 ... p-1`` of the mean, over
    the subsets ``S`` of the other predictors with ``|S| = k``, of
    ``R²(S + j) - R²(S)``. They sum to the full model's R².
    """
    rxx, rxy = _split(corr)
    p = rxy.shape[-1]
    if p > MAX_DOMINANCE_PREDICTORS:
        raise ValueError(f"dominance analysis needs {MAX_DOMINANCE_PREDICTORS} predictors or fewer, got {p}")
    by_size, m = _dominance_plan(p)
    stacked = rxx.ndim == 3
    r2 = _subset_r2(rxx if stacked else rxx[None], rxy if stacked else rxy[None], by_size)
    out = r2 @ m.T
    return np.asarray(out if stacked else out[0], dtype=np.float64)


def _corr(data: FloatArray) -> FloatArray:
    return np.asarray(np.corrcoef(data, rowvar=False), dtype=np.float64)


def _resampled_corr(data: FloatArray, draws: IntArray) -> tuple[FloatArray, BoolArray]:
    """Correlation matrices of bootstrap resamples given as row indexes ``(B, m)``, in
    chunks (bounded memory); and which resamples have no constant column."""
    centred = data - data.mean(axis=0)
    q = centred.shape[1]
    out = np.empty((draws.shape[0], q, q))
    for start in range(0, draws.shape[0], RESAMPLE_CHUNK):
        x = centred[draws[start:start + RESAMPLE_CHUNK]]  # (b, m, q)
        mean = x.mean(axis=1)
        out[start:start + RESAMPLE_CHUNK] = (np.swapaxes(x, 1, 2) @ x / x.shape[1]
                                             - mean[:, :, None] * mean[:, None, :])
    var = np.diagonal(out, axis1=1, axis2=2)
    floor = 1e-12 * max(1.0, float(np.abs(centred).max()) ** 2)
    usable: BoolArray = np.asarray(np.all(var > floor, axis=1), dtype=np.bool_)
    sd = np.sqrt(np.where(usable[:, None], var, 1.0))
    return out / (sd[:, :, None] * sd[:, None, :]), usable


def _percentile(samples: FloatArray, confidence: float, estimate: FloatArray,
                scale: float) -> tuple[FloatArray, FloatArray]:
    """Percentile interval; with ``scale < 1`` (an m-out-of-n bootstrap) the percentiles'
    distances from the estimate shrink by ``scale = sqrt(m / n)``."""
    tail = (1.0 - confidence) / 2.0 * 100.0
    low = np.nanpercentile(samples, tail, axis=0)
    high = np.nanpercentile(samples, 100.0 - tail, axis=0)
    return estimate + scale * (low - estimate), estimate + scale * (high - estimate)


def _maybe(x: float) -> float | None:
    return None if math.isnan(x) else float(x)


def resamples_for(n: int, requested: int = DEFAULT_RESAMPLES) -> int:
    """Bootstrap resamples for ``n`` respondents: ``requested``, fewer for large waves
    (the work grows with resamples × resample size), never below 200."""
    return min(requested, max(200, BOOTSTRAP_BUDGET // max(min(n, MAX_RESAMPLE_SIZE), 1)))


def key_drivers(
    predictors: object,
    outcome: object,
    keys: Sequence[str],
    *,
    outcome_key: str = "overall",
    resamples: int = DEFAULT_RESAMPLES,
    confidence: float = 0.95,
    seed: int = DEFAULT_SEED,
) -> DriverAnalysis | None:
    """Relative weights and (for few predictors) general dominance, with bootstrap intervals.

    Parameters
    ----------
    predictors : array_like, shape (n, p)
        One row per respondent (e.g. perception means per dimension); ``NaN`` = missing.
    outcome : array_like, shape (n,)
        The overall-satisfaction answer of the same respondents.
    keys : sequence of str
        A name for each predictor column.
    resamples : int
        Bootstrap resamples of respondents (percentile intervals); 0 for none.

    Returns
    -------
    DriverAnalysis or None
        ``None`` when fewer than ``p + 2`` complete rows remain or a column (or the
        outcome) has no variance: no regression can be fitted then. Resamples in which a
        column is constant or the predictors are collinear are skipped (rare for real
        survey data; their number lowers ``resamples`` in the result).
    """
    check_confidence(confidence)
    x = as_matrix(predictors, "predictors")
    y = as_vector(outcome, "outcome")
    if x.shape[0] != y.shape[0]:
        raise ValueError("predictors and outcome must have one row per respondent")
    if x.shape[1] != len(keys):
        raise ValueError("keys must name every predictor column")
    if resamples < 0:
        raise ValueError("resamples must be non-negative")
    data = np.column_stack([x, y])
    data = data[~np.isnan(data).any(axis=1)]
    n, p = int(data.shape[0]), len(keys)
    if p == 0 or n < p + 2 or bool((data.std(axis=0) == 0).any()):
        return None
    try:
        weights = relative_weights(_corr(data))
    except np.linalg.LinAlgError:
        return None
    with_dominance = p <= MAX_DOMINANCE_PREDICTORS
    nan: FloatArray = np.full(p, math.nan, dtype=np.float64)
    dominance = general_dominance(_corr(data)) if with_dominance else nan
    r2 = float(weights.sum())

    rng = np.random.default_rng(seed)
    # Above MAX_RESAMPLE_SIZE respondents each resample draws m of them and the intervals
    # are rescaled by sqrt(m / n) (the m-out-of-n bootstrap; Bickel, Götze & van Zwet 1997,
    # Statistica Sinica 7, 1-31): R² and its parts are smooth functions of the moments.
    m = min(n, MAX_RESAMPLE_SIZE)
    scale = math.sqrt(m / n)
    corr, usable = _resampled_corr(data, rng.integers(0, n, size=(resamples, m)))
    corr = corr[usable]
    if corr.shape[0]:
        eigen = np.linalg.eigvalsh(corr[:, :-1, :-1])
        corr = corr[eigen.min(axis=1) > 1e-12]  # collinear resamples have no weights
    used = int(corr.shape[0])
    if used:
        w = relative_weights(corr)
        r2_samples = w.sum(axis=1)
        w_low, w_high = _percentile(w, confidence, weights, scale)
        s_low, s_high = _percentile(w / r2_samples[:, None], confidence, weights / r2, scale)
        d_low, d_high = (_percentile(general_dominance(corr), confidence, dominance, scale) if with_dominance
                         else (nan, nan))
        r_low, r_high = _percentile(r2_samples[:, None], confidence, np.array([r2]), scale)
        r2_low, r2_high = _maybe(float(r_low[0])), _maybe(float(r_high[0]))
    else:
        w_low = w_high = s_low = s_high = d_low = d_high = nan
        r2_low = r2_high = None
    drivers = tuple(
        Driver(
            key=key,
            weight=float(weights[j]),
            weight_low=_maybe(float(w_low[j])),
            weight_high=_maybe(float(w_high[j])),
            share=float(weights[j]) / r2 if r2 > 0 else math.nan,
            share_low=_maybe(float(s_low[j])),
            share_high=_maybe(float(s_high[j])),
            dominance=_maybe(float(dominance[j])),
            dominance_low=_maybe(float(d_low[j])),
            dominance_high=_maybe(float(d_high[j])),
        )
        for j, key in enumerate(keys)
    )
    return DriverAnalysis(outcome=outcome_key, n=n, r_squared=r2, r_squared_low=r2_low, r_squared_high=r2_high,
                          drivers=drivers, resamples=used, confidence=confidence)


def _ranks(values: Sequence[float]) -> list[int]:
    """1 = largest; ties share the better rank."""
    return [1 + sum(other > v for other in values) for v in values]


def compare_importance(analysis: DriverAnalysis, stated: Sequence[float], *, rank_gap: int = 2) -> list[Disagreement]:
    """Derived (relative-weight share) against stated importance (allocation weights).

    Both are turned into shares of their own total. A driver is flagged when its two
    ranks differ by ``rank_gap`` or more, or when its stated share lies outside the
    bootstrap interval of its derived share: what people say matters most and what
    their answers show moves satisfaction then point to different places.
    """
    if len(stated) != len(analysis.drivers):
        raise ValueError("stated importance must give one weight per driver")
    total = float(sum(stated))
    if total <= 0:
        raise ValueError("stated importance must have a positive total")
    stated_share = [s / total for s in stated]
    derived = [d.share for d in analysis.drivers]
    derived_rank, stated_rank = _ranks(derived), _ranks(stated_share)
    out: list[Disagreement] = []
    for j, d in enumerate(analysis.drivers):
        outside = (d.share_low is not None and d.share_high is not None
                   and not d.share_low <= stated_share[j] <= d.share_high)
        out.append(Disagreement(
            key=d.key, derived_share=d.share, stated_share=stated_share[j],
            derived_rank=derived_rank[j], stated_rank=stated_rank[j],
            disagrees=abs(derived_rank[j] - stated_rank[j]) >= rank_gap or outside,
        ))
    return out
