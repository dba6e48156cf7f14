"""Score engines: one interface (:class:`ScoreEngine`), two implementations, one chooser."""

from __future__ import annotations

from analysis.engine.base import ScoreEngine, Scores, check_inputs, dimension_groups
from analysis.engine.codes import CodeEngine
from analysis.engine.general import GeneralEngine, score_matrix
from analysis.matrices import AnswerMatrices
from instruments.schema import Instrument

__all__ = ["CodeEngine", "GeneralEngine", "ScoreEngine", "Scores", "check_inputs", "dimension_groups",
           "score_engine", "score_matrix"]


def score_engine(instrument: Instrument, m: AnswerMatrices, groups: list[list[int]],
                 min_fraction: float) -> ScoreEngine:
    """The integer-code engine when the answers allow it, else the general one.

    Both give the same report (``tests/unit/analysis/test_analysis_fast_path.py``); the
    code engine is the one that keeps a 100,000-respondent wave well under a second.
    """
    engine = CodeEngine.build(instrument, m, groups, min_fraction)
    if engine is not None:
        return engine
    return GeneralEngine(instrument, m, groups, min_fraction)
