"""What every score engine gives the report, and the input checks both reports share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from analysis.engine.coded import column_names
from analysis.matrices import AnswerMatrices
from analysis.moments import IntArray
from analysis.multicomp import ADJUSTMENTS
from analysis.parametric import ColumnSummary, DifferenceSummary
from analysis.reliability import AlphaResult
from instruments.schema import Instrument

__all__ = ["ScoreEngine", "Scores", "check_inputs", "dimension_groups"]


@dataclass(frozen=True, slots=True)
class Scores:
    """Statistics of every row of one report level (items, or dimensions).

    ``columns[c][j]``: the mean and interval of column ``c`` (``"expectation"``,
    ``"perception"``...) in row ``j``; ``gap[j]``: the paired difference perception -
    expectation (or MSA = perception - minimum), ``None`` for perception-only
    instruments; ``mss[j]``: MSS = perception - desired (zone-of-tolerance only).
    """

    columns: dict[str, tuple[ColumnSummary, ...]]
    gap: tuple[DifferenceSummary, ...] | None
    mss: tuple[DifferenceSummary, ...] | None


class ScoreEngine(Protocol):
    """The statistics a report needs from one wave's answer matrices.

    Two implementations give identical results: :class:`analysis.engine.codes.CodeEngine`
    counts small-integer answer codes (expectation-perception on up to 11 points, the
    usual case and the fast one), :class:`analysis.engine.general.GeneralEngine` works on
    the float matrices of any format. :func:`analysis.engine.score_engine` picks one.
    """

    def item_scores(self, confidence: float) -> Scores:
        """Per item, pairwise: the respondents who answered all of the item's columns."""
        ...

    def dimension_scores(self, confidence: float) -> Scores:
        """Per dimension, of each respondent's mean over the dimension's answered items
        (if at least the minimum fraction of them)."""
        ...

    def dimension_alphas(self, d: int) -> dict[str, AlphaResult]:
        """Listwise Cronbach's alpha of each column and of the gap(s) of dimension ``d``."""
        ...

    def missing_answers(self) -> dict[str, int]:
        """Missing or not-applicable answers per column."""
        ...

    def items_used(self) -> IntArray:
        """Respondents who answered every column, per item."""
        ...


def dimension_groups(instrument: Instrument) -> list[list[int]]:
    """The item columns of each dimension, in the instrument's order."""
    return [[j for j, it in enumerate(instrument.items) if it.dimension == d.key]
            for d in instrument.dimensions]


def check_inputs(instrument: Instrument, m: AnswerMatrices, k_scores: int, adjustment: str,
                 confidence: float, alpha_level: float) -> None:
    """Refuse matrices built for another instrument and out-of-range parameters."""
    if tuple(i.key for i in instrument.items) != m.item_keys:
        raise ValueError("the answer matrices were built for a different item list")
    if tuple(d.key for d in instrument.dimensions) != m.dimension_keys:
        raise ValueError("the answer matrices were built for a different dimension list")
    if column_names(m) != set(instrument.columns):
        raise ValueError("the answer matrices hold different columns than the format asks")
    if not isinstance(k_scores, int) or isinstance(k_scores, bool) or k_scores < 1:  # pyright: ignore[reportUnnecessaryIsInstance]
        raise ValueError("`k_scores` must be an integer >= 1")
    if adjustment not in ADJUSTMENTS:
        raise ValueError("`adjustment` must be 'bh' or 'holm'")
    if not 0 < confidence < 1 or not 0 < alpha_level < 1:
        raise ValueError("`confidence` and `alpha_level` must lie strictly between 0 and 1")
