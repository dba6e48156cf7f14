"""The manager's decision view of a closed wave: summary, key drivers, comment themes, trend.

The gap report (:mod:`analysis.report`) is complete and long; a manager needs four
answers first, each with its evidence:

- **How are we doing?** The overall score -- the gap and the perceptions-only score -- as
  the mean of each respondent's overall score (their mean over the dimension scores), with
  its t-interval; and the response rate, in whole multiples of k.
- **Did it change?** The same score against the previous closed wave of the same service
  and instrument: a Welch interval (waves are independent samples) and a plain verdict.
- **What to fix first?** The three highest-priority candidates, in the words respondents
  read, each with its gap, interval and the priority formula in one sentence; and the
  three strongest items.
- **What moves satisfaction?** Key drivers (:mod:`analysis.drivers`) of the overall
  satisfaction item, beside what respondents said matters (stated importance).

Comment themes (:mod:`analysis.themes`) summarise the free text. Every piece respects the
wave's thresholds: nothing from fewer than ``k_scores`` respondents, no theme from fewer
than ``k_comments`` comments.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from analysis.drivers import DEFAULT_RESAMPLES, compare_importance, key_drivers, resamples_for
from analysis.engine import dimension_groups
from analysis.engine.respondents import respondent_dimension_scores
from analysis.matrices import AnswerMatrices
from analysis.moments import FloatArray, moments
from analysis.parametric import welch_difference
from analysis.report import item_wording
from analysis.report_types import (
    Candidate,
    Change,
    DimensionRow,
    DriverRow,
    Drivers,
    FocusArea,
    GapReport,
    ItemRow,
    OverallScore,
    ResponseRate,
    Strength,
    Summary,
    Suppressed,
    ThemeRow,
    Themes,
    TrendPoint,
    TrendValue,
    suppressed,
)
from analysis.themes import comment_themes
from analysis.wording import ENGLISH, N_, Wording
from instruments.schema import Instrument

__all__ = [
    "PreviousWave",
    "build_drivers",
    "build_summary",
    "build_themes",
    "overall_scores",
    "trend_point",
]

FOCUS_AREAS = 3
STRENGTHS = 3


@dataclass(frozen=True, slots=True)
class PreviousWave:
    """The wave a summary compares with: its id, title, closing date and answer matrices."""

    wave_id: str
    title: str
    closes_on: str
    matrices: AnswerMatrices


def _fmt(x: float, w: Wording = ENGLISH) -> str:
    return w.num(x, signed=bool(x))


def _interval_text(low: float | None, high: float | None, confidence: float, w: Wording = ENGLISH) -> str:
    if low is None or high is None:
        return w.say(N_("no interval"))
    return w.say(N_("{confidence} CI {low} to {high}"), confidence=w.percent(confidence),
                 low=w.num(low, signed=True), high=w.num(high, signed=True))


def overall_scores(instrument: Instrument, m: AnswerMatrices, *, perception: bool,
                   min_item_fraction: float = 0.5) -> FloatArray:
    """Each respondent's overall score: the unweighted mean of their dimension scores
    (gap, or perception when ``perception``), ``NaN`` unless every dimension has one."""
    groups = dimension_groups(instrument)
    dims = respondent_dimension_scores(instrument, m, groups, perception=perception, min_fraction=min_item_fraction)
    if dims.shape[1] == 0:
        return np.full(m.n, math.nan)
    complete = ~np.isnan(dims).any(axis=1)
    out = np.full(m.n, math.nan)
    out[complete] = dims[complete].mean(axis=1)
    return out


_DEFINITIONS = {
    "gap": N_("each respondent's mean over the dimension gap scores, averaged over the {n} respondents with a "
              "score in every dimension"),
    "perception": N_("each respondent's mean over the dimension perception scores, averaged over the {n} "
                     "respondents with a score in every dimension"),
}


def _overall(scores: FloatArray, *, kind: str, k: int, confidence: float,
             w: Wording = ENGLISH) -> OverallScore | Suppressed:
    st = moments(scores[~np.isnan(scores)][:, None], confidence)
    n = int(st.n[0])
    if n < k:
        return suppressed(k, w)
    low, high = float(st.ci_low[0]), float(st.ci_high[0])
    return OverallScore(
        score=kind, n=n, mean=float(st.mean[0]),
        ci_low=None if math.isnan(low) else low, ci_high=None if math.isnan(high) else high,
        definition=w.say(_DEFINITIONS[kind], n=n),
    )


def _wording(instrument: Instrument, key: str) -> str:
    for item in instrument.items:
        if item.key == key:
            return item_wording(item)
    for dim in instrument.dimensions:
        if dim.key == key:
            return dim.title
    return key


def _dimension_title(instrument: Instrument, key: str) -> str:
    return next((d.title for d in instrument.dimensions if d.key == key), key)


def _focus(instrument: Instrument, candidates: Sequence[Candidate], confidence: float,
           w: Wording = ENGLISH) -> tuple[FocusArea, ...]:
    # Items say what to change; a dimension-level candidate is used only when no item is one.
    chosen = [c for c in candidates if c.level == "item"] or list(candidates)
    out: list[FocusArea] = []
    for rank, c in enumerate(chosen[:FOCUS_AREAS], start=1):
        # The formula of analysis.ranking.priority, with the numbers it was applied to: the upper bound, not
        # the gap itself, so that the product the reader can check is the priority shown.
        shortfall = max(0.0, -c.ci_high)
        evidence = w.say(N_("Gap {gap} ({interval}), importance weight {weight}, so priority = weight × max(0, "
                            "−upper bound) = {weight} × {shortfall} = {priority}; the gap stays significant after "
                            "adjustment for the number of tests."),
                         gap=_fmt(c.mean_gap, w), interval=_interval_text(c.ci_low, c.ci_high, confidence, w),
                         weight=w.num(c.weight), shortfall=w.num(shortfall), priority=w.num(c.priority))
        out.append(FocusArea(rank=rank, level=c.level, key=c.target, dimension=c.dimension,
                             dimension_title=_dimension_title(instrument, c.dimension),
                             wording=_wording(instrument, c.target), mean_gap=c.mean_gap,
                             ci_low=c.ci_low, ci_high=c.ci_high, priority=c.priority, weight=c.weight,
                             evidence=evidence))
    return tuple(out)


def _strengths(instrument: Instrument, report: GapReport, w: Wording = ENGLISH) -> tuple[Strength, ...]:
    rows = [r for r in report.items if isinstance(r, ItemRow)]
    has_gap = instrument.format != "perception-only"

    def score(r: ItemRow) -> float | None:
        value = r.mean_gap if has_gap else r.mean_perception
        return value if isinstance(value, float | int) else None

    ranked = sorted((r for r in rows if score(r) is not None), key=lambda r: -(score(r) or 0.0))
    out: list[Strength] = []
    for r in ranked[:STRENGTHS]:
        value = score(r)
        assert value is not None
        kind = "gap" if has_gap else "perception"
        low, high = (r.ci_low, r.ci_high) if has_gap else (r.perception_ci_low, r.perception_ci_high)
        figures = {"value": w.num(value, signed=True), "interval": _interval_text(low, high, report.confidence, w),
                   "n": r.n}
        if has_gap and r.mean_perception is not None:
            evidence = w.say(N_("Gap {value} ({interval}) from {n} respondents; perception {perception} of {points}."),
                             **figures, perception=w.num(r.mean_perception), points=instrument.scale.points)
        elif has_gap:
            evidence = w.say(N_("Gap {value} ({interval}) from {n} respondents."), **figures)
        else:
            evidence = w.say(N_("Perception {value} ({interval}) from {n} respondents."), **figures)
        out.append(Strength(key=r.key, dimension=r.dimension, wording=r.wording if isinstance(r.wording, str) else r.key, score=kind,
                            mean=float(value), ci_low=low, ci_high=high, evidence=evidence))
    return tuple(out)


def _response_rate(n: int, audience: int | None, k: int, w: Wording = ENGLISH) -> ResponseRate:
    stepped = (n // k) * k
    if stepped < k:
        return ResponseRate(responses=suppressed(k, w), audience=audience, rate_at_least=None,
                            text=w.say(N_("fewer than {k} responses"), k=k))
    if not audience:
        return ResponseRate(responses=stepped, audience=audience, rate_at_least=None,
                            text=w.say(N_("at least {n} responses"), n=stepped))
    rate = min(stepped / audience, 1.0)  # demo and test data may hold more answers than invitations
    return ResponseRate(responses=stepped, audience=audience, rate_at_least=rate,
                        text=w.say(N_("at least {n} of {audience} invited ({rate}% or more)"), n=stepped,
                                  audience=audience, rate=math.floor(rate * 100)))


def _verdict(low: float | None, high: float | None) -> str:
    if low is None or high is None:
        return "no interval"
    if low > 0:
        return "improved"
    if high < 0:
        return "worsened"
    return "no clear change"


# One whole sentence per score and verdict: a translation cannot be assembled from English pieces.
_CHANGE_SENTENCES = {
    ("gap", "improved"): N_("The overall gap score is {after}, better than {before} in “{title}” (difference "
                            "{difference}, {interval}, Welch)."),
    ("gap", "worsened"): N_("The overall gap score is {after}, worse than {before} in “{title}” (difference "
                            "{difference}, {interval}, Welch)."),
    ("gap", "no clear change"): N_("The overall gap score is {after}, not clearly different from {before} in "
                                   "“{title}” (difference {difference}, {interval}, Welch)."),
    ("gap", "no interval"): N_("The overall gap score is {after}, not comparable with {before} in “{title}” "
                               "(difference {difference}, {interval}, Welch)."),
    ("perception", "improved"): N_("The overall perception score is {after}, better than {before} in “{title}” "
                                   "(difference {difference}, {interval}, Welch)."),
    ("perception", "worsened"): N_("The overall perception score is {after}, worse than {before} in “{title}” "
                                   "(difference {difference}, {interval}, Welch)."),
    ("perception", "no clear change"): N_("The overall perception score is {after}, not clearly different from "
                                          "{before} in “{title}” (difference {difference}, {interval}, Welch)."),
    ("perception", "no interval"): N_("The overall perception score is {after}, not comparable with {before} in "
                                      "“{title}” (difference {difference}, {interval}, Welch)."),
}


def _change(instrument: Instrument, current: FloatArray, previous: FloatArray, *, previous_wave: PreviousWave,
            k: int, confidence: float, wording: Wording = ENGLISH) -> Change | Suppressed:
    nb = int(np.count_nonzero(~np.isnan(previous)))
    na = int(np.count_nonzero(~np.isnan(current)))
    if nb < k or na < k:
        return suppressed(k, wording)
    w = welch_difference(previous, current, confidence=confidence)
    verdict = _verdict(w.ci_low, w.ci_high)
    score = "gap" if instrument.format != "perception-only" else "perception"
    assert w.mean_a is not None and w.mean_b is not None and w.difference is not None
    sentence = wording.say(_CHANGE_SENTENCES[score, verdict], after=wording.num(w.mean_b, signed=True),
                           before=wording.num(w.mean_a, signed=True), title=previous_wave.title,
                           difference=wording.num(w.difference, signed=True),
                           interval=_interval_text(w.ci_low, w.ci_high, confidence, wording))
    return Change(previous_wave_id=previous_wave.wave_id, previous_title=previous_wave.title,
                  previous_closes_on=previous_wave.closes_on, score=score, n_before=w.n_a, n_after=w.n_b,
                  mean_before=w.mean_a, mean_after=w.mean_b, difference=w.difference, ci_low=w.ci_low,
                  ci_high=w.ci_high, verdict=verdict, sentence=sentence)


def build_summary(
    instrument: Instrument,
    report: GapReport,
    matrices: AnswerMatrices,
    *,
    audience: int | None,
    previous: PreviousWave | None = None,
    min_item_fraction: float = 0.5,
    wording: Wording = ENGLISH,
) -> Summary | Suppressed:
    """The summary a manager reads first (see the module docstring)."""
    k, confidence = report.k_scores, report.confidence
    if matrices.n < k:
        return suppressed(k, wording)
    has_gap = instrument.format != "perception-only"
    gap_scores = overall_scores(instrument, matrices, perception=False, min_item_fraction=min_item_fraction)
    perception_scores = overall_scores(instrument, matrices, perception=True, min_item_fraction=min_item_fraction)
    change: Change | Suppressed | None = None
    if previous is not None:
        before = overall_scores(instrument, previous.matrices, perception=not has_gap,
                                min_item_fraction=min_item_fraction)
        change = _change(instrument, gap_scores if has_gap else perception_scores, before,
                         previous_wave=previous, k=k, confidence=confidence, wording=wording)
    return Summary(
        overall_gap=_overall(gap_scores, kind="gap", k=k, confidence=confidence, w=wording) if has_gap else None,
        overall_perception=_overall(perception_scores, kind="perception", k=k, confidence=confidence, w=wording),
        response_rate=_response_rate(matrices.n, audience, k, wording),
        change=change,
        focus=_focus(instrument, report.candidates, confidence, wording),
        strengths=_strengths(instrument, report, wording),
        priority_formula=report.priority_formula,
    )


def _stated_weights(report: GapReport) -> list[float] | None:
    weights = [r.importance_weight for r in report.dimensions if isinstance(r, DimensionRow)]
    if len(weights) != len(report.dimensions) or any(w is None or w <= 0 for w in weights):
        return None
    return [float(w) for w in weights if w is not None]


def build_drivers(
    instrument: Instrument,
    report: GapReport,
    matrices: AnswerMatrices,
    satisfaction: FloatArray | None,
    *,
    resamples: int = DEFAULT_RESAMPLES,
    min_item_fraction: float = 0.5,
    wording: Wording = ENGLISH,
) -> Drivers | Suppressed | None:
    """Key drivers of the instrument's first satisfaction item: perception dimension scores
    as predictors. ``None`` when the instrument has no satisfaction item."""
    if not instrument.satisfaction or satisfaction is None or satisfaction.shape[1] == 0:
        return None
    k = report.k_scores
    outcome = instrument.satisfaction[0]
    predictors = respondent_dimension_scores(instrument, matrices, dimension_groups(instrument), perception=True,
                                             min_fraction=min_item_fraction)
    y = satisfaction[:, 0]
    complete = int(np.count_nonzero(~np.isnan(np.column_stack([predictors, y])).any(axis=1)))
    if complete < k:
        return suppressed(k, wording)
    keys = [d.key for d in instrument.dimensions]
    resamples = resamples_for(complete, resamples)
    result = key_drivers(predictors, y, keys, outcome_key=outcome.key, resamples=resamples,
                         confidence=report.confidence)
    method = wording.say(N_("Relative weights (Johnson 2000) and general dominance (Budescu 1993) of the dimension "
                            "perception scores on the overall-satisfaction item; each part of R² with a percentile "
                            "bootstrap {confidence} interval from {resamples} resamples of respondents."),
                         confidence=wording.percent(report.confidence), resamples=resamples)
    if result is None:
        return Drivers(outcome=outcome.key, outcome_wording=outcome.statement, n=complete, r_squared=None,
                       r_squared_low=None, r_squared_high=None, method=method, rows=(),
                       note=wording.say(N_("no regression could be fitted: too few complete answers, or an answer "
                                            "that never varies")))
    stated = _stated_weights(report)
    comparison = compare_importance(result, stated) if stated is not None else None
    rows = tuple(
        DriverRow(key=d.key, title=_dimension_title(instrument, d.key), weight=d.weight, weight_low=d.weight_low,
                  weight_high=d.weight_high, share=d.share, share_low=d.share_low, share_high=d.share_high,
                  dominance=d.dominance, dominance_low=d.dominance_low, dominance_high=d.dominance_high,
                  stated_share=comparison[j].stated_share if comparison else None,
                  derived_rank=comparison[j].derived_rank if comparison else None,
                  stated_rank=comparison[j].stated_rank if comparison else None,
                  disagrees=comparison[j].disagrees if comparison else None)
        for j, d in enumerate(result.drivers)
    )
    note = None if comparison else wording.say(N_("no stated importance to compare with"))
    return Drivers(outcome=outcome.key, outcome_wording=outcome.statement, n=result.n, r_squared=result.r_squared,
                   r_squared_low=result.r_squared_low, r_squared_high=result.r_squared_high, method=method,
                   rows=rows, note=note)


def build_themes(comments: Sequence[str] | None, *, k_comments: int,
                 wording: Wording = ENGLISH) -> Themes | Suppressed:
    """Comment themes, or suppressed when the wave's comments are (below ``k_comments``)."""
    if comments is None:
        return suppressed(k_comments, wording)
    method = wording.say(N_("Terms weighted by TF-IDF, grouped by non-negative matrix factorisation; each theme is "
                            "named by its top terms and shown only with at least {k} comments."), k=k_comments)
    result = comment_themes(comments, k=k_comments)
    if result is None:
        return Themes(comments=len([c for c in comments if c.strip()]), themes=(), other=None, method=method,
                      note=wording.say(N_("too few comments, or no words they share, to find themes")))
    return Themes(
        comments=result.comments,
        themes=tuple(ThemeRow(label=", ".join(t.terms), terms=t.terms, comments=t.comments, dimension=t.dimension)
                     for t in result.themes),
        other=result.other, method=method, note=None,
    )


def trend_point(report: GapReport, summary: Summary | Suppressed, *, wave_id: str, title: str,
                closes_on: str) -> TrendPoint:
    """One closed wave in a service's series: overall and per-dimension score with intervals."""
    has_gap = report.format != "perception-only"
    overall: TrendValue | None = None
    if isinstance(summary, Summary):
        score = summary.overall_gap if has_gap else summary.overall_perception
        if isinstance(score, OverallScore):
            overall = TrendValue(mean=score.mean, ci_low=score.ci_low, ci_high=score.ci_high, n=score.n)
    dims: dict[str, TrendValue] = {}
    for row in report.dimensions:
        if isinstance(row, DimensionRow):
            mean = row.mean_gap if has_gap else row.mean_perception
            low, high = (row.ci_low, row.ci_high) if has_gap else (row.perception_ci_low, row.perception_ci_high)
            if isinstance(mean, float | int):
                dims[row.key] = TrendValue(mean=float(mean), ci_low=low, ci_high=high, n=row.n)
    return TrendPoint(wave_id=wave_id, title=title, closes_on=closes_on,
                      score="gap" if has_gap else "perception", n=report.n if isinstance(report.n, int) else None,
                      overall=overall, dimensions=dims)
