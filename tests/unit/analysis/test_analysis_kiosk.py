"""The report on the public kiosk K-SERVQUAL data against scipy / pingouin reference values.

Reference values were computed once, independently of Candor, with (scipy 1.17, pingouin 0.7)::

    import numpy as np, pandas as pd, scipy.stats as st, pingouin as pg
    df = pd.read_csv("tests/data/kiosk_kservqual/kiosk_kservqual_clean_n194.csv")
    E = df[[f"E{i:02d}" for i in range(1, 25)]].to_numpy(float)
    P = df[[f"P{i:02d}" for i in range(1, 25)]].to_numpy(float)
    r = st.ttest_rel(P[:, j], E[:, j]); ci = r.confidence_interval()   # t p, CI
    st.wilcoxon(P[:, j] - E[:, j]).pvalue                               # Wilcoxon p
    d = P[:, j] - E[:, j]; d.mean() / d.std(ddof=1)                     # d_z
    p = [st.ttest_rel(P[:, j], E[:, j]).pvalue for j in range(24)]
    st.false_discovery_control(p, method="bh")                          # BH
    pg.cronbach_alpha(pd.DataFrame(P[:, cols]))[0]                      # alpha
    X = pd.DataFrame(P[:, cols]); X[c].corr(X.drop(columns=c).sum(axis=1))  # item-total
    pg.cronbach_alpha(X.drop(columns=c))[0]                             # alpha if deleted
    dg = (P[:, cols] - E[:, cols]).mean(axis=1); st.ttest_1samp(dg, 0).pvalue; st.wilcoxon(dg).pvalue
"""

from __future__ import annotations

import pytest

from analysis.matrices import matrices_from_csv
from analysis.report import build_report
from analysis.report_types import DimensionRow, GapReport, ItemRow

REL = 1e-9

# item number: (mean gap, sd gap, ci low, ci high, t p, wilcoxon p, d_z)
ITEMS = {
    1: (-0.5824742268041238, 1.0849426631089107, -0.7361077081723295, -0.428840745435918,
        2.5854920618233474e-12, 2.945537919615817e-11, -0.5368709763288687),
    4: (0.30927835051546393, 1.4777158171005622, 0.10002616312016344, 0.5185305379107644,
        0.003975809443291798, 0.0007505858385864952, 0.2092948772263272),
    12: (-1.8402061855670102, 1.987064895838186, -2.1215848316766492, -1.5588275394573712,
         7.382121364568524e-28, 1.002415041754076e-21, -0.9260926451980686),
    19: (-1.7783505154639174, 1.5496432351657814, -1.9977879965331904, -1.5589130343946445,
         3.477840665334513e-37, 3.888971059004321e-25, -1.1475870543026434),
}

T_P = [2.5854920618233474e-12, 1.4365653059907988e-09, 1.1940339403861943e-20,
       0.003975809443291798, 0.9610004536039427, 0.2251693997750733, 3.9476843791120344e-35,
       3.774837982356619e-20, 4.671219130192925e-14, 1.48953930414456e-30,
       1.1565037735620887e-25, 7.382121364568524e-28, 3.5518074345574924e-24,
       2.475548038991374e-15, 2.848227210776461e-35, 8.117786161612516e-36,
       4.2925726261403445e-29, 1.3000076998144003e-14, 3.477840665334513e-37,
       3.0438793887729944e-40, 1.6654400296764623e-36, 0.16936973203619285,
       6.895464917165252e-39, 8.713480286973705e-16]

BH = [3.2658847096715966e-12, 1.7238783671889584e-09, 2.204370351482205e-20,
      0.004543782220904911, 0.9610004536039427, 0.23495937367833736, 1.353491787124126e-34,
      6.47115082689706e-20, 6.228292173590566e-14, 4.46861791243368e-30,
      2.5232809604991024e-25, 1.7717091274964457e-27, 7.103614869114985e-24,
      3.713322058487061e-15, 1.1392908843105843e-34, 3.8965373575740077e-35,
      1.144686033637425e-28, 1.835304987973271e-14, 2.7822725322676105e-36,
      7.305310533055187e-39, 9.992640178058774e-36, 0.18476698040311945,
      8.274557900598302e-38, 1.3941568459157929e-15]

# dimension: (alpha E, alpha P, alpha gap, dim mean gap, dim t p, dim wilcoxon p,
#             P item-total correlations, P alpha-if-deleted)
DIMS = {
    "security": (0.8569481530930123, 0.8317829268703631, 0.848478704763008,
                 -1.809278350515464, 8.732356656913138e-45, 5.634397198662117e-29,
                 (0.6677188014054017, 0.741248538231609, 0.6675465407629019),
                 (0.7921861452151227, 0.7177543904341874, 0.7901219843988174)),
    "usefulness": (0.6741577899021394, 0.6439986631931158, 0.6656544932293811,
                   -0.668384879725086, 3.1559225583480852e-21, 6.833837335622906e-20,
                   (0.44733194221366573, 0.5623545056372261, 0.3951448625497201),
                   (0.5556080981232445, 0.439629809477563, 0.6668642767471045)),
}


