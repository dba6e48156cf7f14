"""The closing-the-loop verdict on constructed waves where the right answer is known.
Pure: no database (kept beside the action-item tests it belongs to)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from analysis.change import build_change_report
from analysis.matrices import AnswerMatrices, matrices_from_answers
from analysis.report_types import ChangeRow, SuppressedRow
from instruments import load_builtin
from service.actions import IMPROVED, NO_CHANGE, TOO_FEW, WORSENED, expected_met, verdict

PULSE = load_builtin("pulse")  # perception-only: the score is the perception itself


def _wave(perceptions: list[int]) -> AnswerMatrices:
    answers = [{"items": {i.key: {"perception": p} for i in PULSE.items}} for p in perceptions]
    return matrices_from_answers(PULSE, answers)


def _change(before: list[int], after: list[int]) -> ChangeRow | SuppressedRow:
    report = build_change_report(PULSE, _wave(before), _wave(after), k_scores=5)
    return report.items[0]


def test_known_upward_shift_is_improved():
    before = [2, 3, 3, 4, 2, 3, 4, 3]
    after = [p + 2 for p in before]  # exactly +2 for everyone
    change = _change(before, after)
    assert isinstance(change, ChangeRow) and change.difference == pytest.approx(2.0)
    # Reference: scipy's Welch test on the same samples.
    ref = stats.ttest_ind(after, before, equal_var=False)
    assert change.t_p == pytest.approx(ref.pvalue)
    assert verdict(change) == IMPROVED
    assert expected_met(change, 0.5) is True and expected_met(change, 5.0) is False


def test_known_downward_shift_is_worsened():
    before = [5, 6, 6, 7, 5, 6, 7, 6]
    assert verdict(_change(before, [p - 3 for p in before])) == WORSENED


def test_positive_point_estimate_inside_a_wide_interval_is_no_detectable_change():
    before = [1, 7, 2, 6, 1, 7, 3, 5]
    after = [2, 7, 2, 7, 1, 7, 3, 6]  # mean up by 0.5, but the spread is huge
    change = _change(before, after)
    assert isinstance(change, ChangeRow) and change.difference is not None
    assert change.ci_low is not None and change.ci_high is not None
    assert change.difference > 0 and change.ci_low < 0 < change.ci_high
    assert verdict(change) == NO_CHANGE
    assert expected_met(change, 0.5) is None


def test_fewer_than_k_in_either_wave_is_not_enough_responses():
    change = _change([2, 3, 3, 4, 2, 3, 4, 3], [6, 7, 6, 7])
    assert isinstance(change, SuppressedRow) and change.suppressed is True
    assert verdict(change) == TOO_FEW and expected_met(change, 0.5) is None


def test_random_waves_with_a_large_shift_are_improved_and_without_one_mostly_not():
    rng = np.random.default_rng(9)
    base = rng.integers(2, 5, size=200).tolist()
    assert verdict(_change(base, rng.integers(4, 7, size=200).tolist())) == IMPROVED
    same = [verdict(_change(base, rng.permutation(base).tolist()))]
    assert same == [NO_CHANGE]  # a permutation of the same answers: difference exactly 0


def test_score_chart_is_accessible_and_draws_suppressed_waves_without_numbers():
    import re

    from analysis.charts import score_trend_chart

    series = {"service": {"name": "Service Desk"}, "instrument_title": "SERVQUAL", "score": "gap",
              "scale_points": 7, "waves": [
                  {"title": "Spring", "closes_on": "2030-03-31", "n": 40, "mean": -1.25, "ci_low": -1.5,
                   "ci_high": -1.0},
                  {"title": "Summer", "closes_on": "2030-06-30", "suppressed": True,
                   "reason": "fewer than k=5 responses"}]}
    svg = score_trend_chart(series)
    assert svg.startswith("<svg") and 'role="img"' in svg and "<title" in svg and "<desc" in svg
    assert not re.search(r"\sstyle=", svg) and "<script" not in svg
    assert "−1.25" in svg and "95% interval −1.50 to −1.00" in svg
    assert "Summer (closed 2030-06-30): suppressed (fewer than k=5 responses)" in svg
    assert ">suppressed<" in svg


def test_overall_score_is_the_mean_of_dimension_gaps():
    from analysis.matrices import matrices_from_answers
    from service.actions import overall_scores

    servqual = load_builtin("servqual")
    answers = []
    for r in range(6):
        items = {i.key: {"expectation": 6, "perception": 6 - (1 if i.dimension == "reliability" else 0) - r % 2}
                 for i in servqual.items}
        answers.append({"items": items, "importance": {d.key: 20 for d in servqual.dimensions}})
    scores = overall_scores(servqual, matrices_from_answers(servqual, answers))
    # Four dimensions at gap -(r % 2), reliability one lower: mean over five dimensions.
    assert scores.tolist() == pytest.approx([-(r % 2) - 0.2 for r in range(6)])
