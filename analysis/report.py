"""The gap report: answer matrices in, a JSON-ready dict of builtins out.

Used by the analyst CLI and the HTTP endpoint alike. Every number in the report was
computed from at least ``k_scores`` respondents; anything computed from fewer is
replaced by a suppressed marker ``{"suppressed": true, "reason": "fewer than k=5
responses"}`` -- never a number -- and no action candidate comes from a suppressed cell.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from analysis.matrices import AnswerMatrices
from analysis.ranking import PRIORITY_FORMULA, Cell, rank_candidates
from analysis.stats import (
    AlphaResult,
    WilcoxonResult,
    _column_summaries,
    _difference_summaries,
    _moments_from_counts,
    _paired_from_table,
    _wilcoxon_from_counts,
    ColumnSummary,
    DifferenceSummary,
    adjust_pvalues,
    alpha_from_covariance,
    allocation_weights,
    importance_performance,
    rating_weights,
    respondent_means,
    summarize_columns,
    summarize_differences,
    paired_scores_from_filled,
    welch_difference,
    zone_of_tolerance,
)
from instruments.schema import Instrument

__all__ = ["build_change_report", "build_report", "suppressed"]

ADJUSTMENTS = {"bh": "Benjamini–Hochberg", "holm": "Holm"}

GAP_DEFINITIONS = {
    "expectation-perception": "gap = perception − expectation (negative: below expectations)",
    "zone-of-tolerance": (
        "gap = MSA = perception − minimum (measure of service adequacy; negative: below the "
        "adequate level); MSS = perception − desired (measure of service superiority)"
    ),
    "perception-only": "no gap: perception-only (SERVPERF) scores",
}


def suppressed(k: int) -> dict[str, Any]:
    """The marker that stands in for any value computed from fewer than ``k`` respondents."""
    return {"suppressed": True, "reason": f"fewer than k={k} responses"}


def _is_suppressed(v: object) -> bool:
    return isinstance(v, dict) and v.get("suppressed") is True


# ----------------------------------------------------------------------------- validation


def _check(instrument: Instrument, m: AnswerMatrices, k_scores: int, adjustment: str,
           confidence: float, alpha_level: float) -> None:
    if tuple(i.key for i in instrument.items) != m.item_keys:
        raise ValueError("the answer matrices were built for a different item list")
    if tuple(d.key for d in instrument.dimensions) != m.dimension_keys:
        raise ValueError("the answer matrices were built for a different dimension list")
    if set(m.scores) != set(instrument.columns):
        raise ValueError("the answer matrices hold different columns than the format asks")
    if not isinstance(k_scores, int) or isinstance(k_scores, bool) or k_scores < 1:
        raise ValueError("`k_scores` must be an integer >= 1")
    if adjustment not in ADJUSTMENTS:
        raise ValueError("`adjustment` must be 'bh' or 'holm'")
    if not 0 < confidence < 1 or not 0 < alpha_level < 1:
        raise ValueError("`confidence` and `alpha_level` must lie strictly between 0 and 1")


# ----------------------------------------------------------------------------- pieces


def _diff_fields(s: DifferenceSummary) -> dict[str, Any]:
    return {
        "mean_gap": s.mean,
        "sd_gap": s.sd,
        "se_gap": s.se,
        "ci_low": s.ci_low,
        "ci_high": s.ci_high,
        "t": s.t_statistic,
        "t_p": s.t_p,
        "wilcoxon_p": s.wilcoxon.pvalue,
        "wilcoxon_method": s.wilcoxon.method,
        "d_z": s.d_z,
    }


def _mss_fields(s: DifferenceSummary) -> dict[str, Any]:
    return {
        "mean": s.mean, "sd": s.sd, "ci_low": s.ci_low, "ci_high": s.ci_high,
        "t_p": s.t_p, "wilcoxon_p": s.wilcoxon.pvalue, "d_z": s.d_z,
    }


def _perception_fields(s: ColumnSummary) -> dict[str, Any]:
    return {
        "mean_perception": s.mean,
        "sd_perception": s.sd,
        "perception_ci_low": s.ci_low,
        "perception_ci_high": s.ci_high,
    }


def _score_fields(columns: tuple[str, ...], summaries: dict[str, ColumnSummary], gap: DifferenceSummary | None,
                  p_holm: float | None, p_bh: float | None, mss: DifferenceSummary | None) -> dict[str, Any]:
    """The score fields of one item or dimension row: column means, perception with its
    interval, then the gap (or, perception-only, the perception interval as the row's)."""
    row: dict[str, Any] = {f"mean_{c}": summaries[c].mean for c in columns if c != "perception"}
    row |= _perception_fields(summaries["perception"])
    if gap is None:
        return row | {"ci_low": row["perception_ci_low"], "ci_high": row["perception_ci_high"]}
    row |= _diff_fields(gap) | {"p_holm": p_holm, "p_bh": p_bh}
    if mss is not None:
        row["mss"] = _mss_fields(mss)
        row["zone"] = zone_of_tolerance((gap.ci_low, gap.ci_high), (mss.ci_low, mss.ci_high))
    return row


def _alpha_block(res: AlphaResult, keys: tuple[str, ...], k: int) -> dict[str, Any]:
    if res.n < k:
        return {"n": suppressed(k), "alpha": suppressed(k), "items": suppressed(k)}
    return {
        "n": res.n,
        "alpha": res.alpha,
        "note": res.note,
        "items": [
            {"key": key, "item_total": it, "alpha_if_deleted": aid}
            for key, it, aid in zip(keys, res.item_total, res.alpha_if_deleted)
        ],
    }


def _count(c: int, k: int) -> int | dict[str, Any]:
    return suppressed(k) if 0 < c < k else int(c)


class _Scores:
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
        missing = None
        for v in self.nan.values():
            missing = v.copy() if missing is None else (missing | v)
        self.used = ~missing  # type: ignore[operator]
        self.all_used = not bool(missing.any())  # type: ignore[union-attr]
        self.filled = {
            c: v if self.all_used else np.where(self.used, v, 0.0) for c, v in self.raw.items()
        }
        self.reference = {"expectation-perception": "expectation",
                          "zone-of-tolerance": "minimum"}.get(self.format)

    def masked(self, c: str) -> np.ndarray:
        v = self.raw[c]
        return v if self.all_used else np.where(self.used, v, np.nan)


def _dimension_scores(sc: _Scores, groups: list[list[int]], min_fraction: float):
    """Per-respondent dimension means of each column and of the gap(s), NaN if too few items.

    A respondent's dimension score is the mean over the dimension's items they answered
    (all columns of an item), if at least ``min_fraction`` of the items; see
    :func:`analysis.stats.respondent_means`, which this computes with one matrix product
    per column.
    """
    k = sc.used.shape[1]
    member = np.zeros((k, len(groups)))
    need = np.empty(len(groups))
    for g, cols in enumerate(groups):
        member[cols, g] = 1.0
        need[g] = max(math.ceil(min_fraction * len(cols) - 1e-12), 1)
    # products as (groups x respondents) then transposed: column-major results, which
    # the per-dimension statistics reduce fastest
    if sc.all_used:
        cnt = np.asfortranarray(np.broadcast_to(member.sum(axis=0),
                                                (sc.used.shape[0], len(groups))))
    else:
        cnt = (member.T @ sc.used.T.astype(float)).T
    sums = {c: (member.T @ v.T).T for c, v in sc.filled.items()}
    short = cnt < need
    with np.errstate(invalid="ignore", divide="ignore"):
        means = {c: v / cnt for c, v in sums.items()}
        gaps = {}
        if sc.reference is not None:
            gaps["gap"] = (sums["perception"] - sums[sc.reference]) / cnt
        if sc.format == "zone-of-tolerance":
            gaps["mss"] = (sums["perception"] - sums["desired"]) / cnt
    for v in list(means.values()) + list(gaps.values()):
        v[short] = np.nan
    return cnt, means, gaps


class _CrossProducts:
    """Sums and cross-products of the zero-filled columns over all respondents.

    For Likert answers every entry is an integer, so the sums are exact and the
    covariance of any respondent subset follows without cancellation trouble.
    """

    def __init__(self, sc: _Scores):
        self.names = list(sc.columns)
        self.filled = sc.filled
        self.sum = {c: sc.filled[c].sum(axis=0) for c in self.names}
        self.cross = {
            (a, b): sc.filled[a].T @ sc.filled[b]
            for i, a in enumerate(self.names) for b in self.names[i:]
        }

    def covariance(self, cols: list[int], complete: np.ndarray):
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


def _dimension_alphas(sc: _Scores, xp: _CrossProducts, complete: np.ndarray,
                      cols: list[int]) -> dict[str, AlphaResult]:
    """Listwise Cronbach's alpha of each column and of the gap(s) for one dimension.

    All columns share the complete rows (an item counts as answered only with all its
    columns), so one covariance matrix of the stacked columns gives every alpha.
    """
    names = xp.names
    cz, n = xp.covariance(cols, complete)
    m = len(cols)

    def block(a: str, b: str) -> np.ndarray:
        i, j = names.index(a), names.index(b)
        return cz[i * m:(i + 1) * m, j * m:(j + 1) * m]

    out = {c: alpha_from_covariance(block(c, c), n) for c in names}
    if sc.reference is not None:
        r = sc.reference
        cg = block("perception", "perception") - block("perception", r) \
            - block(r, "perception") + block(r, r)
        out["gap"] = alpha_from_covariance(cg, n)
    return out


# ----------------------------------------------------------------------------- fast path

#: Largest scale for the integer-code path (pair codes must fit a byte).
_FAST_MAX_POINTS = 11
#: Largest per-dimension joint table (sum E, sum P, items answered) the fast path builds.
_FAST_MAX_BINS = 1 << 23


def _codes(raw: np.ndarray, points: int):
    """Item-major byte codes of one answer matrix: ``(k, n)`` uint8, the answer or 0 for NaN.

    Returns ``(codes, n_nan)``, or ``None`` when any non-NaN value is not an integer
    ``1..points`` (the general path then handles -- and rejects -- it as before). Exact:
    NaN cells are exactly the 0 codes and every other cell equals its code.
    """
    if not isinstance(raw, np.ndarray) or raw.dtype != np.float64 or raw.ndim != 2:
        return None
    n, k = raw.shape
    t = np.empty((k, n), np.uint8)
    with np.errstate(invalid="ignore", over="ignore"):
        np.fmax(raw, 0.0, out=t.T, casting="unsafe")  # NaN -> 0
    size = n * k
    n_nan = int(np.count_nonzero(np.isnan(raw)))
    if size and (size - int(np.count_nonzero(t)) != n_nan or int(t.max()) > points
                 or int(np.count_nonzero(raw == t.T)) != size - n_nan):
        return None
    return t, n_nan


class _Fast:
    """Expectation-perception statistics from small-integer answer codes.

    Answers are integers 1..points, so every item statistic follows from each item's
    joint (E, P) frequency table, every dimension statistic from each dimension's joint
    table of (sum of E, sum of P, items answered) per respondent, and every alpha from
    exact integer cross-products: one counting pass over bytes instead of repeated
    float passes (NaN filling, masking, copies) over the full matrices.
    """

    @classmethod
    def build(cls, instrument: Instrument, m: AnswerMatrices, groups: list[list[int]],
              min_fraction: float):
        points = instrument.scale.points
        if instrument.format != "expectation-perception" or points > _FAST_MAX_POINTS:
            return None
        ce = _codes(m.scores["expectation"], points)
        if ce is None:
            return None
        cp = _codes(m.scores["perception"], points)
        if cp is None or ce[0].shape != cp[0].shape:
            return None
        for cols in groups:
            r = points * len(cols) + 1
            if r * r * (len(cols) + 1) > _FAST_MAX_BINS:
                return None
        return cls(points, ce, cp, groups, min_fraction)

    def __init__(self, points, ce, cp, groups, min_fraction):
        te, self.nan_e = ce
        tp, self.nan_p = cp
        self.points = points
        k, n = te.shape
        self.n = n
        used = (te > 0) & (tp > 0)
        u8 = used.view(np.uint8)
        te = te * u8  # answers of items whose pair is complete, else 0
        tp = tp * u8
        self.te, self.tp, self.u8 = te, tp, u8
        # ---- item joint tables: two items per bincount (code < 144**2)
        w = points + 1
        pc = te * np.uint8(w)
        pc += tp  # pair code u * w + v, 0 = pair not answered
        hist = np.empty((k, w * w), dtype=np.int64)
        ww = w * w
        for j in range(0, k - 1, 2):
            code = pc[j].astype(np.intp) * ww
            code += pc[j + 1]
            h = np.bincount(code, minlength=ww * ww).reshape(ww, ww)
            hist[j] = h.sum(axis=1)
            hist[j + 1] = h.sum(axis=0)
        if k % 2:
            hist[k - 1] = np.bincount(pc[k - 1], minlength=ww)
        self.table = hist.reshape(k, w, w)[:, 1:, 1:].astype(float)
        self.used_n = self.table.sum(axis=(1, 2)).astype(np.int64)
        # ---- dimensions: joint table of (sum E, sum P, items answered) per respondent
        self.dims = []
        for cols in groups:
            md = len(cols)
            need = max(math.ceil(min_fraction * md - 1e-12), 1)
            cnt = u8[cols].sum(axis=0, dtype=np.int32)
            se_ = te[cols].sum(axis=0, dtype=np.int32)
            sp_ = tp[cols].sum(axis=0, dtype=np.int32)
            r = points * md + 1
            key = se_ * r
            key += sp_
            key *= md + 1
            key += cnt
            h3 = np.bincount(key, minlength=r * r * (md + 1)).reshape(r, r, md + 1)
            a, b, c = np.nonzero(h3)
            f = h3[a, b, c].astype(float)
            keep = c >= need
            self.dims.append((cols, cnt, a[keep], b[keep], c[keep], f[keep]))

    # ---- items
    def item_scores(self, confidence: float):
        return _paired_from_table(self.table, self.points, confidence)

    # ---- dimensions
    def dimension_summaries(self, confidence: float):
        """ColumnSummary of E and P dimension scores and DifferenceSummary of the gap."""
        out_e, out_p, gaps = [], [], []
        for _cols, _cnt, a, b, c, f in self.dims:
            cf = c.astype(float)
            out_e.append(_column_summaries(_moments_of_values(a / cf, f, confidence))[0])
            out_p.append(_column_summaries(_moments_of_values(b / cf, f, confidence))[0])
            g = (b - a) / cf
            ds = _moments_of_values(g, f, confidence)
            gaps.append(_difference_summaries(ds, [_wilcoxon_of_values(g, f)])[0])
        return {"expectation": tuple(out_e), "perception": tuple(out_p)}, tuple(gaps)

    def dimension_alphas(self, d: int) -> dict[str, AlphaResult]:
        """Listwise alpha of E, P and the gap for dimension ``d``, from exact integer
        cross-products of the respondents who answered every item of it."""
        cols, cnt, *_ = self.dims[d]
        md = len(cols)
        complete = cnt == md
        n = int(np.count_nonzero(complete))
        exact32 = self.points * self.points * max(self.n, 1) < 2**24
        # rows: E items, P items, then a row of ones (its products are the column sums)
        z = np.empty((2 * md + 1, self.n), np.float32 if exact32 else np.float64)
        z[:md] = self.te[cols]
        z[md:2 * md] = self.tp[cols]
        z[2 * md] = 1.0
        drop = np.flatnonzero(~complete)
        if drop.size * 2 > self.n:
            z = z[:, complete]
            drop = drop[:0]
        full = (z @ z.T).astype(np.float64)
        if drop.size:
            zd = z[:, drop].astype(np.float64)
            full -= zd @ zd.T
        gram = full[:2 * md, :2 * md]
        sums = full[2 * md, :2 * md]
        if n < 2:
            cz = np.zeros_like(gram)
        else:
            cz = (gram - np.outer(sums, sums) / n) / (n - 1)
        cee, cep = cz[:md, :md], cz[:md, md:]
        cpe, cpp = cz[md:, :md], cz[md:, md:]
        return {
            "expectation": alpha_from_covariance(cee, n),
            "perception": alpha_from_covariance(cpp, n),
            "gap": alpha_from_covariance(cpp - cpe - cep + cee, n),
        }


def _moments_of_values(v: np.ndarray, f: np.ndarray, confidence: float):
    """:func:`analysis.stats._moments` of a sample given as values ``v`` with counts ``f``."""
    vals, inv = np.unique(v, return_inverse=True)
    counts = np.bincount(inv.ravel(), weights=f, minlength=vals.size)
    return _moments_from_counts(vals, counts[None, :], confidence)


def _wilcoxon_of_values(v: np.ndarray, f: np.ndarray) -> WilcoxonResult:
    """Wilcoxon signed-rank test of a sample given as values ``v`` with counts ``f``
    (equal |v| are ties; zeros dropped), as :func:`analysis.stats.wilcoxon_signed_rank`."""
    nz = v != 0
    a = np.abs(v[nz])
    levels, inv = np.unique(a, return_inverse=True)
    inv = inv.ravel()
    fz, pos_ = f[nz], v[nz] > 0
    pos = np.bincount(inv[pos_], weights=fz[pos_], minlength=levels.size)
    neg = np.bincount(inv[~pos_], weights=fz[~pos_], minlength=levels.size)
    return _wilcoxon_from_counts(levels, np.rint(pos).astype(np.int64),
                                 np.rint(neg).astype(np.int64))


# ----------------------------------------------------------------------------- builder


def build_report(
    instrument: Instrument,
    matrices: AnswerMatrices,
    *,
    k_scores: int = 5,
    adjustment: str = "bh",
    confidence: float = 0.95,
    alpha_level: float = 0.05,
    min_item_fraction: float = 0.5,
) -> dict[str, Any]:
    """Build the gap report of one wave: items, dimensions, overall scores, candidates.

    Parameters
    ----------
    instrument : Instrument
        The instrument the matrices were built for.
    matrices : AnswerMatrices
        From :func:`analysis.matrices.matrices_from_answers` or ``matrices_from_csv``.
    k_scores : int
        Anonymity threshold: any cell computed from fewer respondents is suppressed.
    adjustment : {"bh", "holm"}
        Multiple-comparison adjustment that decides which gaps become candidates
        (both adjusted p-values are reported either way).
    confidence : float
        Level of every interval.
    alpha_level : float
        Significance level applied to the adjusted p-values.
    min_item_fraction : float
        A respondent's dimension score needs at least this fraction of its items.

    Returns
    -------
    dict
        JSON-ready builtins (no NumPy values): ``instrument``, ``format``,
        ``gap_definition``, ``k_scores``, ``n``, ``items``, ``dimensions``, ``overall``,
        ``importance``, ``ipa``, ``candidates``, ``priority_formula``, ``adjustment``,
        ``missing_data``, ``notes``.

    Notes
    -----
    Gap scores after Parasuraman, Zeithaml & Berry (1988), *Journal of Retailing* 64(1),
    12-40 and Parasuraman, Berry & Zeithaml (1991), *Journal of Retailing* 67(4),
    420-450; the perceptions-only score is reported beside every gap (Cronin & Taylor
    1992, *Journal of Marketing* 56(3), 55-68; Brown, Churchill & Peter 1993, *Journal of
    Retailing* 69(1), 127-139, on the reliability of difference scores). Candidate
    priority: see :data:`analysis.ranking.PRIORITY_FORMULA`.
    """
    _check(instrument, matrices, k_scores, adjustment, confidence, alpha_level)
    k = k_scores
    n_total = matrices.n
    dims = instrument.dimensions
    items = instrument.items
    groups = [[j for j, it in enumerate(items) if it.dimension == d.key] for d in dims]
    has_gap = instrument.format != "perception-only"
    adj_name = ADJUSTMENTS[adjustment]
    base: dict[str, Any] = {
        "instrument": {"id": instrument.id, "version": instrument.version,
                       "title": instrument.title},
        "format": instrument.format,
        "gap_definition": GAP_DEFINITIONS[instrument.format],
        "k_scores": k,
        "confidence": confidence,
        "alpha_level": alpha_level,
        "adjustment": adjustment,
        "priority_formula": PRIORITY_FORMULA if has_gap else None,
    }
    if n_total < k:
        return base | {
            "n": suppressed(k),
            "suppressed": True,
            "items": [{"key": it.key, "dimension": it.dimension} | suppressed(k) for it in items],
            "dimensions": [{"key": d.key, "title": d.title} | suppressed(k) for d in dims],
            "overall": suppressed(k),
            "importance": suppressed(k),
            "ipa": None,
            "candidates": [],
            "missing_data": {"statement": suppressed(k)["reason"]},
            "notes": ["the whole report is suppressed: fewer than k respondents"],
        }

    fast = _Fast.build(instrument, matrices, groups, min_item_fraction)
    sc = _Scores(instrument, matrices) if fast is None else None
    notes: list[str] = []
    points = instrument.scale.points

    # ---- items -------------------------------------------------------------------------
    # col_summ[c][j]: ColumnSummary of column c, gap_summ / mss_summ: DifferenceSummary
    col_summ: dict[str, tuple[ColumnSummary, ...]] = {}
    gap_summ = mss_summ = None
    if fast is not None:
        ps = fast.item_scores(confidence)
        col_summ = {"expectation": tuple(p.x for p in ps), "perception": tuple(p.y for p in ps)}
        gap_summ = tuple(p.difference for p in ps)
    elif sc.format == "expectation-perception":
        ps = paired_scores_from_filled(sc.filled["expectation"], sc.filled["perception"],
                                       points=points, confidence=confidence)
        col_summ = {"expectation": tuple(p.x for p in ps), "perception": tuple(p.y for p in ps)}
        gap_summ = tuple(p.difference for p in ps)
    elif sc.format == "zone-of-tolerance":
        pm = paired_scores_from_filled(sc.filled["minimum"], sc.filled["perception"],
                                       points=points, confidence=confidence)
        pd_ = paired_scores_from_filled(sc.filled["desired"], sc.filled["perception"],
                                        points=points, confidence=confidence)
        col_summ = {"minimum": tuple(p.x for p in pm), "desired": tuple(p.x for p in pd_),
                    "perception": tuple(p.y for p in pm)}
        gap_summ = tuple(p.difference for p in pm)
        mss_summ = tuple(p.difference for p in pd_)
    else:
        col_summ = {"perception": summarize_columns(sc.raw["perception"],
                                                    confidence=confidence)}
    item_n = [s.n for s in col_summ["perception"]]
    item_ok = [n >= k for n in item_n]

    item_p = [
        gap_summ[j].t_p if (gap_summ is not None and item_ok[j]) else None
        for j in range(len(items))
    ]
    p_holm = adjust_pvalues(item_p, "holm")
    p_bh = adjust_pvalues(item_p, "bh")

    # ---- importance --------------------------------------------------------------------
    imp_block, dim_w, item_w, item_imp_mean = _importance(instrument, matrices, groups, k)
    if dim_w is None:
        eq = 1.0 / len(dims)
        weights_for_rank = [eq] * len(dims)
        item_w_rank = [eq] * len(items)
        if has_gap:
            notes.append("no usable importance data: candidates are ranked with equal weights")
    else:
        weights_for_rank = list(dim_w)
        item_w_rank = list(item_w)  # type: ignore[arg-type]

    item_rows: list[dict[str, Any]] = []
    item_cells: list[Cell] = []
    for j, it in enumerate(items):
        head = {"key": it.key, "dimension": it.dimension}
        if not item_ok[j]:
            item_rows.append(head | suppressed(k))
            continue
        g = gap_summ[j] if gap_summ is not None else None
        row: dict[str, Any] = head | {"n": int(item_n[j])} | _score_fields(
            instrument.columns, {c: col_summ[c][j] for c in instrument.columns}, g,
            p_holm[j] if g is not None else None, p_bh[j] if g is not None else None, mss_summ[j] if mss_summ is not None else None,
        )
        if g is not None:
            row["note"] = g.note
            item_cells.append(_cell("item", it.key, it.dimension, g, row,
                                    p_bh[j] if adjustment == "bh" else p_holm[j],
                                    item_w_rank[j]))
        else:
            row["note"] = col_summ["perception"][j].note
        row["importance_mean"] = item_imp_mean[j] if item_imp_mean is not None else None
        item_rows.append(row)

    # ---- dimensions --------------------------------------------------------------------
    if fast is not None:
        dcol_summ, dgap_summ = fast.dimension_summaries(confidence)
        dmss_summ = None
    else:
        cnt, dim_cols, dim_gaps = _dimension_scores(sc, groups, min_item_fraction)
        dcol_summ = {c: summarize_columns(v, confidence=confidence)
                     for c, v in dim_cols.items()}
        dgap_summ = (summarize_differences(dim_gaps["gap"], confidence=confidence)
                     if "gap" in dim_gaps else None)
        dmss_summ = (summarize_differences(dim_gaps["mss"], confidence=confidence)
                     if "mss" in dim_gaps else None)
    dim_n = [s.n for s in dcol_summ["perception"]]
    dim_ok = [n >= k for n in dim_n]
    dim_p = [dgap_summ[d].t_p if dgap_summ is not None and dim_ok[d] else None
             for d in range(len(dims))]
    dp_holm = adjust_pvalues(dim_p, "holm")
    dp_bh = adjust_pvalues(dim_p, "bh")

    xprod = _CrossProducts(sc) if fast is None else None
    dim_rows: list[dict[str, Any]] = []
    dim_cells: list[Cell] = []
    for d, dim in enumerate(dims):
        head = {"key": dim.key, "title": dim.title}
        if not dim_ok[d]:
            dim_rows.append(head | suppressed(k))
            continue
        cols = groups[d]
        keys = tuple(items[j].key for j in cols)
        g = dgap_summ[d] if dgap_summ is not None else None
        row = head | {"n": dim_n[d], "items": list(keys)} | _score_fields(
            instrument.columns, {c: dcol_summ[c][d] for c in instrument.columns}, g,
            dp_holm[d] if g is not None else None, dp_bh[d] if g is not None else None, dmss_summ[d] if dmss_summ is not None else None,
        )
        if fast is not None:
            alphas = fast.dimension_alphas(d)
        else:
            complete = cnt[:, d] >= len(cols) - 0.5
            alphas = _dimension_alphas(sc, xprod, complete, cols)
        reliability = {}
        for name, res in alphas.items():
            block = _alpha_block(res, keys, k)
            reliability[name] = block
            row[f"alpha_{name}"] = block["alpha"]
        row["reliability"] = reliability
        row["importance_weight"] = (
            imp_block["weights"][dim.key] if isinstance(imp_block, dict)
            and isinstance(imp_block.get("weights"), dict) else None
        )
        if dgap_summ is not None:
            row["note"] = dgap_summ[d].note
            dim_cells.append(_cell("dimension", dim.key, dim.key, dgap_summ[d], row,
                                   dp_bh[d] if adjustment == "bh" else dp_holm[d],
                                   weights_for_rank[d], title=dim.title))
        dim_rows.append(row)

    # ---- overall -----------------------------------------------------------------------
    overall = _overall(dim_rows, dim_w, has_gap, k)

    # ---- importance-performance --------------------------------------------------------
    ipa = _ipa(instrument, item_rows, dim_rows, item_imp_mean, dim_w)

    # ---- candidates --------------------------------------------------------------------
    titles = {d.key: d.title for d in dims}
    candidates = []
    if has_gap:
        candidates = rank_candidates(
            dim_cells, alpha_level=alpha_level, adjustment_name=adj_name,
            importance_known=dim_w is not None, dimension_titles=titles,
        ) + rank_candidates(
            item_cells, alpha_level=alpha_level, adjustment_name=adj_name,
            importance_known=dim_w is not None, dimension_titles=titles,
        )
    else:
        notes.append("perception-only format: no gap, so no action candidates "
                     "(see the importance-performance analysis)")

    return base | {
        "n": n_total,
        "suppressed": False,
        "items": item_rows,
        "dimensions": dim_rows,
        "overall": overall,
        "importance": imp_block,
        "ipa": ipa,
        "candidates": candidates,
        "missing_data": _missing(
            instrument, matrices,
            {c: int(v.sum()) for c, v in sc.nan.items()} if fast is None
            else {"expectation": fast.nan_e, "perception": fast.nan_p},
            sc.used.sum(axis=0) if fast is None else fast.used_n,
            item_ok, k, min_item_fraction),
        "notes": notes,
    }


def _cell(level: str, key: str, dimension: str, g: DifferenceSummary, row: dict,
          p_adj: float | None, weight: float, title: str | None = None) -> Cell:
    return Cell(
        level=level, key=key, dimension=dimension, title=title,
        mean_gap=g.mean, ci_low=g.ci_low, ci_high=g.ci_high, p_adjusted=p_adj,
        weight=weight,
        mean_perception=row.get("mean_perception"),
        perception_ci_low=row.get("perception_ci_low"),
        perception_ci_high=row.get("perception_ci_high"),
        mean_reference=row.get("mean_expectation", row.get("mean_minimum")),
        reference_name="expectation" if "mean_expectation" in row else "minimum",
    )


def _importance(instrument: Instrument, m: AnswerMatrices, groups: list[list[int]], k: int):
    """Importance block, dimension weights, item weights and item mean ratings."""
    imp = instrument.importance
    if imp is None or m.importance is None:
        return None, None, None, None
    dims = instrument.dimensions
    if imp.kind == "allocation":
        w, n = allocation_weights(m.importance)
        if n < k or w is None:
            return ({"kind": "allocation", "n": _count(n, k), "weights": suppressed(k)
                     if n else None}, None, None, None)
        item_w = [w[next(d for d, g in enumerate(groups) if j in g)]
                  for j in range(len(instrument.items))]
        block = {
            "kind": "allocation", "n": n, "total": imp.total,
            "weights": {d.key: wd for d, wd in zip(dims, w)},
            "mean_points": {d.key: wd * imp.total for d, wd in zip(dims, w)},
            "source": "mean share of each respondent's allocation (complete allocations only)",
        }
        return block, w, item_w, None
    ratings = m.importance.copy()
    counts = (~np.isnan(ratings)).sum(axis=0)
    ratings[:, counts < k] = np.nan  # a rating mean from fewer than k is never used
    w, means, _ = rating_weights(ratings, groups)
    item_means = [v if c >= k else None for v, c in zip(means, counts)]
    if w is None:
        return ({"kind": "rating", "weights": None,
                 "note": "a dimension has no item rated by at least k respondents"},
                None, None, item_means)
    item_w: list[float] = []
    for j in range(len(instrument.items)):
        d = next(d for d, g in enumerate(groups) if j in g)
        dim_mean = [means[c] for c in groups[d] if item_means[c] is not None]
        md = sum(dim_mean) / len(dim_mean)
        item_w.append(w[d] * (item_means[j] / md if item_means[j] is not None else 1.0))
    block = {
        "kind": "rating",
        "weights": {d.key: wd for d, wd in zip(dims, w)},
        "item_means": {it.key: (v if v is not None else suppressed(k))
                       for it, v in zip(instrument.items, item_means)},
        "source": "dimension weight = mean of its items' mean ratings / sum over dimensions; "
                  "item weight = dimension weight x item mean rating / dimension mean rating",
    }
    return block, w, item_w, item_means


def _overall(dim_rows: list[dict], w: tuple[float, ...] | None, has_gap: bool, k: int):
    if any(_is_suppressed(r) or r.get("suppressed") for r in dim_rows):
        # the overall mean of dimension means would give away the suppressed one
        return {"unweighted": suppressed(k), "weighted": suppressed(k),
                "perception_unweighted": suppressed(k), "perception_weighted": suppressed(k),
                "note": "a dimension is suppressed, so the overall scores are too"}

    def combine(field: str, weights: list[float]) -> float | None:
        vals = [r.get(field) for r in dim_rows]
        if any(v is None for v in vals):
            return None
        return float(sum(wi * v for wi, v in zip(weights, vals)))  # type: ignore[misc]

    eq = [1.0 / len(dim_rows)] * len(dim_rows)
    out: dict[str, Any] = {
        "unweighted": combine("mean_gap", eq) if has_gap else None,
        "weighted": combine("mean_gap", list(w)) if has_gap and w is not None else None,
        "perception_unweighted": combine("mean_perception", eq),
        "perception_weighted": combine("mean_perception", list(w)) if w is not None else None,
        "formula": "unweighted = mean of the dimension mean gaps; weighted = sum over "
                   "dimensions of importance weight x dimension mean gap (weights sum to 1)",
    }
    return out


def _ipa(instrument: Instrument, item_rows, dim_rows, item_imp_mean, dim_w):
    """Importance-performance points: items (rated importance) or dimensions (allocation)."""
    points = []
    if item_imp_mean is not None:
        level = "item"
        for row in item_rows:
            if row.get("suppressed") or row.get("importance_mean") is None:
                continue
            if row.get("mean_perception") is None:
                continue
            points.append((row["key"], row["importance_mean"], row["mean_perception"]))
    elif dim_w is not None:
        level = "dimension"
        for row, w in zip(dim_rows, dim_w):
            if row.get("suppressed") or row.get("mean_perception") is None:
                continue
            points.append((row["key"], w, row["mean_perception"]))
    else:
        return None
    if len(points) < 2:
        return None
    res = importance_performance([p[1] for p in points], [p[2] for p in points])
    return {
        "level": level,
        "importance_scale": "mean rating" if level == "item" else "weight (share of points)",
        "performance": "mean perception",
        "importance_mean": res.importance_mean,
        "performance_mean": res.performance_mean,
        "points": [
            {"key": key, "importance": i, "performance": p, "quadrant": q}
            for (key, i, p), q in zip(points, res.quadrants)
        ],
    }


def _missing(instrument: Instrument, m: AnswerMatrices, nan_counts: dict[str, int],
             used_n: np.ndarray, item_ok, k: int, min_fraction: float) -> dict[str, Any]:
    cols = instrument.columns
    statement = (
        "Missing and not-applicable answers are left out, never imputed. Items: pairwise -- "
        f"each item uses the respondents who answered all of its columns ({', '.join(cols)}), "
        "so n can differ between items. Dimensions: a respondent's score is the mean over "
        f"the dimension's items they answered, if at least {min_fraction:.0%} of them. "
        "Cronbach's alpha: listwise -- only respondents who answered every item of the "
        "dimension. Importance weights: complete allocations (or, for ratings, each item's "
        f"ratings). Counts below k={k} are suppressed."
    )
    per_column = {}
    for c in cols:
        n_na = int(np.count_nonzero(m.not_applicable[c]))
        n_nan = nan_counts[c]
        per_column[c] = {"missing": _count(n_nan - n_na, k),
                         "not_applicable": _count(n_na, k)}
    n = m.n
    per_item = []
    for j, it in enumerate(instrument.items):
        if item_ok[j]:
            per_item.append({"key": it.key, "n_used": int(used_n[j]),
                             "n_excluded": int(n - used_n[j])})
        else:
            per_item.append({"key": it.key} | suppressed(k))
    return {"statement": statement, "answers_left_out": per_column, "items": per_item}


# ----------------------------------------------------------------------------- waves


def build_change_report(
    instrument: Instrument,
    before: AnswerMatrices,
    after: AnswerMatrices,
    *,
    k_scores: int = 5,
    confidence: float = 0.95,
    min_item_fraction: float = 0.5,
) -> dict[str, Any]:
    """Change of each item and dimension score between two waves of one instrument.

    Parameters
    ----------
    instrument : Instrument
    before, after : AnswerMatrices
        The earlier and the later wave.
    k_scores : int
        A cell is suppressed when either wave has fewer respondents in it.
    confidence : float

    Returns
    -------
    dict
        ``{"score", "items": [...], "dimensions": [...], "method"}``; each entry has
        ``n_before``, ``n_after``, ``mean_before``, ``mean_after``, ``difference``
        (after - before), ``ci_low``, ``ci_high``, ``df``, ``t_p``.

    Notes
    -----
    The score is the gap (P - E, or MSA in the zone-of-tolerance format) or, for
    perception-only instruments, the perception. Respondents of two waves cannot be
    linked (by design), so the waves are independent samples and the interval is
    Welch's (Welch 1947, *Biometrika* 34, 28-35), see
    :func:`analysis.stats.welch_difference`.
    """
    for m in (before, after):
        _check(instrument, m, k_scores, "bh", confidence, 0.05)
    k = k_scores
    groups = [[j for j, it in enumerate(instrument.items) if it.dimension == d.key]
              for d in instrument.dimensions]

    def score(m: AnswerMatrices) -> np.ndarray:
        sc = _Scores(instrument, m)
        if sc.reference is None:
            return sc.masked("perception")
        return sc.masked("perception") - sc.masked(sc.reference)

    sb, sa = score(before), score(after)
    db = respondent_means(sb, groups, min_fraction=min_item_fraction)
    da = respondent_means(sa, groups, min_fraction=min_item_fraction)

    def entries(xb: np.ndarray, xa: np.ndarray, keys: list[dict]) -> list[dict]:
        out = []
        for j, head in enumerate(keys):
            b, a = xb[:, j], xa[:, j]
            nb, na = int((~np.isnan(b)).sum()), int((~np.isnan(a)).sum())
            if nb < k or na < k or before.n < k or after.n < k:
                out.append(head | suppressed(k))
                continue
            w = welch_difference(b, a, confidence=confidence)
            out.append(head | {
                "n_before": w.n_a, "n_after": w.n_b, "mean_before": w.mean_a,
                "mean_after": w.mean_b, "difference": w.difference, "se": w.se,
                "df": w.df, "ci_low": w.ci_low, "ci_high": w.ci_high, "t_p": w.t_p,
                "note": w.note,
            })
        return out

    return {
        "instrument": {"id": instrument.id, "version": instrument.version},
        "score": "gap" if instrument.format != "perception-only" else "perception",
        "k_scores": k,
        "confidence": confidence,
        "method": "difference = after − before of the mean score; Welch t-interval "
                  "(waves are independent samples)",
        "items": entries(sb, sa, [{"key": it.key, "dimension": it.dimension}
                                  for it in instrument.items]),
        "dimensions": entries(db, da, [{"key": d.key, "title": d.title}
                                       for d in instrument.dimensions]),
    }


def _finite(v: float | None) -> bool:
    return v is not None and math.isfinite(v)
