"""Action items: create from a ranked candidate or a thread, edit, move through the
workflow, the managers' dashboard, exports, and the members' "you said, we did".

Who may do what: managers everything; an owner creates items for services they own,
edits and moves the items they own, and reads the items of their services; every
signed-in account reads "you said, we did" (accepted and done items, no internal
notes, no owner names).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID

import asyncpg
import msgspec
from litestar import Controller, Request, Response, get, patch, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from analysis.charts import score_trend_chart
from instruments.errors import FieldError
from service import actions as logic
from service.auth import requires_login, requires_roles
from service.errors import Problem, problem_spec
from service.exports import actions_csv, report_aggregates, report_csv
from service.queries import actions as q
from service.queries.accounts import Account
from service.queries.actions import ActionItem, Activity, ExpectedEffect
from service.routes.campaigns import _report, _require_reader
from service.routes.pages import PageResponse, _gate, _page
from service.waves import instrument_by_hash

Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Text = Annotated[str, msgspec.Meta(max_length=4000)]
Key = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
Change = Annotated[float, msgspec.Meta(ge=-12, le=12)]
Status = Literal["proposed", "accepted", "in_progress", "done", "wont_do"]


class ExpectedIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    level: Literal["item", "dimension"]
    key: Key
    change: Change  # expected change of the gap, after - before (e.g. +0.5)


class ActionCreate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """From a candidate: ``campaign_id`` + ``level`` + ``target``. From a thread:
    ``thread_id`` (optionally a baseline ``campaign_id`` and an ``expected`` effect)."""

    campaign_id: UUID | None = None
    level: Literal["item", "dimension"] | None = None
    target: Key | None = None
    thread_id: UUID | None = None
    title: Title | None = None
    description: Text = ""
    owner_id: UUID | None = None
    due_on: date | None = None
    expected_change: Change | None = None
    expected: ExpectedIn | None = None


class ActionUpdate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    title: Title | None = None
    description: Text | None = None
    internal_notes: Text | None = None
    owner_id: UUID | None = None
    due_on: date | None = None
    expected: ExpectedIn | None = None


class StatusChange(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    status: Status
    reason: Reason | None = None  # required for wont_do
    note: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class ActionDetail(msgspec.Struct, frozen=True):
    item: ActionItem
    activity: list[Activity]
    outcome: dict[str, Any] | None
    allowed: list[str]
    can_edit: bool


class Percentage(msgspec.Struct, frozen=True):
    percent: float | None
    numerator: int
    denominator: int
    definition: str


class FirstAnswer(msgspec.Struct, frozen=True):
    available: bool
    threads: int
    answered: int
    median_hours: float | None
    definition: str


class Dashboard(msgspec.Struct, frozen=True):
    total: int
    by_status: dict[str, int]
    overdue: int
    acted_within_sla: Percentage
    completed_by_due: Percentage
    first_answer: FirstAnswer
    scores: list[dict[str, Any]]


class PublicAction(msgspec.Struct, frozen=True):
    id: UUID
    title: str
    description: str
    service: str
    status: str
    target: str
    expected_change: float | None
    accepted_on: date | None
    done_on: date | None
    outcome: dict[str, Any] | None


_ERRORS = {401: problem_spec("Not signed in"), 403: problem_spec("Role or CSRF token missing")}
_NOT_FOUND = {404: problem_spec("No such action item")}
_CONFLICT = {409: problem_spec("Not allowed in the item's current status")}
_NOT_CLOSED = {409: problem_spec("The wave has not closed: its results (and candidates) appear when it closes")}
staff = requires_roles("manager", "owner")
managers = requires_roles("manager")


def _me(request: Request) -> Account:
    return request.scope["user"]


async def _readable(db: asyncpg.Connection, request: Request, action_id: UUID, *, lock: bool = False) -> ActionItem:
    """The item if the caller may read it (managers; its owner; owners of its service), else 404."""
    me = _me(request)
    item = await (q.lock_action if lock else q.select_action)(db, action_id=action_id)
    if item is not None and ("manager" in me.roles or item.owner.id == me.id or (
            "owner" in me.roles and await q.owns_service(db, service_id=item.service.id, account_id=me.id))):
        return item
    raise Problem(404, "not-found", f"No action item {action_id}")


def _require_editor(request: Request, item: ActionItem) -> None:
    me = _me(request)
    if "manager" not in me.roles and item.owner.id != me.id:
        raise Problem(403, "forbidden", "Only managers and the item's owner change an action item")


def _can_edit(request: Request, item: ActionItem) -> bool:
    me = _me(request)
    return "manager" in me.roles or item.owner.id == me.id


def _invalid(field: str, reason: str, detail: str | None = None) -> Problem:
    return Problem(422, "validation", detail or reason, errors=[FieldError(field=field, reason=reason)])


async def _check_expected(state: State, db: asyncpg.Connection, campaign_id: UUID | None,
                          expected: ExpectedIn | None) -> None:
    if expected is None:
        return
    if campaign_id is None:
        raise _invalid("expected", "an expected effect is measured against a baseline wave: give campaign_id")
    wave = await q.select_wave(db, campaign_id=campaign_id)
    instrument = await instrument_by_hash(state, db, wave.instrument_hash)
    keys = [i.key for i in instrument.items] if expected.level == "item" else [d.key for d in instrument.dimensions]
    if expected.key not in keys:
        raise _invalid("expected.key", f"the wave's instrument has no {expected.level} {expected.key!r}")


async def _owner_for(db: asyncpg.Connection, me: Account, service_id: UUID, owner_id: UUID | None) -> UUID:
    """The named owner (must own the service), else the caller if they own it, else the
    service's only owner."""
    if owner_id is not None:
        if not await q.is_owner_of_service(db, service_id=service_id, account_id=owner_id):
            raise _invalid("owner_id", "not an active owner of the item's service")
        return owner_id
    owners = await q.select_service_owner_ids(db, service_id=service_id)
    if me.id in owners:
        return me.id
    if len(owners) == 1:
        return owners[0]
    raise _invalid("owner_id", "the service has no owner" if not owners else "the service has several owners: name one")


