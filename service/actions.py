"""Action items: the workflow (where an item comes from, who may change it, how it
moves), the dashboard's metric definitions, and closing the loop.

Closing the loop is computed on read, never stored: for a *done* item whose baseline
wave (the wave its candidate came from) has a later closed wave of the same instrument
version for the same service, the declared target's score is compared between the two
waves with a Welch interval (:func:`analysis.change.build_change_report`) and the
verdict comes from the interval alone (:func:`verdict`). The verdict is a key (``improved``) the
pages name in their own language; the outcome's sentences (how the verdict is decided, why there is none
yet, the interval's note, a suppression's reason) are said in the reader's language (:func:`outcome`).
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any
from uuid import UUID

import asyncpg
import msgspec
import numpy as np

from analysis.change import build_change_report
from analysis.matrices import AnswerMatrices
from analysis.report_types import UNSET, ChangeReport, ChangeRow, GapReport, SuppressedRow, UnsetType
from analysis.stats import respondent_means, summarize_columns
from instruments import Instrument
from instruments.errors import N_, FieldError
from service.errors import Problem
from service.i18n import DEFAULT_LOCALE, localize, wording
from service.lru import LRUCache
from service.queries import actions as q
from service.queries import services as services_q
from service.queries.accounts import Account
from service.queries.actions import ActionItem, Baseline, ExpectedEffect
from service.queries.campaigns import Campaign
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
    # Plain text (the dashboard encodes them as they are), marked for translation in the reader's language.
    "acted_within_sla": str(N_(
        "Acted upon within SLA = accepted (status left 'proposed' for 'accepted') no later than "
        "created_at + the service's sla_action_days. Counted over items whose SLA window has "
        "ended or that were accepted; items still proposed inside their window are pending and "
        "left out, and won't-do items are left out of both counts."
    )),
    "completed_by_due": str(N_(
        "Completed by due date = status 'done' on or before due_on (UTC dates). Counted over done "
        "items and open items already past their due date; won't-do items are left out."
    )),
    "first_answer": str(N_(
        "Median time to first answer = median over answered threads of the time from the start "
        "(00:00 UTC) of the day the thread was opened to the first staff message. Threads keep "
        "only their opening date, for the author's anonymity, so this can overstate by up to a day."
    )),
    "no_threads": str(N_("no threads yet")),
    "verdict": str(N_(
        "Change = mean score in the later wave − mean in the baseline wave (gap: perception − "
        "expectation or minimum; perception for perception-only instruments), with a 95% Welch "
        "interval (waves are independent samples). improved: the whole interval is above 0; "
        "worsened: the whole interval is below 0; otherwise no detectable change. Fewer than k "
        "responses in either wave for the target: not enough responses. The point estimate alone "
        "never decides."
    )),
}


def percent(numerator: int, denominator: int) -> float | None:
    return round(100.0 * numerator / denominator, 1) if denominator else None


def verdict(change: ChangeRow | SuppressedRow) -> str:
    """The verdict on one entry of :func:`analysis.change.build_change_report`.

    Decided by the Welch interval of ``after - before`` only: ``improved`` when its lower
    bound is above zero, ``worsened`` when its upper bound is below zero, otherwise (or
    when there is no interval) ``no detectable change``; a suppressed entry (fewer than
    k responses in either wave) is ``not enough responses``.
    """
    if isinstance(change, SuppressedRow):
        return TOO_FEW
    low, high = change.ci_low, change.ci_high
    if low is None or high is None:
        return NO_CHANGE
    if low > 0:
        return IMPROVED
    if high < 0:
        return WORSENED
    return NO_CHANGE


def expected_met(change: ChangeRow | SuppressedRow, expected: float) -> bool | None:
    """Whether the interval shows the declared change reached (``True``: lower bound at or
    above it), missed (``False``: upper bound below it), or cannot tell (``None``)."""
    if isinstance(change, SuppressedRow) or change.ci_low is None or change.ci_high is None:
        return None
    if change.ci_low >= expected:
        return True
    if change.ci_high < expected:
        return False
    return None


class WaveRef(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    title: str
    closes_on: str


class Outcome(msgspec.Struct, frozen=True, kw_only=True):
    """A done item's measured outcome (``state`` "measured"), or why there is none yet
    ("waiting", "not-measurable", with an ``explanation``). The numbers are those of the
    target's :class:`analysis.report_types.ChangeRow`; below k only the ``reason``."""

    state: str
    baseline: WaveRef | UnsetType = UNSET
    later: WaveRef | UnsetType = UNSET
    level: str | UnsetType = UNSET
    key: str | UnsetType = UNSET
    score: str | UnsetType = UNSET
    confidence: float | UnsetType = UNSET
    k_scores: int | UnsetType = UNSET
    verdict: str | UnsetType = UNSET
    expected_change: float | UnsetType = UNSET
    method: str | UnsetType = UNSET
    reason: str | UnsetType = UNSET
    n_before: int | UnsetType = UNSET
    n_after: int | UnsetType = UNSET
    mean_before: float | None | UnsetType = UNSET
    mean_after: float | None | UnsetType = UNSET
    difference: float | None | UnsetType = UNSET
    ci_low: float | None | UnsetType = UNSET
    ci_high: float | None | UnsetType = UNSET
    t_p: float | None | UnsetType = UNSET
    note: str | None | UnsetType = UNSET
    expected_met: bool | None | UnsetType = UNSET
    explanation: str | UnsetType = UNSET


