"""Means with Student t-intervals, paired differences (t-test, Cohen's d_z, Wilcoxon) and
Welch's interval for the change between two independent samples.

Edge behaviour, the same everywhere:

* ``n == 0`` (everything missing / N/A): every statistic is ``None``.
* ``n == 1``: the mean is reported; SD, SE, interval and p-values are ``None``.
* zero variance (all values equal, ``n >= 2``): the t statistic, its p-value, the interval
  and Cohen's d_z are ``None`` (a t-test is undefined without sampling variability);
  the Wilcoxon test still runs (it only needs signs and ranks).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special
from scipy import stats as sps

from analysis.moments import (
    FloatArray,
    Moments,
    as_matrix,
    as_vector,
    check_confidence,
    column_note,
    edge_note,
    finite,
    moments,
    moments_from_counts,
)
from analysis.nonparametric import NO_TEST, WilcoxonResult, wilcoxon_from_counts, wilcoxon_signed_rank

__all__ = [
    "ColumnSummary",
    "DifferenceSummary",
    "PairedScores",
    "WelchResult",
    "column_summaries",
    "difference_summaries",
    "paired_from_table",
    "paired_scores_from_filled",
    "summarize_columns",
    "summarize_differences",
    "summarize_paired_scores",
    "welch_difference",
]


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
class PairedScores:
    """One item's paired columns: ``x`` (e.g. expectation), ``y`` (perception), ``y - x``."""

    x: ColumnSummary
    y: ColumnSummary
    difference: DifferenceSummary


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


# ----------------------------------------------------------------------------- from moments


def column_summaries(st: Moments) -> list[ColumnSummary]:
    """:class:`ColumnSummary` per column from :func:`analysis.moments.moments`-style arrays."""
    out: list[ColumnSummary] = []
    for j in range(len(st.n)):
        nj = int(st.n[j])
        out.append(ColumnSummary(
            n=nj, mean=finite(st.mean[j]) if nj else None, sd=finite(st.sd[j]), se=finite(st.se[j]),
            ci_low=finite(st.ci_low[j]), ci_high=finite(st.ci_high[j]),
            note=column_note(nj, bool(st.constant[j])),
        ))
    return out


def difference_summaries(ds: Moments, wilcoxons: Sequence[WilcoxonResult]) -> list[DifferenceSummary]:
    """:class:`DifferenceSummary` per column from moments of the differences.

    Notes
    -----
    Paired t-test :math:`t = \\bar d/SE` on :math:`n-1` df, two-sided
    :math:`p = 2P(T_{n-1}\\ge|t|)` (Student 1908) and Cohen's :math:`d_z = \\bar d/s_d`
    (Cohen 1988, eq. 2.3.5), all ``None`` below two answers or for zero variance.
    """
    n, mean, sd, se = ds.n, ds.mean, ds.sd, ds.se
    with np.errstate(invalid="ignore", divide="ignore"):
        t = mean / se
        p = 2.0 * special.stdtr(np.maximum(n - 1, 1), -np.abs(t))
        dz = mean / sd
    ok = (n >= 2) & ~ds.constant
    out: list[DifferenceSummary] = []
    for j, w in enumerate(wilcoxons):
        nj = int(n[j])
        okj = bool(ok[j])
        out.append(DifferenceSummary(
            n=nj, mean=finite(mean[j]) if nj else None, sd=finite(sd[j]), se=finite(se[j]),
            ci_low=finite(ds.ci_low[j]), ci_high=finite(ds.ci_high[j]),
            t_statistic=finite(t[j]) if okj else None, t_p=finite(p[j]) if okj else None,
            d_z=finite(dz[j]) if okj else None, wilcoxon=w,
            note=edge_note(nj, bool(ds.constant[j])),
        ))
    return out


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
    check_confidence(confidence)
    return tuple(column_summaries(moments(as_matrix(x, "x"), confidence)))


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
    * Wilcoxon signed-rank p-value, see :func:`analysis.nonparametric.wilcoxon_signed_rank`.

    The gap score :math:`P - E` follows Parasuraman, Zeithaml & Berry (1988),
    *Journal of Retailing* 64(1), 12-40.
    """
    check_confidence(confidence)
    a = as_matrix(d, "d")
    st = moments(a, confidence)
    if wilcoxon:
        cols = np.ascontiguousarray(a.T)
        tests = [wilcoxon_signed_rank(cols[j]) for j in range(a.shape[1])]
    else:
        tests = [NO_TEST] * a.shape[1]
    return tuple(difference_summaries(st, tests))


# ----------------------------------------------------------------------------- paired Likert columns


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
    as in :func:`summarize_differences` and
    :func:`analysis.nonparametric.wilcoxon_signed_rank` (Parasuraman, Zeithaml & Berry
    1988, *Journal of Retailing* 64(1), 12-40, for the gap score; Wilcoxon 1945,
    *Biometrics Bulletin* 1(6), 80-83).
    """
    a = as_matrix(x, "x")
    b = as_matrix(y, "y")
    if a.shape != b.shape:
        raise ValueError("`x` and `y` must have the same shape")
    paired = ~(np.isnan(a) | np.isnan(b))
    return paired_scores_from_filled(np.where(paired, a, 0.0), np.where(paired, b, 0.0),
                                     points=points, confidence=confidence)


