"""Edge behaviour of the statistics, hand-computed or from scipy (code in the comments)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from analysis.stats import (
    adjust_pvalues,
    allocation_weights,
    cronbach_alpha,
    importance_performance,
    summarize_columns,
    summarize_differences,
    summarize_paired_scores,
    welch_difference,
    wilcoxon_signed_rank,
    zone_of_tolerance,
)

NAN = float("nan")


def test_single_answer_has_mean_but_no_interval_or_test():
    (s,) = summarize_differences([[-1.0], [NAN]])
    assert s.n == 1 and s.mean == -1.0
    assert s.sd is None and s.ci_low is None and s.ci_high is None
    assert s.t_p is None and s.d_z is None
    assert s.note is not None and "one answer" in s.note


def test_zero_variance_leaves_t_undefined_but_runs_wilcoxon():
    (s,) = summarize_differences([[-2.0], [-2.0], [-2.0]])
    assert s.n == 3 and s.mean == -2.0 and s.sd == 0.0
    assert s.t_p is None and s.t_statistic is None and s.d_z is None and s.ci_low is None
    assert s.note is not None and "zero variance" in s.note
    # scipy.stats.wilcoxon([-2, -2, -2]).pvalue == 0.25 (exact: 2 * 1/8)
    assert s.wilcoxon.pvalue == pytest.approx(0.25)


def test_all_not_applicable_gives_no_numbers():
    (s,) = summarize_differences([[NAN], [NAN], [NAN]])
    assert s.n == 0 and s.mean is None and s.t_p is None and s.wilcoxon.pvalue is None
    assert s.note is not None and "no answers" in s.note
    (c,) = summarize_columns([[NAN], [NAN]])
    assert c.n == 0 and c.mean is None


def test_all_zero_differences_have_no_wilcoxon():
    w = wilcoxon_signed_rank([0.0, 0.0, 0.0])
    assert w.n == 0 and w.pvalue is None


def test_wilcoxon_with_ties_and_zeros_is_exact_conditional():
    # scipy.stats.wilcoxon([1, 1, -1, 2, 2, 2, -3, 0]).pvalue == 0.515625
    # (n <= 13 with ties: scipy's exact permutation distribution)
    w = wilcoxon_signed_rank([1, 1, -1, 2, 2, 2, -3, 0])
    assert w.method == "exact" and w.n == 7
    assert w.pvalue == pytest.approx(0.515625, rel=1e-12)


def test_wilcoxon_large_sample_matches_scipy_normal_approximation():
    rng = np.random.default_rng(7)
    d = rng.integers(-3, 4, 500).astype(float)
    import scipy.stats as st

    ref = st.wilcoxon(d)  # n > 50: normal approximation with tie correction
    got = wilcoxon_signed_rank(d)
    assert got.method == "normal"
    assert got.pvalue == pytest.approx(ref.pvalue, rel=1e-10)
    assert got.statistic == pytest.approx(ref.statistic)


def test_unequal_n_per_item_is_pairwise():
    x = np.array([[1, 2], [2, NAN], [3, 1], [5, 2], [4, 4], [NAN, 3], [2, 6]], float)
    y = np.array([[3, 2], [3, 4], [6, 2], [5, 5], [7, 6], [4, NAN], [2, 7]], float)
    # ok = both answered; scipy.stats.ttest_rel(y[ok, j], x[ok, j]).pvalue and
    # scipy.stats.wilcoxon(y[ok, j] - x[ok, j]).pvalue:
    ref = [(6, 0.04458482350979885, 0.125), (5, 0.05160595781117475, 0.125)]
    got = summarize_paired_scores(x, y, points=7)
    generic = summarize_differences(y - x)
    for j, (n, tp, wp) in enumerate(ref):
        for s in (got[j].difference, generic[j]):
            assert s.n == n
            assert s.t_p == pytest.approx(tp, rel=1e-12)
            assert s.wilcoxon.pvalue == pytest.approx(wp, rel=1e-12)
        assert got[j].x.n == n and got[j].y.n == n


@pytest.mark.parametrize("bad", [0.0, 8.0, 2.5, -1.0, 7.125])
def test_paired_scores_reject_values_off_the_scale(bad):
    x = np.full((6, 2), 4.0)
    y = np.full((6, 2), 5.0)
    y[2, 1] = bad
    with pytest.raises(ValueError):
        summarize_paired_scores(x, y, points=7)


def test_holm_and_bh_hand_computed():
    p = [0.01, 0.04, 0.03, None, 0.5]
    # Holm, m = 4: sorted 0.01, 0.03, 0.04, 0.5 -> 0.04, 0.09, max(0.09, 0.08)=0.09, 0.5
    assert adjust_pvalues(p, "holm") == pytest.approx([0.04, 0.09, 0.09, None, 0.5])
    # BH: 0.01*4/1=0.04, 0.03*4/2=0.06, 0.04*4/3=0.0533, 0.5 -> step-up minimum
    got = adjust_pvalues(p, "bh")
    assert got[3] is None
    assert got[0] == pytest.approx(0.04) and got[4] == pytest.approx(0.5)
    assert got[1] == pytest.approx(0.04 * 4 / 3) and got[2] == pytest.approx(0.04 * 4 / 3)
    with pytest.raises(ValueError):
        adjust_pvalues([0.1], "bonferroni")  # pyright: ignore[reportArgumentType]


def test_alpha_edges():
    assert cronbach_alpha([[1.0], [2.0], [3.0]]).alpha is None  # one item
    assert cronbach_alpha([[1.0, 2.0], [NAN, 1.0]]).alpha is None  # one complete row
    assert cronbach_alpha([[3.0, 3.0], [3.0, 3.0], [3.0, 3.0]]).alpha is None  # no variance
    # two perfectly parallel items: alpha = 1; listwise drops the NaN row
    r = cronbach_alpha([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0], [NAN, 5.0]])
    assert r.n == 3 and r.alpha == pytest.approx(1.0)


def test_allocation_weights_use_shares_of_complete_rows():
    w, n = allocation_weights([[60, 40], [50, 50], [NAN, 100], [0, 0]])
    assert n == 2 and w == pytest.approx((0.55, 0.45))
    with pytest.raises(ValueError):
        allocation_weights([[-1, 101]])


def test_welch_matches_scipy():
    a = [1.0, 2.0, 2.0, 3.0, 4.0, NAN]
    b = [2.0, 4.0, 4.0, 5.0, 6.0, 6.0, 7.0]
    # scipy.stats.ttest_ind(b, a[:5], equal_var=False): p and confidence_interval()
    import scipy.stats as st

    ref = st.ttest_ind(b, a[:5], equal_var=False)
    ci = ref.confidence_interval()
    got = welch_difference(a, b)
    assert got.difference == pytest.approx(np.mean(b) - 2.4)
    assert got.t_p == pytest.approx(ref.pvalue, rel=1e-10)
    assert (got.ci_low, got.ci_high) == pytest.approx((ci.low, ci.high), rel=1e-10)
    assert welch_difference([1.0], [2.0, 3.0]).ci_low is None


def test_zone_classification_needs_the_interval():
    assert zone_of_tolerance((-1.0, -0.2), (-2.0, -1.0)) == "below"
    assert zone_of_tolerance((0.5, 1.0), (0.1, 0.4)) == "above"
    assert zone_of_tolerance((0.2, 0.9), (-1.0, -0.1)) == "within"
    assert zone_of_tolerance((-0.3, 0.4), (-1.0, -0.1)) == "undetermined"
    assert zone_of_tolerance((None, None), (None, None)) == "undetermined"


def test_ipa_quadrants_at_the_means():
    r = importance_performance([0.1, 0.4, 0.2, 0.3], [5.0, 3.0, 3.0, 6.0])
    assert r.importance_mean == pytest.approx(0.25) and r.performance_mean == pytest.approx(4.25)
    assert r.quadrants == ("possible overkill", "concentrate here", "low priority",
                           "keep up the good work")


def test_bad_input_raises_value_error():
    with pytest.raises(ValueError):
        summarize_differences([[math.inf]])
    with pytest.raises(ValueError):
        summarize_differences([[1.0]], confidence=1.5)
    with pytest.raises(ValueError):
        importance_performance([1.0], [1.0, 2.0])