def _wave_ref(w: Baseline) -> WaveRef:
    return WaveRef(id=str(w.id), title=w.title, closes_on=w.closes_on.isoformat())


async def outcome(state: Any, db: asyncpg.Connection, item: ActionItem, *,
                  language: str = DEFAULT_LOCALE) -> Outcome | None:
    """The measured outcome of a done item, or a statement of why there is none yet; its sentences in
    ``language`` (:func:`service.i18n.report_language`), its keys and numbers the same in every language."""
    if item.status != "done":
        return None
    if item.campaign_id is None or item.expected is None:
        return Outcome(state="not-measurable", explanation=localize(
            N_("No baseline wave and expected effect were declared for this item."), language))
    baseline = await q.select_wave(db, campaign_id=item.campaign_id)
    if baseline is None:
        return Outcome(state="not-measurable",
                       explanation=localize(N_("The baseline wave no longer exists."), language))
    # A thread's item may name a baseline wave that is still open: its answers are not
    # released until it closes, and neither is anything computed from them.
    later = await q.select_later_wave(db, baseline=baseline) if baseline.status == "closed" else None
    if later is None:
        return Outcome(state="waiting", baseline=_wave_ref(baseline), explanation=localize(
            N_("Measured when a later wave of the same survey closes for this service.")
            if baseline.status == "closed" else
            N_("Measured once the baseline wave has closed and a later wave of the same survey closes after it."),
            language))
    changes = await _change_report(state, db, baseline, later, language)
    level, key = item.expected.level, item.expected.key
    entries = changes.items if level == "item" else changes.dimensions
    entry = next((e for e in entries if e.key == key), None)
    if entry is None:
        missing = (N_("The survey has no item {key}.", key=key) if level == "item"
                   else N_("The survey has no dimension {key}.", key=key))
        return Outcome(state="not-measurable", explanation=localize(missing, language))
    head = Outcome(state="measured", baseline=_wave_ref(baseline), later=_wave_ref(later), level=level, key=key,
                   score=changes.score, confidence=changes.confidence, k_scores=changes.k_scores,
                   verdict=verdict(entry), expected_change=item.expected.change,
                   method=localize(METRIC_DEFINITIONS["verdict"], language))
    if isinstance(entry, SuppressedRow):
        return msgspec.structs.replace(head, reason=entry.reason)
    return msgspec.structs.replace(
        head, n_before=entry.n_before, n_after=entry.n_after, mean_before=entry.mean_before,
        mean_after=entry.mean_after, difference=entry.difference, ci_low=entry.ci_low, ci_high=entry.ci_high,
        t_p=entry.t_p, note=entry.note, expected_met=expected_met(entry, item.expected.change),
    )


async def _change_report(state: Any, db: asyncpg.Connection, before: Baseline, after: Baseline,
                         language: str) -> ChangeReport:
    """The change between the two waves, its sentences in ``language`` (each language cached on its own)."""
    cache: LRUCache[tuple[UUID, UUID, str], ChangeReport] = state.change_reports
    key = (before.id, after.id, language)
    if (cached := cache.get(key)) is not None:
        return cached
    instrument = await instrument_by_hash(state, db, before.instrument_hash)
    mb = await fetch_matrices(db, instrument, before.id)
    ma = await fetch_matrices(db, instrument, after.id)
    k = max(before.k_scores, after.k_scores)
    report = await asyncio.to_thread(build_change_report, instrument, mb, ma, k_scores=k,
                                     wording=wording(language))
    cache.put(key, report)
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
    cache: LRUCache[UUID, dict[str, Any]] = state.wave_scores
    if (cached := cache.get(wave.id)) is not None:
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
    cache.put(wave.id, result)
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


# ----------------------------------------------------------------------------- the workflow
#
# Who may do what: managers everything; an owner creates items for services they own,
# edits and moves the items they own, and reads the items of their services. Every
# change is recorded in ``action_activity`` under the actor's name.


