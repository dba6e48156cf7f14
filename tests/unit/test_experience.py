"""The IT experience section against independent computations, and its k rule.

Every expected number comes from scipy written out in the test (or a formula written
plainly here), never from analysis.experience itself:

- Wilson: ``scipy.stats.binomtest(hits, n).proportion_ci(confidence_level=0.95, method="wilson")``;
- t-interval: ``scipy.stats.t.interval(0.95, n - 1, loc=mean, scale=sem)``;
- percentile bootstrap: ``scipy.stats.bootstrap((x,), np.mean, method="percentile",
  n_resamples=20000, rng=seed)`` (another random stream, so equal up to Monte Carlo error);
- NPS: ``100 (p_P - p_D) ± z · 100 · sqrt((p_P + p_D - (p_P - p_D)^2) / n)``.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any
from uuid import UUID

import msgspec
import numpy as np
import pytest
from scipy import stats

from analysis.experience import build_experience, measures_only_report
from analysis.report_types import ExperienceSection, MeasureResult, Suppressed, SuppressedRow
from instruments import load_builtin, validate_answers
from instruments.packing import PackedAnswers, pack_answers, unpack_answers
from instruments.schema import Instrument
from service.waves import receipt_for

AUDIENCE = 420


@pytest.fixture(scope="module")
def instrument() -> Instrument:
    return load_builtin("it-experience")


def _answers(n: int, seed: int = 7) -> np.ndarray:
    """csat 1..5, effort 1..7, minutes (right-skewed), nps 0..10 with some left out."""
    rng = np.random.default_rng(seed)
    csat = rng.choice([1, 2, 3, 4, 5], size=n, p=[0.05, 0.1, 0.25, 0.4, 0.2])
    effort = rng.choice(np.arange(1, 8), size=n)
    minutes = np.minimum(np.round(rng.lognormal(3.0, 1.2, size=n)), 10_000)
    nps = rng.integers(0, 11, size=n).astype(float)
    nps[rng.random(n) < 0.2] = np.nan  # optional: some skip it
    return np.column_stack([csat, effort, minutes, nps]).astype(float)


def _rows(section: ExperienceSection | Suppressed | None) -> dict[str, Any]:
    """The shown measures by key (typed loosely: which optional figures a row has depends on its kind)."""
    assert isinstance(section, ExperienceSection)
    return {r.key: r for r in section.measures if isinstance(r, MeasureResult)}


def test_csat_and_effort_match_scipy_wilson_and_t(instrument):
    values = _answers(150)
    rows = _rows(build_experience(instrument, values, k_scores=5, audience=AUDIENCE))
    for key, column, chosen in (("csat", 0, (4, 5)), ("effort", 1, (5, 6, 7))):
        x = values[:, column]
        row = rows[key]
        assert row.n == 150
        sem = x.std(ddof=1) / math.sqrt(x.size)
        low, high = stats.t.interval(0.95, x.size - 1, loc=x.mean(), scale=sem)
        assert row.mean.value == pytest.approx(x.mean(), abs=1e-12)
        assert (row.mean.ci_low, row.mean.ci_high) == (pytest.approx(low, abs=1e-9), pytest.approx(high, abs=1e-9))
        hits = int(np.isin(x, chosen).sum())
        ci = stats.binomtest(hits, x.size).proportion_ci(confidence_level=0.95, method="wilson")
        assert row.share.value == pytest.approx(hits / x.size)
        assert row.share.ci_low == pytest.approx(ci.low, abs=1e-9)
        assert row.share.ci_high == pytest.approx(ci.high, abs=1e-9)
        assert row.caveat


def test_minutes_bootstrap_matches_scipy_and_hours_scale_with_the_audience(instrument):
    values = _answers(200)
    rows = _rows(build_experience(instrument, values, k_scores=5, audience=AUDIENCE))
    x = values[:, 2]
    row = rows["time_lost"]
    ref = stats.bootstrap((x,), np.mean, method="percentile", n_resamples=20_000, rng=np.random.default_rng(1))
    width = ref.confidence_interval.high - ref.confidence_interval.low
    assert row.mean.value == pytest.approx(x.mean())
    # Two random streams: equal up to Monte Carlo error (a few percent of the width).
    assert row.mean.ci_low == pytest.approx(ref.confidence_interval.low, abs=0.04 * width)
    assert row.mean.ci_high == pytest.approx(ref.confidence_interval.high, abs=0.04 * width)
    # Skew: the interval reaches further above the mean than below it.
    assert row.mean.ci_high - row.mean.value > row.mean.value - row.mean.ci_low
    hours = row.hours_per_month
    assert hours.audience == AUDIENCE
    assert hours.hours == pytest.approx(x.mean() * AUDIENCE / 60)
    assert hours.ci_low == pytest.approx(row.mean.ci_low * AUDIENCE / 60)
    assert hours.ci_high == pytest.approx(row.mean.ci_high * AUDIENCE / 60)
    # Seeded: the same wave gives the same interval every time.
    again = _rows(build_experience(instrument, values, k_scores=5, audience=AUDIENCE))["time_lost"]
    assert (again.mean.ci_low, again.mean.ci_high) == (row.mean.ci_low, row.mean.ci_high)


def test_minutes_without_an_audience_have_no_hours(instrument):
    row = _rows(build_experience(instrument, _answers(30), k_scores=5, audience=None))["time_lost"]
    assert row.hours_per_month.hours is None and row.hours_per_month.note


def test_nps_matches_the_multinomial_formula(instrument):
    values = _answers(300)
    x = values[:, 3][~np.isnan(values[:, 3])]
    row = _rows(build_experience(instrument, values, k_scores=5, audience=AUDIENCE))["recommend"]
    p_p = np.mean(x >= 9)
    p_d = np.mean(x <= 6)
    z = stats.norm.ppf(0.975)
    se = math.sqrt((p_p + p_d - (p_p - p_d) ** 2) / x.size)
    assert row.n == x.size < 300  # those who skipped the optional item are not counted
    assert row.nps.score == pytest.approx(100 * (p_p - p_d))
    assert row.nps.ci_low == pytest.approx(100 * (p_p - p_d - z * se))
    assert row.nps.ci_high == pytest.approx(100 * (p_p - p_d + z * se))
    assert row.nps.promoters + row.nps.passives + row.nps.detractors == pytest.approx(1)


def test_below_k_responses_the_whole_section_is_suppressed(instrument):
    section = build_experience(instrument, _answers(4), k_scores=5, audience=AUDIENCE)
    assert isinstance(section, Suppressed)
    assert b"mean" not in msgspec.json.encode(section)


def test_a_measure_answered_by_fewer_than_k_is_a_suppressed_row(instrument):
    values = _answers(12)
    values[:, 3] = np.nan
    values[:4, 3] = [10, 9, 0, 5]  # four answered the optional NPS item
    section = build_experience(instrument, values, k_scores=5, audience=AUDIENCE)
    assert isinstance(section, ExperienceSection)
    recommend = next(r for r in section.measures if r.key == "recommend")
    assert isinstance(recommend, SuppressedRow)
    assert "score" not in msgspec.to_builtins(recommend)
    values[4, 3] = 10  # the fifth answer: now shown
    section = build_experience(instrument, values, k_scores=5, audience=AUDIENCE)
    assert isinstance(_rows(section)["recommend"], MeasureResult)


def test_an_instrument_without_measures_has_no_section():
    assert build_experience(load_builtin("servqual"), None, k_scores=5) is None


def test_the_measures_only_report_frame_follows_k(instrument):
    assert measures_only_report(instrument, 4, k_scores=5).suppressed is True
    frame = measures_only_report(instrument, 9, k_scores=5)
    assert frame.n == 9 and frame.items == () and frame.dimensions == () and not frame.suppressed


@pytest.mark.parametrize(("value", "reason"), [
    (-1, "from 0 to 10000, not -1"), (10_001, "from 0 to 10000, not 10001"), ("30", "not text"),
    (2.5, "not the decimal 2.5"), (True, "not true/false"), (None, "an answer is required"),
])
def test_minutes_out_of_range_are_refused_naming_the_field(instrument, value, reason):
    answers = {"items": {}, "measures": {"csat": 4, "effort": 5, "time_lost": value}}
    errors = validate_answers(instrument, answers)
    assert [e.field for e in errors] == ["measures.time_lost"]
    assert reason in errors[0].reason


def test_measures_pack_in_instrument_order_and_the_optional_one_may_be_left_out(instrument):
    answers = {"items": {}, "measures": {"time_lost": 0, "effort": 7, "csat": 1}}
    assert validate_answers(instrument, answers) == []
    packed = pack_answers(instrument, answers)
    assert packed.measures == [1, 7, 0, None]
    assert unpack_answers(instrument, packed)["measures"] == answers["measures"]
    assert [e.field for e in validate_answers(instrument, {"items": {}})] == ["measures"]
    wrong = {"items": {}, "measures": {"csat": 6, "effort": 0, "time_lost": 1, "recommend": 11, "other": 1}}
    assert [e.field for e in validate_answers(instrument, wrong)] == [
        "measures.csat", "measures.effort", "measures.recommend", "measures.other"]


def test_the_receipt_covers_the_measures_and_leaves_older_receipts_alone():
    wave, response = UUID(int=1), UUID(int=2)
    base = PackedAnswers([], None, None, {"general": "Thanks"})
    with_measures = PackedAnswers([], None, None, {"general": "Thanks"}, [4, 6, 45, None])
    changed = PackedAnswers([], None, None, {"general": "Thanks"}, [4, 6, 46, None])
    assert receipt_for(wave, response, with_measures) != receipt_for(wave, response, changed)
    # Without measures the document is the one receipts were always made of.
    document = {"campaign_id": str(wave), "response_id": str(response), "item_values": [], "importance": None,
                "satisfaction": None, "comments": {"general": "Thanks"}}
    assert receipt_for(wave, response, base) == hashlib.sha256(msgspec.json.encode(document, order="sorted")).hexdigest()
