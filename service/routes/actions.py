"""Action items: create from a ranked candidate or a thread, edit, move through the
workflow, the managers' dashboard, exports, and the members' "you said, we did".

Who may do what: managers everything; an owner creates items for services they own,
edits and moves the items they own, and reads the items of their services; every
signed-in account reads "you said, we did" (accepted and done items, no internal
notes, no owner names).
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID

import asyncpg
import msgspec
from litestar import Controller, Request, Response, get, patch, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from analysis.charts import score_trend_chart
from instruments.errors import N_
from service import actions as logic
from service import respondents
from service.auth import requires_login, requires_roles
from service.errors import Problem, problem_spec
from service.exports import actions_csv, report_aggregates, report_csv
from service.i18n import DEFAULT_LOCALE, LANG_COOKIE, localize, report_language, wording
from service.instruments import in_reading_language
from service.pages import PageResponse, gate, page
from service.queries import actions as q
from service.queries import reports as reports_q
from service.queries.accounts import Account
from service.queries.actions import ActionItem, Activity, ExpectedEffect
from service.reports import closed_wave_report, require_reader
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
    outcome: logic.Outcome | None
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
    outcome: logic.Outcome | None


_ERRORS = {401: problem_spec("Not signed in"), 403: problem_spec("Role or CSRF token missing")}
_NOT_FOUND = {404: problem_spec("No such action item")}
_CONFLICT = {409: problem_spec("Not allowed in the item's current status")}
_NOT_CLOSED = {409: problem_spec("The wave has not closed: its results (and candidates) appear when it closes")}
staff = requires_roles("manager", "owner")
managers = requires_roles("manager")


def _me(request: Request) -> Account:
    return request.scope["user"]


def _language(request: Request) -> str:
    """The language of an outcome's sentences: the reader's page language (cookie, else ``Accept-Language``)."""
    return report_language(None, request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))


def _effect(e: ExpectedIn | None) -> ExpectedEffect | None:
    return None if e is None else ExpectedEffect(level=e.level, key=e.key, change=e.change)


async def _draft(state: State, db: asyncpg.Connection, request: Request, data: ActionCreate) -> logic.Draft:
    """Where the new item comes from: a thread, or a ranked candidate of a wave the caller may read."""
    if data.thread_id is not None:
        if data.level is not None or data.target is not None or data.expected_change is not None:
            raise logic.invalid("thread_id", N_("an item from a thread names no candidate (use expected for an effect)"))
        return await logic.draft_from_thread(db, thread_id=data.thread_id, title=data.title,
                                             campaign_id=data.campaign_id, expected=_effect(data.expected))
    if data.campaign_id is None:
        raise logic.invalid("campaign_id", N_("name a wave's candidate (campaign_id, level, target) or a thread_id"))
    if data.level is None or data.target is None:
        raise logic.invalid("target", N_("a candidate needs campaign_id, level and target (and no thread_id)"))
    try:
        campaign = await require_reader(db, _me(request), data.campaign_id)
    except Problem as exc:
        raise logic.invalid("campaign_id", N_("no such wave among those you may read")) from exc
    expected = data.expected or (ExpectedIn(level=data.level, key=data.target, change=data.expected_change)
                                 if data.expected_change is not None else None)
    return logic.draft_from_candidate(campaign, await closed_wave_report(state, db, campaign), level=data.level,
                                      target=data.target, title=data.title, expected=_effect(expected))


class ActionController(Controller):
    path = "/api/actions"
    tags = ["actions"]

    @get("/", operation_id="listActions", guards=[staff], responses=_ERRORS)
    async def list_actions(
        self, request: Request, db: NamedDependency[asyncpg.Connection],
        service_id: FromQuery[UUID | None] = None, owner_id: FromQuery[UUID | None] = None,
        status: FromQuery[Status | None] = None, overdue: FromQuery[bool | None] = None,
    ) -> list[ActionItem]:
        return await q.select_actions(db, visible_to=logic.visible_to(_me(request)),
                                      service_id=service_id, owner_id=owner_id, status=status, overdue=overdue)

    @post("/", operation_id="createAction", guards=[staff], status_code=HTTP_201_CREATED,
          responses={**_ERRORS, **_NOT_CLOSED, 422: problem_spec("Invalid fields, or not a candidate")})
    async def create_action(
        self, request: Request, state: State, db: NamedDependency[asyncpg.Connection], data: JSONBody[ActionCreate]
    ) -> ActionDetail:
        draft = await _draft(state, db, request, data)
        item = await logic.create_item(state, db, _me(request), draft, description=data.description,
                                       owner_id=data.owner_id, due_on=data.due_on)
        return await _detail(state, db, request, item)

    @get("/{action_id:uuid}", operation_id="getAction", guards=[staff], responses={**_ERRORS, **_NOT_FOUND})
    async def get_action(
        self, request: Request, state: State, db: NamedDependency[asyncpg.Connection], action_id: FromPath[UUID]
    ) -> ActionDetail:
        return await _detail(state, db, request, await logic.readable_item(db, _me(request), action_id))

    @patch("/{action_id:uuid}", operation_id="updateAction", guards=[staff],
           responses={**_ERRORS, **_NOT_FOUND, **_CONFLICT, 422: problem_spec("Invalid fields")})
    async def update_action(
        self, request: Request, state: State, db: NamedDependency[asyncpg.Connection], action_id: FromPath[UUID],
        data: JSONBody[ActionUpdate],
    ) -> ActionDetail:
        me = _me(request)
        item = await logic.editable_item(db, me, action_id)
        changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not None}
        if data.expected is not None:
            changes["expected"] = _effect(data.expected)
        return await _detail(state, db, request, await logic.update_item(state, db, me, item, changes))

    @post("/{action_id:uuid}/status", operation_id="changeActionStatus", guards=[staff], status_code=HTTP_200_OK,
          responses={**_ERRORS, **_NOT_FOUND, **_CONFLICT, 422: problem_spec("Invalid fields")})
    async def change_status(
        self, request: Request, state: State, db: NamedDependency[asyncpg.Connection], action_id: FromPath[UUID],
        data: JSONBody[StatusChange],
    ) -> ActionDetail:
        me = _me(request)
        item = await logic.editable_item(db, me, action_id)
        item = await logic.change_status(db, me, item, status=data.status, reason=data.reason, note=data.note)
        return await _detail(state, db, request, item)

    @get("/dashboard", operation_id="getActionDashboard", guards=[managers], responses=_ERRORS)
    async def dashboard(
        self, request: Request, state: State, db: NamedDependency[asyncpg.Connection],
        service_id: FromQuery[UUID | None] = None, owner_id: FromQuery[UUID | None] = None,
    ) -> Dashboard:
        return await dashboard_data(state, db, service_id=service_id, owner_id=owner_id,
                                    language=_language(request))

    @get("/score-chart/{service_id:uuid}/{instrument_id:str}", operation_id="getServiceScoreChart",
         guards=[managers], media_type="image/svg+xml", responses={**_ERRORS, 404: problem_spec("No such series")})
    async def score_chart(
        self, request: Request, state: State, db: NamedDependency[asyncpg.Connection], service_id: FromPath[UUID],
        instrument_id: FromPath[str], lang: Annotated[str | None, QueryParameter(max_length=35)] = None,
    ) -> Response[str]:
        """The service's overall score across its closed waves, its words in ``lang`` (else the reader's)."""
        name = await q.select_service_name(db, service_id=service_id)
        if name is None:
            raise Problem(404, "not-found", N_("No service {service_id}", service_id=service_id))
        found = [s for s in await logic.score_series(state, db, service_id=service_id)
                 if s["instrument_id"] == instrument_id]
        series = found[0] if found else {"service": {"id": str(service_id), "name": name},
                                         "instrument_title": instrument_id, "score": "gap", "waves": []}
        language = report_language(lang, request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))
        return Response(score_trend_chart(series, prefix="trend", wording=wording(language)),
                        media_type="image/svg+xml")

    @get("/export.csv", operation_id="exportActions", guards=[staff], media_type="text/csv", responses=_ERRORS)
    async def export_actions(
        self, request: Request, db: NamedDependency[asyncpg.Connection],
        service_id: FromQuery[UUID | None] = None, owner_id: FromQuery[UUID | None] = None,
        status: FromQuery[Status | None] = None, overdue: FromQuery[bool | None] = None,
    ) -> Response[str]:
        items = await q.select_actions(db, visible_to=logic.visible_to(_me(request)),
                                       service_id=service_id, owner_id=owner_id, status=status, overdue=overdue)
        return Response(actions_csv(items), media_type="text/csv; charset=utf-8",
                        headers={"content-disposition": 'attachment; filename="action-items.csv"'})


async def _detail(state: State, db: asyncpg.Connection, request: Request, item: ActionItem) -> ActionDetail:
    can_edit = logic.can_edit(_me(request), item)
    return ActionDetail(
        item=item, activity=await q.select_activity(db, action_id=item.id),
        outcome=await logic.outcome(state, db, item, language=_language(request)),
        allowed=list(logic.TRANSITIONS[item.status]) if can_edit else [], can_edit=can_edit,
    )


async def dashboard_data(state: State, db: asyncpg.Connection, *, service_id: UUID | None = None,
                         owner_id: UUID | None = None, language: str = DEFAULT_LOCALE) -> Dashboard:
    m = await q.select_metrics(db, service_id=service_id, owner_id=owner_id)
    threads = await q.select_first_answer_times(db, service_id=service_id)

    def define(metric: str) -> str:
        return localize(logic.METRIC_DEFINITIONS[metric], language)

    if threads is None or threads[0] == 0:
        first = FirstAnswer(available=False, threads=0, answered=0, median_hours=None, definition=define("no_threads"))
    else:
        first = FirstAnswer(available=True, threads=threads[0], answered=threads[1], median_hours=threads[2],
                            definition=define("first_answer"))
    return Dashboard(
        total=m.total, by_status=m.by_status, overdue=m.overdue,
        acted_within_sla=Percentage(logic.percent(m.sla_met, m.sla_due), m.sla_met, m.sla_due,
                                    define("acted_within_sla")),
        completed_by_due=Percentage(logic.percent(m.due_met, m.due_total), m.due_met, m.due_total,
                                    define("completed_by_due")),
        first_answer=first,
        scores=await logic.score_series(state, db, service_id=service_id),
    )


#: How the public page names what an action item targets ({key}: the item or dimension key).
_TARGETS = {"thread": str(N_("a feedback thread")), "item": str(N_("item {key}")),
            "dimension": str(N_("dimension {key}"))}


async def public_actions(state: State, db: asyncpg.Connection, *,
                         language: str = DEFAULT_LOCALE) -> list[PublicAction]:
    out = []
    for item in await q.select_public_actions(db):
        result = await logic.outcome(state, db, item, language=language)
        target = localize(_TARGETS[item.target_level], language).format(key=item.target_key)
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
    async def list_public(self, request: Request, state: State,
                          db: NamedDependency[asyncpg.Connection]) -> list[PublicAction]:
        return await public_actions(state, db, language=_language(request))


class WaveExportController(Controller):
    """A closed wave's report aggregates at or above k, for the wave's readers (409 before it closes)."""

    path = "/api/campaigns/{campaign_id:uuid}/export"
    tags = ["reports"]
    guards = [requires_login]

    @get("/json", operation_id="exportReportJson",
         responses={**_ERRORS, **_NOT_CLOSED, 404: problem_spec("No such wave")})
    async def export_json(
        self, request: Request, state: State, db: NamedDependency[asyncpg.Connection], campaign_id: FromPath[UUID],
        lang: Annotated[str | None, QueryParameter(max_length=35)] = None,
    ) -> Response[dict[str, Any]]:
        aggregates = await _aggregates(request, state, db, campaign_id, lang)
        return Response(aggregates, headers={"content-disposition": f'attachment; filename="report-{campaign_id}.json"'})

    @get("/csv", operation_id="exportReportCsv", media_type="text/csv",
         responses={**_ERRORS, **_NOT_CLOSED, 404: problem_spec("No such wave")})
    async def export_csv(
        self, request: Request, state: State, db: NamedDependency[asyncpg.Connection], campaign_id: FromPath[UUID],
        lang: Annotated[str | None, QueryParameter(max_length=35)] = None,
    ) -> Response[str]:
        aggregates = await _aggregates(request, state, db, campaign_id, lang)
        return Response(report_csv(aggregates), media_type="text/csv; charset=utf-8",
                        headers={"content-disposition": f'attachment; filename="report-{campaign_id}.csv"'})


    @get("/responses/{fmt:str}", operation_id="exportResponses", media_type="application/octet-stream",
         responses={**_ERRORS, **_NOT_CLOSED, 404: problem_spec("No such wave or format")})
    async def export_responses(
        self, request: Request, state: State, db: NamedDependency[asyncpg.Connection], campaign_id: FromPath[UUID],
        fmt: FromPath[str],
    ) -> Response[bytes]:
        """One row per response (no identifier, random order) as ``csv``, ``sav`` (SPSS) or
        ``dta`` (Stata), with labels; only for a closed wave with at least k responses,
        free text only at k_comments."""
        if fmt not in respondents.FORMATS:
            raise Problem(404, "not-found", N_("No export format {fmt!r}; there are {formats}",
                                               fmt=fmt, formats=', '.join(respondents.FORMATS)))
        campaign = await require_reader(db, _me(request), campaign_id)
        report = await closed_wave_report(state, db, campaign)  # 409 before the wave closes
        if not isinstance(report.n, int):
            raise Problem(409, "conflict",
                          N_("Respondent-level data needs at least k = {k_scores} responses; this wave has fewer",
                             k_scores=campaign.k_scores))
        instrument = await instrument_by_hash(state, db, campaign.instrument_hash)
        rows = await reports_q.select_respondent_rows(db, campaign_id=campaign.id)
        names, data = respondents.table(instrument, rows, with_comments=report.n >= campaign.k_comments)
        media, suffix = respondents.FORMATS[fmt]
        body = (respondents.to_csv(names, data) if fmt == "csv"
                else await asyncio.to_thread(respondents.to_stats_file, fmt, names, data))
        return Response(body, media_type=media,
                        headers={"content-disposition": f'attachment; filename="responses-{campaign_id}.{suffix}"'})


async def _aggregates(request: Request, state: State, db: asyncpg.Connection, campaign_id: UUID,
                      lang: str | None) -> dict[str, Any]:
    campaign = await require_reader(db, _me(request), campaign_id)
    cookie, accept = request.cookies.get(LANG_COOKIE), request.headers.get("accept-language")
    # The same report the report page shows: its sentences (candidate reasons) in the reader's language too.
    report = await closed_wave_report(state, db, campaign, language=report_language(lang, cookie, accept))
    report = in_reading_language(report, await instrument_by_hash(state, db, campaign.instrument_hash), lang=lang,
                                 cookie=cookie, accept_language=accept)
    head = {"id": str(campaign.id), "title": campaign.title, "service": campaign.service.name,
            "status": campaign.status, "opens_on": campaign.opens_on.isoformat(),
            "closes_on": campaign.closes_on.isoformat()}
    return report_aggregates(report, campaign=head)


class ActionPageController(Controller):
    tags = ["pages"]
    include_in_schema = False

    @get("/actions", operation_id="actionsPage")
    async def actions_page(self, request: Request, state: State, db: NamedDependency[asyncpg.Connection]) -> PageResponse:
        if denied := gate(request, "manager", "owner"):
            return denied
        charts = []
        if "manager" in _me(request).roles:
            words = wording(report_language(None, request.cookies.get(LANG_COOKIE),
                                            request.headers.get("accept-language")))
            for i, series in enumerate(await logic.score_series(state, db)):
                charts.append({"series": series, "svg": score_trend_chart(series, prefix=f"trend{i}", wording=words)})
        return page(request, "actions/dashboard", charts=charts)

    @get("/actions/{action_id:uuid}", operation_id="actionPage")
    async def action_page(self, request: Request, action_id: FromPath[UUID]) -> PageResponse:
        return gate(request, "manager", "owner") or page(request, "actions/item", action_id=str(action_id))

    @get("/you-said-we-did", operation_id="youSaidWeDidPage")
    async def public_page(self, request: Request, state: State, db: NamedDependency[asyncpg.Connection]) -> PageResponse:
        if denied := gate(request):
            return denied
        return page(request, "actions/public", actions=await public_actions(state, db, language=_language(request)))