async def _from_candidate(state: State, db: asyncpg.Connection, request: Request, data: ActionCreate) -> dict[str, Any]:
    if data.level is None or data.target is None or data.thread_id is not None:
        raise _invalid("target", "a candidate needs campaign_id, level and target (and no thread_id)")
    try:
        campaign = await _require_reader(db, request, data.campaign_id)
    except Problem as exc:
        raise _invalid("campaign_id", "no such wave among those you may read") from exc
    report = await _report(state, db, campaign)
    candidate = next((c for c in report.get("candidates", [])
                      if c["level"] == data.level and c["target"] == data.target), None)
    if candidate is None:
        raise _invalid("target", f"{data.level} {data.target!r} is not a ranked candidate of this wave")
    what = f"item {data.target}" if data.level == "item" else f"the {data.target} dimension"
    expected = data.expected or (ExpectedIn(level=data.level, key=data.target, change=data.expected_change)
                                 if data.expected_change is not None else None)
    return {"service_id": campaign.service.id, "source": "candidate", "campaign_id": campaign.id, "thread_id": None,
            "target_level": data.level, "target_key": data.target, "candidate": candidate,
            "title": data.title or f"Close the gap on {what}", "expected": expected}


async def _from_thread(db: asyncpg.Connection, data: ActionCreate) -> dict[str, Any]:
    if data.level is not None or data.target is not None or data.expected_change is not None:
        raise _invalid("thread_id", "an item from a thread names no candidate (use expected for an effect)")
    service_id = await q.select_thread_service(db, thread_id=data.thread_id)
    if service_id is None:
        raise _invalid("thread_id", "no such thread")
    if data.title is None:
        raise _invalid("title", "an item from a thread needs a title")
    if data.campaign_id is not None:
        wave = await q.select_wave(db, campaign_id=data.campaign_id)
        if wave is None or wave.service_id != service_id:
            raise _invalid("campaign_id", "the baseline wave must be a wave of the thread's service")
    return {"service_id": service_id, "source": "thread", "campaign_id": data.campaign_id,
            "thread_id": data.thread_id, "target_level": "thread", "target_key": None, "candidate": None,
            "title": data.title, "expected": data.expected}


def _effect(e: ExpectedIn | None) -> ExpectedEffect | None:
    return None if e is None else ExpectedEffect(level=e.level, key=e.key, change=e.change)


def _jsonable(v: Any) -> Any:
    return msgspec.to_builtins(v)


