"""Statistics for gap analysis: the public namespace, in the manner of ``scipy.stats``.

Every function takes NumPy arrays (respondents x columns, ``float`` with ``NaN`` for a
missing or not-applicable answer), validates its input with ``ValueError`` and returns
small frozen results holding Python floats (or ``None`` where a quantity is undefined).
The code lives in one module per topic, as in pingouin:

* :mod:`analysis.parametric` -- means and t-intervals, paired differences, Welch;
* :mod:`analysis.nonparametric` -- the Wilcoxon signed-rank test;
* :mod:`analysis.reliability` -- Cronbach's alpha;
* :mod:`analysis.multicomp` -- Holm and Benjamini-Hochberg adjustment;
* :mod:`analysis.importance` -- importance weights and importance-performance analysis;
* :mod:`analysis.scales` -- dimension scores and the zone of tolerance;
* :mod:`analysis.moments` -- the shared counting helpers (package-internal).
"""

from __future__ import annotations

from analysis.importance import IPAResult, allocation_weights, importance_performance, rating_weights
from analysis.multicomp import Adjustment, adjust_pvalues
from analysis.nonparametric import WILCOXON_EXACT_MAX_N, WilcoxonResult, wilcoxon_signed_rank
from analysis.parametric import (
    ColumnSummary,
    DifferenceSummary,
    PairedScores,
    WelchResult,
    paired_scores_from_filled,
    summarize_columns,
    summarize_differences,
    summarize_paired_scores,
    welch_difference,
)
from analysis.reliability import AlphaResult, alpha_from_covariance, cronbach_alpha
from analysis.scales import respondent_means, zone_of_tolerance

__all__ = [
    "WILCOXON_EXACT_MAX_N",
    "Adjustment",
    "AlphaResult",
    "ColumnSummary",
    "DifferenceSummary",
    "IPAResult",
    "PairedScores",
    "WelchResult",
    "WilcoxonResult",
    "adjust_pvalues",
    "alpha_from_covariance",
    "allocation_weights",
    "cronbach_alpha",
    "importance_performance",
    "paired_scores_from_filled",
    "rating_weights",
    "respondent_means",
    "summarize_columns",
    "summarize_differences",
    "summarize_paired_scores",
    "welch_difference",
    "wilcoxon_signed_rank",
    "zone_of_tolerance",
]