class Draft(msgspec.Struct, frozen=True):
    """A new item's origin (a ranked candidate or a thread), checked, before it is stored."""

    service_id: UUID
    source: str  # "candidate" | "thread"
    campaign_id: UUID | None
    thread_id: UUID | None
    target_level: str  # "item" | "dimension" | "thread"
    target_key: str | None
    candidate: dict[str, Any] | None
    title: str
    expected: ExpectedEffect | None


def invalid(field: str, reason: str, detail: str | None = None) -> Problem:
    return Problem(422, "validation", detail or reason, errors=[FieldError(field=field, reason=reason)])


def visible_to(me: Account) -> UUID | None:
    """The account whose items a query shows; ``None`` (every item) for managers."""
    return None if "manager" in me.roles else me.id


def can_edit(me: Account, item: ActionItem) -> bool:
    return "manager" in me.roles or item.owner.id == me.id


async def readable_item(db: asyncpg.Connection, me: Account, action_id: UUID, *, lock: bool = False) -> ActionItem:
    """The item if ``me`` may read it (managers; its owner; owners of its service), else 404."""
    item = await (q.lock_action if lock else q.select_action)(db, action_id=action_id, visible_to=visible_to(me))
    if item is None:
        raise Problem(404, "not-found", N_("No action item {action_id}", action_id=action_id))
    return item


async def editable_item(db: asyncpg.Connection, me: Account, action_id: UUID) -> ActionItem:
    """The item, locked, if ``me`` may change it (managers and its owner; 403 for other readers)."""
    item = await readable_item(db, me, action_id, lock=True)
    if not can_edit(me, item):
        raise Problem(403, "forbidden", N_("Only managers and the item's owner change an action item"))
    return item


def find_candidate(report: GapReport, *, level: str, target: str) -> dict[str, Any] | None:
    """The ranked candidate ``level``/``target`` of the report, as stored with an item."""
    found = next((c for c in report.candidates if c.level == level and c.target == target), None)
    return msgspec.to_builtins(found) if found is not None else None


def draft_from_candidate(campaign: Campaign, report: GapReport, *, level: str, target: str,
                         title: str | None, expected: ExpectedEffect | None) -> Draft:
    """An item for a ranked candidate of a closed wave's report (the caller may read the wave)."""
    candidate = find_candidate(report, level=level, target=target)
    if candidate is None:
        raise invalid("target", N_("{level} {target!r} is not a ranked candidate of this wave",
                                   level=level, target=target))
    what = f"item {target}" if level == "item" else f"the {target} dimension"
    return Draft(service_id=campaign.service.id, source="candidate", campaign_id=campaign.id, thread_id=None,
                 target_level=level, target_key=target, candidate=candidate,
                 title=title or f"Close the gap on {what}", expected=expected)


async def draft_from_thread(db: asyncpg.Connection, *, thread_id: UUID, title: str | None,
                            campaign_id: UUID | None, expected: ExpectedEffect | None) -> Draft:
    """An item for a feedback thread; a baseline wave, if named, is a wave of the thread's service."""
    service_id = await q.select_thread_service(db, thread_id=thread_id)
    if service_id is None:
        raise invalid("thread_id", N_("no such thread"))
    if title is None:
        raise invalid("title", N_("an item from a thread needs a title"))
    if campaign_id is not None:
        wave = await q.select_wave(db, campaign_id=campaign_id)
        if wave is None or wave.service_id != service_id:
            raise invalid("campaign_id", N_("the baseline wave must be a wave of the thread's service"))
    return Draft(service_id=service_id, source="thread", campaign_id=campaign_id, thread_id=thread_id,
                 target_level="thread", target_key=None, candidate=None, title=title, expected=expected)


async def check_expected(state: Any, db: asyncpg.Connection, campaign_id: UUID | None,
                         expected: ExpectedEffect | None) -> None:
    """An expected effect names an item or dimension of its baseline wave's instrument."""
    if expected is None:
        return
    if campaign_id is None:
        raise invalid("expected", N_("an expected effect is measured against a baseline wave: give campaign_id"))
    wave = await q.select_wave(db, campaign_id=campaign_id)
    if wave is None:
        raise invalid("campaign_id", N_("no such wave"))
    instrument = await instrument_by_hash(state, db, wave.instrument_hash)
    keys = [i.key for i in instrument.items] if expected.level == "item" else [d.key for d in instrument.dimensions]
    if expected.key not in keys:
        raise invalid("expected.key", N_("the wave's instrument has no {level} {key!r}",
                                         level=expected.level, key=expected.key))


