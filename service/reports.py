"""A wave's gap report: stored responses → answer matrices → analysis, off the event loop.

Responses are stored as arrays in the instrument's order (see instruments.packing), and
beside them as int16 bytes (``answer_codes``, migration 0014), so the matrices come from
one binary COPY (:func:`fetch_wave_data`); every null is a "not applicable" (every item
must be answered). Only closed waves have reports (an open wave's would change one response
at a time, and two reads apart would give that response away); a closed wave's never
changes, so it is computed once per process and kept in a bounded LRU cache.

Who may read results (:func:`require_reader`) and the closed-wave gate
(:func:`closed_wave_report`) live here, so every route that shows something derived
from a wave's responses -- report, charts, exports, action candidates -- goes through
the same two functions.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple, Protocol
from uuid import UUID

import asyncpg
import msgspec
import numpy as np
from litestar.openapi.spec import Schema
from litestar.plugins import OpenAPISchemaPlugin
from litestar.types.empty import Empty
from litestar.typing import FieldDefinition

from analysis.charts import dimension_gap_chart, importance_performance_chart, item_gap_chart
from analysis.decision import PreviousWave, build_drivers, build_summary, build_themes, trend_point
from analysis.engine.coded import coded_matrices
from analysis.experience import build_experience, measures_only_report
from analysis.matrices import AnswerMatrices, matrices_from_arrays
from analysis.moments import FloatArray
from analysis.report import build_report
from analysis.report_types import (
    UNSET,
    Drivers,
    ExperienceSection,
    GapReport,
    ReportStruct,
    Summary,
    Suppressed,
    Themes,
    Trend,
    TrendPoint,
    suppressed,
)
from analysis.wording import ENGLISH, Wording
from instruments import Instrument
from instruments.errors import N_
from instruments.translations import find_language
from service import report_snapshots as snapshots
from service.errors import Problem
from service.i18n import DEFAULT_LOCALE, SUPPORTED, wording
from service.lru import LRUCache
from service.queries import campaigns as campaigns_q
from service.queries import reports as q
from service.queries import services as services_q
from service.queries.accounts import Account
from service.queries.campaigns import Campaign
from service.waves import instrument_by_hash

log = logging.getLogger("candor.reports")


class Chart(Protocol):
    """A report chart (:mod:`analysis.charts`): the SVG of a report, its words in ``wording``'s language."""

    def __call__(self, report: GapReport, *, wording: Wording = ...) -> str: ...


CHARTS: dict[str, Chart] = {
    "dimension-gaps": dimension_gap_chart,
    "item-gaps": item_gap_chart,
    "importance-performance": importance_performance_chart,
}

#: Closed waves' reports kept per process (each holds a few hundred numbers).
REPORT_CACHE_SIZE = 32


class Comments(ReportStruct, frozen=True, kw_only=True):
    """Free-text answers by prompt key, each list in random order."""

    by_prompt: dict[str, list[str]]


class WaveReport(GapReport, frozen=True, kw_only=True):
    """A closed wave's gap report, its comments (suppressed below ``k_comments``) and the
    decision view: the summary a manager reads first, the key drivers of overall
    satisfaction and the comment themes (:mod:`analysis.decision`)."""

    comments: Comments | Suppressed
    summary: Summary | Suppressed | None
    drivers: Drivers | Suppressed | None
    themes: Themes | Suppressed
    #: The IT experience measures (:mod:`analysis.experience`); None without measures.
    experience: ExperienceSection | Suppressed | None = None


class ReportSchemaPlugin(OpenAPISchemaPlugin):
    """OpenAPI schemas of the report structs, from their type hints.

    Litestar's own struct plugin asks ``msgspec.inspect``, which refuses the report's
    untagged unions (an item row or a suppressed row); the schema is the same otherwise:
    one component per struct, ``UNSET`` fields optional, unions as ``oneOf``.
    """

    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        return not field_definition.is_union and field_definition.is_subclass_of(ReportStruct)

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: Any) -> Schema:
        hints = field_definition.get_type_hints(include_extras=True, resolve_generics=True)
        fields = msgspec.structs.fields(field_definition.type_)
        properties = {
            f.encode_name: FieldDefinition.from_annotation(
                hints[f.name], name=f.encode_name,
                default=Empty if f.default in (msgspec.NODEFAULT, UNSET) else f.default)
            for f in fields
        }
        required = sorted(f.encode_name for f in fields if f.required)
        return schema_creator.create_component_schema(field_definition, required=required,
                                                      property_fields=properties)


