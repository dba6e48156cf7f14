"""The gap report and the wave-to-wave change as frozen msgspec structs.

The JSON of these structs is what the browser, the exports and the API read. Two
conventions keep it the shape it has always had:

* A number computed from fewer than k respondents is never a number: it is a
  :class:`Suppressed` marker, ``{"suppressed": true, "reason": "fewer than k=5
  responses"}``, and a whole row below k is a :class:`SuppressedRow` (its key, its
  dimension or title, and the marker's two fields). ``suppressed`` is what a script
  tests; ``reason`` is a sentence for people, in the report's language like its other
  sentences (``"weniger als k=5 Antworten"`` in a German report).
* A field that a report format does not have (``mean_expectation`` in a
  zone-of-tolerance report, every gap field in a perception-only one) is ``UNSET`` and
  left out of the JSON, so the browser's tables show only the columns a report has.

Every number is a Python ``int`` or ``float`` (msgspec cannot encode NumPy values): the
statistics convert at their boundary (:func:`analysis.moments.finite`).
"""

from __future__ import annotations

import re

from msgspec import UNSET, Struct, UnsetType

from analysis.wording import ENGLISH, N_, Wording

__all__ = [
    "Estimate",
    "ExperienceSection",
    "HoursLost",
    "MeasureResult",
    "NetPromoter",
    "Change",
    "DriverRow",
    "Drivers",
    "FocusArea",
    "OverallScore",
    "ResponseRate",
    "Strength",
    "Summary",
    "ThemeRow",
    "Themes",
    "Trend",
    "TrendPoint",
    "TrendValue",
    "UNSET",
    "ReportStruct",
    "AlphaItem",
    "Candidate",
    "ChangeReport",
    "ChangeRow",
    "DimensionRow",
    "GapReport",
    "IPAPoint",
    "Importance",
    "ImportancePerformance",
    "InstrumentRef",
    "ItemRow",
    "ItemUse",
    "LeftOut",
    "MissingData",
    "Overall",
    "Reliability",
    "ServiceSuperiority",
    "Suppressed",
    "SuppressedRow",
    "UnsetType",
    "SUPPRESSED_REASON",
    "suppressed",
    "suppression_reason",
]


class ReportStruct(Struct, frozen=True, kw_only=True):
    """Base of every report struct.

    A row is an :class:`ItemRow` *or* a :class:`SuppressedRow`, told apart by their
    fields rather than by a tag (a tag would add a field to JSON the browser, the exports
    and analysts' scripts already read). msgspec encodes such untagged unions but
    ``msgspec.inspect`` refuses them, so the web layer documents these structs from
    their type hints (``service.reports.ReportSchemaPlugin``); this base marks them.
    """


class Suppressed(ReportStruct, frozen=True, kw_only=True):
    """Stands in for any value computed from fewer than k respondents."""

    suppressed: bool = True
    reason: str


#: Why a value is missing, as the report states it; ``k`` is written as the setting is (``k=10000``).
SUPPRESSED_REASON = N_("fewer than k={k} responses")
_ENGLISH_REASON = re.compile(r"fewer than k=(\d+) responses")


def suppressed(k: int, wording: Wording = ENGLISH) -> Suppressed:
    """The marker for a value computed from fewer than ``k`` respondents, its reason in ``wording``'s language."""
    return Suppressed(reason=wording.say(SUPPRESSED_REASON, k=k))


def suppression_reason(reason: str, wording: Wording) -> str:
    """``reason`` said in ``wording``'s language when it is the English :data:`SUPPRESSED_REASON` (as data
    assembled outside a report carries it, e.g. a trend series' waves); any other text as it is."""
    found = _ENGLISH_REASON.fullmatch(reason)
    return wording.say(SUPPRESSED_REASON, k=int(found.group(1))) if found else reason


class SuppressedRow(ReportStruct, frozen=True, kw_only=True):
    """An item, dimension or change row computed from fewer than k respondents: no numbers."""

    key: str
    dimension: str | UnsetType = UNSET
    title: str | UnsetType = UNSET
    wording: str | UnsetType = UNSET
    suppressed: bool = True
    reason: str

    @classmethod
    def below(cls, k: int, key: str, *, dimension: str | UnsetType = UNSET,
              title: str | UnsetType = UNSET, wording: str | UnsetType = UNSET,
              words: Wording = ENGLISH) -> SuppressedRow:
        """The row ``key`` suppressed for falling below ``k`` (``wording``: the item's statement; ``words``: the
        language of the reason)."""
        return cls(key=key, dimension=dimension, title=title, wording=wording, reason=suppressed(k, words).reason)


