"""Shared building blocks of the statistics modules: input checks, array types, and the
vectorised moments (n, mean, SD, SE, t-interval) of columns and of counted values.

Public within the package: :mod:`analysis.parametric`, :mod:`analysis.nonparametric`
and the score engines build on these; they are not part of the documented statistics
API (:mod:`analysis.stats`).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple, cast

import numpy as np
from numpy.typing import NDArray
from scipy import special

from analysis.wording import N_

__all__ = [
    "BoolArray",
    "FloatArray",
    "IntArray",
    "Moments",
    "as_matrix",
    "as_vector",
    "check_confidence",
    "column_note",
    "edge_note",
    "finite",
    "moments",
    "moments_from_counts",
    "moments_of_values",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


class Moments(NamedTuple):
    """Per-column arrays: answers, mean, SD, SE, t-interval and a zero-variance flag.

    ``sd``/``se`` are ``NaN`` below two answers; the interval is ``NaN`` there and for
    zero variance.
    """

    n: NDArray[Any]
    mean: FloatArray
    sd: FloatArray
    se: FloatArray
    ci_low: FloatArray
    ci_high: FloatArray
    constant: BoolArray


def as_matrix(x: object, name: str) -> FloatArray:
    """``x`` as a float (respondents x columns) matrix; a vector becomes one column."""
    a = np.asarray(x, dtype=float)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2:
        raise ValueError(f"`{name}` must be a 1-D or 2-D array (respondents x columns)")
    if np.isinf(a).any():
        raise ValueError(f"`{name}` must not contain infinite values; use NaN for missing")
    return a


def as_vector(x: object, name: str) -> FloatArray:
    """``x`` as a float vector, infinite values refused."""
    a = np.asarray(x, dtype=float)
    if a.ndim != 1:
        raise ValueError(f"`{name}` must be a 1-D array")
    if np.isinf(a).any():
        raise ValueError(f"`{name}` must not contain infinite values; use NaN for missing")
    return a


def check_confidence(confidence: float) -> None:
    """Refuse a confidence level outside (0, 1)."""
    if not 0.0 < confidence < 1.0:
        raise ValueError("`confidence` must be strictly between 0 and 1")


def finite(x: float | np.floating[Any]) -> float | None:
    """A finite NumPy (or Python) number as a Python float, anything else as ``None``.

    Every number leaving the statistics goes through here, so results hold only Python
    floats (msgspec cannot encode NumPy values).
    """
    v = float(x)
    return v if math.isfinite(v) else None


def _t_interval(n: NDArray[Any], mean: FloatArray, se: FloatArray, constant: BoolArray,
                confidence: float) -> tuple[FloatArray, FloatArray]:
    """:math:`\\bar x \\pm t_{1-(1-c)/2,\\,n-1} SE` where ``n >= 2`` and the column varies."""
    with np.errstate(invalid="ignore", divide="ignore"):
        df = np.maximum(n - 1, 1)
        half: FloatArray = special.stdtrit(df, 0.5 + confidence / 2.0) * se
        ok = (n >= 2) & ~constant
        return np.where(ok, mean - half, np.nan), np.where(ok, mean + half, np.nan)


def moments(a: FloatArray, confidence: float) -> Moments:
    """Vectorised n, mean, SD (ddof 1), SE and Student t-interval of each column, NaN ignored.

    Parameters
    ----------
    a : ndarray, shape (n_respondents, n_columns)
    confidence : float

    Returns
    -------
    Moments

    Notes
    -----
    Two passes (mean, then squared deviations) for accuracy; the interval is
    :math:`\\bar x \\pm t_{1-(1-c)/2,\\,n-1}\\, s/\\sqrt n` (Student 1908).
    """
    a = np.asfortranarray(a, dtype=np.float64)  # column reductions run along contiguous memory
    nan = np.isnan(a)
    # (numpy's overloads lose the dtype on reductions of Any-shaped arrays: hence the casts)
    if not nan.any():
        n = cast(IntArray, np.full(a.shape[1], a.shape[0], dtype=np.int64))
        mean = cast(FloatArray, a.mean(axis=0) if a.shape[0] else np.full(a.shape[1], np.nan))
        dev = a - mean
        lo = cast(FloatArray, a.min(axis=0) if a.shape[0] else np.full(a.shape[1], np.inf))
        hi = cast(FloatArray, a.max(axis=0) if a.shape[0] else np.full(a.shape[1], -np.inf))
    else:
        n = cast(IntArray, a.shape[0] - nan.sum(axis=0))
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = cast(FloatArray, np.nansum(a, axis=0) / n)
        dev = a - mean
        dev[nan] = 0.0
        with np.errstate(invalid="ignore"):
            lo = cast(FloatArray, np.fmin.reduce(a, axis=0))
            hi = cast(FloatArray, np.fmax.reduce(a, axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        var = np.einsum("ij,ij->j", dev, dev) / (n - 1)
        sd = np.sqrt(var)
        se = sd / np.sqrt(n)
        constant = (n >= 2) & (lo == hi)
    ci_low, ci_high = _t_interval(n, mean, se, constant, confidence)
    sd = np.where(n >= 2, sd, np.nan)
    se = np.where(n >= 2, se, np.nan)
    return Moments(n, mean, sd, se, ci_low, ci_high, constant)


def moments_from_counts(values: FloatArray, counts: FloatArray, confidence: float) -> Moments:
    """:func:`moments` from value counts: ``counts[j, v]`` answers of ``values[v]`` in column ``j``.

    Notes
    -----
    :math:`n_j = \\sum_v c_{jv}`, :math:`\\bar x_j = \\sum_v c_{jv} x_v / n_j`,
    :math:`s_j^2 = \\sum_v c_{jv}(x_v - \\bar x_j)^2/(n_j - 1)`: the same two-pass
    moments as :func:`moments`, from a frequency table instead of the raw answers.
    """
    n: NDArray[Any] = counts.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean: FloatArray = (counts @ values) / n
        dev = values[None, :] - mean[:, None]
        var = (counts * dev * dev).sum(axis=1) / (n - 1)
        sd = np.sqrt(var)
        se = sd / np.sqrt(n)
        distinct = (counts > 0).sum(axis=1)
        constant = (n >= 2) & (distinct == 1)
    ci_low, ci_high = _t_interval(n, mean, se, constant, confidence)
    sd = np.where(n >= 2, sd, np.nan)
    se = np.where(n >= 2, se, np.nan)
    return Moments(n, mean, sd, se, ci_low, ci_high, constant)


def moments_of_values(v: FloatArray, f: FloatArray, confidence: float) -> Moments:
    """:func:`moments` of one sample given as values ``v`` with frequencies ``f``."""
    vals, inv = np.unique(v, return_inverse=True)
    counts = cast(FloatArray, np.bincount(inv.ravel(), weights=f, minlength=vals.size))
    return moments_from_counts(vals, counts[None, :], confidence)


def edge_note(n: int, constant: bool) -> str | None:
    """Why a difference's interval or test is missing (``None`` when nothing is); English, marked for the report
    to say in its reader's language."""
    if n == 0:
        return N_("no answers (all missing or not applicable)")
    if n == 1:
        return N_("only one answer: no spread, interval or test")
    if constant:
        return N_("zero variance: every answer is the same, so the t-test and d_z are undefined")
    return None


def column_note(n: int, constant: bool) -> str | None:
    """Why a column's interval is missing (``None`` when it is not)."""
    if n == 0:
        return N_("no answers (all missing or not applicable)")
    if n == 1:
        return N_("only one answer: no spread or interval")
    if constant:
        return N_("zero variance: every answer is the same, no interval")
    return None