def _float_matrix(rows: list[Any], width: int) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Rows of int-or-None lists as a float matrix with NaN for None."""
    if not rows:
        return np.empty((0, width))
    return np.array(rows, dtype=float).reshape(len(rows), width)


class WaveData(NamedTuple):
    """A wave's answer matrices and, row for row, its satisfaction answers (``NaN`` where
    unanswered; ``None`` when the instrument asks none)."""

    matrices: AnswerMatrices
    satisfaction: FloatArray | None


def matrices_from_rows(instrument: Instrument, item_values: list[Any], importance: list[Any] | None) -> AnswerMatrices:
    n_items, n_columns = len(instrument.items), len(instrument.columns)
    values = _float_matrix(item_values, n_items * n_columns).reshape(-1, n_items, n_columns)
    imp = None
    if instrument.importance is not None and importance is not None:
        width = len(instrument.dimensions) if instrument.importance.kind == "allocation" else n_items
        imp = _float_matrix(importance, width)
    return matrices_from_arrays(instrument, values, imp)


def _satisfaction_matrix(instrument: Instrument, rows: list[Any]) -> FloatArray | None:
    width = len(instrument.satisfaction)
    if not width:
        return None
    return _float_matrix([r if r is not None else [None] * width for r in rows], width)


def _wave_data(instrument: Instrument, item_values: list[Any], importance: list[Any],
               satisfaction: list[Any]) -> WaveData:
    matrices = matrices_from_rows(instrument, item_values, importance if instrument.importance is not None else None)
    return WaveData(matrices, _satisfaction_matrix(instrument, satisfaction))


class _AnswerCopy:
    """The sink of :func:`service.queries.reports.copy_answer_codes`: binary COPY rows of
    one ``bytea`` each, all ``width`` int16 answers long, parsed chunk by chunk as they
    arrive (never the whole stream in memory) into one int16 matrix.

    A row of another length (a response whose arrays have other lengths) or a null makes
    :meth:`result` raise :class:`ValueError`, and the caller reads the wave the plain way.
    """

    SIGNATURE = b"PGCOPY\n\xff\r\n\x00"

    def __init__(self, width: int):
        self.width = width
        self.row = np.dtype([("fields", ">i2"), ("len", ">i4"), ("v", ">i2", (width,))])
        self.pending = bytearray()
        self.started = False
        self.parts: list[np.ndarray[Any, np.dtype[np.int16]]] = []
        self.error: ValueError | None = None

    async def __call__(self, data: bytes) -> None:
        # Never raise here: asyncpg would cancel the COPY, and with it the caller's
        # transaction; a bad stream is reported by result() once the COPY is over.
        if self.error is not None:
            return
        try:
            self._take(data)
        except ValueError as exc:
            self.error = exc
            self.pending = bytearray()
            self.parts = []

    def _take(self, data: bytes) -> None:
        self.pending += data
        if not self.started:
            if len(self.pending) < 19:
                return
            if bytes(self.pending[:11]) != self.SIGNATURE:
                raise ValueError("not a binary COPY stream")
            extension = int.from_bytes(self.pending[15:19], "big")
            if len(self.pending) < 19 + extension:
                return
            del self.pending[:19 + extension]
            self.started = True
        count = len(self.pending) // self.row.itemsize
        if count:
            rows = np.frombuffer(self.pending, dtype=self.row, count=count)
            ok = not bool((rows["fields"] != 1).any() or (rows["len"] != 2 * self.width).any())
            values = rows["v"].astype(np.int16) if ok else None
            del rows  # a view of pending: it must go before pending changes
            if values is None:
                raise ValueError("a response's answers have another length")
            self.parts.append(values)
            del self.pending[:count * self.row.itemsize]

    def result(self) -> np.ndarray[Any, np.dtype[np.int16]]:
        """The ``(responses, width)`` matrix, once the stream ended with its trailer."""
        if self.error is not None:
            raise self.error
        if not self.started or bytes(self.pending) != b"\xff\xff":
            raise ValueError("the COPY stream did not end with its trailer")
        if not self.parts:
            return np.empty((0, self.width), np.int16)
        return np.concatenate(self.parts) if len(self.parts) > 1 else self.parts[0]


def _coded_wave_data(instrument: Instrument, answers: np.ndarray[Any, np.dtype[np.int16]],
                     widths: tuple[int, int, int]) -> WaveData:
    items, importance = widths[0], widths[1]
    matrices = coded_matrices(instrument, answers[:, :items],
                              answers[:, items:items + importance] if instrument.importance is not None else None,
                              q.NULL_ANSWER)
    sat: FloatArray | None = None
    if instrument.satisfaction:
        stored = answers[:, items + importance:]
        sat = stored.astype(np.float64)
        sat[stored == q.NULL_ANSWER] = np.nan
    return WaveData(matrices, sat)


async def fetch_wave_data(db: asyncpg.Connection, instrument: Instrument, campaign_id: UUID) -> WaveData:
    """A wave's stored answers as matrices, built off the event loop.

    One binary ``COPY`` of the responses' ``answer_codes`` (migration 0014: the answer
    arrays as int16 bytes), parsed as it arrives into one int16 matrix and then into
    answer matrices that keep their byte codes (what the score engine and the
    respondent scores count): a million responses in about a second, where sending
    and decoding a million rows of arrays took the server and Python many. The rows
    come in the order the plain query gives (the key-driver bootstrap draws
    respondents by row) and the numbers are the plain path's; a wave with a response
    of another shape is read the plain way.
    """
    n_items = len(instrument.items) * len(instrument.columns)
    n_importance = 0
    if instrument.importance is not None:
        n_importance = len(instrument.dimensions) if instrument.importance.kind == "allocation" \
            else len(instrument.items)
    widths = (n_items, n_importance, len(instrument.satisfaction))
    sink = _AnswerCopy(sum(widths))
    await q.copy_answer_codes(db, campaign_id=campaign_id, sink=sink)
    try:
        answers = sink.result()
    except ValueError:
        item_values, importance, satisfaction = await q.select_answer_arrays(db, campaign_id=campaign_id)
        return await asyncio.to_thread(_wave_data, instrument, item_values, importance, satisfaction)
    del sink
    return await asyncio.to_thread(_coded_wave_data, instrument, answers, widths)


async def fetch_matrices(db: asyncpg.Connection, instrument: Instrument, campaign_id: UUID) -> AnswerMatrices:
    return (await fetch_wave_data(db, instrument, campaign_id)).matrices


async def fetch_comments(db: asyncpg.Connection, campaign_id: UUID, *, n: int, k_comments: int,
                         words: Wording = ENGLISH) -> Comments | Suppressed:
    """Free-text answers, only when the wave has at least ``k_comments`` responses, in a
    random order (the stored order must not hint at who wrote what); suppressed, the
    reason is in ``words``' language."""
    if n < k_comments:
        return suppressed(k_comments, words)
    by_prompt: dict[str, list[str]] = {}
    for key, value in await q.select_comments(db, campaign_id=campaign_id):
        by_prompt.setdefault(key, []).append(value)
    for texts in by_prompt.values():
        random.shuffle(texts)
    return Comments(by_prompt=by_prompt)