class InstrumentRef(ReportStruct, frozen=True, kw_only=True):
    id: str
    version: str
    title: str | UnsetType = UNSET


class ServiceSuperiority(ReportStruct, frozen=True, kw_only=True):
    """MSS = perception - desired (zone-of-tolerance format) of one row."""

    mean: float | None
    sd: float | None
    ci_low: float | None
    ci_high: float | None
    t_p: float | None
    wilcoxon_p: float | None
    d_z: float | None


class ItemRow(ReportStruct, frozen=True, kw_only=True):
    """One item's scores (at least k respondents answered all its columns).

    The gap is perception - expectation, or MSA = perception - minimum in the
    zone-of-tolerance format; ``ci_low``/``ci_high`` are the gap's interval, or the
    perception's in a perception-only report. Adjusted p-values: ``p_holm``, ``p_bh``.
    """

    key: str
    dimension: str
    # What respondents read (the perception statement), shown wherever the key was.
    wording: str | UnsetType = UNSET
    n: int
    mean_expectation: float | None | UnsetType = UNSET
    mean_minimum: float | None | UnsetType = UNSET
    mean_desired: float | None | UnsetType = UNSET
    mean_perception: float | None
    sd_perception: float | None
    perception_ci_low: float | None
    perception_ci_high: float | None
    mean_gap: float | None | UnsetType = UNSET
    sd_gap: float | None | UnsetType = UNSET
    se_gap: float | None | UnsetType = UNSET
    ci_low: float | None
    ci_high: float | None
    t: float | None | UnsetType = UNSET
    t_p: float | None | UnsetType = UNSET
    wilcoxon_p: float | None | UnsetType = UNSET
    wilcoxon_method: str | None | UnsetType = UNSET
    d_z: float | None | UnsetType = UNSET
    p_holm: float | None | UnsetType = UNSET
    p_bh: float | None | UnsetType = UNSET
    mss: ServiceSuperiority | UnsetType = UNSET
    zone: str | UnsetType = UNSET
    note: str | None
    importance_mean: float | None


class AlphaItem(ReportStruct, frozen=True, kw_only=True):
    key: str
    item_total: float | None
    alpha_if_deleted: float | None


class Reliability(ReportStruct, frozen=True, kw_only=True):
    """Listwise Cronbach's alpha of one column (or the gap) over a dimension's items."""

    n: int | Suppressed
    alpha: float | None | Suppressed
    note: str | None | UnsetType = UNSET
    items: tuple[AlphaItem, ...] | Suppressed


class DimensionRow(ReportStruct, frozen=True, kw_only=True):
    """One dimension's scores: each respondent's mean over the dimension's items, then the
    same statistics as an item's; reliability per column and for the gap."""

    key: str
    title: str
    n: int
    items: tuple[str, ...]
    mean_expectation: float | None | UnsetType = UNSET
    mean_minimum: float | None | UnsetType = UNSET
    mean_desired: float | None | UnsetType = UNSET
    mean_perception: float | None
    sd_perception: float | None
    perception_ci_low: float | None
    perception_ci_high: float | None
    mean_gap: float | None | UnsetType = UNSET
    sd_gap: float | None | UnsetType = UNSET
    se_gap: float | None | UnsetType = UNSET
    ci_low: float | None
    ci_high: float | None
    t: float | None | UnsetType = UNSET
    t_p: float | None | UnsetType = UNSET
    wilcoxon_p: float | None | UnsetType = UNSET
    wilcoxon_method: str | None | UnsetType = UNSET
    d_z: float | None | UnsetType = UNSET
    p_holm: float | None | UnsetType = UNSET
    p_bh: float | None | UnsetType = UNSET
    mss: ServiceSuperiority | UnsetType = UNSET
    zone: str | UnsetType = UNSET
    alpha_expectation: float | None | Suppressed | UnsetType = UNSET
    alpha_minimum: float | None | Suppressed | UnsetType = UNSET
    alpha_desired: float | None | Suppressed | UnsetType = UNSET
    alpha_perception: float | None | Suppressed | UnsetType = UNSET
    alpha_gap: float | None | Suppressed | UnsetType = UNSET
    reliability: dict[str, Reliability]
    importance_weight: float | None
    note: str | None | UnsetType = UNSET


class Overall(ReportStruct, frozen=True, kw_only=True):
    """Overall scores over the dimensions; all suppressed when any dimension is."""

    unweighted: float | None | Suppressed
    weighted: float | None | Suppressed
    perception_unweighted: float | None | Suppressed
    perception_weighted: float | None | Suppressed
    note: str | UnsetType = UNSET
    formula: str | UnsetType = UNSET


