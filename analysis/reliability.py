"""Internal consistency: Cronbach's alpha, corrected item-total correlations and
alpha-if-item-deleted, from raw scores or from a covariance matrix."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.moments import as_matrix, finite
from analysis.wording import N_

__all__ = ["AlphaResult", "alpha_from_covariance", "cronbach_alpha"]


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
    #: Why alpha is missing: English, ``N_``-marked for the report to say in its reader's language.
    note: str | None = None


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
    a = as_matrix(x, "x")
    k = a.shape[1]
    rows = np.isnan(a).any(axis=1)
    complete = a[~rows] if rows.any() else a
    n = int(complete.shape[0])
    none_k = (None,) * k
    if k < 2:
        return AlphaResult(None, n, k, none_k, none_k, N_("alpha needs at least two items"))
    if n < 2:
        return AlphaResult(None, n, k, none_k, none_k,
                           N_("fewer than two respondents answered every item"))
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
        return AlphaResult(None, n, k, none_k, none_k, N_("alpha needs at least two items"))
    if n < 2:
        return AlphaResult(None, n, k, none_k, none_k,
                           N_("fewer than two respondents answered every item"))
    diag = np.diag(c)
    total = float(c.sum())
    if total <= 1e-12 * max(1.0, float(np.abs(c).max())):
        return AlphaResult(None, n, k, none_k, none_k, N_("zero variance of the total score"))
    alpha = k / (k - 1) * (1.0 - diag.sum() / total)
    row = c.sum(axis=1)
    rest_var = total - 2.0 * row + diag
    with np.errstate(invalid="ignore", divide="ignore"):
        itc = (row - diag) / np.sqrt(diag * rest_var)
        aid = (k - 1) / (k - 2) * (1.0 - (diag.sum() - diag) / rest_var) if k >= 3 else np.full(k, np.nan)
    return AlphaResult(
        alpha=finite(alpha),
        n=n,
        k=k,
        item_total=tuple(finite(v) for v in itc),
        alpha_if_deleted=tuple(finite(v) for v in aid),
    )
