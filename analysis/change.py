"""The change of each item and dimension score between two waves (Welch intervals).

Its sentences (the method, a row's note, a suppressed row's reason) are read by people, in the reader's
language: they are English templates marked with ``N_()`` and said through the
:class:`~analysis.wording.Wording` the caller gives (English by default), so the numbers stay the same.
"""

from __future__ import annotations

import numpy as np

from analysis.engine import check_inputs, dimension_groups, score_matrix
from analysis.matrices import AnswerMatrices
from analysis.moments import FloatArray
from analysis.parametric import welch_difference
from analysis.report_types import UNSET, ChangeReport, ChangeRow, InstrumentRef, SuppressedRow, UnsetType
from analysis.scales import respondent_means
from analysis.wording import ENGLISH, N_, Wording
from instruments.schema import Instrument

__all__ = ["WELCH_NOTES", "build_change_report"]

#: The notes :func:`analysis.parametric.welch_difference` writes when it has no interval, marked here for
#: ``make i18n-extract`` (parametric stays language-free); a note not among them is passed on as it is.
WELCH_NOTES = (
    N_("each wave needs at least two scores for an interval"),
    N_("zero variance in both waves: no interval"),
)
_METHOD = N_("difference = after − before of the mean score; Welch t-interval (waves are independent samples)")


def build_change_report(
    instrument: Instrument,
    before: AnswerMatrices,
    after: AnswerMatrices,
    *,
    k_scores: int = 5,
    confidence: float = 0.95,
    min_item_fraction: float = 0.5,
    wording: Wording = ENGLISH,
) -> ChangeReport:
    """Change of each item and dimension score between two waves of one instrument.

    Parameters
    ----------
    instrument : Instrument
    before, after : AnswerMatrices
        The earlier and the later wave.
    k_scores : int
        A cell is suppressed when either wave has fewer respondents in it.
    confidence : float
    min_item_fraction : float
        A respondent's dimension score needs at least this fraction of its items.
    wording : Wording
        The language of the method, the notes and the suppression reasons (English by default).

    Returns
    -------
    ChangeReport
        ``score``, ``method`` and one :class:`ChangeRow` per item and dimension with
        ``n_before``, ``n_after``, ``mean_before``, ``mean_after``, ``difference``
        (after - before), ``ci_low``, ``ci_high``, ``df``, ``t_p`` -- or a
        :class:`SuppressedRow` below k.

    Notes
    -----
    The score is the gap (P - E, or MSA in the zone-of-tolerance format) or, for
    perception-only instruments, the perception. Respondents of two waves cannot be
    linked (by design), so the waves are independent samples and the interval is
    Welch's (Welch 1947, *Biometrika* 34, 28-35), see
    :func:`analysis.parametric.welch_difference`; a dimension score is each
    respondent's mean over the dimension's items (:func:`analysis.scales.respondent_means`).
    """
    for m in (before, after):
        check_inputs(instrument, m, k_scores, "bh", confidence, 0.05)
    k = k_scores
    groups = dimension_groups(instrument)
    sb, sa = score_matrix(instrument, before), score_matrix(instrument, after)
    db = respondent_means(sb, groups, min_fraction=min_item_fraction)
    da = respondent_means(sa, groups, min_fraction=min_item_fraction)
    too_few_in_wave = before.n < k or after.n < k

    def row(xb: FloatArray, xa: FloatArray, key: str, *, dimension: str | UnsetType = UNSET,
            title: str | UnsetType = UNSET) -> ChangeRow | SuppressedRow:
        nb, na = int((~np.isnan(xb)).sum()), int((~np.isnan(xa)).sum())
        if nb < k or na < k or too_few_in_wave:
            return SuppressedRow.below(k, key, dimension=dimension, title=title, words=wording)
        w = welch_difference(xb, xa, confidence=confidence)
        return ChangeRow(key=key, dimension=dimension, title=title, n_before=w.n_a, n_after=w.n_b,
                         mean_before=w.mean_a, mean_after=w.mean_b, difference=w.difference, se=w.se,
                         df=w.df, ci_low=w.ci_low, ci_high=w.ci_high, t_p=w.t_p,
                         note=None if w.note is None else wording.gettext(w.note))

    return ChangeReport(
        instrument=InstrumentRef(id=instrument.id, version=instrument.version),
        score="gap" if instrument.format != "perception-only" else "perception",
        k_scores=k,
        confidence=confidence,
        method=wording.say(_METHOD),
        items=tuple(row(sb[:, j], sa[:, j], it.key, dimension=it.dimension)
                    for j, it in enumerate(instrument.items)),
        dimensions=tuple(row(db[:, d], da[:, d], dim.key, title=dim.title)
                         for d, dim in enumerate(instrument.dimensions)),
    )