def _theme_texts(comments: Comments | Suppressed) -> list[str] | None:
    """Every comment, sorted: the themes of a closed wave are the same in every replica and
    every time (the comments themselves are shown shuffled), and sorting by text tells
    nothing of the order they arrived in."""
    return None if isinstance(comments, Suppressed) else sorted(t for ts in comments.by_prompt.values() for t in ts)


async def fetch_measures(db: asyncpg.Connection, instrument: Instrument, campaign_id: UUID) -> FloatArray | None:
    """A wave's experience measures, one row per response (``NaN`` where unanswered);
    ``None`` when the instrument has none."""
    if not instrument.measures:
        return None
    rows = await q.select_measures(db, campaign_id=campaign_id)
    width = len(instrument.measures)
    return _float_matrix([r if r is not None else [None] * width for r in rows], width)


async def _measures_only_report(db: asyncpg.Connection, instrument: Instrument, campaign: Campaign,
                                language: str, audience: int | None) -> WaveReport:
    """A wave whose instrument has measures and no items: its report is the experience section."""
    values = await fetch_measures(db, instrument, campaign.id)
    n = 0 if values is None else int(values.shape[0])
    comments = await fetch_comments(db, campaign.id, n=n, k_comments=campaign.k_comments, words=wording(language))
    texts = _theme_texts(comments)

    words = wording(language)

    def analyse() -> WaveReport:
        report = measures_only_report(instrument, n, k_scores=campaign.k_scores, wording=words)
        return WaveReport(
            **msgspec.structs.asdict(report), comments=comments, summary=None, drivers=None,
            themes=build_themes(texts, k_comments=campaign.k_comments, wording=words),
            experience=build_experience(instrument, values, k_scores=campaign.k_scores, audience=audience,
                                        wording=words),
        )

    return await asyncio.to_thread(analyse)


