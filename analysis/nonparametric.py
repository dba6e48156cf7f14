"""The Wilcoxon signed-rank test of paired differences, from raw differences or from counts.

Zero differences are dropped (Wilcoxon's own convention); tied absolute differences get
average ranks; the result is ``None`` when no non-zero difference remains.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special

from analysis.moments import FloatArray, IntArray, as_vector

__all__ = [
    "NO_TEST",
    "WILCOXON_EXACT_MAX_N",
    "WilcoxonResult",
    "wilcoxon_from_counts",
    "wilcoxon_of_values",
    "wilcoxon_signed_rank",
]

#: Largest number of non-zero differences for which the Wilcoxon p-value is exact.
WILCOXON_EXACT_MAX_N = 50


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


#: The result when there is nothing to test (no non-zero difference, or not asked for).
NO_TEST = WilcoxonResult(statistic=None, pvalue=None, n=0, method=None)


def _normal_p(r_plus: float, n: int, tie_sizes: FloatArray) -> float | None:
    """Two-sided normal-approximation p of R+ with the tie-corrected variance."""
    var = n * (n + 1) * (2 * n + 1) / 24.0 - float((tie_sizes**3 - tie_sizes).sum()) / 48.0
    if var <= 0:
        return None
    z = (r_plus - n * (n + 1) / 4.0) / math.sqrt(var)
    return float(min(1.0, 2.0 * float(special.ndtr(-abs(z)))))


def wilcoxon_from_counts(levels: FloatArray, pos: IntArray, neg: IntArray) -> WilcoxonResult:
    """Wilcoxon signed-rank test from counts of positive / negative differences per ``|d|`` level.

    Parameters
    ----------
    levels : ndarray
        The distinct absolute differences, sorted ascending and positive.
    pos, neg : ndarray of int
        How many differences equal ``+levels[i]`` and ``-levels[i]``.

    Returns
    -------
    WilcoxonResult

    Notes
    -----
    The tie group of level :math:`i` holds :math:`c_i = p_i + m_i` differences and
    ranks :math:`E_{i-1}+1 .. E_i` (:math:`E_i = \\sum_{j\\le i} c_j`), average rank
    :math:`E_i - (c_i - 1)/2`; :math:`R^+ = \\sum_i p_i \\bar r_i`. The p-value as in
    :func:`wilcoxon_signed_rank` (Wilcoxon 1945, *Biometrics Bulletin* 1(6), 80-83).
    """
    c = pos + neg
    keep = c > 0
    c, p_ = c[keep], pos[keep]
    n = int(c.sum())
    if n == 0:
        return NO_TEST
    ends = np.cumsum(c)
    avg_rank = ends - (c - 1) / 2.0
    r_plus = float((p_ * avg_rank).sum())
    total = n * (n + 1) / 2.0
    stat = min(r_plus, total - r_plus)
    if n <= WILCOXON_EXACT_MAX_N:
        ranks = np.repeat(avg_rank, c)
        return WilcoxonResult(stat, _exact_signed_rank_p(ranks, r_plus), n, "exact")
    return WilcoxonResult(stat, _normal_p(r_plus, n, c.astype(float)), n, "normal")


def wilcoxon_of_values(v: FloatArray, f: FloatArray) -> WilcoxonResult:
    """Wilcoxon signed-rank test of a sample given as values ``v`` with frequencies ``f``.

    Equal ``|v|`` are ties and zeros are dropped, as in :func:`wilcoxon_signed_rank`,
    which this equals for the sample that repeats each ``v[i]`` ``f[i]`` times.
    """
    nz = v != 0
    a = np.abs(v[nz])
    levels, inv = np.unique(a, return_inverse=True)
    inv = inv.ravel()
    fz, positive = f[nz], v[nz] > 0
    pos = np.bincount(inv[positive], weights=fz[positive], minlength=levels.size)
    neg = np.bincount(inv[~positive], weights=fz[~positive], minlength=levels.size)
    return wilcoxon_from_counts(levels, np.rint(pos).astype(np.int64), np.rint(neg).astype(np.int64))


def _signed_rank_levels(v: FloatArray) -> tuple[FloatArray, IntArray, IntArray] | None:
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
            pos = np.bincount(idx[v > 0], minlength=size).astype(np.int64)
            neg = np.bincount(idx[v < 0], minlength=size).astype(np.int64)
            levels = np.arange(size, dtype=float) / scale
            return levels, pos, neg
    return None


def _signed_rank_sorted(v: FloatArray) -> tuple[float, IntArray, FloatArray]:
    """R+, tie-group sizes and the average rank of every value (sort-based)."""
    a = np.abs(v)
    order = np.argsort(a, kind="stable")
    s = a[order]
    n = s.size
    cut = np.flatnonzero(np.diff(s)) + 1
    starts = np.concatenate(([0], cut))
    ends = np.concatenate((cut, [n]))
    c = (ends - starts).astype(np.int64)
    ranks_sorted = np.repeat((starts + ends + 1) / 2.0, c)
    ranks = np.empty(n)
    ranks[order] = ranks_sorted
    return float(ranks[v > 0].sum()), c, ranks


def _exact_signed_rank_p(ranks: FloatArray, r_plus: float) -> float:
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
    for step in doubled:
        r = int(step)
        dist[r : reach + r + 1] = 0.5 * dist[r : reach + r + 1] + 0.5 * dist[: reach + 1]
        dist[:r] *= 0.5
        reach += r
    obs = round(2.0 * r_plus)
    cdf = float(dist[: obs + 1].sum())
    sf = float(dist[obs:].sum())
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
    v = as_vector(d, "d")
    v = v[~np.isnan(v)]
    v = v[v != 0]
    n = int(v.size)
    if n == 0:
        return NO_TEST
    if n > WILCOXON_EXACT_MAX_N:
        counted = _signed_rank_levels(v)
        if counted is not None:
            return wilcoxon_from_counts(*counted)
    total = n * (n + 1) / 2.0
    r_plus, counts, ranks = _signed_rank_sorted(v)
    stat = min(r_plus, total - r_plus)
    if n <= WILCOXON_EXACT_MAX_N:
        return WilcoxonResult(stat, _exact_signed_rank_p(ranks, r_plus), n, "exact")
    return WilcoxonResult(stat, _normal_p(r_plus, n, counts.astype(float)), n, "normal")
