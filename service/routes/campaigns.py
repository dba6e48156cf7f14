"""Survey waves: create, open, close; token issuance; progress.

The anonymous redemption endpoint lives in :mod:`service.routes.anonymous`, on a
path where sessions do not exist.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

import asyncpg
import msgspec
from litestar import Controller, Request, Response, get, patch, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from analysis.report_types import Trend
from crypto.tokens import TOKEN_REQUEST, TOKEN_RESPONSE
from instruments.errors import N_, FieldError
from service import transparency
from service.auth import requires_login, requires_roles
from service.errors import Problem, problem_spec
from service.i18n import LANG_COOKIE, choose_locale, localize, report_language, wording
from service.instruments import in_reading_language
from service.issuance import WAVE, Issuer, TokenKey, generate_keys, publish_key, read_token_requests
from service.mail import queue_invitations
from service.queries import campaigns as q
from service.queries import groups as groups_q
from service.queries import instruments as instruments_q
from service.queries import provenance as provenance_q
from service.queries import services as services_q
from service.queries.accounts import Account
from service.queries.campaigns import Campaign
from service.queries.provenance import AudienceProvenance
from service.reports import CHARTS, WaveReport, closed_wave_report, require_reader, wave_trend
from service.waves import (
    accepting,
    build_manifest,
    canonical_hash,
    instrument_by_hash,
    today,
    wave_key,
)

Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Description = Annotated[str, msgspec.Meta(max_length=4000)]
KScores = Annotated[int, msgspec.Meta(ge=3, le=10_000)]
Hash = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")]


class CampaignCreate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    title: Title
    service_id: UUID
    instrument_id: str
    audience_group_id: UUID
    opens_on: date
    closes_on: date
    description: Description = ""
    instrument_hash: Hash | None = None
    k_scores: KScores = 5
    k_comments: KScores = 10


class CampaignUpdate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    title: Title | None = None
    description: Description | None = None
    service_id: UUID | None = None
    instrument_id: str | None = None
    instrument_hash: Hash | None = None
    audience_group_id: UUID | None = None
    opens_on: date | None = None
    closes_on: date | None = None
    k_scores: KScores | None = None
    k_comments: KScores | None = None


class Progress(msgspec.Struct, frozen=True):
    """Counts rounded down to whole multiples of k, null below k: a manager watching an
    exact count move by one learns when someone answered, and with the report, what."""

    tokens_issued: int | None
    responses: int | None
    k: int
    rounding: str


class Manifest(msgspec.Struct, frozen=True):
    manifest: dict
    manifest_hash: str


_ERRORS = {401: problem_spec("Not signed in"), 403: problem_spec("Role, audience or CSRF token missing")}
_NOT_FOUND = {404: problem_spec("No such wave")}
_NOT_CLOSED = {409: problem_spec("The wave has not closed: results appear when it closes")}
managers = requires_roles("manager")


async def _visible(db: asyncpg.Connection, request: Request, campaign_id: UUID) -> Campaign:
    me: Account = request.scope["user"]
    campaign = await q.select_campaign(db, campaign_id=campaign_id)
    if campaign is None or not await q.can_see_campaign(db, campaign_id=campaign_id, account_id=me.id, roles=me.roles):
        raise Problem(404, "not-found", N_("No survey wave {campaign_id}", campaign_id=campaign_id))
    return campaign


async def _current(db: asyncpg.Connection, campaign_id: UUID) -> Campaign:
    """The wave as stored after a change made in this request."""
    campaign = await q.select_campaign(db, campaign_id=campaign_id)
    if campaign is None:  # deleted by a concurrent request between the change and this read
        raise Problem(404, "not-found", N_("No survey wave {campaign_id}", campaign_id=campaign_id))
    return campaign


async def _check_references(db: asyncpg.Connection, data: CampaignCreate | CampaignUpdate) -> str | None:
    """Check what the body names exists; return the instrument hash it resolves to."""
    errors = []
    if data.service_id is not None and await services_q.select_service(db, service_id=data.service_id) is None:
        errors.append(FieldError(field="service_id", reason=N_("no such service")))
    if data.audience_group_id is not None and await groups_q.select_group(db, group_id=data.audience_group_id) is None:
        errors.append(FieldError(field="audience_group_id", reason=N_("no such group")))
    digest = None
    if data.instrument_id is not None:
        found = await instruments_q.select_instrument(db, instrument_id=data.instrument_id, digest=data.instrument_hash)
        if found is None:
            errors.append(FieldError(field="instrument_hash" if data.instrument_hash else "instrument_id",
                                     reason=N_("no such instrument version")))
        else:
            digest = found.summary.hash
    elif data.instrument_hash is not None:
        errors.append(FieldError(field="instrument_id", reason=N_("required with instrument_hash")))
    if errors:
        raise Problem(422, "validation", N_("The wave names something that does not exist"), errors=errors)
    return digest


def _check_dates(opens_on: date, closes_on: date) -> None:
    if closes_on < opens_on:
        raise Problem(422, "validation", N_("The wave closes before it opens"),
                      errors=[FieldError(field="closes_on", reason=N_("must be on or after opens_on"))])


class CampaignController(Controller):
    path = "/api/campaigns"
    tags = ["campaigns"]

    @get("/", operation_id="listCampaigns", guards=[requires_login], responses=_ERRORS)
    async def list_campaigns(self, request: Request, db: NamedDependency[asyncpg.Connection]) -> list[Campaign]:
        me: Account = request.scope["user"]
        return await q.select_campaigns(db, account_id=me.id, roles=me.roles)

    @post("/", operation_id="createCampaign", guards=[managers], status_code=HTTP_201_CREATED,
          responses={**_ERRORS, 422: problem_spec("Invalid fields")})
    async def create_campaign(
        self, request: Request, db: NamedDependency[asyncpg.Connection], data: JSONBody[CampaignCreate]
    ) -> Campaign:
        _check_dates(data.opens_on, data.closes_on)
        digest = await _check_references(db, data)
        if digest is None:  # CampaignCreate requires the instrument; _check_references resolved it
            raise Problem(422, "validation", N_("The wave needs an instrument"),
                          errors=[FieldError(field="instrument_id", reason=N_("required"))])
        campaign_id = await q.insert_campaign(
            db, title=data.title, description=data.description, service_id=data.service_id,
            instrument_hash=digest, audience_group_id=data.audience_group_id, opens_on=data.opens_on,
            closes_on=data.closes_on, k_scores=data.k_scores, k_comments=data.k_comments,
            created_by=request.scope["user"].id,
        )
        return await _current(db, campaign_id)

    @get("/{campaign_id:uuid}", operation_id="getCampaign", guards=[requires_login], responses={**_ERRORS, **_NOT_FOUND})
    async def get_campaign(
        self, request: Request, db: NamedDependency[asyncpg.Connection], campaign_id: FromPath[UUID]
    ) -> Campaign:
        return await _visible(db, request, campaign_id)

    @patch("/{campaign_id:uuid}", operation_id="updateCampaign", guards=[managers],
           responses={**_ERRORS, **_NOT_FOUND, 409: problem_spec("The wave is no longer a draft")})
    async def update_campaign(
        self, request: Request, db: NamedDependency[asyncpg.Connection], campaign_id: FromPath[UUID],
        data: JSONBody[CampaignUpdate],
    ) -> Campaign:
        campaign = await _visible(db, request, campaign_id)
        if campaign.status != "draft":
            raise Problem(409, "conflict", N_("An opened wave's manifest is frozen; create a new wave instead"))
        _check_dates(data.opens_on or campaign.opens_on, data.closes_on or campaign.closes_on)
        changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not None}
        changes.pop("instrument_id", None)
        digest = await _check_references(db, data)
        if digest is not None:
            changes["instrument_hash"] = digest
        await q.update_draft(db, campaign_id=campaign_id, changes=changes)
        return await _current(db, campaign_id)

    @post("/{campaign_id:uuid}/open", operation_id="openCampaign", guards=[managers], status_code=HTTP_200_OK,
          responses={**_ERRORS, **_NOT_FOUND, 409: problem_spec("Not a draft, or the audience is smaller than k"),
                     422: problem_spec("The audience differs from a recent wave's of the service by fewer than k")})
    async def open_campaign(
        self, request: Request, state: State, db: NamedDependency[asyncpg.Connection], campaign_id: FromPath[UUID]
    ) -> Campaign:
        campaign = await _visible(db, request, campaign_id)
        if await q.lock_campaign_status(db, campaign_id=campaign_id) != "draft":
            raise Problem(409, "conflict", N_("The wave is {status}; only a draft can be opened",
                                              status=campaign.status))
        settings = state.settings
        await q.lock_service_openings(db, campaign_id=campaign_id)
        size = await q.snapshot_audience(db, campaign_id=campaign_id)
        if size < campaign.k_scores:
            raise Problem(409, "conflict",
                          N_("The audience has {size} active members, fewer than k_scores = {k_scores}: answers from so few people could not stay anonymous", size=size, k_scores=campaign.k_scores))
        clashes = await q.select_audience_clashes(db, campaign_id=campaign_id,
                                                  lookback_days=settings.audience_lookback_days)
        if clashes:
            # The snapshot just taken is rolled back with the request's transaction.
            raise _audience_clash(clashes[0], settings.audience_lookback_days)
        keys = await generate_keys(WAVE, campaign_id, issuer_name=settings.issuer_name, kek=settings.key_encryption_key)
        manifest = build_manifest(campaign, keys, size)
        # The key goes into the transparency log in this same transaction (issue 15).
        await transparency.open_wave(db, keys=keys, manifest=manifest, manifest_hash=canonical_hash(manifest),
                                     audience_size=size, kek=settings.key_encryption_key)
        await queue_invitations(db, settings, campaign_id=campaign_id)
        return await _current(db, campaign_id)

    @post("/{campaign_id:uuid}/close", operation_id="closeCampaign", guards=[managers], status_code=HTTP_200_OK,
          responses={**_ERRORS, **_NOT_FOUND, 409: problem_spec("The wave is not open")})
    async def close_campaign(
        self, request: Request, db: NamedDependency[asyncpg.Connection], campaign_id: FromPath[UUID]
    ) -> Campaign:
        campaign = await _visible(db, request, campaign_id)
        if await q.lock_campaign_status(db, campaign_id=campaign_id) != "open":
            raise Problem(409, "conflict", N_("The wave is {status}; only an open wave can be closed",
                                              status=campaign.status))
        await q.close_campaign(db, campaign_id=campaign_id)
        await q.scrub_wave_order(db, campaign_id=campaign_id)
        return await _current(db, campaign_id)

    @get("/{campaign_id:uuid}/manifest", operation_id="getCampaignManifest", guards=[requires_login],
         responses={**_ERRORS, **_NOT_FOUND})
    async def get_manifest(
        self, request: Request, db: NamedDependency[asyncpg.Connection], campaign_id: FromPath[UUID]
    ) -> Manifest:
        await _visible(db, request, campaign_id)
        found = await q.select_manifest(db, campaign_id=campaign_id)
        if found is None:
            raise Problem(404, "not-found", N_("A draft wave has no manifest yet"))
        return Manifest(manifest=found[0], manifest_hash=found[1])

    @get("/{campaign_id:uuid}/token-key", operation_id="getTokenKey", responses=_NOT_FOUND)
    async def token_key(self, state: State, campaign_id: FromPath[UUID]) -> TokenKey:
        # One read, no transaction: asked by every member of a sign-in burst (issue 19).
        async with state.pool.acquire() as db:
            keys = await q.select_keys(db, campaign_id=campaign_id)
        if keys is None:
            raise Problem(404, "not-found", N_("No opened survey wave {campaign_id}", campaign_id=campaign_id))
        return publish_key(wave_key(keys))

    @post(
        "/{campaign_id:uuid}/token-requests",
        operation_id="requestToken",
        guards=[requires_login],
        opt={"accept": (TOKEN_REQUEST,)},
        status_code=HTTP_200_OK,
        responses={
            **_ERRORS, **_NOT_FOUND,
            400: problem_spec("Malformed TokenRequest or wrong truncated key id"),
            409: problem_spec("Already issued for this wave, or the wave is not accepting"),
        },
    )
    async def request_token(self, request: Request, state: State, campaign_id: FromPath[UUID]) -> Response[bytes]:
        # No connection is held while signing (issue 19: in a sign-in burst a connection
        # held while the signing processes are busy is one every other request waits
        # for): one read checks, the signing runs, one statement records.
        me: Account = request.scope["user"]
        async with state.pool.acquire() as db:
            check = await q.select_issuance_check(db, campaign_id=campaign_id, account_id=me.id)
            if check is None or not check.in_audience:
                if check is not None or await q.select_campaign(db, campaign_id=campaign_id) is not None:
                    raise Problem(403, "forbidden", N_("You are not in this wave's audience"))
                raise Problem(404, "not-found", N_("No survey wave {campaign_id}", campaign_id=campaign_id))
        keys = check.keys
        if reason := accepting(keys.status, keys.opens_on, keys.closes_on, today()):
            raise Problem(409, "campaign-closed", reason)
        key = wave_key(keys)
        token_requests = read_token_requests(await request.body(), key)
        if check.issued:  # read before signing, so a repeated request costs no signature
            raise Problem(409, "token-issued", N_("You already received your token for this wave"))
        issuer: Issuer = state.issuer
        responses = await issuer.issue(key, token_requests)
        # Recorded after signing, by the one statement that decides: a failed signing
        # records nothing, and the signatures of a request that lost a race with the same
        # account's other request are never sent.
        async with state.pool.acquire() as db:
            if not await q.record_issuance(db, campaign_id=campaign_id, account_id=me.id):
                raise Problem(409, "token-issued", N_("You already received your token for this wave"))
        return Response(responses, media_type=TOKEN_RESPONSE)

    @get("/{campaign_id:uuid}/progress", operation_id="getCampaignProgress", guards=[requires_login],
         responses={**_ERRORS, **_NOT_FOUND})
    async def progress(
        self, request: Request, db: NamedDependency[asyncpg.Connection], campaign_id: FromPath[UUID]
    ) -> Progress:
        campaign = await require_reader(db, request.scope["user"], campaign_id)
        issued, responses = await q.count_progress(db, campaign_id=campaign_id)
        k = campaign.k_scores
        rounding = N_("Counts are rounded down to whole multiples of k = {k} (null: fewer than {k}); the true count "
                      "is at least the number shown and less than it plus {k}.", k=k)
        locale = choose_locale(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))
        return Progress(tokens_issued=_floor_to(issued, k), responses=_floor_to(responses, k), k=k,
                        rounding=localize(rounding, locale))

    @get("/{campaign_id:uuid}/audience-provenance", operation_id="getCampaignAudienceProvenance",
         guards=[requires_login], responses={**_ERRORS, **_NOT_FOUND})
    async def audience_provenance(
        self, request: Request, db: NamedDependency[asyncpg.Connection], campaign_id: FromPath[UUID]
    ) -> AudienceProvenance:
        """How the audience snapshot was formed: the group, who manages it, how many
        members came from each source (SCIM, OIDC claims, admin) and its last change."""
        await require_reader(db, request.scope["user"], campaign_id)
        found = await provenance_q.select_audience_provenance(db, campaign_id=campaign_id)
        if found is None:
            raise Problem(404, "not-found", N_("No survey wave {campaign_id}", campaign_id=campaign_id))
        return found


class ReportController(Controller):
    """Results of a wave: the gap report (JSON) and its charts (SVG), suppressed below k."""

    path = "/api/campaigns/{campaign_id:uuid}"
    tags = ["reports"]
    guards = [requires_login]

    @get("/report", operation_id="getCampaignReport",
         responses={**_ERRORS, **_NOT_FOUND, **_NOT_CLOSED, 400: problem_spec("The instrument is not offered in `lang`")})
    async def report(
        self, request: Request, state: State, db: NamedDependency[asyncpg.Connection], campaign_id: FromPath[UUID],
        lang: Annotated[str | None, QueryParameter(max_length=35)] = None,
    ) -> WaveReport:
        """The report, its item wording in ``lang`` (else the reader's UI language when the
        instrument offers it, else the instrument's own); the numbers are the same in all."""
        campaign = await require_reader(db, request.scope["user"], campaign_id)
        language = report_language(lang, request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))
        report = await closed_wave_report(state, db, campaign, language=language)
        return await _in_reading_language(request, state, db, campaign, report, lang)

    @get("/charts/{chart:str}", operation_id="getCampaignChart", media_type="image/svg+xml",
         responses={**_ERRORS, **_NOT_FOUND, **_NOT_CLOSED})
    async def chart(
        self, request: Request, state: State, db: NamedDependency[asyncpg.Connection], campaign_id: FromPath[UUID],
        chart: FromPath[str], lang: Annotated[str | None, QueryParameter(max_length=35)] = None,
    ) -> Response[str]:
        campaign = await require_reader(db, request.scope["user"], campaign_id)
        if chart not in CHARTS:
            raise Problem(404, "not-found", N_("No chart {chart!r}; there are {charts}",
                                               chart=chart, charts=', '.join(CHARTS)))
        language = report_language(lang, request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))
        report = await closed_wave_report(state, db, campaign, language=language)
        svg = CHARTS[chart](await _in_reading_language(request, state, db, campaign, report, lang),
                            wording=wording(language))
        return Response(svg, media_type="image/svg+xml")

    @get("/trend", operation_id="getCampaignTrend", responses={**_ERRORS, **_NOT_FOUND, **_NOT_CLOSED})
    async def trend(
        self, request: Request, state: State, db: NamedDependency[asyncpg.Connection], campaign_id: FromPath[UUID],
        lang: Annotated[str | None, QueryParameter(max_length=35)] = None,
    ) -> Trend:
        """Every closed wave of this wave's service and instrument, oldest first, with the
        overall and dimension scores and their intervals, from the reports in ``lang`` (else the reader's)."""
        campaign = await require_reader(db, request.scope["user"], campaign_id)
        language = report_language(lang, request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))
        return await wave_trend(state, db, campaign, language=language)


async def _in_reading_language(request: Request, state: State, db: asyncpg.Connection, campaign: Campaign,
                               report: WaveReport, lang: str | None) -> WaveReport:
    """The cached report with the instrument's texts in the reader's language."""
    return in_reading_language(report, await instrument_by_hash(state, db, campaign.instrument_hash), lang=lang,
                               cookie=request.cookies.get(LANG_COOKIE),
                               accept_language=request.headers.get("accept-language"))


def _floor_to(count: int, k: int) -> int | None:
    return None if count < k else count - count % k


def _audience_clash(clash: q.AudienceClash, lookback_days: int) -> Problem:
    reason = N_("differs by {difference} people from the audience of “{title}”, a wave of the same service opened "
                "on {opened_on}; fewer than k = {k} apart, the two results could be subtracted to single those "
                "people out", difference=clash.difference, title=clash.title, opened_on=clash.opened_on, k=clash.k)
    return Problem(422, "validation",
                   N_("The audience {reason}. Choose an audience that differs by none or by at least {k} people, "
                      "or wait until {lookback_days} days after that wave opened.",
                      reason=reason, k=clash.k, lookback_days=lookback_days),
                   errors=[FieldError(field="audience_group_id", reason=reason)])
