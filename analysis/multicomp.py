"""Multiple-comparison adjustment of p-values (Holm; Benjamini-Hochberg)."""

from __future__ import annotations

from typing import Literal

import numpy as np

__all__ = ["ADJUSTMENTS", "Adjustment", "adjust_pvalues"]

Adjustment = Literal["holm", "bh"]

#: The adjustments a report offers, by the name a candidate's reason cites.
ADJUSTMENTS: dict[str, str] = {"bh": "Benjamini–Hochberg", "holm": "Holm"}


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
    for i, v in zip(idx, res, strict=True):
        out[i] = float(v)
    return out