class ActionController(Controller):
    path = "/api/actions"
    tags = ["actions"]

    @get("/", operation_id="listActions", guards=[staff], responses=_ERRORS)
    async def list_actions(
        self, request: Request, db: NamedDependency[asyncpg.Connection],
        service_id: FromQuery[UUID | None] = None, owner_id: FromQuery[UUID | None] = None,
        status: FromQuery[Status | None] = None, overdue: FromQuery[bool | None] = None,
    ) -> list[ActionItem]:
        me = _me(request)
        return await q.select_actions(db, visible_to=None if "manager" in me.roles else me.id,
                                      service_id=service_id, owner_id=owner_id, status=status, overdue=overdue)

    @post("/", operation_id="createAction", guards=[staff], status_code=HTTP_201_CREATED,
          responses={**_ERRORS, **_NOT_CLOSED, 422: problem_spec("Invalid fields, or not a candidate")})
    async def create_action(
        self, request: Request, state: State, db: NamedDependency[asyncpg.Connection], data: JSONBody[ActionCreate]
    ) -> ActionDetail:
        me = _me(request)
        if data.thread_id is not None:
            fields = await _from_thread(db, data)
        elif data.campaign_id is not None:
            fields = await _from_candidate(state, db, request, data)
        else:
            raise _invalid("campaign_id", "name a wave's candidate (campaign_id, level, target) or a thread_id")
        if "manager" not in me.roles and not await q.owns_service(db, service_id=fields["service_id"], account_id=me.id):
            raise Problem(403, "forbidden", "Owners create action items only for services they own")
        await _check_expected(state, db, fields["campaign_id"], fields["expected"])
        owner_id = await _owner_for(db, me, fields["service_id"], data.owner_id)
        expected = _effect(fields.pop("expected"))
        action_id = await q.insert_action(db, **fields, description=data.description, owner_id=owner_id,
                                          due_on=data.due_on, expected=expected, created_by=me.id)
        item = await q.select_action(db, action_id=action_id)
        await q.insert_activity(db, action_id=action_id, actor_id=me.id, kind="create", to_status="proposed",
                                changes={"title": item.title, "owner_id": str(owner_id),
                                         "due_on": item.due_on.isoformat(), "expected": _jsonable(expected)})
        return await _detail(state, db, request, item)

    @get("/{action_id:uuid}", operation_id="getAction", guards=[staff], responses={**_ERRORS, **_NOT_FOUND})
    async def get_action(
        self, request: Request, state: State, db: NamedDependency[asyncpg.Connection], action_id: FromPath[UUID]
    ) -> ActionDetail:
        return await _detail(state, db, request, await _readable(db, request, action_id))

    @patch("/{action_id:uuid}", operation_id="updateAction", guards=[staff],
           responses={**_ERRORS, **_NOT_FOUND, **_CONFLICT, 422: problem_spec("Invalid fields")})
    async def update_action(
        self, request: Request, state: State, db: NamedDependency[asyncpg.Connection], action_id: FromPath[UUID],
        data: JSONBody[ActionUpdate],
    ) -> ActionDetail:
        item = await _readable(db, request, action_id, lock=True)
        _require_editor(request, item)
        if item.status in ("done", "wont_do"):
            raise Problem(409, "action-locked", f"The item is {item.status}: it no longer changes")
        changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not None}
        if "owner_id" in changes:
            await _owner_for(db, _me(request), item.service.id, data.owner_id)
        if (expected := changes.pop("expected", None)) is not None:
            if item.status != "proposed":
                raise Problem(409, "action-locked", "The expected effect is locked once the item is accepted")
            await _check_expected(state, db, item.campaign_id, data.expected)
            changes |= {"expected_level": expected.level, "expected_key": expected.key,
                        "expected_change": expected.change}
        await _apply(db, request, item, changes)
        return await _detail(state, db, request, await q.select_action(db, action_id=action_id))

    @post("/{action_id:uuid}/status", operation_id="changeActionStatus", guards=[staff], status_code=HTTP_200_OK,
          responses={**_ERRORS, **_NOT_FOUND, **_CONFLICT, 422: problem_spec("Invalid fields")})
    async def change_status(
        self, request: Request, state: State, db: NamedDependency[asyncpg.Connection], action_id: FromPath[UUID],
        data: JSONBody[StatusChange],
    ) -> ActionDetail:
        item = await _readable(db, request, action_id, lock=True)
        _require_editor(request, item)
        if data.status not in logic.TRANSITIONS[item.status]:
            allowed = " or ".join(logic.TRANSITIONS[item.status]) or "nothing (it is final)"
            raise Problem(409, "action-transition", f"A {item.status} item can move to {allowed}, not {data.status}")
        if (data.status == "wont_do") != (data.reason is not None):
            raise _invalid("reason", "required for wont_do, and only for wont_do")
        if data.status == "accepted" and item.campaign_id is not None and item.expected is None:
            raise Problem(409, "action-transition",
                          "Declare the expected effect (which gap, by how much) before accepting: it is locked then")
        await q.update_status(db, action_id=action_id, status=data.status, reason=data.reason)
        await q.insert_activity(db, action_id=action_id, actor_id=_me(request).id, kind="status",
                                from_status=item.status, to_status=data.status,
                                note=data.reason or data.note)
        return await _detail(state, db, request, await q.select_action(db, action_id=action_id))

    @get("/dashboard", operation_id="getActionDashboard", guards=[managers], responses=_ERRORS)
    async def dashboard(
        self, state: State, db: NamedDependency[asyncpg.Connection],
        service_id: FromQuery[UUID | None] = None, owner_id: FromQuery[UUID | None] = None,
    ) -> Dashboard:
        return await dashboard_data(state, db, service_id=service_id, owner_id=owner_id)

    @get("/score-chart/{service_id:uuid}/{instrument_id:str}", operation_id="getServiceScoreChart",
         guards=[managers], media_type="image/svg+xml", responses={**_ERRORS, 404: problem_spec("No such series")})
    async def score_chart(
        self, state: State, db: NamedDependency[asyncpg.Connection], service_id: FromPath[UUID],
        instrument_id: FromPath[str],
    ) -> Response[str]:
        name = await q.select_service_name(db, service_id=service_id)
        if name is None:
            raise Problem(404, "not-found", f"No service {service_id}")
        found = [s for s in await logic.score_series(state, db, service_id=service_id)
                 if s["instrument_id"] == instrument_id]
        series = found[0] if found else {"service": {"id": str(service_id), "name": name},
                                         "instrument_title": instrument_id, "score": "gap", "waves": []}
        return Response(score_trend_chart(series, prefix="trend"), media_type="image/svg+xml")

    @get("/export.csv", operation_id="exportActions", guards=[staff], media_type="text/csv", responses=_ERRORS)
    async def export_actions(
        self, request: Request, db: NamedDependency[asyncpg.Connection],
        service_id: FromQuery[UUID | None] = None, owner_id: FromQuery[UUID | None] = None,
        status: FromQuery[Status | None] = None, overdue: FromQuery[bool | None] = None,
    ) -> Response[str]:
        me = _me(request)
        items = await q.select_actions(db, visible_to=None if "manager" in me.roles else me.id,
                                       service_id=service_id, owner_id=owner_id, status=status, overdue=overdue)
        return Response(actions_csv(items), media_type="text/csv; charset=utf-8",
                        headers={"content-disposition": 'attachment; filename="action-items.csv"'})


