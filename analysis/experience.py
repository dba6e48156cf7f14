"""The IT experience section of a wave's report: satisfaction, effort, time lost, NPS.

SERVQUAL says *where* a service falls short; the experience measures say how it felt and
what it cost: how satisfied people are (CSAT), how easy the service made it to get an
issue handled (customer effort), how many minutes it cost them in the last month and,
optionally, whether they would recommend it (NPS). Each measure is reported with its
interval and its known caveat in plain words, because each has one:

- **CSAT** (1..5, "Very dissatisfied" .. "Very satisfied"): the mean with a t-interval and
  the share satisfied = top-2-box (4 or 5) with a Wilson (1927) score interval. A
  top-2-box depends on the scale: 2 of 5 points is not 2 of 7 or 10.
- **Customer effort** (CES 2.0: agreement on 7 points with "The IT service made it easy for
  me to handle my issue"; Dixon, Freeman & Toman 2010, *Harvard Business Review* 88(7/8),
  116-122, and CEB's revision): the mean with a t-interval and the share "easy" (5..7)
  with a Wilson interval. The original CES asked how much effort one "personally had to
  put forth" on 5 points, in the opposite direction; the two cannot be compared.
- **Minutes lost** (a whole number 0..max, self-reported for the last month): the mean with
  a seeded percentile bootstrap interval (Efron & Tibshirani 1993, ch. 13), which follows
  the right skew such answers have; and per service, hours lost per month =
  mean minutes x audience / 60, its interval the mean's interval scaled the same way.
- **NPS** (0..10): %promoters (9, 10) - %detractors (0..6), in points -100..100, with a
  normal interval from the multinomial variance
  ``Var(p_P - p_D) = (p_P + p_D - (p_P - p_D)^2) / n``. One coarse, high-variance item whose
  evidence is weak for internal services that users cannot leave (Keiningham, Cooil,
  Andreassen & Aksoy 2007, *Journal of Marketing* 71(3), 39-51).

Anonymity: the rule of :mod:`analysis.report` -- nothing computed from fewer than
``k_scores`` respondents is a number. The whole section is suppressed below k responses,
and a measure answered by fewer than k is a suppressed row.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from analysis.moments import FloatArray, check_confidence
from analysis.report import GAP_DEFINITIONS
from analysis.report_types import (
    Estimate,
    ExperienceSection,
    GapReport,
    HoursLost,
    InstrumentRef,
    MeasureResult,
    MissingData,
    NetPromoter,
    Overall,
    Suppressed,
    SuppressedRow,
    suppressed,
)
from analysis.wording import ENGLISH, N_, Wording
from instruments.schema import Instrument, Measure

__all__ = [
    "BOOTSTRAP_RESAMPLES",
    "BOOTSTRAP_SEED",
    "CAVEATS",
    "build_experience",
    "bootstrap_mean_interval",
    "measures_only_report",
    "net_promoter",
    "t_mean_interval",
    "wilson_interval",
]

#: Resamples of the minutes bootstrap, and its fixed seed: a closed wave's report is
#: the same every time it is computed.
BOOTSTRAP_RESAMPLES = 10_000
BOOTSTRAP_SEED = 20100701
_BATCH = 500

#: The answers that count as "satisfied" (CSAT), "easy" (effort), promoter and detractor (NPS).
SATISFIED = (4, 5)
EASY = (5, 6, 7)
PROMOTERS = (9, 10)
DETRACTORS = (0, 1, 2, 3, 4, 5, 6)

CAVEATS = {
    "csat": N_(
        "Share satisfied is the top-2-box: the share who chose 4 or 5 of 5. It depends on the scale "
        "(two boxes of 5 points are not two of 7 or 10), so compare it only with the same 5-point "
        "question; the mean and the share can move differently."
    ),
    "effort": N_(
        "Customer effort uses the CES 2.0 wording (agreement on 7 points that the service made it easy "
        "to handle the issue; Dixon, Freeman & Toman 2010). The first version asked how much effort "
        "people had to put in, on 5 points and the other way round: figures from the two versions "
        "cannot be compared."
    ),
    "minutes": N_(
        "Time lost is what people recall for the last month, not a measurement: recall is rough and a "
        "few large answers pull the mean up. The interval is a percentile bootstrap of the mean "
        "({resamples} resamples, fixed seed), which follows that skew. Hours lost assume "
        "that the people who did not answer lose as much time as those who did."
    ),
    "nps": N_(
        "The Net Promoter Score cuts one 0-10 question into three groups, so it discards information "
        "and jumps between small samples (see its wide interval). The evidence that it predicts "
        "anything is weak, and weaker for internal IT, which people cannot leave for another "
        "provider: read it beside satisfaction and effort, never instead of them."
    ),
}

_METHODS = {
    "mean": N_("mean with a t-interval"),
    "share": N_("Wilson score interval"),
    "bootstrap": N_("percentile bootstrap of the mean ({resamples} resamples, seed {seed})"),
    "nps": N_("normal interval from the multinomial variance of %promoters - %detractors"),
}

#: What each estimate is (its ``label``), in the reader's language like every sentence here.
_LABELS = {
    "mean": N_("mean"),
    "minutes": N_("mean minutes lost"),
    "csat": N_("satisfied (4 or 5 of 5)"),
    "effort": N_("easy (agree: 5, 6 or 7 of 7)"),
}

_HOURS_FORMULA = N_("Hours lost per month = mean minutes lost × audience ÷ 60 (its interval: the mean's, scaled the "
                    "same)")
_HOURS_UNKNOWN = N_("the wave's audience size is not known, so hours lost are not shown")


def _method(kind: str, wording: Wording) -> str:
    # The seed is an identifier, not a quantity: written as is in every language.
    return wording.say(_METHODS[kind], resamples=BOOTSTRAP_RESAMPLES, seed=BOOTSTRAP_SEED)


# ----------------------------------------------------------------------------- intervals


def _fin(x: float | np.floating[Any]) -> float | None:
    v = float(x)
    return v if math.isfinite(v) else None


def t_mean_interval(x: FloatArray, confidence: float) -> tuple[float, float | None, float | None]:
    """Mean of ``x`` and its t-interval ``mean ± t_{1-α/2, n-1} · s / √n``.

    The interval is ``None`` for fewer than two values; a constant sample has the
    zero-width interval at its value.
    """
    n = x.size
    mean = float(x.mean())
    if n < 2:
        return mean, None, None
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * float(x.std(ddof=1)) / math.sqrt(n)
    return mean, _fin(mean - half), _fin(mean + half)


def wilson_interval(successes: int, n: int, confidence: float) -> tuple[float, float]:
    """Wilson (1927) score interval of a proportion ``successes / n``.

    ``(p̂ + z²/2n ± z·√(p̂(1-p̂)/n + z²/4n²)) / (1 + z²/n)``, z the normal quantile.
    """
    if n < 1:
        raise ValueError("n must be at least 1")
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    p = successes / n
    centre = p + z * z / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    denominator = 1 + z * z / n
    return max(0.0, (centre - half) / denominator), min(1.0, (centre + half) / denominator)


def bootstrap_mean_interval(
    x: FloatArray, confidence: float, *, resamples: int = BOOTSTRAP_RESAMPLES, seed: int = BOOTSTRAP_SEED
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``x``.

    A resample's mean depends only on how often it draws each distinct value, and those
    counts are multinomial(n, observed frequencies): drawing the counts instead of n
    indices gives the same bootstrap distribution at a cost in the number of distinct
    values (minutes are whole numbers) rather than in n.
    """
    if x.size < 1:
        raise ValueError("x must not be empty")
    values, counts = np.unique(x, return_counts=True)
    n = int(counts.sum())
    p = counts / n
    rng = np.random.default_rng(seed)
    means = np.empty(resamples)
    for start in range(0, resamples, _BATCH):
        size = min(_BATCH, resamples - start)
        drawn: NDArray[np.int64] = rng.multinomial(n, p, size=size)
        means[start:start + size] = drawn @ values / n
    alpha = 1 - confidence
    low, high = np.quantile(means, [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)


def net_promoter(x: FloatArray, confidence: float, wording: Wording = ENGLISH) -> NetPromoter:
    """NPS = 100 (p_P - p_D) with the normal interval of the multinomial variance (``wording``: the
    language its ``method`` is named in)."""
    n = x.size
    promoters = float(np.isin(x, PROMOTERS).mean())
    detractors = float(np.isin(x, DETRACTORS).mean())
    score = promoters - detractors
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    se = math.sqrt(max(promoters + detractors - score * score, 0.0) / n)
    return NetPromoter(
        score=100 * score, ci_low=max(-100.0, 100 * (score - z * se)), ci_high=min(100.0, 100 * (score + z * se)),
        promoters=promoters, passives=1 - promoters - detractors, detractors=detractors, method=_method("nps", wording),
    )


# ----------------------------------------------------------------------------- section


def _share(x: FloatArray, chosen: tuple[int, ...], kind: str, confidence: float, wording: Wording) -> Estimate:
    hits = int(np.isin(x, chosen).sum())
    low, high = wilson_interval(hits, x.size, confidence)
    return Estimate(value=hits / x.size, ci_low=low, ci_high=high, label=wording.say(_LABELS[kind]),
                    method=_method("share", wording))


def _mean(x: FloatArray, confidence: float, wording: Wording) -> Estimate:
    mean, low, high = t_mean_interval(x, confidence)
    return Estimate(value=mean, ci_low=low, ci_high=high, label=wording.say(_LABELS["mean"]),
                    method=_method("mean", wording))


def _hours(mean: Estimate, audience: int | None, wording: Wording) -> HoursLost:
    formula = wording.say(_HOURS_FORMULA)
    if audience is None:
        return HoursLost(audience=None, hours=None, ci_low=None, ci_high=None, formula=formula,
                         note=wording.say(_HOURS_UNKNOWN))

    def scale(v: float | None) -> float | None:
        return None if v is None else v * audience / 60

    return HoursLost(audience=audience, hours=scale(mean.value), ci_low=scale(mean.ci_low),
                     ci_high=scale(mean.ci_high), formula=formula, note=None)


def _measure(measure: Measure, x: FloatArray, confidence: float, audience: int | None,
             wording: Wording = ENGLISH) -> MeasureResult:
    def result(**figures: Any) -> MeasureResult:
        return MeasureResult(key=measure.key, kind=measure.kind, statement=measure.statement, n=int(x.size),
                             caveat=wording.say(CAVEATS[measure.kind], resamples=wording.count(BOOTSTRAP_RESAMPLES)),
                             **figures)

    if measure.kind == "csat":
        return result(mean=_mean(x, confidence, wording), share=_share(x, SATISFIED, "csat", confidence, wording))
    if measure.kind == "effort":
        return result(mean=_mean(x, confidence, wording), share=_share(x, EASY, "effort", confidence, wording))
    if measure.kind == "minutes":
        low, high = bootstrap_mean_interval(x, confidence)
        mean = Estimate(value=float(x.mean()), ci_low=low, ci_high=high, label=wording.say(_LABELS["minutes"]),
                        method=_method("bootstrap", wording))
        return result(mean=mean, hours_per_month=_hours(mean, audience, wording))
    return result(nps=net_promoter(x, confidence, wording))


def build_experience(
    instrument: Instrument,
    values: FloatArray | None,
    *,
    k_scores: int = 5,
    audience: int | None = None,
    confidence: float = 0.95,
    wording: Wording = ENGLISH,
) -> ExperienceSection | Suppressed | None:
    """The experience section of a wave, or ``None`` when its instrument has no measures.

    Parameters
    ----------
    instrument : Instrument
        Its ``measures`` name the columns of ``values``.
    values : ndarray, shape (n_responses, n_measures)
        One row per response, ``NaN`` where a measure was left out (every response of
        the wave is a row, so ``n`` is the wave's response count).
    k_scores : int
        Anonymity threshold: below k responses the whole section is suppressed, and a
        measure answered by fewer than k is a suppressed row.
    audience : int or None
        How many people the wave was sent to; scales the minutes into hours per month.
    confidence : float
        Level of every interval.
    wording : Wording
        The language of the labels, methods, caveats and notes (English by default).
    """
    if not instrument.measures:
        return None
    check_confidence(confidence)
    if k_scores < 1:
        raise ValueError("k_scores must be at least 1")
    width = len(instrument.measures)
    matrix = np.empty((0, width)) if values is None else np.asarray(values, dtype=float)
    if matrix.ndim != 2 or matrix.shape[1] != width:
        raise ValueError(f"values must have one column per measure ({width})")
    n = int(matrix.shape[0])
    if n < k_scores:
        return suppressed(k_scores, wording)
    rows: list[MeasureResult | SuppressedRow] = []
    for j, measure in enumerate(instrument.measures):
        column = matrix[:, j]
        x = column[~np.isnan(column)]
        if x.size < k_scores:
            rows.append(SuppressedRow.below(k_scores, measure.key, title=measure.statement, words=wording))
        else:
            rows.append(_measure(measure, x, confidence, audience, wording))
    return ExperienceSection(n=n, k_scores=k_scores, confidence=confidence, audience=audience,
                             measures=tuple(rows))


def measures_only_report(instrument: Instrument, n: int, *, k_scores: int = 5, confidence: float = 0.95,
                         wording: Wording = ENGLISH) -> GapReport:
    """The gap report of an instrument with measures and no items: no rows, no scores.

    Its frame (instrument, thresholds, ``n`` under the same k rule) keeps the report's
    shape for every reader, and its note sends them to the experience section, which
    carries the wave's results.
    """
    if instrument.items:
        raise ValueError("the instrument has items: build the gap report (analysis.report.build_report)")
    below = n < k_scores
    return GapReport(
        instrument=InstrumentRef(id=instrument.id, version=instrument.version, title=instrument.title),
        format=instrument.format, gap_definition=wording.say(GAP_DEFINITIONS[instrument.format]), k_scores=k_scores,
        confidence=confidence, alpha_level=0.05, adjustment="bh", priority_formula=None,
        n=suppressed(k_scores, wording) if below else n, suppressed=below, items=(), dimensions=(),
        overall=suppressed(k_scores, wording) if below else Overall(
            unweighted=None, weighted=None, perception_unweighted=None, perception_weighted=None,
            note=wording.say(N_("no SERVQUAL items, so no overall score"))),
        importance=None, ipa=None, candidates=(),
        missing_data=MissingData(statement=wording.say(N_("no SERVQUAL items: see the experience section"))),
        notes=(wording.say(N_("this instrument has only IT experience measures: its results are the experience "
                              "section")),),
    )
