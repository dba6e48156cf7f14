"""Ranked action candidates: which gaps to close first, and why.

Only gaps that stay significantly negative after the multiple-comparison adjustment
become candidates. Their priority is a documented formula of the importance weight and
the *conservative* end of the gap's interval, so a large but uncertain gap does not
outrank a smaller, well-established one.
"""

from __future__ import annotations

from dataclasses import dataclass

from analysis.report_types import Candidate
from analysis.wording import ENGLISH, N_, Wording

__all__ = ["PRIORITY_FORMULA", "Cell", "priority", "rank_candidates"]

#: The rule in one sentence, as the report states it (marked: the report gives it in the reader's language).
PRIORITY_FORMULA = N_(
    "priority = importance weight × max(0, −upper bound of the gap's confidence interval); "
    "only gaps with mean < 0 and adjusted p < alpha_level are candidates; "
    "dimension and item candidates are ranked separately"
)


@dataclass(frozen=True, slots=True)
class Cell:
    """One reported (not suppressed) gap score, item or dimension."""

    level: str  # "item" | "dimension"
    key: str
    dimension: str
    mean_gap: float | None
    ci_low: float | None
    ci_high: float | None
    p_adjusted: float | None
    weight: float
    mean_perception: float | None = None
    perception_ci_low: float | None = None
    perception_ci_high: float | None = None
    mean_reference: float | None = None
    reference_name: str = "expectation"
    title: str | None = None


def priority(weight: float, ci_high: float) -> float:
    """Priority of a candidate gap.

    Parameters
    ----------
    weight : float
        Importance weight (share of importance, 0..1).
    ci_high : float
        Upper bound of the gap's confidence interval (the end closest to zero for a
        negative gap: the conservative estimate of the shortfall).

    Returns
    -------
    float
        :math:`w \\cdot \\max(0, -u)`.

    Notes
    -----
    Weighting gaps by importance follows the weighted SERVQUAL score of Parasuraman,
    Berry & Zeithaml (1991), *Journal of Retailing* 67(4), 420-450; using the interval's
    conservative bound instead of the point estimate ranks by the shortfall the data
    support at the stated confidence.
    """
    if weight < 0:
        raise ValueError("`weight` must be non-negative")
    return float(weight * max(0.0, -ci_high))


def _fmt(v: float | None, wording: Wording, digits: int = 1) -> str:
    if v is None:
        return wording.say(N_("n/a"))
    return wording.num(v, digits).replace("-", "−")


def _p(v: float, wording: Wording) -> str:
    return "p < " + wording.num(0.001, 3) if v < 0.001 else "p = " + wording.num(v, 3)


#: The comparison each candidate's reason names (marked for translation).
REFERENCE_NAMES = (N_("expectation"), N_("minimum"))


def rank_candidates(
    cells: list[Cell],
    *,
    alpha_level: float = 0.05,
    adjustment_name: str = "Benjamini–Hochberg",
    importance_known: bool = True,
    dimension_titles: dict[str, str] | None = None,
    wording: Wording = ENGLISH,
) -> tuple[Candidate, ...]:
    """Select and rank action candidates among gap cells of one level.

    Parameters
    ----------
    cells : list of Cell
        Non-suppressed cells with their adjusted p-values and importance weights.
    alpha_level : float
        A cell is a candidate when ``mean_gap < 0`` and ``p_adjusted < alpha_level``.
    adjustment_name : str
        Named in each reason.
    importance_known : bool
        Whether weights come from respondents (else equal weights, said in the reason).
    dimension_titles : dict, optional
        Titles used in the reasons.
    wording : Wording
        The reasons' language and number format (default English).

    Returns
    -------
    tuple of Candidate
        Sorted by priority (descending; ties by the more negative upper bound, then by
        key), each with ``rank`` (1-based within the level), ``level``, ``target``,
        ``dimension``, ``priority``, ``weight``, ``mean_gap``, ``ci_low``, ``ci_high``,
        ``p_adjusted``, ``mean_perception`` (the perceptions-only score), its interval,
        and the plain-language ``reason``.

    Notes
    -----
    :math:`\\text{priority} = w \\cdot \\max(0, -u)` with :math:`u` the upper
    confidence bound of the gap, see :func:`priority`.
    """
    titles = dimension_titles or {}
    chosen: list[tuple[float, Cell, float, float, float]] = []
    for c in cells:
        if c.mean_gap is None or c.p_adjusted is None or c.ci_high is None:
            continue
        if not (c.mean_gap < 0 and c.p_adjusted < alpha_level):
            continue
        chosen.append((priority(c.weight, c.ci_high), c, c.mean_gap, c.ci_high, c.p_adjusted))
    chosen.sort(key=lambda pc: (-pc[0], pc[3], pc[1].key))
    out: list[Candidate] = []
    for rank, (prio, c, mean_gap, ci_high, p_adjusted) in enumerate(chosen, start=1):
        dim_title = titles.get(c.dimension, c.dimension)
        what = (wording.say(N_("{dimension} item {key}"), dimension=dim_title, key=c.key) if c.level == "item"
                else wording.say(N_("{dimension} dimension"), dimension=dim_title))
        share = (wording.say(N_("{share} of the importance"), share=wording.percent(c.weight)) if importance_known
                 else wording.say(N_("equal importance weights (no importance data)")))
        reason = wording.say(
            N_("{what}: perception {perception} vs {reference} {reference_mean}, gap {gap} [{low}, {high}], "
               "{share}, significant after {adjustment} ({p})"),
            what=what, perception=_fmt(c.mean_perception, wording), reference=wording.say(c.reference_name),
            reference_mean=_fmt(c.mean_reference, wording), gap=_fmt(mean_gap, wording),
            low=_fmt(c.ci_low, wording), high=_fmt(ci_high, wording), share=share, adjustment=adjustment_name,
            p=_p(p_adjusted, wording),
        )
        out.append(Candidate(
            rank=rank, level=c.level, target=c.key, dimension=c.dimension, priority=prio, weight=c.weight,
            mean_gap=mean_gap, ci_low=c.ci_low, ci_high=ci_high, p_adjusted=p_adjusted,
            mean_perception=c.mean_perception, perception_ci_low=c.perception_ci_low,
            perception_ci_high=c.perception_ci_high, reason=reason,
        ))
    return tuple(out)