class Importance(ReportStruct, frozen=True, kw_only=True):
    """Where the importance weights come from (``kind``: "allocation" or "rating")."""

    kind: str
    n: int | Suppressed | UnsetType = UNSET
    total: int | UnsetType = UNSET
    weights: dict[str, float] | Suppressed | None
    mean_points: dict[str, float] | UnsetType = UNSET
    item_means: dict[str, float | Suppressed] | UnsetType = UNSET
    source: str | UnsetType = UNSET
    note: str | UnsetType = UNSET


class IPAPoint(ReportStruct, frozen=True, kw_only=True):
    key: str
    importance: float
    performance: float
    quadrant: str


class ImportancePerformance(ReportStruct, frozen=True, kw_only=True):
    """Importance-performance analysis (Martilla & James 1977), crosshair at the means."""

    level: str
    importance_scale: str
    performance: str
    importance_mean: float
    performance_mean: float
    points: tuple[IPAPoint, ...]


class Candidate(ReportStruct, frozen=True, kw_only=True):
    """A gap significantly below zero after adjustment, ranked by priority, with the
    plain-language ``reason`` that says why (see :data:`analysis.ranking.PRIORITY_FORMULA`)."""

    rank: int
    level: str
    target: str
    dimension: str
    priority: float
    weight: float
    mean_gap: float
    ci_low: float | None
    ci_high: float
    p_adjusted: float
    mean_perception: float | None
    perception_ci_low: float | None
    perception_ci_high: float | None
    reason: str


class LeftOut(ReportStruct, frozen=True, kw_only=True):
    missing: int | Suppressed
    not_applicable: int | Suppressed


class ItemUse(ReportStruct, frozen=True, kw_only=True):
    key: str
    n_used: int
    n_excluded: int


class MissingData(ReportStruct, frozen=True, kw_only=True):
    """How missing and not-applicable answers were handled, and how many there were."""

    statement: str
    answers_left_out: dict[str, LeftOut] | UnsetType = UNSET
    items: tuple[ItemUse | SuppressedRow, ...] | UnsetType = UNSET


class GapReport(ReportStruct, frozen=True, kw_only=True):
    """The gap report of one wave (:func:`analysis.report.build_report`)."""

    instrument: InstrumentRef
    format: str
    gap_definition: str
    k_scores: int
    confidence: float
    alpha_level: float
    adjustment: str
    priority_formula: str | None
    n: int | Suppressed
    suppressed: bool
    items: tuple[ItemRow | SuppressedRow, ...]
    dimensions: tuple[DimensionRow | SuppressedRow, ...]
    overall: Overall | Suppressed
    importance: Importance | Suppressed | None
    ipa: ImportancePerformance | None
    candidates: tuple[Candidate, ...]
    missing_data: MissingData
    notes: tuple[str, ...]


class ChangeRow(ReportStruct, frozen=True, kw_only=True):
    """The change of one item's or dimension's score, ``after - before``, Welch interval."""

    key: str
    dimension: str | UnsetType = UNSET
    title: str | UnsetType = UNSET
    n_before: int
    n_after: int
    mean_before: float | None
    mean_after: float | None
    difference: float | None
    se: float | None
    df: float | None
    ci_low: float | None
    ci_high: float | None
    t_p: float | None
    note: str | None


class ChangeReport(ReportStruct, frozen=True, kw_only=True):
    """Score changes between two waves (:func:`analysis.change.build_change_report`)."""

    instrument: InstrumentRef
    score: str
    k_scores: int
    confidence: float
    method: str
    items: tuple[ChangeRow | SuppressedRow, ...]
    dimensions: tuple[ChangeRow | SuppressedRow, ...]


# --- The decision view (analysis.decision) -------------------------------------------


class OverallScore(ReportStruct, frozen=True, kw_only=True):
    """The mean of respondents' overall scores (``score``: "gap" or "perception") with its interval."""

    score: str
    n: int
    mean: float
    ci_low: float | None
    ci_high: float | None
    definition: str


class ResponseRate(ReportStruct, frozen=True, kw_only=True):
    """Responses in whole multiples of k, against the audience the wave was sent to."""

    responses: int | Suppressed
    audience: int | None
    rate_at_least: float | None
    text: str


class Change(ReportStruct, frozen=True, kw_only=True):
    """The overall score against the previous closed wave of the same service and instrument."""

    previous_wave_id: str
    previous_title: str
    previous_closes_on: str
    score: str
    n_before: int
    n_after: int
    mean_before: float
    mean_after: float
    difference: float
    ci_low: float | None
    ci_high: float | None
    verdict: str
    sentence: str


