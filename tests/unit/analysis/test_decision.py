"""The decision view (analysis/decision.py) on the kiosk data, against plain recomputation.

Every number is recomputed here the long way: respondent scores with numpy loops over the
raw CSV columns, intervals with scipy.stats (t.interval; ttest_ind(equal_var=False) for
the change), key drivers with the PyPI package relativeImp.
"""

from __future__ import annotations

import csv
import math

import msgspec
import numpy as np
import pandas as pd
import pytest
from relativeImp import relativeImp
from scipy import stats

from analysis.decision import PreviousWave, build_drivers, build_summary, build_themes, overall_scores, trend_point
from analysis.matrices import matrices_from_csv
from analysis.report import build_report
from analysis.report_types import Change, Drivers, OverallScore, Summary, Suppressed, Themes
from instruments.schema import Item, SatisfactionItem

from .conftest import DATA, KIOSK_DIMS


@pytest.fixture(scope="module")
def raw() -> list[dict[str, str]]:
    with open(DATA / "kiosk_kservqual_clean_n194.csv", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def instrument(kiosk_instrument):
    # Wording for every item, and the first overall item as the satisfaction question.
    items = tuple(msgspec.structs.replace(it, statements={"expectation": f"E wording {it.key}",
                                                          "perception": f"P wording {it.key}"})
                  for it in kiosk_instrument.items)
    assert all(isinstance(it, Item) for it in items)
    return msgspec.structs.replace(kiosk_instrument, items=items, satisfaction=(
        SatisfactionItem(key="overall", statement="Overall, I am satisfied with the kiosk."),))


def _plain_overall(rows: list[dict[str, str]], perception: bool) -> np.ndarray:
    out = []
    for r in rows:
        dims = []
        for d in range(8):
            vals = []
            for i in range(3 * d + 1, 3 * d + 4):
                p = float(r[f"P{i:02d}"])
                vals.append(p if perception else p - float(r[f"E{i:02d}"]))
            dims.append(sum(vals) / len(vals))
        out.append(sum(dims) / len(dims))
    return np.array(out)


def _t_interval(x: np.ndarray) -> tuple[float, float]:
    low, high = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
    return float(low), float(high)


@pytest.fixture(scope="module")
def matrices(instrument, kiosk_csv):
    return matrices_from_csv(instrument, kiosk_csv)


@pytest.fixture(scope="module")
def report(instrument, matrices):
    return build_report(instrument, matrices, k_scores=5)


def test_overall_scores_with_t_intervals(instrument, matrices, report, raw):
    summary = build_summary(instrument, report, matrices, audience=400)
    assert isinstance(summary, Summary)
    for kind, perception in (("gap", False), ("perception", True)):
        expected = _plain_overall(raw, perception)
        got = overall_scores(instrument, matrices, perception=perception)
        np.testing.assert_allclose(got, expected, atol=1e-12)
        score = summary.overall_gap if kind == "gap" else summary.overall_perception
        assert isinstance(score, OverallScore) and score.score == kind
        assert score.n == len(raw)
        assert score.mean == pytest.approx(expected.mean(), abs=1e-12)
        low, high = _t_interval(expected)
        assert score.ci_low == pytest.approx(low, abs=1e-9)
        assert score.ci_high == pytest.approx(high, abs=1e-9)


def test_focus_areas_are_the_top_item_candidates_in_respondents_words(instrument, matrices, report):
    summary = build_summary(instrument, report, matrices, audience=None)
    assert isinstance(summary, Summary)
    items = [c for c in report.candidates if c.level == "item"]
    assert len(items) >= 3
    assert [f.key for f in summary.focus] == [c.target for c in items[:3]]
    for f, c in zip(summary.focus, items, strict=False):
        assert f.wording == f"P wording {c.target}"
        assert f.priority == c.priority and f.mean_gap == c.mean_gap
        assert "priority = weight × max(0, −upper bound)" in f.evidence
        # The formula with the numbers it was applied to: the reader's product is the priority shown
        # (the upper bound, not the gap: a formula of |gap| would not give this number).
        assert f"= {c.weight:.2f} × {max(0.0, -c.ci_high):.2f} = {c.priority:.2f};" in f.evidence
        assert c.priority == pytest.approx(c.weight * max(0.0, -c.ci_high))
        assert f.dimension_title == c.dimension.title()


def test_strengths_are_the_items_with_the_highest_gap(instrument, matrices, report, raw):
    summary = build_summary(instrument, report, matrices, audience=None)
    assert isinstance(summary, Summary)
    gaps = {f"k{i:02d}": np.mean([float(r[f"P{i:02d}"]) - float(r[f"E{i:02d}"]) for r in raw]) for i in range(1, 25)}
    best = sorted(gaps, key=lambda key: -gaps[key])[:3]
    assert [s.key for s in summary.strengths] == best
    assert summary.strengths[0].mean == pytest.approx(gaps[best[0]], abs=1e-12)


@pytest.mark.parametrize(("n_audience", "k", "responses", "text"), [
    (400, 5, 190, "at least 190 of 400 invited (47% or more)"),
    (400, 7, 189, "at least 189 of 400 invited (47% or more)"),
    (None, 10, 190, "at least 190 responses"),
])
def test_response_rate_in_whole_multiples_of_k(instrument, matrices, n_audience, k, responses, text):
    report = build_report(instrument, matrices, k_scores=k)
    summary = build_summary(instrument, report, matrices, audience=n_audience)
    assert isinstance(summary, Summary)
    assert summary.response_rate.responses == responses  # 194 respondents, rounded down to k
    assert summary.response_rate.text == text


def test_change_since_the_previous_wave_is_a_welch_interval(instrument, kiosk_csv, raw):
    lines = kiosk_csv.splitlines()
    first = matrices_from_csv(instrument, "\n".join(lines[:101]))  # 100 respondents
    second = matrices_from_csv(instrument, "\n".join([lines[0], *lines[101:]]))  # 94
    report = build_report(instrument, second, k_scores=5)
    summary = build_summary(instrument, report, second, audience=None,
                            previous=PreviousWave(wave_id="w1", title="Spring", closes_on="2026-04-30", matrices=first))
    assert isinstance(summary, Summary) and isinstance(summary.change, Change)
    a, b = _plain_overall(raw[:100], False), _plain_overall(raw[100:], False)
    welch = stats.ttest_ind(b, a, equal_var=False)
    ci = welch.confidence_interval(0.95)
    assert summary.change.difference == pytest.approx(b.mean() - a.mean(), abs=1e-12)
    assert summary.change.ci_low == pytest.approx(ci.low, abs=1e-9)
    assert summary.change.ci_high == pytest.approx(ci.high, abs=1e-9)
    expected = "improved" if ci.low > 0 else "worsened" if ci.high < 0 else "no clear change"
    assert summary.change.verdict == expected
    assert "Spring" in summary.change.sentence


def test_change_is_suppressed_when_the_previous_wave_is_below_k(instrument, kiosk_csv, matrices, report):
    lines = kiosk_csv.splitlines()
    tiny = matrices_from_csv(instrument, "\n".join(lines[:4]))
    summary = build_summary(instrument, report, matrices, audience=None,
                            previous=PreviousWave(wave_id="w0", title="Tiny", closes_on="2026-01-31", matrices=tiny))
    assert isinstance(summary, Summary) and isinstance(summary.change, Suppressed)


def test_summary_is_suppressed_below_k(instrument, kiosk_csv):
    lines = kiosk_csv.splitlines()
    tiny = matrices_from_csv(instrument, "\n".join(lines[:4]))
    report = build_report(instrument, tiny, k_scores=5)
    assert isinstance(build_summary(instrument, report, tiny, audience=10), Suppressed)


def test_driver_weights_match_relativeimp_to_1e6_on_the_kiosk_data(instrument, matrices, report, raw):
    satisfaction = np.array([[float(r["OVERALL1"])] for r in raw])
    drivers = build_drivers(instrument, report, matrices, satisfaction, resamples=100)
    assert isinstance(drivers, Drivers)
    frame = pd.DataFrame({dim: [np.mean([float(r[f"P{i:02d}"]) for i in range(3 * d + 1, 3 * d + 4)]) for r in raw]
                          for d, dim in enumerate(KIOSK_DIMS)}).assign(overall=[float(r["OVERALL1"]) for r in raw])
    expected = relativeImp(frame, outcomeName="overall", driverNames=list(KIOSK_DIMS))
    np.testing.assert_allclose([row.weight for row in drivers.rows], np.real(expected["rawRelaImpt"].to_numpy()),
                               atol=1e-6)
    assert [row.key for row in drivers.rows] == KIOSK_DIMS
    assert drivers.r_squared == pytest.approx(sum(row.weight for row in drivers.rows))
    assert drivers.outcome_wording.startswith("Overall")
    # the kiosk instrument rates importance per item: the stated shares come from those ratings
    assert all(row.stated_share is not None for row in drivers.rows)
    assert sum(row.stated_share or 0 for row in drivers.rows) == pytest.approx(1.0)


def test_no_drivers_without_a_satisfaction_item(kiosk_instrument, kiosk_csv):
    m = matrices_from_csv(kiosk_instrument, kiosk_csv)
    report = build_report(kiosk_instrument, m, k_scores=5)
    assert build_drivers(kiosk_instrument, report, m, None) is None


def test_drivers_suppressed_below_k_complete_answers(instrument, matrices, report):
    satisfaction = np.full((matrices.n, 1), math.nan)
    satisfaction[:4, 0] = [1, 2, 3, 4]
    assert isinstance(build_drivers(instrument, report, matrices, satisfaction), Suppressed)


def test_themes_follow_the_comment_threshold():
    assert isinstance(build_themes(None, k_comments=10), Suppressed)
    comments = ["printer broken again"] * 6 + ["slow ticket reply"] * 6 + ["friendly helpful staff"] * 6
    themes = build_themes(comments, k_comments=5)
    assert isinstance(themes, Themes)
    assert sum(t.comments for t in themes.themes) == 18
    assert all(t.comments >= 5 for t in themes.themes)
    few = build_themes(["printer broken"] * 3, k_comments=5)
    assert isinstance(few, Themes) and few.themes == () and few.note


def test_trend_point_carries_overall_and_dimension_scores(instrument, matrices, report):
    summary = build_summary(instrument, report, matrices, audience=None)
    point = trend_point(report, summary, wave_id="w", title="T", closes_on="2026-06-30")
    assert isinstance(summary, Summary) and isinstance(summary.overall_gap, OverallScore)
    assert point.overall is not None and point.overall.mean == summary.overall_gap.mean
    assert set(point.dimensions) == set(KIOSK_DIMS)
    row = next(r for r in report.dimensions if r.key == "security")
    assert point.dimensions["security"].mean == row.mean_gap  # type: ignore[union-attr]
