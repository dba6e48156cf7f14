"""Benchmark: the gap report on 100,000 respondents x 22 items x (E, P) + importance.

Times ``analysis.report.build_report`` against a straightforward pandas + pingouin
implementation of the same outputs, measured in the same run, prints both times and the
ratio, and checks that both agree. Budget (DESIGN.md): ours >= 10x faster.

Pure analysis only (answer matrices in, typed report out): the database -> JSON time of
the service is measured separately. The two sides are interleaved round by round (a busy
machine slows both alike), both are warmed up first, and the ratio is that of the best
times (each side's least-disturbed run); the ratio of the median times is printed beside
it as a check on noise.

    python bench/analysis.py [--n 100000] [--repeat 5] [--inner 3]
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
import warnings

import msgspec
import numpy as np
import pandas as pd
import pingouin as pg
import scipy.stats

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from analysis.matrices import AnswerMatrices  # noqa: E402
from analysis.report import build_report  # noqa: E402
from analysis.report_types import GapReport  # noqa: E402
from instruments.schema import Dimension, Importance, Instrument, Item  # noqa: E402

DIMS = {"tangibles": 4, "reliability": 5, "responsiveness": 4, "assurance": 4, "empathy": 5}
BUDGET = 10.0
#: Largest relative disagreement with the baseline accepted.
TOLERANCE = 1e-9


def instrument() -> Instrument:
    items, q = [], 1
    for dim, count in DIMS.items():
        for _ in range(count):
            items.append(Item(key=f"q{q:02d}", dimension=dim,
                              statements={"expectation": "e", "perception": "p"}))
            q += 1
    return Instrument(
        id="bench", version="1", title="bench", format="expectation-perception",
        dimensions=tuple(Dimension(key=d, title=d.title()) for d in DIMS),
        items=tuple(items),
        importance=Importance(kind="allocation", prompt="allocate", total=100),
    )


def synthetic(n: int, seed: int = 2024):
    """Correlated 7-point answers (respondent + dimension factors), 1% missing."""
    rng = np.random.default_rng(seed)
    k = sum(DIMS.values())
    dim_of = np.repeat(np.arange(len(DIMS)), list(DIMS.values()))
    person = rng.normal(0, 0.8, (n, 1))
    dim_factor = rng.normal(0, 0.6, (n, len(DIMS)))[:, dim_of]
    shift = np.linspace(-1.2, 0.1, k)
    e = np.clip(np.rint(5.8 + 0.5 * person + 0.4 * dim_factor + rng.normal(0, 0.7, (n, k))), 1, 7)
    p = np.clip(np.rint(5.2 + shift + person + dim_factor + rng.normal(0, 0.9, (n, k))), 1, 7)
    e[rng.random((n, k)) < 0.01] = np.nan
    p[rng.random((n, k)) < 0.01] = np.nan
    alloc = np.rint(rng.dirichlet(np.full(len(DIMS), 4.0), n) * 100)
    return e, p, alloc


def ours(inst: Instrument, e, p, alloc) -> GapReport:
    m = AnswerMatrices(
        instrument_id=inst.id,
        item_keys=tuple(i.key for i in inst.items),
        item_dimensions=tuple(i.dimension for i in inst.items),
        dimension_keys=tuple(DIMS),
        scores={"expectation": e, "perception": p},
        not_applicable={"expectation": np.zeros(e.shape, bool),
                        "perception": np.zeros(p.shape, bool)},
        importance_kind="allocation", importance=alloc, importance_total=100,
    )
    return build_report(inst, m, k_scores=5, adjustment="bh")


def _perception(p: pd.Series) -> dict:
    """Perceptions-only score: mean, SD and t-interval (pandas + scipy)."""
    p = p.dropna()
    n, sd = len(p), p.std(ddof=1)
    half = scipy.stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n)
    return {"mean_perception": p.mean(), "sd_perception": sd,
            "perception_ci_low": p.mean() - half, "perception_ci_high": p.mean() + half}


def _paired(p: pd.Series, e: pd.Series) -> dict:
    """One gap column the straightforward way: pandas summaries, pingouin tests."""
    ok = p.notna() & e.notna()
    p, e = p[ok], e[ok]
    d = p - e
    n = len(d)
    tt = pg.ttest(p, e, paired=True)
    w = pg.wilcoxon(d, correction=False)
    sd = d.std(ddof=1)
    se = sd / math.sqrt(n)
    tc = scipy.stats.t.ppf(0.975, n - 1)
    return {
        "n": n, "mean_gap": d.mean(), "sd_gap": sd,
        "ci_low": d.mean() - tc * se, "ci_high": d.mean() + tc * se,
        "t_p": float(tt["p_val"].iloc[0]) if "p_val" in tt else float(tt["p-val"].iloc[0]),
        "wilcoxon_p": float(w["p_val"].iloc[0]) if "p_val" in w else float(w["p-val"].iloc[0]),
        "d_z": d.mean() / sd,
    }


def _alpha_details(df: pd.DataFrame) -> dict:
    df = df.dropna()
    alpha = pg.cronbach_alpha(df, nan_policy="listwise")[0]
    total = df.sum(axis=1)
    itc, aid = [], []
    for col in df.columns:
        itc.append(df[col].corr(total - df[col]))
        rest = df.drop(columns=col)
        aid.append(pg.cronbach_alpha(rest)[0] if rest.shape[1] >= 2 else np.nan)
    return {"alpha": alpha, "item_total": itc, "alpha_if_deleted": aid}


def baseline(inst: Instrument, e, p, alloc) -> dict:
    keys = [i.key for i in inst.items]
    E = pd.DataFrame(e, columns=keys)
    P = pd.DataFrame(p, columns=keys)
    both = E.notna() & P.notna()
    E, P = E.where(both), P.where(both)
    G = P - E
    items = []
    for key in keys:
        row = {"key": key, "mean_expectation": E[key].mean()}
        row |= _perception(P[key])
        row |= _paired(P[key], E[key])
        items.append(row)
    pvals = [r["t_p"] for r in items]
    holm = pg.multicomp(pvals, method="holm")[1]
    bh = pg.multicomp(pvals, method="fdr_bh")[1]
    for r, h, b in zip(items, holm, bh, strict=True):
        r["p_holm"], r["p_bh"] = h, b
    dims = []
    for dim in DIMS:
        cols = [i.key for i in inst.items if i.dimension == dim]
        need = math.ceil(len(cols) / 2)
        ok = G[cols].notna().sum(axis=1) >= need
        de = E[cols].mean(axis=1).where(ok)
        dp = P[cols].mean(axis=1).where(ok)
        row = {"key": dim, "mean_expectation": de.mean()} | _perception(dp) | _paired(dp, de)
        row["alpha_expectation"] = _alpha_details(E[cols])
        row["alpha_perception"] = _alpha_details(P[cols])
        row["alpha_gap"] = _alpha_details(G[cols])
        dims.append(row)
    dp = [d["t_p"] for d in dims]
    for d, h, b in zip(dims, pg.multicomp(dp, method="holm")[1],
                       pg.multicomp(dp, method="fdr_bh")[1], strict=True):
        d["p_holm"], d["p_bh"] = h, b
    A = pd.DataFrame(alloc, columns=list(DIMS)).dropna()
    A = A[A.sum(axis=1) > 0]
    weights = A.div(A.sum(axis=1), axis=0).mean()
    gaps = pd.Series({d["key"]: d["mean_gap"] for d in dims})
    missing = {"expectation": int(pd.DataFrame(e).isna().sum().sum()),
               "perception": int(pd.DataFrame(p).isna().sum().sum())}
    return {"items": items, "dimensions": dims, "missing": missing,
            "overall": {"unweighted": gaps.mean(), "weighted": float((gaps * weights).sum())}}


def _max_rel_diff(report: GapReport, base: dict) -> float:
    ours_report = msgspec.to_builtins(report)  # the JSON the service sends, compared field by field
    worst = 0.0
    for a, b in zip(ours_report["items"], base["items"], strict=True):
        for f in ("mean_gap", "ci_low", "ci_high", "t_p", "wilcoxon_p", "p_bh", "p_holm", "d_z",
                  "mean_expectation", "mean_perception", "perception_ci_low"):
            x, y = a[f], b[f]
            worst = max(worst, abs(x - y) / max(abs(y), 1e-300) if y else abs(x))
    for a, b in zip(ours_report["dimensions"], base["dimensions"], strict=True):
        for f in ("mean_gap", "t_p", "wilcoxon_p", "mean_perception", "perception_ci_low"):
            x, y = a[f], b[f]
            worst = max(worst, abs(x - y) / max(abs(y), 1e-300) if y else abs(x))
        for f in ("expectation", "perception", "gap"):
            worst = max(worst, abs(a["reliability"][f]["alpha"] - b[f"alpha_{f}"]["alpha"]))
    for f in ("unweighted", "weighted"):
        worst = max(worst, abs(ours_report["overall"][f] - base["overall"][f]))
    return worst


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=5, help="rounds (baseline runs once per round)")
    ap.add_argument("--inner", type=int, default=3, help="runs of ours per round")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    inst = instrument()
    t0 = time.perf_counter()
    e, p, alloc = synthetic(args.n)
    print(f"data: {args.n} respondents x {len(inst.items)} items x (E, P) + allocation "
          f"({time.perf_counter() - t0:.2f} s to generate)")

    ours(inst, e, p, alloc)  # warm-up (imports, caches) of both sides
    baseline(inst, e, p, alloc)
    t_ours, t_base = [], []
    # interleaved, so that a busy machine slows both sides alike; the order within a
    # round alternates
    for r in range(args.repeat):
        sides = ("ours", "base") if r % 2 == 0 else ("base", "ours")
        for side in sides:
            if side == "ours":
                for _ in range(args.inner):
                    t = time.perf_counter()
                    rep = ours(inst, e, p, alloc)
                    t_ours.append(time.perf_counter() - t)
            else:
                t = time.perf_counter()
                base = baseline(inst, e, p, alloc)
                t_base.append(time.perf_counter() - t)
    best_ours, best_base = min(t_ours), min(t_base)
    med_ours, med_base = statistics.median(t_ours), statistics.median(t_base)
    diff = _max_rel_diff(rep, base)
    ratio = best_base / best_ours
    print(f"ours (analysis.report.build_report): {best_ours * 1000:8.1f} ms best of {len(t_ours)}"
          f"  (median {med_ours * 1000:.1f} ms)")
    print(f"baseline (pandas + pingouin):        {best_base * 1000:8.1f} ms best of {len(t_base)}"
          f"  (median {med_base * 1000:.1f} ms)")
    print(f"ratio: {ratio:.1f}x faster (best / best; budget >= {BUDGET:.0f}x); "
          f"median / median: {med_base / med_ours:.1f}x")
    print(f"largest disagreement with the baseline: {diff:.2e} (tolerance {TOLERANCE:.0e})")
    ok = ratio >= BUDGET and diff <= TOLERANCE
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
