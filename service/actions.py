"""Action items: the workflow, the dashboard's metric definitions, and closing the loop.

Closing the loop is computed on read, never stored: for a *done* item whose baseline
wave (the wave its candidate came from) has a later closed wave of the same instrument
version for the same service, the declared target's score is compared between the two
waves with a Welch interval (:func:`analysis.report.build_change_report`) and the
verdict comes from the interval alone (:func:`verdict`).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import Any
from uuid import UUID

import asyncpg
import numpy as np

from analysis.matrices import AnswerMatrices
from analysis.report import build_change_report
from analysis.stats import respondent_means, summarize_columns
from instruments import Instrument
from service.queries import actions as q
from service.queries.actions import ActionItem, Baseline
from service.reports import fetch_matrices
from service.waves import instrument_by_hash

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "proposed": ("accepted", "wont_do"),
    "accepted": ("in_progress", "wont_do"),
    "in_progress": ("done", "wont_do"),
    "done": (),
    "wont_do": (),
}

IMPROVED = "improved"
NO_CHANGE = "no detectable change"
WORSENED = "worsened"
TOO_FEW = "not enough responses"

METRIC_DEFINITIONS = {
    "acted_within_sla": (
        "Acted upon within SLA = accepted (status left 'proposed' for 'accepted') no later than "
        "created_at + the service's sla_action_days. Counted over items whose SLA window has "
        "ended or that were accepted; items still proposed inside their window are pending and "
        "left out, and won't-do items are left out of both counts."
    ),
    "completed_by_due": (
        "Completed by due date = status 'done' on or before due_on (UTC dates). Counted over done "
        "items and open items already past their due date; won't-do items are left out."
    ),
    "first_answer": (
        "Median time to first answer = median over answered threads of the time from the start "
        "(00:00 UTC) of the day the thread was opened to the first staff message. Threads keep "
        "only their opening date, for the author's anonymity, so this can overstate by up to a day."
    ),
    "verdict": (
        "Change = mean score in the later wave − mean in the baseline wave (gap: perception − "
        "expectation or minimum; perception for perception-only instruments), with a 95% Welch "
        "interval (waves are independent samples). improved: the whole interval is above 0; "
        "worsened: the whole interval is below 0; otherwise no detectable change. Fewer than k "
        "responses in either wave for the target: not enough responses. The point estimate alone "
        "never decides."
    ),
}


def percent(numerator: int, denominator: int) -> float | None:
    return round(100.0 * numerator / denominator, 1) if denominator else None


def verdict(change: dict[str, Any]) -> str:
    """The verdict on one entry of :func:`analysis.report.build_change_report`.

    Decided by the Welch interval of ``after - before`` only: ``improved`` when its lower
    bound is above zero, ``worsened`` when its upper bound is below zero, otherwise (or
    when there is no interval) ``no detectable change``; a suppressed entry (fewer than
    k responses in either wave) is ``not enough responses``.
    """
    if change.get("suppressed"):
        return TOO_FEW
    low, high = change.get("ci_low"), change.get("ci_high")
    if low is None or high is None:
        return NO_CHANGE
    if low > 0:
        return IMPROVED
    if high < 0:
        return WORSENED
    return NO_CHANGE


def expected_met(change: dict[str, Any], expected: float) -> bool | None:
    """Whether the interval shows the declared change reached (``True``: lower bound at or
    above it), missed (``False``: upper bound below it), or cannot tell (``None``)."""
    low, high = change.get("ci_low"), change.get("ci_high")
    if change.get("suppressed") or low is None or high is None:
        return None
    if low >= expected:
        return True
    if high < expected:
        return False
    return None


class _Cache:
    """Results about closed waves (which never change), by key, bounded."""

    def __init__(self, size: int = 64) -> None:
        self._size = size
        self._data: OrderedDict[Any, Any] = OrderedDict()

    def get(self, key: Any) -> Any:
        return self._data.get(key)

    def put(self, key: Any, value: Any) -> None:
        self._data[key] = value
        if len(self._data) > self._size:
            self._data.popitem(last=False)


_CHANGES = _Cache()
_SCORES = _Cache(256)


def _wave_ref(w: Baseline) -> dict[str, Any]:
    return {"id": str(w.id), "title": w.title, "closes_on": w.closes_on.isoformat()}


async def outcome(state: Any, db: asyncpg.Connection, item: ActionItem) -> dict[str, Any] | None:
    """The measured outcome of a done item, or a statement of why there is none yet."""
    if item.status != "done":
        return None
    if item.campaign_id is None or item.expected is None:
        return {"state": "not-measurable",
                "explanation": "No baseline wave and expected effect were declared for this item."}
    baseline = await q.select_wave(db, campaign_id=item.campaign_id)
    if baseline is None:
        return {"state": "not-measurable", "explanation": "The baseline wave no longer exists."}
    # A thread's item may name a baseline wave that is still open: its answers are not
    # released until it closes, and neither is anything computed from them.
    later = await q.select_later_wave(db, baseline=baseline) if baseline.status == "closed" else None
    if later is None:
        return {"state": "waiting", "baseline": _wave_ref(baseline),
                "explanation": "Measured when a later wave of the same survey closes for this service."
                if baseline.status == "closed" else
                "Measured once the baseline wave has closed and a later wave of the same survey closes after it."}
    changes = await _change_report(state, db, baseline, later)
    level, key = item.expected.level, item.expected.key
    entries = changes["items"] if level == "item" else changes["dimensions"]
    entry = next((e for e in entries if e["key"] == key), None)
    if entry is None:
        return {"state": "not-measurable", "explanation": f"The survey has no {level} {key}."}
    result: dict[str, Any] = {
        "state": "measured",
        "baseline": _wave_ref(baseline),
        "later": _wave_ref(later),
        "level": level,
        "key": key,
        "score": changes["score"],
        "confidence": changes["confidence"],
        "k_scores": changes["k_scores"],
        "verdict": verdict(entry),
        "expected_change": item.expected.change,
        "method": METRIC_DEFINITIONS["verdict"],
    }
    if entry.get("suppressed"):
        result["reason"] = entry["reason"]
        return result
    result |= {f: entry.get(f) for f in ("n_before", "n_after", "mean_before", "mean_after", "difference",
                                         "ci_low", "ci_high", "t_p", "note")}
    result["expected_met"] = expected_met(entry, item.expected.change)
    return result


async def _change_report(state: Any, db: asyncpg.Connection, before: Baseline, after: Baseline) -> dict[str, Any]:
    key = (before.id, after.id)
    if (cached := _CHANGES.get(key)) is not None:
        return cached
    instrument = await instrument_by_hash(state, db, before.instrument_hash)
    mb = await fetch_matrices(db, instrument, before.id)
    ma = await fetch_matrices(db, instrument, after.id)
    k = max(before.k_scores, after.k_scores)
    report = await asyncio.to_thread(build_change_report, instrument, mb, ma, k_scores=k)
    _CHANGES.put(key, report)
    return report


# ----------------------------------------------------------------------------- scores across waves


def overall_scores(instrument: Instrument, m: AnswerMatrices, *, min_fraction: float = 0.5) -> np.ndarray:
    """Each respondent's overall score: the mean of their dimension scores (gap, or
    perception for perception-only instruments), ``NaN`` unless every dimension has one.

    A dimension score is the mean over the dimension's answered items (at least
    ``min_fraction`` of them), as in the report; the mean of a wave's overall scores is
    then the unweighted overall score, and its t-interval the interval shown.
    """
    p = m.scores["perception"]
    if "expectation" in m.scores:
        s = p - m.scores["expectation"]
    elif "minimum" in m.scores:
        s = p - m.scores["minimum"]
    else:
        s = p
    groups = [[j for j, d in enumerate(m.item_dimensions) if d == dim] for dim in m.dimension_keys]
    dims = respondent_means(s, groups, min_fraction=min_fraction)
    if dims.shape[0] == 0:
        return np.empty(0)
    complete = ~np.isnan(dims).any(axis=1)
    out = np.full(dims.shape[0], np.nan)
    out[complete] = dims[complete].mean(axis=1)
    return out


async def wave_score(state: Any, db: asyncpg.Connection, wave: Baseline) -> dict[str, Any]:
    """A closed wave's overall score with its 95% t-interval, suppressed below k."""
    if (cached := _SCORES.get(wave.id)) is not None:
        return cached
    instrument = await instrument_by_hash(state, db, wave.instrument_hash)
    m = await fetch_matrices(db, instrument, wave.id)
    scores = await asyncio.to_thread(overall_scores, instrument, m)
    point: dict[str, Any] = {"campaign_id": str(wave.id), "title": wave.title,
                             "closes_on": wave.closes_on.isoformat()}
    n = int((~np.isnan(scores)).sum())
    if n < wave.k_scores:
        point |= {"suppressed": True, "reason": f"fewer than k={wave.k_scores} responses"}
    else:
        s = summarize_columns(scores)[0]
        point |= {"n": s.n, "mean": s.mean, "ci_low": s.ci_low, "ci_high": s.ci_high}
    result = {"instrument_id": instrument.id, "instrument_title": instrument.title,
              "score": "gap" if instrument.format != "perception-only" else "perception",
              "points": instrument.scale.points, "point": point}
    _SCORES.put(wave.id, result)
    return result


async def score_series(state: Any, db: asyncpg.Connection, *, service_id: UUID | None = None) -> list[dict[str, Any]]:
    """One series per (service, instrument): the overall score of each closed wave."""
    series: dict[tuple[UUID, str], dict[str, Any]] = {}
    for service, wave in await q.select_closed_waves(db, service_id=service_id):
        score = await wave_score(state, db, wave)
        key = (service.id, score["instrument_id"])
        entry = series.setdefault(key, {
            "service": {"id": str(service.id), "name": service.name},
            "instrument_id": score["instrument_id"], "instrument_title": score["instrument_title"],
            "score": score["score"], "scale_points": score["points"], "waves": [],
        })
        entry["waves"].append(score["point"])
    return list(series.values())