def holm_by_hand(p: list[float]) -> list[float]:
    """Holm's step-down procedure written as a loop, independently of the code under test."""
    m = len(p)
    order = sorted(range(m), key=lambda i: p[i])
    out = [0.0] * m
    running = 0.0
    for step, i in enumerate(order):
        running = max(running, min(1.0, (m - step) * p[i]))
        out[i] = running
    return out


@pytest.fixture(scope="module")
def report(kiosk_instrument, kiosk_csv) -> GapReport:
    m = matrices_from_csv(kiosk_instrument, kiosk_csv)
    return build_report(kiosk_instrument, m, k_scores=5)


def num(v: object) -> float:
    """A report number (not None, not unset, not suppressed)."""
    assert isinstance(v, float)
    return v


def _items(report: GapReport) -> list[ItemRow]:
    rows = [r for r in report.items if isinstance(r, ItemRow)]
    assert len(rows) == len(report.items)  # n = 194 everywhere: nothing suppressed
    return rows


def test_n_and_items(report):
    assert report.n == 194
    assert [r.key for r in report.items] == [f"k{i:02d}" for i in range(1, 25)]
    assert all(r.n == 194 for r in _items(report))


@pytest.mark.parametrize("number", sorted(ITEMS))
def test_item_statistics_match_scipy(report, number):
    row = _items(report)[number - 1]
    mean, sd, lo, hi, tp, wp, dz = ITEMS[number]
    assert row.mean_gap == pytest.approx(mean, rel=REL)
    assert row.sd_gap == pytest.approx(sd, rel=REL)
    assert row.ci_low == pytest.approx(lo, rel=REL)
    assert row.ci_high == pytest.approx(hi, rel=REL)
    assert row.t_p == pytest.approx(tp, rel=1e-7)
    assert row.wilcoxon_p == pytest.approx(wp, rel=1e-7)
    assert row.d_z == pytest.approx(dz, rel=REL)
    assert row.mean_gap == pytest.approx(row.mean_perception - row.mean_expectation)


def test_all_t_pvalues_and_adjustments(report):
    rows = _items(report)
    assert [r.t_p for r in rows] == pytest.approx(T_P, rel=1e-7)
    assert [r.p_bh for r in rows] == pytest.approx(BH, rel=1e-7)
    assert [r.p_holm for r in rows] == pytest.approx(holm_by_hand(T_P), rel=1e-7)


@pytest.mark.parametrize("dim", sorted(DIMS))
def test_dimension_reliability_and_gap(report, dim):
    row = next(d for d in report.dimensions if d.key == dim)
    assert isinstance(row, DimensionRow)
    a_e, a_p, a_g, mean, tp, wp, itc, aid = DIMS[dim]
    assert row.alpha_expectation == pytest.approx(a_e, rel=REL)
    assert row.alpha_perception == pytest.approx(a_p, rel=REL)
    assert row.alpha_gap == pytest.approx(a_g, rel=REL)
    assert row.mean_gap == pytest.approx(mean, rel=REL)
    assert row.t_p == pytest.approx(tp, rel=1e-7)
    assert row.wilcoxon_p == pytest.approx(wp, rel=1e-7)
    perception = row.reliability["perception"]
    assert isinstance(perception.items, tuple)
    assert [i.item_total for i in perception.items] == pytest.approx(list(itc), rel=REL)
    assert [i.alpha_if_deleted for i in perception.items] == pytest.approx(list(aid), rel=REL)
    assert perception.n == 194


def test_candidates_are_significant_negative_gaps_ranked_by_priority(report):
    items = {r.key: r for r in _items(report)}
    cands = [c for c in report.candidates if c.level == "item"]
    # k04 (positive gap) and k05 / k06 / k22 (not significant) can never be candidates
    keys = {c.target for c in cands}
    assert keys.isdisjoint({"k04", "k05", "k06", "k22"})
    expected = {k for k, r in items.items() if num(r.mean_gap) < 0 and num(r.p_bh) < 0.05}
    assert keys == expected
    prios = [c.priority for c in cands]
    assert prios == sorted(prios, reverse=True)
    for c in cands:
        assert c.priority == pytest.approx(c.weight * -num(items[c.target].ci_high))
        assert "Benjamini–Hochberg" in c.reason and c.target in c.reason
    assert [c.rank for c in cands] == list(range(1, len(cands) + 1))


def test_rated_importance_gives_item_level_ipa(report):
    ipa = report.ipa
    assert ipa is not None and ipa.level == "item" and len(ipa.points) == 24
    imp = [p.importance for p in ipa.points]
    assert ipa.importance_mean == pytest.approx(sum(imp) / 24)
    assert report.importance is not None and isinstance(report.importance.weights, dict)
    assert sum(report.importance.weights.values()) == pytest.approx(1.0)