async def owner_for(db: asyncpg.Connection, me: Account, service_id: UUID, owner_id: UUID | None) -> UUID:
    """The named owner (an active owner of the service), else the caller if they own it,
    else the service's only owner."""
    owners = await q.select_service_owner_ids(db, service_id=service_id)
    if owner_id is not None:
        if owner_id not in owners:
            raise invalid("owner_id", N_("not an active owner of the item's service"))
        return owner_id
    if me.id in owners:
        return me.id
    if len(owners) == 1:
        return owners[0]
    raise invalid("owner_id", N_("the service has no owner") if not owners
                  else N_("the service has several owners: name one"))


async def _stored(db: asyncpg.Connection, action_id: UUID) -> ActionItem:
    """An item this transaction has just written (and so holds)."""
    item = await q.select_action(db, action_id=action_id)
    if item is None:
        raise LookupError(f"action item {action_id} vanished inside its own transaction")
    return item


async def create_item(state: Any, db: asyncpg.Connection, me: Account, draft: Draft, *, description: str,
                      owner_id: UUID | None, due_on: date | None) -> ActionItem:
    """Store a proposed item (owners only for services they own) and its first activity."""
    if "manager" not in me.roles and not await services_q.owns_service(db, service_id=draft.service_id,
                                                                       account_id=me.id):
        raise Problem(403, "forbidden", N_("Owners create action items only for services they own"))
    await check_expected(state, db, draft.campaign_id, draft.expected)
    owner = await owner_for(db, me, draft.service_id, owner_id)
    action_id = await q.insert_action(
        db, service_id=draft.service_id, source=draft.source, campaign_id=draft.campaign_id,
        thread_id=draft.thread_id, target_level=draft.target_level, target_key=draft.target_key,
        candidate=draft.candidate, title=draft.title, description=description, owner_id=owner, due_on=due_on,
        expected=draft.expected, created_by=me.id,
    )
    item = await _stored(db, action_id)
    await q.insert_activity(db, action_id=action_id, actor_id=me.id, kind="create", to_status="proposed",
                            changes={"title": item.title, "owner_id": str(owner), "due_on": item.due_on.isoformat(),
                                     "expected": msgspec.to_builtins(draft.expected)})
    return item


async def update_item(state: Any, db: asyncpg.Connection, me: Account, item: ActionItem,
                      changes: dict[str, Any]) -> ActionItem:
    """Apply the given fields (``expected`` an :class:`ExpectedEffect`); done and won't-do
    items no longer change, and the expected effect is locked once the item is accepted."""
    if item.status in ("done", "wont_do"):
        raise Problem(409, "action-locked", N_("The item is {current}: it no longer changes", current=item.status))
    if "owner_id" in changes:
        await owner_for(db, me, item.service.id, changes["owner_id"])
    if (expected := changes.pop("expected", None)) is not None:
        if item.status != "proposed":
            raise Problem(409, "action-locked", N_("The expected effect is locked once the item is accepted"))
        await check_expected(state, db, item.campaign_id, expected)
        changes |= {"expected_level": expected.level, "expected_key": expected.key,
                    "expected_change": expected.change}
    before = {"title": item.title, "description": item.description, "internal_notes": item.internal_notes,
              "owner_id": item.owner.id, "due_on": item.due_on,
              "expected_level": item.expected.level if item.expected else None,
              "expected_key": item.expected.key if item.expected else None,
              "expected_change": item.expected.change if item.expected else None}
    diff = {k: [msgspec.to_builtins(before[k]), msgspec.to_builtins(v)] for k, v in changes.items() if before[k] != v}
    if diff:
        await q.update_action(db, action_id=item.id, changes={k: changes[k] for k in diff})
        await q.insert_activity(db, action_id=item.id, actor_id=me.id, kind="edit", changes=diff)
    return await _stored(db, item.id)


async def change_status(db: asyncpg.Connection, me: Account, item: ActionItem, *, status: str,
                        reason: str | None, note: str) -> ActionItem:
    """Move the item along :data:`TRANSITIONS`; won't-do needs a reason, and an item from a
    wave is accepted only with its expected effect declared (which locks it)."""
    if status not in TRANSITIONS[item.status]:
        allowed = " or ".join(TRANSITIONS[item.status]) or "nothing (it is final)"
        raise Problem(409, "action-transition", N_("A {current} item can move to {allowed}, not {status}",
                                                   current=item.status, allowed=allowed, status=status))
    if (status == "wont_do") != (reason is not None):
        raise invalid("reason", N_("required for wont_do, and only for wont_do"))
    if status == "accepted" and item.campaign_id is not None and item.expected is None:
        raise Problem(409, "action-transition",
                      N_("Declare the expected effect (which gap, by how much) before accepting: it is locked then"))
    await q.update_status(db, action_id=item.id, status=status, reason=reason)
    await q.insert_activity(db, action_id=item.id, actor_id=me.id, kind="status", from_status=item.status,
                            to_status=status, note=reason or note)
    return await _stored(db, item.id)