async def require_reader(db: asyncpg.Connection, me: Account, campaign_id: UUID) -> Campaign:
    """The wave if ``me`` may see its results: managers, or owners of the wave's service.

    404 when the wave does not exist or ``me`` may not see it at all, 403 when ``me``
    sees the wave but not its results.
    """
    campaign = await campaigns_q.select_campaign(db, campaign_id=campaign_id)
    if campaign is None or not await campaigns_q.can_see_campaign(db, campaign_id=campaign_id, account_id=me.id,
                                                                  roles=me.roles):
        raise Problem(404, "not-found", f"No survey wave {campaign_id}")
    if "manager" in me.roles:
        return campaign
    if "owner" in me.roles and await services_q.owns_service(db, service_id=campaign.service.id, account_id=me.id):
        return campaign
    raise Problem(403, "forbidden", "Results are for managers and the owners of the wave's service")


async def closed_wave_report(state: Any, db: asyncpg.Connection, campaign: Campaign, *,
                             language: str = DEFAULT_LOCALE) -> WaveReport:
    """The report of a closed wave; 409 before it closes. Every result derived from a
    wave's responses (report, charts, exports, candidates) comes through here: two reads
    of an open wave a response apart would give away that response.

    ``language`` is that of the report's own sentences (:func:`service.i18n.wording`); each
    language's report is cached on its own, with the same numbers."""
    if campaign.status != "closed":
        raise Problem(409, "conflict", N_("Results appear when the wave closes on {date}", date=campaign.closes_on))
    series = await q.select_series(db, campaign_id=campaign.id)
    here = next((i for i, w in enumerate(series) if w.id == campaign.id), None)
    before = series[here - 1] if here else None
    audience = series[here].audience_size if here is not None else None
    context = snapshots.context_key(before.id if before is not None else None, audience)
    cache: LRUCache[tuple[UUID, str], tuple[str, WaveReport]] = state.reports
    key = (campaign.id, language)
    if (cached := cache.get(key)) is not None and cached[0] == context:
        return cached[1]
    version = snapshots.code_version()
    stored = await q.select_snapshot(db, campaign_id=campaign.id, language=language, version=version,
                                     context=context)
    if stored is not None:
        try:
            wave = await asyncio.to_thread(snapshots.decode, stored, WaveReport)
        except ValueError:
            log.warning("stored report of wave %s (%s) does not decode; computing it again", campaign.id, language)
        else:
            cache.put(key, (context, wave))
            return wave
    wave = await _compute_report(state, db, campaign, language, before=before, audience=audience)
    body = await asyncio.to_thread(snapshots.encode, wave)
    await q.store_snapshot(db, campaign_id=campaign.id, language=language, version=version, context=context,
                           body=body)
    cache.put(key, (context, wave))
    return wave