class FocusArea(ReportStruct, frozen=True, kw_only=True):
    """One of the top candidates, in the words respondents read, with its evidence."""

    rank: int
    level: str
    key: str
    dimension: str
    dimension_title: str
    wording: str
    mean_gap: float
    ci_low: float | None
    ci_high: float
    weight: float
    priority: float
    evidence: str


class Strength(ReportStruct, frozen=True, kw_only=True):
    """One of the best-scored items."""

    key: str
    dimension: str
    wording: str
    score: str
    mean: float
    ci_low: float | None
    ci_high: float | None
    evidence: str


class Summary(ReportStruct, frozen=True, kw_only=True):
    """What a manager reads first (:func:`analysis.decision.build_summary`)."""

    overall_gap: OverallScore | Suppressed | None
    overall_perception: OverallScore | Suppressed
    response_rate: ResponseRate
    change: Change | Suppressed | None
    focus: tuple[FocusArea, ...]
    strengths: tuple[Strength, ...]
    priority_formula: str | None


class DriverRow(ReportStruct, frozen=True, kw_only=True):
    """One dimension's share of the explained variance in overall satisfaction."""

    key: str
    title: str
    weight: float
    weight_low: float | None
    weight_high: float | None
    share: float
    share_low: float | None
    share_high: float | None
    dominance: float | None
    dominance_low: float | None
    dominance_high: float | None
    stated_share: float | None
    derived_rank: int | None
    stated_rank: int | None
    disagrees: bool | None


class Drivers(ReportStruct, frozen=True, kw_only=True):
    """Key-driver analysis of the overall-satisfaction item (:func:`analysis.decision.build_drivers`)."""

    outcome: str
    outcome_wording: str
    n: int
    r_squared: float | None
    r_squared_low: float | None
    r_squared_high: float | None
    method: str
    rows: tuple[DriverRow, ...]
    note: str | None


class ThemeRow(ReportStruct, frozen=True, kw_only=True):
    label: str
    terms: tuple[str, ...]
    comments: int
    dimension: str | None


class Themes(ReportStruct, frozen=True, kw_only=True):
    """Themes of the wave's comments (:func:`analysis.decision.build_themes`)."""

    comments: int
    themes: tuple[ThemeRow, ...]
    other: int | None
    method: str
    note: str | None


class TrendValue(ReportStruct, frozen=True, kw_only=True):
    mean: float
    ci_low: float | None
    ci_high: float | None
    n: int


class TrendPoint(ReportStruct, frozen=True, kw_only=True):
    """One closed wave in the series of a service and instrument."""

    wave_id: str
    title: str
    closes_on: str
    score: str
    n: int | None
    overall: TrendValue | None
    dimensions: dict[str, TrendValue]


class Trend(ReportStruct, frozen=True, kw_only=True):
    """Every closed wave of a service and instrument, oldest first."""

    service: str
    instrument: str
    score: str
    dimensions: tuple[str, ...]
    points: tuple[TrendPoint, ...]


# --- The IT experience section (analysis.experience) ---------------------------------


class Estimate(ReportStruct, frozen=True, kw_only=True):
    """A mean or a share with its interval; ``method`` names how the interval was made."""

    value: float
    ci_low: float | None
    ci_high: float | None
    label: str
    method: str


class NetPromoter(ReportStruct, frozen=True, kw_only=True):
    """NPS in points (-100..100) and the three shares it is made of (0..1)."""

    score: float
    ci_low: float
    ci_high: float
    promoters: float
    passives: float
    detractors: float
    method: str


class HoursLost(ReportStruct, frozen=True, kw_only=True):
    """Mean minutes lost × audience ÷ 60, with the mean's interval scaled the same."""

    audience: int | None
    hours: float | None
    ci_low: float | None
    ci_high: float | None
    formula: str
    note: str | None


class MeasureResult(ReportStruct, frozen=True, kw_only=True):
    """One experience measure answered by at least k respondents, with its caveat."""

    key: str
    kind: str
    statement: str
    n: int
    mean: Estimate | UnsetType = UNSET
    share: Estimate | UnsetType = UNSET
    nps: NetPromoter | UnsetType = UNSET
    hours_per_month: HoursLost | UnsetType = UNSET
    caveat: str


class ExperienceSection(ReportStruct, frozen=True, kw_only=True):
    """The IT experience measures of a wave (:func:`analysis.experience.build_experience`)."""

    n: int
    k_scores: int
    confidence: float
    audience: int | None
    measures: tuple[MeasureResult | SuppressedRow, ...]
