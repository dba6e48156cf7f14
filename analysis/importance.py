"""Importance: weights from a constant-sum allocation or from ratings, and the
importance-performance quadrants."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.moments import as_matrix, as_vector, finite

__all__ = ["QUADRANTS", "IPAResult", "allocation_weights", "importance_performance", "rating_weights"]


@dataclass(frozen=True, slots=True)
class IPAResult:
    """Importance-performance quadrants, crosshair at the means of the points."""

    importance_mean: float
    performance_mean: float
    quadrants: tuple[str, ...]


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
    a = as_matrix(allocation, "allocation")
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
    shares = (a.T if n == a.shape[0] else np.nan_to_num(a.T, nan=0.0)) @ inv / n
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
    a = as_matrix(ratings, "ratings")
    mask = ~np.isnan(a)
    n = mask.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(mask, a, 0.0).sum(axis=0) / n
    item_means = tuple(finite(v) if c else None for v, c in zip(means, n, strict=True))
    counts = tuple(int(c) for c in n)
    dim: list[float] = []
    for cols in groups:
        vals = [v for c in cols if (v := item_means[c]) is not None]
        if not vals:
            return None, item_means, counts
        dim.append(sum(vals) / len(vals))
    s = sum(dim)
    if s <= 0:
        return None, item_means, counts
    return tuple(v / s for v in dim), item_means, counts

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
    imp = as_vector(importance, "importance")
    perf = as_vector(performance, "performance")
    if imp.size != perf.size:
        raise ValueError("`importance` and `performance` must have the same length")
    if imp.size == 0 or np.isnan(imp).any() or np.isnan(perf).any():
        raise ValueError("importance-performance needs at least one complete point")
    mi, mp = float(imp.mean()), float(perf.mean())
    q: list[str] = []
    for i, p in zip(imp, perf, strict=True):
        if i >= mi:
            q.append(QUADRANTS[0] if p < mp else QUADRANTS[1])
        else:
            q.append(QUADRANTS[2] if p < mp else QUADRANTS[3])
    return IPAResult(mi, mp, tuple(q))