async def _apply(db: asyncpg.Connection, request: Request, item: ActionItem, changes: dict[str, Any]) -> None:
    before = {"title": item.title, "description": item.description, "internal_notes": item.internal_notes,
              "owner_id": item.owner.id, "due_on": item.due_on,
              "expected_level": item.expected.level if item.expected else None,
              "expected_key": item.expected.key if item.expected else None,
              "expected_change": item.expected.change if item.expected else None}
    diff = {k: [_jsonable(before[k]), _jsonable(v)] for k, v in changes.items() if before[k] != v}
    if not diff:
        return
    await q.update_action(db, action_id=item.id, changes={k: changes[k] for k in diff})
    await q.insert_activity(db, action_id=item.id, actor_id=_me(request).id, kind="edit", changes=diff)


async def _detail(state: State, db: asyncpg.Connection, request: Request, item: ActionItem) -> ActionDetail:
    can_edit = _can_edit(request, item)
    return ActionDetail(
        item=item, activity=await q.select_activity(db, action_id=item.id),
        outcome=await logic.outcome(state, db, item),
        allowed=list(logic.TRANSITIONS[item.status]) if can_edit else [], can_edit=can_edit,
    )


async def dashboard_data(state: State, db: asyncpg.Connection, *, service_id: UUID | None = None,
                         owner_id: UUID | None = None) -> Dashboard:
    m = await q.select_metrics(db, service_id=service_id, owner_id=owner_id)
    threads = await q.select_first_answer_times(db, service_id=service_id)
    if threads is None or threads[0] == 0:
        first = FirstAnswer(available=False, threads=0, answered=0, median_hours=None, definition="no threads yet")
    else:
        first = FirstAnswer(available=True, threads=threads[0], answered=threads[1], median_hours=threads[2],
                            definition=logic.METRIC_DEFINITIONS["first_answer"])
    return Dashboard(
        total=m.total, by_status=m.by_status, overdue=m.overdue,
        acted_within_sla=Percentage(logic.percent(m.sla_met, m.sla_due), m.sla_met, m.sla_due,
                                    logic.METRIC_DEFINITIONS["acted_within_sla"]),
        completed_by_due=Percentage(logic.percent(m.due_met, m.due_total), m.due_met, m.due_total,
                                    logic.METRIC_DEFINITIONS["completed_by_due"]),
        first_answer=first,
        scores=await logic.score_series(state, db, service_id=service_id),
    )


