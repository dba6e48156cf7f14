"""SERVQUAL score conventions: a respondent's dimension score, and the zone of tolerance."""

from __future__ import annotations

import math

import numpy as np

from analysis.moments import FloatArray, as_matrix

__all__ = ["respondent_means", "zone_of_tolerance"]


def respondent_means(x: object, groups: list[list[int]], *, min_fraction: float = 0.5) -> FloatArray:
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
    a = as_matrix(x, "x")
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
