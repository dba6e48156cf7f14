"""Statistics for gap analysis: pure, vectorised functions over answer matrices.

Every function takes NumPy arrays (respondents x columns, ``float`` with ``NaN`` for a
missing or not-applicable answer), validates its input with ``ValueError`` and returns
small frozen results holding Python floats (or ``None`` where a quantity is undefined),
in the style of ``scipy.stats``.

Edge behaviour, the same everywhere:

* ``n == 0`` (everything missing / N/A): every statistic is ``None``.
* ``n == 1``: the mean is reported; SD, SE, interval and p-values are ``None``.
* zero variance (all values equal, ``n >= 2``): the t statistic, its p-value, the interval
  and Cohen's d_z are ``None`` (a t-test is undefined without sampling variability);
  the Wilcoxon test still runs (it only needs signs and ranks).
* Wilcoxon: zero differences are dropped (Wilcoxon's own convention); tied absolute
  differences get average ranks; ``None`` when no non-zero difference remains.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import special
from scipy import stats as sps

__all__ = [
    "AlphaResult",
    "ColumnSummary",
    "DifferenceSummary",
    "IPAResult",
    "PairedScores",
    "WelchResult",
    "WilcoxonResult",
    "adjust_pvalues",
    "alpha_from_covariance",
    "allocation_weights",
    "cronbach_alpha",
    "importance_performance",
    "rating_weights",
    "respondent_means",
    "summarize_columns",
    "summarize_differences",
    "summarize_paired_scores",
    "paired_scores_from_filled",
    "welch_difference",
    "wilcoxon_signed_rank",
    "zone_of_tolerance",
]

#: Largest number of non-zero differences for which the Wilcoxon p-value is exact.
WILCOXON_EXACT_MAX_N = 50

Adjustment = Literal["holm", "bh"]


# ----------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class ColumnSummary:
    """Mean and t-interval of one column (perception-only scores)."""

    n: int
    mean: float | None
    sd: float | None
    se: float | None
    ci_low: float | None
    ci_high: float | None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class WilcoxonResult:
    """Two-sided Wilcoxon signed-rank test.

    ``statistic`` is ``min(R+, R-)`` (scipy's two-sided convention), ``n`` the number of
    non-zero differences, ``method`` ``"exact"`` or ``"normal"``.
    """

    statistic: float | None
    pvalue: float | None
    n: int
    method: str | None


@dataclass(frozen=True, slots=True)
class DifferenceSummary:
    """Paired differences ``d = x - y`` of one column (a SERVQUAL gap ``P - E``)."""

    n: int
    mean: float | None
    sd: float | None
    se: float | None
    ci_low: float | None
    ci_high: float | None
    t_statistic: float | None
    t_p: float | None
    d_z: float | None
    wilcoxon: WilcoxonResult
    note: str | None = None


@dataclass(frozen=True, slots=True)
class AlphaResult:
    """Cronbach's alpha of a set of items, listwise complete respondents only.

    ``item_total`` holds the corrected item-total correlation of each item (item vs.
    the sum of the *other* items), ``alpha_if_deleted`` alpha of the remaining items.
    """

    alpha: float | None
    n: int
    k: int
    item_total: tuple[float | None, ...]
    alpha_if_deleted: tuple[float | None, ...]
    note: str | None = None


@dataclass(frozen=True, slots=True)
class WelchResult:
    """Difference of two independent means ``mean(b) - mean(a)`` with a Welch interval."""

    n_a: int
    n_b: int
    mean_a: float | None
    mean_b: float | None
    difference: float | None
    se: float | None
    df: float | None
    ci_low: float | None
    ci_high: float | None
    t_p: float | None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class IPAResult:
    """Importance-performance quadrants, crosshair at the means of the points."""

    importance_mean: float
    performance_mean: float
    quadrants: tuple[str, ...]


# ----------------------------------------------------------------------------- helpers


def _as_matrix(x: object, name: str) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2:
        raise ValueError(f"`{name}` must be a 1-D or 2-D array (respondents x columns)")
    if np.isinf(a).any():
        raise ValueError(f"`{name}` must not contain infinite values; use NaN for missing")
    return a


def _as_vector(x: object, name: str) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if a.ndim != 1:
        raise ValueError(f"`{name}` must be a 1-D array")
    if np.isinf(a).any():
        raise ValueError(f"`{name}` must not contain infinite values; use NaN for missing")
    return a


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError("`confidence` must be strictly between 0 and 1")


def _f(x: float) -> float | None:
    """A finite NumPy value as a Python float, anything else as None."""
    v = float(x)
    return v if math.isfinite(v) else None


def _moments(a: np.ndarray, confidence: float):
    """Vectorised n, mean, sd, se, t-interval and zero-variance flag per column."""
    a = np.asfortranarray(a)  # column reductions run along contiguous memory
    nan = np.isnan(a)
    if not nan.any():
        n = np.full(a.shape[1], a.shape[0])
        mean = a.mean(axis=0) if a.shape[0] else np.full(a.shape[1], np.nan)
        dev = a - mean
        lo = a.min(axis=0) if a.shape[0] else np.full(a.shape[1], np.inf)
        hi = a.max(axis=0) if a.shape[0] else np.full(a.shape[1], -np.inf)
    else:
        n = a.shape[0] - nan.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.nansum(a, axis=0) / n
        dev = a - mean
        dev[nan] = 0.0
        with np.errstate(invalid="ignore"):
            lo = np.fmin.reduce(a, axis=0)
            hi = np.fmax.reduce(a, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        var = np.einsum("ij,ij->j", dev, dev) / (n - 1)
        sd = np.sqrt(var)
        se = sd / np.sqrt(n)
        constant = (n >= 2) & (lo == hi)
        df = np.maximum(n - 1, 1)
        tcrit = special.stdtrit(df, 0.5 + confidence / 2.0)
        half = tcrit * se
        ok = (n >= 2) & ~constant
        ci_low = np.where(ok, mean - half, np.nan)
        ci_high = np.where(ok, mean + half, np.nan)
    sd = np.where(n >= 2, sd, np.nan)
    se = np.where(n >= 2, se, np.nan)
    return n, mean, sd, se, ci_low, ci_high, constant


def _edge_note(n: int, constant: bool) -> str | None:
    if n == 0:
        return "no answers (all missing or not applicable)"
    if n == 1:
        return "only one answer: no spread, interval or test"
    if constant:
        return "zero variance: every answer is the same, so the t-test and d_z are undefined"
    return None


# ----------------------------------------------------------------------------- columns


def summarize_columns(x: object, *, confidence: float = 0.95) -> tuple[ColumnSummary, ...]:
    """Mean and Student t confidence interval of each column, ignoring NaN.

    Parameters
    ----------
    x : array_like, shape (n_respondents, n_columns) or (n_respondents,)
        Scores; ``NaN`` marks a missing or not-applicable answer (pairwise: each column
        uses the respondents who answered it).
    confidence : float
        Confidence level of the interval.

    Returns
    -------
    tuple of ColumnSummary
        One per column.

    Notes
    -----
    With :math:`n` answers, mean :math:`\\bar x` and sample SD :math:`s` (ddof 1),
    the interval is :math:`\\bar x \\pm t_{1-(1-c)/2,\\,n-1}\\, s/\\sqrt{n}`
    (Student 1908; e.g. Zar, *Biostatistical Analysis*, 5th ed., 2010, §7.3).
    Used for perception-only (SERVPERF) scores, Cronin & Taylor (1992),
    *Journal of Marketing* 56(3), 55-68.
    """
    _check_confidence(confidence)
    a = _as_matrix(x, "x")
    n, mean, sd, se, lo, hi, constant = _moments(a, confidence)
    out = []
    for j in range(a.shape[1]):
        nj = int(n[j])
        out.append(
            ColumnSummary(
                n=nj,
                mean=_f(mean[j]) if nj else None,
                sd=_f(sd[j]),
                se=_f(se[j]),
                ci_low=_f(lo[j]),
                ci_high=_f(hi[j]),
                note=_column_note(nj, bool(constant[j])),
            )
        )
    return tuple(out)


def _column_note(n: int, constant: bool) -> str | None:
    if n == 0:
        return "no answers (all missing or not applicable)"
    if n == 1:
        return "only one answer: no spread or interval"
    if constant:
        return "zero variance: every answer is the same, no interval"
    return None


def _moments_from_counts(values: np.ndarray, counts: np.ndarray, confidence: float):
    """Like :func:`_moments`, from value counts: ``counts[j, v]`` answers of ``values[v]``."""
    n = counts.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (counts @ values) / n
        dev = values[None, :] - mean[:, None]
        var = (counts * dev * dev).sum(axis=1) / (n - 1)
        sd = np.sqrt(var)
        se = sd / np.sqrt(n)
        present = counts > 0
        distinct = present.sum(axis=1)
        constant = (n >= 2) & (distinct == 1)
        df = np.maximum(n - 1, 1)
        half = special.stdtrit(df, 0.5 + confidence / 2.0) * se
        ok = (n >= 2) & ~constant
        ci_low = np.where(ok, mean - half, np.nan)
        ci_high = np.where(ok, mean + half, np.nan)
    sd = np.where(n >= 2, sd, np.nan)
    se = np.where(n >= 2, se, np.nan)
    return n, mean, sd, se, ci_low, ci_high, constant


@dataclass(frozen=True, slots=True)
class PairedScores:
    """One item's paired columns: ``x`` (e.g. expectation), ``y`` (perception), ``y - x``."""

    x: ColumnSummary
    y: ColumnSummary
    difference: DifferenceSummary


def summarize_paired_scores(
    x: object, y: object, *, points: int, confidence: float = 0.95
) -> tuple[PairedScores, ...]:
    """Per-column summaries of two Likert columns and their difference ``y - x``.

    The same statistics as :func:`summarize_columns` of ``x`` and ``y`` and
    :func:`summarize_differences` of ``y - x``, restricted to the respondents who answered
    both (pairwise deletion), computed from each column's joint frequency table of the
    ``points x points`` possible answer pairs: one counting pass over the data instead of
    one pass per statistic, which is what makes 100,000-respondent waves cheap.

    Parameters
    ----------
    x, y : array_like, shape (n_respondents, n_columns)
        Integer answers ``1..points``; ``NaN`` for missing / N/A. Only answers that
        have a partner are used (and checked); a lone answer is ignored.
    points : int
        Scale points.
    confidence : float
        Level of the t-intervals.

    Returns
    -------
    tuple of PairedScores
        One per column.

    Notes
    -----
    With :math:`c_{uv}` pairs answering :math:`(x, y) = (u, v)`, the difference
    :math:`g = v - u` has frequencies :math:`f_g = \\sum_{v-u=g} c_{uv}`; means, two-pass
    variances, the t-interval and test, Cohen's :math:`d_z` and the Wilcoxon signed-rank
    test (average ranks of tied :math:`|g|`, zeros dropped) follow from :math:`f` exactly
    as in :func:`summarize_differences` and :func:`wilcoxon_signed_rank`
    (Parasuraman, Zeithaml & Berry 1988, *Journal of Retailing* 64(1), 12-40, for the
    gap score; Wilcoxon 1945, *Biometrics Bulletin* 1(6), 80-83).
    """
    a = _as_matrix(x, "x")
    b = _as_matrix(y, "y")
    if a.shape != b.shape:
        raise ValueError("`x` and `y` must have the same shape")
    paired = ~(np.isnan(a) | np.isnan(b))
    return paired_scores_from_filled(np.where(paired, a, 0.0), np.where(paired, b, 0.0),
                                     points=points, confidence=confidence)


def paired_scores_from_filled(
    fx: np.ndarray, fy: np.ndarray, *, points: int, confidence: float = 0.95
) -> tuple[PairedScores, ...]:
    """:func:`summarize_paired_scores` for zero-filled input (0 = pair not answered).

    ``fx`` and ``fy`` must be 0 in the same places (where either answer is missing) and
    integers ``1..points`` elsewhere; checked. Saves the report a pass over the data.
    """
    _check_confidence(confidence)
    if not isinstance(points, int) or points < 2 or points > 100:
        raise ValueError("`points` must be an integer 2..100")
    if fx.shape != fy.shape or fx.ndim != 2:
        raise ValueError("`fx` and `fy` must be 2-D arrays of the same shape")
    m = fx.shape[1]
    width = points + 1
    bad = ValueError(f"answers must be integers 1..{points} or NaN")
    if fx.size and (fx.min() < 0 or fy.min() < 0):
        raise bad
    # One code per answer pair, x * (points + 1) + y + column offset; an unanswered pair
    # is (0, 0). Counting the codes gives each column's joint table in one pass.
    code = fx * float(width)
    code += fy
    code += (np.arange(m) * float(width * width))[None, :]
    hist = np.bincount(code.astype(np.intp).ravel(), minlength=m * width * width)
    if hist.size != m * width * width:
        raise bad
    hist = hist.reshape(m, width, width)
    # A value outside 1..points (or NaN, 2.5, 9, a lone 0) lands in a row/column-0 cell
    # other than (0, 0), in another column's block, or changes an exact integer sum.
    grid = np.arange(width, dtype=float)
    zero_row = hist[:, 0, :].copy()
    zero_row[:, 0] = 0
    if (zero_row.any() or hist[:, 1:, 0].any()
            or not np.array_equal(hist.sum(axis=2) @ grid, fx.sum(axis=0))
            or not np.array_equal(hist.sum(axis=1) @ grid, fy.sum(axis=0))):
        raise bad
    return _paired_from_table(hist[:, 1:, 1:].astype(float), points, confidence)


def _difference_summaries(ds, wilcoxons) -> list[DifferenceSummary]:
    """DifferenceSummary per column from :func:`_moments`-style arrays and Wilcoxon results."""
    n, mean, sd, se, lo, hi, constant = ds
    with np.errstate(invalid="ignore", divide="ignore"):
        t = mean / se
        p = 2.0 * special.stdtr(np.maximum(n - 1, 1), -np.abs(t))
        dz = mean / sd
    ok = (n >= 2) & ~constant
    out = []
    for j, w in enumerate(wilcoxons):
        nj = int(n[j])
        okj = bool(ok[j])
        out.append(DifferenceSummary(
            n=nj, mean=_f(mean[j]) if nj else None, sd=_f(sd[j]), se=_f(se[j]),
            ci_low=_f(lo[j]), ci_high=_f(hi[j]),
            t_statistic=_f(t[j]) if okj else None, t_p=_f(p[j]) if okj else None,
            d_z=_f(dz[j]) if okj else None, wilcoxon=w,
            note=_edge_note(nj, bool(constant[j])),
        ))
    return out


def _column_summaries(st) -> list[ColumnSummary]:
    """ColumnSummary per column from :func:`_moments`-style arrays."""
    out = []
    for j in range(len(st[0])):
        cn, cm, csd, cse, clo, chi, cc = (arr[j] for arr in st)
        out.append(ColumnSummary(
            n=int(cn), mean=_f(cm) if cn else None, sd=_f(csd), se=_f(cse),
            ci_low=_f(clo), ci_high=_f(chi), note=_column_note(int(cn), bool(cc)),
        ))
    return out


def _paired_from_table(table: np.ndarray, points: int,
                       confidence: float) -> tuple[PairedScores, ...]:
    """:func:`summarize_paired_scores` from each column's joint frequency table.

    ``table[j, u, v]``: respondents answering ``(x, y) = (u + 1, v + 1)`` in column ``j``.
    """
    m = table.shape[0]
    vals = np.arange(1, points + 1, dtype=float)
    xs = _moments_from_counts(vals, table.sum(axis=2), confidence)
    ys = _moments_from_counts(vals, table.sum(axis=1), confidence)
    # difference frequencies: g = v - u in -(points-1)..(points-1)
    u, v = np.meshgrid(np.arange(points), np.arange(points), indexing="ij")
    onehot = np.zeros((points * points, 2 * points - 1))
    onehot[np.arange(points * points), (v - u + points - 1).ravel()] = 1.0
    gcounts = table.reshape(m, -1) @ onehot
    gvals = np.arange(-(points - 1), points, dtype=float)
    ds = _moments_from_counts(gvals, gcounts, confidence)
    levels = np.arange(1, points, dtype=float)
    ws = []
    for j in range(m):
        pos = gcounts[j, points:]
        neg = gcounts[j, : points - 1][::-1]
        ws.append(_wilcoxon_from_counts(levels, pos.astype(np.int64), neg.astype(np.int64)))
    diffs = _difference_summaries(ds, ws)
    cx, cy = _column_summaries(xs), _column_summaries(ys)
    return tuple(PairedScores(x=cx[j], y=cy[j], difference=diffs[j]) for j in range(m))


def _wilcoxon_from_counts(levels: np.ndarray, pos: np.ndarray, neg: np.ndarray) -> WilcoxonResult:
    """Wilcoxon signed-rank test from counts of positive / negative differences per |d| level.

    ``levels`` must be sorted ascending and positive.
    """
    c = pos + neg
    keep = c > 0
    c, p_ = c[keep], pos[keep]
    n = int(c.sum())
    if n == 0:
        return WilcoxonResult(statistic=None, pvalue=None, n=0, method=None)
    ends = np.cumsum(c)
    avg_rank = ends - (c - 1) / 2.0
    r_plus = float((p_ * avg_rank).sum())
    total = n * (n + 1) / 2.0
    stat = min(r_plus, total - r_plus)
    if n <= WILCOXON_EXACT_MAX_N:
        ranks = np.repeat(avg_rank, c)
        return WilcoxonResult(stat, _exact_signed_rank_p(ranks, r_plus), n, "exact")
    cf = c.astype(float)
    var = n * (n + 1) * (2 * n + 1) / 24.0 - float((cf**3 - cf).sum()) / 48.0
    if var <= 0:
        return WilcoxonResult(stat, None, n, "normal")
    z = (r_plus - n * (n + 1) / 4.0) / math.sqrt(var)
    return WilcoxonResult(stat, float(min(1.0, 2.0 * special.ndtr(-abs(z)))), n, "normal")


# ----------------------------------------------------------------------------- Wilcoxon


def _signed_rank_levels(v: np.ndarray):
    """Counts of positive / negative values per ``|v|`` level when ``v`` (non-zero) is a
    multiple of 1/L, L in {1, 2520}; ``None`` otherwise.

    Likert gaps are integers and respondent means over <= 10 items are multiples of
    1/2520 (= 1/lcm(1..10)), so counting replaces sorting for the usual data.
    """
    a = np.abs(v)
    for scale in (1.0, 2520.0):
        q = a * scale if scale != 1.0 else a
        r = np.rint(q)
        if r.max() < 2**22 and np.all(np.abs(q - r) < 1e-6 * scale):
            idx = r.astype(np.int64)
            size = int(idx.max()) + 1
            pos = np.bincount(idx[v > 0], minlength=size)
            neg = np.bincount(idx[v < 0], minlength=size)
            levels = np.arange(size, dtype=float) / scale
            return levels, pos, neg
    return None


def _signed_rank_sorted(v: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """R+, tie-group sizes and the average rank of every value (sort-based)."""
    a = np.abs(v)
    order = np.argsort(a, kind="stable")
    s = a[order]
    n = s.size
    cut = np.flatnonzero(np.diff(s)) + 1
    starts = np.concatenate(([0], cut))
    ends = np.concatenate((cut, [n]))
    c = ends - starts
    ranks_sorted = np.repeat((starts + ends + 1) / 2.0, c)
    ranks = np.empty(n)
    ranks[order] = ranks_sorted
    return float(ranks[v > 0].sum()), c, ranks


def _exact_signed_rank_p(ranks: np.ndarray, r_plus: float) -> float:
    """Two-sided exact p-value of R+ given the (possibly tied) ranks.

    The null distribution assigns each rank a positive sign with probability 1/2,
    independently; doubling the ranks makes average ranks integral, so the distribution
    of 2R+ is built by convolution (the permutation distribution, exact with ties).
    """
    doubled = np.rint(2.0 * ranks).astype(np.int64)
    total = int(doubled.sum())
    dist = np.zeros(total + 1)
    dist[0] = 1.0
    reach = 0
    for r in doubled:
        r = int(r)
        dist[r : reach + r + 1] = 0.5 * dist[r : reach + r + 1] + 0.5 * dist[: reach + 1]
        dist[:r] *= 0.5
        reach += r
    obs = int(round(2.0 * r_plus))
    cdf = dist[: obs + 1].sum()
    sf = dist[obs:].sum()
    return float(min(1.0, 2.0 * min(cdf, sf)))


def wilcoxon_signed_rank(d: object) -> WilcoxonResult:
    """Two-sided Wilcoxon signed-rank test of paired differences against zero.

    Parameters
    ----------
    d : array_like, 1-D
        Differences (``P - E``); ``NaN`` entries are ignored.

    Returns
    -------
    WilcoxonResult
        ``statistic = min(R+, R-)``, two-sided ``pvalue``, ``n`` non-zero differences
        and the ``method`` used; ``statistic`` and ``pvalue`` are ``None`` when no
        non-zero difference remains.

    Notes
    -----
    Zero differences are dropped (Wilcoxon 1945); absolute differences are ranked with
    average ranks for ties, and :math:`R^+ = \\sum_{d_i>0} r_i`.

    * ``n <= 50`` non-zero differences: exact permutation distribution of :math:`R^+`
      (each sign + or - with probability 1/2), exact also with ties; two-sided
      :math:`p = \\min(1, 2\\min(P(R^+\\le r), P(R^+\\ge r)))`.
    * ``n > 50``: normal approximation without continuity correction,
      :math:`z = (R^+ - n(n+1)/4)/\\sigma`, with the tie-corrected
      :math:`\\sigma^2 = n(n+1)(2n+1)/24 - \\sum_g (t_g^3 - t_g)/48`
      (Lehmann, *Nonparametrics*, 1975, §3.2), :math:`p = 2\\Phi(-|z|)`.

    This matches ``scipy.stats.wilcoxon`` (``zero_method="wilcox"``, no correction)
    for untied samples (exact) and for large samples (normal).

    References
    ----------
    Wilcoxon, F. (1945). Individual comparisons by ranking methods. *Biometrics
    Bulletin* 1(6), 80-83.
    """
    v = _as_vector(d, "d")
    v = v[~np.isnan(v)]
    v = v[v != 0]
    n = int(v.size)
    if n == 0:
        return WilcoxonResult(statistic=None, pvalue=None, n=0, method=None)
    if n > WILCOXON_EXACT_MAX_N:
        fast = _signed_rank_levels(v)
        if fast is not None:
            return _wilcoxon_from_counts(*fast)
    total = n * (n + 1) / 2.0
    r_plus, counts, ranks = _signed_rank_sorted(v)
    if n <= WILCOXON_EXACT_MAX_N:
        p = _exact_signed_rank_p(ranks, r_plus)
        return WilcoxonResult(min(r_plus, total - r_plus), p, n, "exact")
    counts = counts.astype(float)
    var = n * (n + 1) * (2 * n + 1) / 24.0 - float((counts**3 - counts).sum()) / 48.0
    if var <= 0:
        return WilcoxonResult(min(r_plus, total - r_plus), None, n, "normal")
    z = (r_plus - n * (n + 1) / 4.0) / math.sqrt(var)
    p = float(min(1.0, 2.0 * special.ndtr(-abs(z))))
    return WilcoxonResult(min(r_plus, total - r_plus), p, n, "normal")


# ----------------------------------------------------------------------------- differences


def summarize_differences(
    d: object, *, confidence: float = 0.95, wilcoxon: bool = True
) -> tuple[DifferenceSummary, ...]:
    """Paired-difference statistics of each column of ``d`` (e.g. gaps ``P - E``).

    Parameters
    ----------
    d : array_like, shape (n_respondents, n_columns) or (n_respondents,)
        Per-respondent differences; ``NaN`` where either side is missing or N/A
        (pairwise deletion: each column uses its own complete pairs, so ``n`` may
        differ between columns).
    confidence : float
        Confidence level of the t-interval.
    wilcoxon : bool
        Also run the Wilcoxon signed-rank test (the costly part on large samples).

    Returns
    -------
    tuple of DifferenceSummary
        One per column.

    Notes
    -----
    With :math:`n` pairs, mean difference :math:`\\bar d` and SD :math:`s_d`:

    * :math:`SE = s_d/\\sqrt n`, interval :math:`\\bar d \\pm t_{1-(1-c)/2,\\,n-1} SE`;
    * paired t-test :math:`t = \\bar d / SE` on :math:`n-1` df, two-sided
      :math:`p = 2 P(T_{n-1} \\ge |t|)` (Student 1908), as ``scipy.stats.ttest_rel``;
    * Cohen's :math:`d_z = \\bar d / s_d` (Cohen 1988, eq. 2.3.5; Lakens 2013,
      *Frontiers in Psychology* 4:863);
    * Wilcoxon signed-rank p-value, see :func:`wilcoxon_signed_rank`.

    The gap score :math:`P - E` follows Parasuraman, Zeithaml & Berry (1988),
    *Journal of Retailing* 64(1), 12-40.
    """
    _check_confidence(confidence)
    a = _as_matrix(d, "d")
    n, mean, sd, se, lo, hi, constant = _moments(a, confidence)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = mean / se
        p = 2.0 * special.stdtr(np.maximum(n - 1, 1), -np.abs(t))
        dz = mean / sd
    ok = (n >= 2) & ~constant
    cols = np.ascontiguousarray(a.T) if wilcoxon else None
    out = []
    for j in range(a.shape[1]):
        nj = int(n[j])
        w = (
            wilcoxon_signed_rank(cols[j])
            if cols is not None
            else WilcoxonResult(None, None, 0, None)
        )
        okj = bool(ok[j])
        out.append(
            DifferenceSummary(
                n=nj,
                mean=_f(mean[j]) if nj else None,
                sd=_f(sd[j]),
                se=_f(se[j]),
                ci_low=_f(lo[j]),
                ci_high=_f(hi[j]),
                t_statistic=_f(t[j]) if okj else None,
                t_p=_f(p[j]) if okj else None,
                d_z=_f(dz[j]) if okj else None,
                wilcoxon=w,
                note=_edge_note(nj, bool(constant[j])),
            )
        )
    return tuple(out)


def respondent_means(x: object, groups: list[list[int]], *, min_fraction: float = 0.5) -> np.ndarray:
    """Each respondent's mean over each group of columns (a dimension's items).

    Parameters
    ----------
    x : array_like, shape (n_respondents, n_columns)
        Item scores or gaps with ``NaN`` for missing / N/A.
    groups : list of list of int
        Column indices of each group.
    min_fraction : float
        A respondent's group score is the mean of the items they answered, provided they
        answered at least this fraction of the group's items; otherwise ``NaN``.

    Returns
    -------
    ndarray, shape (n_respondents, n_groups)

    Notes
    -----
    :math:`\\bar g_{r,D} = \\frac{1}{|A_{r,D}|}\\sum_{i\\in A_{r,D}} g_{r,i}` over the answered
    items :math:`A_{r,D}` of dimension :math:`D` (the SERVQUAL dimension score,
    Parasuraman, Berry & Zeithaml 1991, *Journal of Retailing* 67(4), 420-450; the
    "half the items" rule is the usual prorating convention for scale scores).
    """
    a = _as_matrix(x, "x")
    if not 0.0 < min_fraction <= 1.0:
        raise ValueError("`min_fraction` must be in (0, 1]")
    member = np.zeros((a.shape[1], len(groups)))
    need = np.empty(len(groups))
    for g, cols in enumerate(groups):
        if not cols:
            raise ValueError("every group needs at least one column")
        if min(cols) < 0 or max(cols) >= a.shape[1]:
            raise ValueError("group column index out of range")
        member[cols, g] = 1.0
        need[g] = max(math.ceil(min_fraction * len(cols) - 1e-12), 1)
    nan = np.isnan(a)
    if not nan.any():
        return (a @ member) / member.sum(axis=0)
    cnt = (~nan).astype(float) @ member
    s = np.where(nan, 0.0, a) @ member
    with np.errstate(invalid="ignore", divide="ignore"):
        out = s / cnt
    out[cnt < need] = np.nan
    return out


# ----------------------------------------------------------------------------- adjustment


def adjust_pvalues(pvalues: list[float | None], method: Adjustment = "bh") -> list[float | None]:
    """Holm or Benjamini-Hochberg adjusted p-values; ``None`` entries stay ``None``.

    Parameters
    ----------
    pvalues : list of float or None
        Unadjusted p-values; ``None`` (test undefined) is left out of the family.
    method : {"bh", "holm"}
        ``"holm"`` controls the family-wise error rate, ``"bh"`` the false discovery rate.

    Returns
    -------
    list of float or None

    Notes
    -----
    With the :math:`m` defined p-values sorted :math:`p_{(1)}\\le\\dots\\le p_{(m)}`:

    * Holm (1979): :math:`\\tilde p_{(i)} = \\max_{j\\le i} \\min(1, (m-j+1)p_{(j)})`;
    * Benjamini & Hochberg (1995):
      :math:`\\tilde p_{(i)} = \\min_{j\\ge i} \\min(1, m\\,p_{(j)}/j)`.

    References
    ----------
    Holm, S. (1979). *Scandinavian Journal of Statistics* 6(2), 65-70.
    Benjamini, Y. & Hochberg, Y. (1995). *JRSS B* 57(1), 289-300.
    """
    if method not in ("holm", "bh"):
        raise ValueError("`method` must be 'holm' or 'bh'")
    idx = [i for i, p in enumerate(pvalues) if p is not None]
    out: list[float | None] = [None] * len(pvalues)
    if not idx:
        return out
    p = np.array([pvalues[i] for i in idx], dtype=float)
    if np.isnan(p).any() or (p < 0).any() or (p > 1).any():
        raise ValueError("p-values must lie in [0, 1]")
    m = p.size
    order = np.argsort(p, kind="stable")
    ps = p[order]
    rank = np.arange(1, m + 1)
    if method == "holm":
        adj = np.maximum.accumulate(np.minimum(1.0, (m - rank + 1) * ps))
    else:
        adj = np.minimum.accumulate((m * ps / rank)[::-1])[::-1]
        adj = np.minimum(adj, 1.0)
    res = np.empty(m)
    res[order] = adj
    for i, v in zip(idx, res):
        out[i] = float(v)
    return out


# ----------------------------------------------------------------------------- reliability


def cronbach_alpha(x: object) -> AlphaResult:
    """Cronbach's alpha with corrected item-total correlations and alpha-if-item-deleted.

    Parameters
    ----------
    x : array_like, shape (n_respondents, k_items)
        Item scores; respondents with any ``NaN`` are dropped (listwise deletion).

    Returns
    -------
    AlphaResult

    Notes
    -----
    From the item covariance matrix :math:`C` of the :math:`n` complete respondents,
    :math:`\\alpha = \\frac{k}{k-1}\\left(1 - \\frac{\\operatorname{tr} C}{\\mathbf 1^\\top C
    \\mathbf 1}\\right)` (Cronbach 1951, *Psychometrika* 16, 297-334). The corrected
    item-total correlation of item :math:`i` is the correlation of item :math:`i` with
    the sum of the other items, :math:`(C\\mathbf 1)_i - C_{ii}` over
    :math:`\\sqrt{C_{ii}\\,V_{-i}}`, with :math:`V_{-i} = \\mathbf 1^\\top C\\mathbf 1 -
    2(C\\mathbf 1)_i + C_{ii}` (Nunnally & Bernstein, *Psychometric Theory*, 1994,
    ch. 8). Alpha is ``None`` for ``k < 2``, ``n < 2`` or zero total variance;
    alpha-if-deleted is ``None`` when fewer than 2 items would remain.
    """
    a = _as_matrix(x, "x")
    k = a.shape[1]
    rows = np.isnan(a).any(axis=1)
    complete = a[~rows] if rows.any() else a
    n = int(complete.shape[0])
    none_k = (None,) * k
    if k < 2:
        return AlphaResult(None, n, k, none_k, none_k, "alpha needs at least two items")
    if n < 2:
        return AlphaResult(None, n, k, none_k, none_k,
                           "fewer than two respondents answered every item")
    centred = complete - complete.mean(axis=0)
    c = (centred.T @ centred) / (n - 1)
    return alpha_from_covariance(c, n)


def alpha_from_covariance(c: object, n: int) -> AlphaResult:
    """Cronbach's alpha, corrected item-total correlations and alpha-if-deleted from a
    covariance matrix.

    Parameters
    ----------
    c : array_like, shape (k, k)
        Item covariance matrix of ``n`` complete respondents.
    n : int
        Number of respondents it was computed from (reported, and ``n < 2`` gives
        ``None``).

    Returns
    -------
    AlphaResult

    Notes
    -----
    The formulas of :func:`cronbach_alpha` (Cronbach 1951, *Psychometrika* 16,
    297-334); the covariance of a gap item :math:`P_i - E_i` is
    :math:`C_{PP} - C_{PE} - C_{EP} + C_{EE}`, so gap reliabilities come from the same
    cross-product matrix as those of E and P.
    """
    c = np.asarray(c, dtype=float)
    if c.ndim != 2 or c.shape[0] != c.shape[1]:
        raise ValueError("`c` must be a square matrix")
    k = c.shape[0]
    none_k = (None,) * k
    if k < 2:
        return AlphaResult(None, n, k, none_k, none_k, "alpha needs at least two items")
    if n < 2:
        return AlphaResult(None, n, k, none_k, none_k,
                           "fewer than two respondents answered every item")
    diag = np.diag(c)
    total = float(c.sum())
    if total <= 1e-12 * max(1.0, float(np.abs(c).max())):
        return AlphaResult(None, n, k, none_k, none_k, "zero variance of the total score")
    alpha = k / (k - 1) * (1.0 - diag.sum() / total)
    row = c.sum(axis=1)
    rest_var = total - 2.0 * row + diag
    with np.errstate(invalid="ignore", divide="ignore"):
        itc = (row - diag) / np.sqrt(diag * rest_var)
        if k >= 3:
            aid = (k - 1) / (k - 2) * (1.0 - (diag.sum() - diag) / rest_var)
        else:
            aid = np.full(k, np.nan)
    return AlphaResult(
        alpha=_f(alpha),
        n=n,
        k=k,
        item_total=tuple(_f(v) for v in itc),
        alpha_if_deleted=tuple(_f(v) for v in aid),
    )


# ----------------------------------------------------------------------------- importance


def allocation_weights(allocation: object) -> tuple[tuple[float, ...] | None, int]:
    """Importance weights from a constant-sum allocation (e.g. 100 points over dimensions).

    Parameters
    ----------
    allocation : array_like, shape (n_respondents, n_dimensions)
        Points each respondent gave each dimension; a respondent with any ``NaN`` or a
        zero total is left out.

    Returns
    -------
    weights : tuple of float or None
        :math:`w_D = \\frac1n\\sum_r a_{r,D} / \\sum_{D'} a_{r,D'}` (mean share; equals
        the mean allocation divided by the total when every row sums to the total);
        ``None`` when no respondent is usable.
    n : int
        Respondents used.

    Notes
    -----
    SERVQUAL's importance weights, Parasuraman, Zeithaml & Berry (1988), *Journal of
    Retailing* 64(1), 12-40; Zeithaml, Parasuraman & Berry (1990), *Delivering Quality
    Service*, appendix A.
    """
    a = _as_matrix(allocation, "allocation")
    if np.fmin.reduce(a, axis=None, initial=0.0) < 0:
        raise ValueError("allocations must be non-negative")
    # row totals (NaN for an incomplete row); one matrix-vector product instead of a
    # short-row reduction
    sums = a @ np.ones(a.shape[1]) if a.shape[1] else np.zeros(a.shape[0])
    rows = sums > 0  # False for NaN and for zero totals
    n = int(np.count_nonzero(rows))
    if n == 0:
        return None, 0
    with np.errstate(invalid="ignore", divide="ignore"):
        inv = np.where(rows, 1.0 / sums, 0.0)
    # mean share = sum over usable rows of a / row total, divided by n
    if n == a.shape[0]:
        shares = a.T @ inv / n
    else:
        shares = np.nan_to_num(a.T, nan=0.0) @ inv / n
    return tuple(float(v) for v in shares), n


def rating_weights(
    ratings: object, groups: list[list[int]]
) -> tuple[tuple[float, ...] | None, tuple[float | None, ...], tuple[int, ...]]:
    """Importance weights from per-item importance ratings, aggregated per dimension.

    Parameters
    ----------
    ratings : array_like, shape (n_respondents, n_items)
        Importance ratings, ``NaN`` for missing (pairwise per item).
    groups : list of list of int
        Item columns of each dimension.

    Returns
    -------
    weights : tuple of float or None
        :math:`w_D = m_D / \\sum_{D'} m_{D'}` where :math:`m_D` is the mean of the item
        mean ratings of dimension :math:`D` (items without ratings ignored); ``None``
        when a dimension has no rated item.
    item_means : tuple of float or None
        Mean rating of each item.
    item_n : tuple of int
        Ratings per item.

    Notes
    -----
    Rated importance as used in importance-performance analysis, Martilla & James
    (1977), *Journal of Marketing* 41(1), 77-79.
    """
    a = _as_matrix(ratings, "ratings")
    mask = ~np.isnan(a)
    n = mask.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(mask, a, 0.0).sum(axis=0) / n
    item_means = tuple(_f(v) if c else None for v, c in zip(means, n))
    dim = []
    for cols in groups:
        vals = [item_means[c] for c in cols if item_means[c] is not None]
        dim.append(sum(vals) / len(vals) if vals else None)
    if any(v is None for v in dim) or sum(dim) <= 0:  # type: ignore[arg-type]
        return None, item_means, tuple(int(c) for c in n)
    s = sum(dim)  # type: ignore[arg-type]
    return tuple(v / s for v in dim), item_means, tuple(int(c) for c in n)  # type: ignore[operator]


# ----------------------------------------------------------------------------- waves


def welch_difference(a: object, b: object, *, confidence: float = 0.95) -> WelchResult:
    """Change of a mean between two independent samples (two survey waves), Welch interval.

    Parameters
    ----------
    a, b : array_like, 1-D
        Per-respondent scores of the earlier wave ``a`` and the later wave ``b``;
        ``NaN`` ignored.
    confidence : float
        Confidence level.

    Returns
    -------
    WelchResult
        ``difference = mean(b) - mean(a)``.

    Notes
    -----
    :math:`SE = \\sqrt{s_a^2/n_a + s_b^2/n_b}`, Welch-Satterthwaite
    :math:`\\nu = SE^4 / \\left(\\frac{(s_a^2/n_a)^2}{n_a-1} + \\frac{(s_b^2/n_b)^2}{n_b-1}\\right)`,
    interval :math:`\\Delta \\pm t_{1-(1-c)/2,\\nu} SE`, two-sided p of
    :math:`t = \\Delta/SE` (Welch 1947, *Biometrika* 34, 28-35; as
    ``scipy.stats.ttest_ind(equal_var=False)``). Waves are independent samples because
    respondents are unlinkable by design, so no paired test is possible. ``None``
    statistics when either wave has fewer than 2 scores or both have zero variance.
    """
    _check_confidence(confidence)
    x = _as_vector(a, "a")
    y = _as_vector(b, "b")
    x = x[~np.isnan(x)]
    y = y[~np.isnan(y)]
    na, nb = int(x.size), int(y.size)
    ma = float(x.mean()) if na else None
    mb = float(y.mean()) if nb else None
    diff = mb - ma if ma is not None and mb is not None else None
    if na < 2 or nb < 2:
        return WelchResult(na, nb, ma, mb, diff, None, None, None, None, None,
                           "each wave needs at least two scores for an interval")
    va = float(x.var(ddof=1)) / na
    vb = float(y.var(ddof=1)) / nb
    se2 = va + vb
    if se2 <= 0:
        return WelchResult(na, nb, ma, mb, diff, None, None, None, None, None,
                           "zero variance in both waves: no interval")
    se = math.sqrt(se2)
    df = se2**2 / (va**2 / (na - 1) + vb**2 / (nb - 1))
    half = float(sps.t.ppf(0.5 + confidence / 2.0, df)) * se
    t = diff / se  # type: ignore[operator]
    p = float(2.0 * sps.t.sf(abs(t), df))
    return WelchResult(na, nb, ma, mb, diff, se, df, diff - half, diff + half, p)  # type: ignore[operator]


# ----------------------------------------------------------------------------- formats


def zone_of_tolerance(
    msa_ci: tuple[float | None, float | None], mss_ci: tuple[float | None, float | None]
) -> str:
    """Classify a score against the zone of tolerance, only where the intervals say so.

    Parameters
    ----------
    msa_ci : (low, high)
        Interval of the measure of service adequacy, MSA = P - minimum.
    mss_ci : (low, high)
        Interval of the measure of service superiority, MSS = P - desired.

    Returns
    -------
    str
        ``"below"`` if the MSA interval lies entirely below 0 (perception below the
        adequate level), ``"above"`` if the MSS interval lies entirely above 0 (above
        the desired level), ``"within"`` if MSA lies entirely above 0 and MSS entirely
        below 0, otherwise ``"undetermined"`` (including when an interval is missing).

    Notes
    -----
    The zone of tolerance lies between adequate (minimum) and desired service,
    Parasuraman, Zeithaml & Berry (1994), *Journal of Retailing* 70(3), 201-230.
    """
    a_lo, a_hi = msa_ci
    s_lo, s_hi = mss_ci
    if a_hi is not None and a_hi < 0:
        return "below"
    if s_lo is not None and s_lo > 0:
        return "above"
    if a_lo is not None and s_hi is not None and a_lo > 0 and s_hi < 0:
        return "within"
    return "undetermined"


QUADRANTS = (
    "concentrate here",  # high importance, low performance
    "keep up the good work",  # high importance, high performance
    "low priority",  # low importance, low performance
    "possible overkill",  # low importance, high performance
)


def importance_performance(importance: object, performance: object) -> IPAResult:
    """Importance-performance analysis quadrants, crosshair at the data means.

    Parameters
    ----------
    importance, performance : array_like, 1-D, same length
        Mean importance and mean performance (perception) of each attribute.

    Returns
    -------
    IPAResult
        The crosshair and each attribute's quadrant: "concentrate here" (importance at
        or above the mean, performance below), "keep up the good work" (both at or above),
        "low priority" (both below), "possible overkill" (importance below,
        performance at or above).

    Notes
    -----
    Martilla & James (1977), *Journal of Marketing* 41(1), 77-79; crosshair at the data
    means rather than the scale midpoint (Bacon 2003, *International Journal of Market
    Research* 45(1), 55-71).
    """
    imp = _as_vector(importance, "importance")
    perf = _as_vector(performance, "performance")
    if imp.size != perf.size:
        raise ValueError("`importance` and `performance` must have the same length")
    if imp.size == 0 or np.isnan(imp).any() or np.isnan(perf).any():
        raise ValueError("importance-performance needs at least one complete point")
    mi, mp = float(imp.mean()), float(perf.mean())
    q = []
    for i, p in zip(imp, perf):
        if i >= mi:
            q.append(QUADRANTS[0] if p < mp else QUADRANTS[1])
        else:
            q.append(QUADRANTS[2] if p < mp else QUADRANTS[3])
    return IPAResult(mi, mp, tuple(q))