async def public_actions(state: State, db: asyncpg.Connection) -> list[PublicAction]:
    out = []
    for item in await q.select_public_actions(db):
        result = await logic.outcome(state, db, item)
        if item.target_level == "thread":
            target = "a feedback thread"
        else:
            target = f"{item.target_level} {item.target_key}"
        out.append(PublicAction(
            id=item.id, title=item.title, description=item.description, service=item.service.name,
            status=item.status, target=target, expected_change=item.expected.change if item.expected else None,
            accepted_on=item.accepted_at.date() if item.accepted_at else None,
            done_on=item.done_at.date() if item.done_at else None, outcome=result,
        ))
    return out


class PublicActionController(Controller):
    path = "/api/you-said-we-did"
    tags = ["actions"]

    @get("/", operation_id="listYouSaidWeDid", guards=[requires_login], responses={401: problem_spec("Not signed in")})
    async def list_public(self, state: State, db: NamedDependency[asyncpg.Connection]) -> list[PublicAction]:
        return await public_actions(state, db)


class WaveExportController(Controller):
    """A closed wave's report aggregates at or above k, for the wave's readers (409 before it closes)."""

    path = "/api/campaigns/{campaign_id:uuid}/export"
    tags = ["reports"]
    guards = [requires_login]

    @get("/json", operation_id="exportReportJson",
         responses={**_ERRORS, **_NOT_CLOSED, 404: problem_spec("No such wave")})
    async def export_json(
        self, request: Request, state: State, db: NamedDependency[asyncpg.Connection], campaign_id: FromPath[UUID]
    ) -> Response[dict[str, Any]]:
        aggregates = await _aggregates(request, state, db, campaign_id)
        return Response(aggregates, headers={"content-disposition": f'attachment; filename="report-{campaign_id}.json"'})

    @get("/csv", operation_id="exportReportCsv", media_type="text/csv",
         responses={**_ERRORS, **_NOT_CLOSED, 404: problem_spec("No such wave")})
    async def export_csv(
        self, request: Request, state: State, db: NamedDependency[asyncpg.Connection], campaign_id: FromPath[UUID]
    ) -> Response[str]:
        aggregates = await _aggregates(request, state, db, campaign_id)
        return Response(report_csv(aggregates), media_type="text/csv; charset=utf-8",
                        headers={"content-disposition": f'attachment; filename="report-{campaign_id}.csv"'})


async def _aggregates(request: Request, state: State, db: asyncpg.Connection, campaign_id: UUID) -> dict[str, Any]:
    campaign = await _require_reader(db, request, campaign_id)
    report = await _report(state, db, campaign)
    head = {"id": str(campaign.id), "title": campaign.title, "service": campaign.service.name,
            "status": campaign.status, "opens_on": campaign.opens_on.isoformat(),
            "closes_on": campaign.closes_on.isoformat()}
    return report_aggregates(report, campaign=head)


class ActionPageController(Controller):
    tags = ["pages"]
    include_in_schema = False

    @get("/actions", operation_id="actionsPage")
    async def actions_page(self, request: Request, state: State, db: NamedDependency[asyncpg.Connection]) -> PageResponse:
        if gate := _gate(request, "manager", "owner"):
            return gate
        charts = []
        if "manager" in _me(request).roles:
            for i, series in enumerate(await logic.score_series(state, db)):
                charts.append({"series": series, "svg": score_trend_chart(series, prefix=f"trend{i}")})
        return _page(request, "actions/dashboard", charts=charts)

    @get("/actions/{action_id:uuid}", operation_id="actionPage")
    async def action_page(self, request: Request, action_id: FromPath[UUID]) -> PageResponse:
        return _gate(request, "manager", "owner") or _page(request, "actions/item", action_id=str(action_id))

    @get("/you-said-we-did", operation_id="youSaidWeDidPage")
    async def public_page(self, request: Request, state: State, db: NamedDependency[asyncpg.Connection]) -> PageResponse:
        if gate := _gate(request):
            return gate
        return _page(request, "actions/public", actions=await public_actions(state, db))