async def _compute_report(state: Any, db: asyncpg.Connection, campaign: Campaign, language: str, *,
                          before: q.SeriesWave | None, audience: int | None) -> WaveReport:
    """The wave's report computed from its stored responses (off the event loop)."""
    instrument = await instrument_by_hash(state, db, campaign.instrument_hash)
    if not instrument.items:
        return await _measures_only_report(db, instrument, campaign, language, audience)
    data = await fetch_wave_data(db, instrument, campaign.id)
    measures = await fetch_measures(db, instrument, campaign.id)
    comments = await fetch_comments(db, campaign.id, n=data.matrices.n, k_comments=campaign.k_comments,
                                    words=wording(language))
    previous: PreviousWave | None = None
    if before is not None:
        previous = PreviousWave(wave_id=str(before.id), title=before.title, closes_on=before.closes_on.isoformat(),
                                matrices=await fetch_matrices(db, instrument, before.id))
    texts = _theme_texts(comments)
    words = wording(language)

    # The sentences name dimensions and items: in the report's language when the instrument offers it
    # (the keys, order and scale are the same in every language, so the statistics are too).
    offered = find_language(instrument, language)
    shown = instrument.localized(offered) if offered is not None and offered != instrument.language else instrument

    def analyse() -> WaveReport:
        report = build_report(shown, data.matrices, k_scores=campaign.k_scores, wording=words)
        return WaveReport(
            **msgspec.structs.asdict(report), comments=comments,
            summary=build_summary(shown, report, data.matrices, audience=audience, previous=previous,
                                  wording=words),
            drivers=build_drivers(shown, report, data.matrices, data.satisfaction, wording=words),
            themes=build_themes(texts, k_comments=campaign.k_comments, wording=words),
            experience=build_experience(shown, measures, k_scores=campaign.k_scores, audience=audience,
                                        wording=words),
        )

    return await asyncio.to_thread(analyse)


async def wave_trend(state: Any, db: asyncpg.Connection, campaign: Campaign, *,
                     language: str = DEFAULT_LOCALE) -> Trend:
    """Every closed wave of the campaign's service and instrument, oldest first, each with
    its overall and dimension scores (from the waves' own, cached, reports in ``language``,
    the reader's: the reports the reader's pages already made; the numbers are the same)."""
    if campaign.status != "closed":
        raise Problem(409, "conflict", N_("Results appear when the wave closes on {date}", date=campaign.closes_on))
    points: list[TrendPoint] = []
    instrument = await instrument_by_hash(state, db, campaign.instrument_hash)
    # An instrument with only experience measures has no overall or dimension score to trend.
    series = await q.select_series(db, campaign_id=campaign.id) if instrument.items else []
    for wave in series:
        other = campaign if wave.id == campaign.id else await campaigns_q.select_campaign(db, campaign_id=wave.id)
        if other is None:
            continue
        report = await closed_wave_report(state, db, other, language=language)
        # Only a measures-only wave lacks a summary, and those have no series here.
        summary = report.summary if report.summary is not None else suppressed(report.k_scores, wording(language))
        points.append(trend_point(report, summary, wave_id=str(wave.id), title=wave.title,
                                  closes_on=wave.closes_on.isoformat()))
    return Trend(service=campaign.service.name, instrument=campaign.instrument_id,
                 score="gap" if instrument.format != "perception-only" else "perception",
                 dimensions=tuple(d.key for d in instrument.dimensions), points=tuple(points))


#: Seconds between rounds of :func:`report_builder`, and the reports one round makes at most.
BUILD_INTERVAL_SECONDS = 15
BUILDS_PER_ROUND = 2


def report_builder() -> Callable[[Any], Awaitable[int]]:
    """Background job: the reports of closed waves not yet stored by this code version,
    each language the UI offers, the most recently closed first; another replica's build
    in progress is skipped (an advisory lock held until its snapshot is committed). A
    report that fails is logged and not tried again by this process (its first reader
    gets the error the route would give); the number made is returned."""
    failed: LRUCache[tuple[UUID, str, str], bool] = LRUCache(256)

    async def build(app: Any) -> int:
        state, made = app.state, 0
        version = snapshots.code_version()
        async with state.pool.acquire() as conn:
            due = await q.select_unsnapshotted(conn, version=version, languages=list(SUPPORTED),
                                               limit=BUILDS_PER_ROUND + len(failed))
        for campaign_id, language in due:
            if made == BUILDS_PER_ROUND:
                break
            if failed.get((campaign_id, language, version)):
                continue
            try:
                async with state.pool.acquire() as conn, conn.transaction():
                    if not await q.try_lock_snapshot(conn, campaign_id=campaign_id, language=language):
                        continue
                    campaign = await campaigns_q.select_campaign(conn, campaign_id=campaign_id)
                    if campaign is None or campaign.status != "closed":
                        continue
                    await closed_wave_report(state, conn, campaign, language=language)
                    made += 1
            except Exception:  # noqa: BLE001 - one wave's failure must not stop the others
                log.exception("building the report of wave %s (%s) failed", campaign_id, language)
                failed.put((campaign_id, language, version), True)
        return made

    return build