def paired_scores_from_filled(
    fx: FloatArray, fy: FloatArray, *, points: int, confidence: float = 0.95
) -> tuple[PairedScores, ...]:
    """:func:`summarize_paired_scores` for zero-filled input (0 = pair not answered).

    ``fx`` and ``fy`` must be 0 in the same places (where either answer is missing) and
    integers ``1..points`` elsewhere; checked. Saves the report a pass over the data.
    """
    check_confidence(confidence)
    if not isinstance(points, int) or points < 2 or points > 100:  # pyright: ignore[reportUnnecessaryIsInstance]
        raise ValueError("`points` must be an integer 2..100")
    if fx.shape != fy.shape or fx.ndim != 2:
        raise ValueError("`fx` and `fy` must be 2-D arrays of the same shape")
    m = int(fx.shape[1])
    width = points + 1
    bad = ValueError(f"answers must be integers 1..{points} or NaN")
    if fx.size and (fx.min() < 0 or fy.min() < 0):
        raise bad
    # One code per answer pair, x * (points + 1) + y + column offset; an unanswered pair
    # is (0, 0). Counting the codes gives each column's joint table in one pass.
    code: FloatArray = fx * float(width)
    np.add(code, fy, out=code)
    np.add(code, (np.arange(m) * float(width * width))[None, :], out=code)
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
    return paired_from_table(hist[:, 1:, 1:].astype(float), points, confidence)


def paired_from_table(table: FloatArray, points: int, confidence: float) -> tuple[PairedScores, ...]:
    """:func:`summarize_paired_scores` from each column's joint frequency table.

    ``table[j, u, v]``: respondents answering ``(x, y) = (u + 1, v + 1)`` in column ``j``.
    """
    m = table.shape[0]
    vals = np.arange(1, points + 1, dtype=float)
    xs = moments_from_counts(vals, table.sum(axis=2), confidence)
    ys = moments_from_counts(vals, table.sum(axis=1), confidence)
    # difference frequencies: g = v - u in -(points-1)..(points-1)
    u, v = np.meshgrid(np.arange(points), np.arange(points), indexing="ij")
    onehot = np.zeros((points * points, 2 * points - 1))
    onehot[np.arange(points * points), (v - u + points - 1).ravel()] = 1.0
    gcounts = table.reshape(m, -1) @ onehot
    gvals = np.arange(-(points - 1), points, dtype=float)
    ds = moments_from_counts(gvals, gcounts, confidence)
    levels = np.arange(1, points, dtype=float)
    ws: list[WilcoxonResult] = []
    for j in range(m):
        pos = gcounts[j, points:]
        neg = gcounts[j, : points - 1][::-1]
        ws.append(wilcoxon_from_counts(levels, pos.astype(np.int64), neg.astype(np.int64)))
    diffs = difference_summaries(ds, ws)
    cx, cy = column_summaries(xs), column_summaries(ys)
    return tuple(PairedScores(x=cx[j], y=cy[j], difference=diffs[j]) for j in range(m))


# ----------------------------------------------------------------------------- independent samples


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
    check_confidence(confidence)
    x = as_vector(a, "a")
    y = as_vector(b, "b")
    x = x[~np.isnan(x)]
    y = y[~np.isnan(y)]
    na, nb = int(x.size), int(y.size)
    ma = float(x.mean()) if na else None
    mb = float(y.mean()) if nb else None
    if ma is None or mb is None or na < 2 or nb < 2:
        diff = mb - ma if ma is not None and mb is not None else None
        return WelchResult(na, nb, ma, mb, diff, None, None, None, None, None,
                           "each wave needs at least two scores for an interval")
    diff = mb - ma
    va = float(x.var(ddof=1)) / na
    vb = float(y.var(ddof=1)) / nb
    se2 = va + vb
    if se2 <= 0:
        return WelchResult(na, nb, ma, mb, diff, None, None, None, None, None,
                           "zero variance in both waves: no interval")
    se = math.sqrt(se2)
    df = se2**2 / (va**2 / (na - 1) + vb**2 / (nb - 1))
    half = float(sps.t.ppf(0.5 + confidence / 2.0, df)) * se
    t = diff / se
    p = float(2.0 * sps.t.sf(abs(t), df))
    return WelchResult(na, nb, ma, mb, diff, se, df, diff - half, diff + half, p)
