"""The gap report: answer matrices in, a :class:`analysis.report_types.GapReport` out.

Used by the analyst CLI and the HTTP endpoint alike. Every number in the report was
computed from at least ``k_scores`` respondents; anything computed from fewer is
replaced by a suppressed marker ``{"suppressed": true, "reason": "fewer than k=5
responses"}`` -- never a number -- and no action candidate comes from a suppressed cell.

Every sentence of the report (definitions, notes, reasons, the missing-data statement,
the statistics modules' notes) is an ``N_``-marked English template said through the
:class:`~analysis.wording.Wording` the builder is given, so a German reader gets a German
report with the same numbers; keys and JSON field names never change with the language.

The statistics come from a score engine (:mod:`analysis.engine`); this module only
assembles them into rows, applies k, adjusts p-values and ranks the candidates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NotRequired, TypedDict, TypeVar, cast

import msgspec
import numpy as np

from analysis.engine import ScoreEngine, Scores, check_inputs, dimension_groups, score_engine
from analysis.engine.coded import not_applicable_count
from analysis.importance import allocation_weights, importance_performance, rating_weights
from analysis.matrices import AnswerMatrices
from analysis.multicomp import ADJUSTMENTS, adjust_pvalues
from analysis.parametric import DifferenceSummary
from analysis.ranking import PRIORITY_FORMULA, Cell, rank_candidates
from analysis.reliability import AlphaResult
from analysis.report_types import (
    UNSET,
    AlphaItem,
    Candidate,
    DimensionRow,
    GapReport,
    Importance,
    ImportancePerformance,
    InstrumentRef,
    IPAPoint,
    ItemRow,
    ItemUse,
    LeftOut,
    MissingData,
    Overall,
    Reliability,
    ServiceSuperiority,
    Suppressed,
    SuppressedRow,
    suppressed,
)
from analysis.scales import zone_of_tolerance
from analysis.wording import ENGLISH, N_, Wording
from instruments.schema import Instrument, Item

__all__ = ["GAP_DEFINITIONS", "build_report", "item_wording", "localize_report"]

GAP_DEFINITIONS = {
    "expectation-perception": N_("gap = perception − expectation (negative: below expectations)"),
    "zone-of-tolerance": N_(
        "gap = MSA = perception − minimum (measure of service adequacy; negative: below the "
        "adequate level); MSS = perception − desired (measure of service superiority)"
    ),
    "perception-only": N_("no gap: perception-only (SERVPERF) scores"),
}

#: The answer columns as the missing-data statement names them (the JSON keeps the keys).
_COLUMN_NAMES = {
    "expectation": N_("expectation"),
    "minimum": N_("minimum"),
    "desired": N_("desired"),
    "perception": N_("perception"),
}

_MISSING_STATEMENT = N_(
    "Missing and not-applicable answers are left out, never imputed. Items: pairwise -- each item uses the "
    "respondents who answered all of its columns ({columns}), so n can differ between items. Dimensions: a "
    "respondent's score is the mean over the dimension's items they answered, if at least {fraction} of them. "
    "Cronbach's alpha: listwise -- only respondents who answered every item of the dimension. Importance weights: "
    "complete allocations (or, for ratings, each item's ratings). Counts below k={k} are suppressed."
)


def _said(note: str | None, wording: Wording) -> str | None:
    """A statistics module's note (an ``N_``-marked sentence without placeholders, or None) in the reader's
    language."""
    return None if note is None else wording.gettext(note)


# ----------------------------------------------------------------------------- rows


class _Head(TypedDict):
    """The report fields that do not depend on the answers."""

    instrument: InstrumentRef
    format: str
    gap_definition: str
    k_scores: int
    confidence: float
    alpha_level: float
    adjustment: str
    priority_formula: str | None


class _ScoreFields(TypedDict):
    """The score fields an item row and a dimension row share (see :class:`ItemRow`)."""

    mean_perception: float | None
    sd_perception: float | None
    perception_ci_low: float | None
    perception_ci_high: float | None
    ci_low: float | None
    ci_high: float | None
    mean_expectation: NotRequired[float | None]
    mean_minimum: NotRequired[float | None]
    mean_desired: NotRequired[float | None]
    mean_gap: NotRequired[float | None]
    sd_gap: NotRequired[float | None]
    se_gap: NotRequired[float | None]
    t: NotRequired[float | None]
    t_p: NotRequired[float | None]
    wilcoxon_p: NotRequired[float | None]
    wilcoxon_method: NotRequired[str | None]
    d_z: NotRequired[float | None]
    p_holm: NotRequired[float | None]
    p_bh: NotRequired[float | None]
    mss: NotRequired[ServiceSuperiority]
    zone: NotRequired[str]


def _score_fields(scores: Scores, j: int, p_holm: Sequence[float | None],
                  p_bh: Sequence[float | None]) -> _ScoreFields:
    """Row ``j``'s column means, perception with its interval, then the gap (or,
    perception-only, the perception interval as the row's interval)."""
    p = scores.columns["perception"][j]
    out: _ScoreFields = {
        "mean_perception": p.mean, "sd_perception": p.sd,
        "perception_ci_low": p.ci_low, "perception_ci_high": p.ci_high,
        "ci_low": p.ci_low, "ci_high": p.ci_high,
    }
    if (e := scores.columns.get("expectation")) is not None:
        out["mean_expectation"] = e[j].mean
    if (lo := scores.columns.get("minimum")) is not None:
        out["mean_minimum"] = lo[j].mean
    if (hi := scores.columns.get("desired")) is not None:
        out["mean_desired"] = hi[j].mean
    if scores.gap is None:
        return out
    g = scores.gap[j]
    out["mean_gap"], out["sd_gap"], out["se_gap"] = g.mean, g.sd, g.se
    out["ci_low"], out["ci_high"] = g.ci_low, g.ci_high
    out["t"], out["t_p"], out["d_z"] = g.t_statistic, g.t_p, g.d_z
    out["wilcoxon_p"], out["wilcoxon_method"] = g.wilcoxon.pvalue, g.wilcoxon.method
    out["p_holm"], out["p_bh"] = p_holm[j], p_bh[j]
    if scores.mss is not None:
        s = scores.mss[j]
        out["mss"] = ServiceSuperiority(mean=s.mean, sd=s.sd, ci_low=s.ci_low, ci_high=s.ci_high, t_p=s.t_p,
                                        wilcoxon_p=s.wilcoxon.pvalue, d_z=s.d_z)
        out["zone"] = zone_of_tolerance((g.ci_low, g.ci_high), (s.ci_low, s.ci_high))
    return out


class _AlphaFields(TypedDict, total=False):
    alpha_expectation: float | None | Suppressed
    alpha_minimum: float | None | Suppressed
    alpha_desired: float | None | Suppressed
    alpha_perception: float | None | Suppressed
    alpha_gap: float | None | Suppressed


def _reliability(alphas: dict[str, AlphaResult], keys: tuple[str, ...],
                 k: int, wording: Wording) -> tuple[dict[str, Reliability], _AlphaFields]:
    """Each alpha's block (suppressed when fewer than k answered every item), and the
    alphas again as the row's ``alpha_<column>`` fields."""
    blocks: dict[str, Reliability] = {}
    fields: _AlphaFields = {}
    for name, res in alphas.items():
        if res.n < k:
            block = Reliability(n=suppressed(k, wording), alpha=suppressed(k, wording),
                                items=suppressed(k, wording))
        else:
            block = Reliability(n=res.n, alpha=res.alpha, note=_said(res.note, wording), items=tuple(
                AlphaItem(key=key, item_total=it, alpha_if_deleted=aid)
                for key, it, aid in zip(keys, res.item_total, res.alpha_if_deleted, strict=True)))
        blocks[name] = block
        if name == "expectation":
            fields["alpha_expectation"] = block.alpha
        elif name == "minimum":
            fields["alpha_minimum"] = block.alpha
        elif name == "desired":
            fields["alpha_desired"] = block.alpha
        elif name == "perception":
            fields["alpha_perception"] = block.alpha
        elif name == "gap":
            fields["alpha_gap"] = block.alpha
    return blocks, fields


def _cell(level: str, key: str, dimension: str, g: DifferenceSummary, row: _ScoreFields,
          p_adj: float | None, weight: float, title: str | None = None) -> Cell:
    return Cell(
        level=level, key=key, dimension=dimension, title=title,
        mean_gap=g.mean, ci_low=g.ci_low, ci_high=g.ci_high, p_adjusted=p_adj,
        weight=weight,
        mean_perception=row["mean_perception"],
        perception_ci_low=row["perception_ci_low"],
        perception_ci_high=row["perception_ci_high"],
        mean_reference=row["mean_expectation"] if "mean_expectation" in row else row.get("mean_minimum"),
        reference_name="expectation" if "mean_expectation" in row else "minimum",
    )


def _count(c: int, k: int, wording: Wording) -> int | Suppressed:
    return suppressed(k, wording) if 0 < c < k else int(c)


# ----------------------------------------------------------------------------- importance


@dataclass(frozen=True, slots=True)
class _Weights:
    """The importance block and what ranking and IPA use from it."""

    block: Importance | None = None
    dimensions: tuple[float, ...] | None = None
    items: list[float] | None = None
    item_means: list[float | None] | None = None


def _importance(instrument: Instrument, m: AnswerMatrices, groups: list[list[int]], k: int,
                wording: Wording) -> _Weights:
    """Importance block, dimension weights, item weights and item mean ratings."""
    imp = instrument.importance
    if imp is None or m.importance is None:
        return _Weights()
    dims = instrument.dimensions
    dimension_of = [next(d for d, g in enumerate(groups) if j in g) for j in range(len(instrument.items))]
    if imp.kind == "allocation":
        w, n = allocation_weights(m.importance)
        if n < k or w is None:
            return _Weights(Importance(kind="allocation", n=_count(n, k, wording),
                                       weights=suppressed(k, wording) if n else None))
        block = Importance(
            kind="allocation", n=n, total=imp.total,
            weights={d.key: wd for d, wd in zip(dims, w, strict=True)},
            mean_points={d.key: wd * imp.total for d, wd in zip(dims, w, strict=True)},
            source=wording.say(N_("mean share of each respondent's allocation (complete allocations only)")),
        )
        return _Weights(block, w, [w[dimension_of[j]] for j in range(len(instrument.items))])
    ratings = m.importance.copy()
    counts = (~np.isnan(ratings)).sum(axis=0)
    ratings[:, counts < k] = np.nan  # a rating mean from fewer than k is never used
    w, means, _ = rating_weights(ratings, groups)
    item_means = [v if c >= k else None for v, c in zip(means, counts, strict=True)]
    if w is None:
        return _Weights(Importance(kind="rating", weights=None,
                                   note=wording.say(N_("a dimension has no item rated by at least k respondents"))),
                        item_means=item_means)
    item_w: list[float] = []
    for j, mean in enumerate(item_means):
        d = dimension_of[j]
        rated = [v for c in groups[d] if item_means[c] is not None and (v := means[c]) is not None]
        md = sum(rated) / len(rated)
        item_w.append(w[d] * (mean / md if mean is not None else 1.0))
    block = Importance(
        kind="rating",
        weights={d.key: wd for d, wd in zip(dims, w, strict=True)},
        item_means={it.key: (v if v is not None else suppressed(k, wording))
                    for it, v in zip(instrument.items, item_means, strict=True)},
        source=wording.say(N_("dimension weight = mean of its items' mean ratings / sum over dimensions; "
                              "item weight = dimension weight x item mean rating / dimension mean rating")),
    )
    return _Weights(block, w, item_w, item_means)


# ----------------------------------------------------------------------------- summaries


def _overall(dim_rows: Sequence[DimensionRow | SuppressedRow], w: tuple[float, ...] | None,
             has_gap: bool, k: int, wording: Wording) -> Overall:
    rows = [r for r in dim_rows if isinstance(r, DimensionRow)]
    if len(rows) < len(dim_rows):
        # the overall mean of dimension means would give away the suppressed one
        hidden = suppressed(k, wording)
        return Overall(unweighted=hidden, weighted=hidden, perception_unweighted=hidden, perception_weighted=hidden,
                       note=wording.say(N_("a dimension is suppressed, so the overall scores are too")))

    def combine(values: list[float | None], weights: Sequence[float]) -> float | None:
        present = [v for v in values if v is not None]
        if len(present) < len(values):
            return None
        return float(sum(wi * v for wi, v in zip(weights, present, strict=True)))

    gaps = [r.mean_gap if r.mean_gap is not UNSET else None for r in rows]
    perceptions = [r.mean_perception for r in rows]
    eq = [1.0 / len(rows)] * len(rows)
    return Overall(
        unweighted=combine(gaps, eq) if has_gap else None,
        weighted=combine(gaps, w) if has_gap and w is not None else None,
        perception_unweighted=combine(perceptions, eq),
        perception_weighted=combine(perceptions, w) if w is not None else None,
        formula=wording.say(N_("unweighted = mean of the dimension mean gaps; weighted = sum over "
                               "dimensions of importance weight x dimension mean gap (weights sum to 1)")),
    )


def _ipa(item_rows: Sequence[ItemRow | SuppressedRow], dim_rows: Sequence[DimensionRow | SuppressedRow],
         weights: _Weights, wording: Wording) -> ImportancePerformance | None:
    """Importance-performance points: items (rated importance) or dimensions (allocation); the scales named in the
    reader's language (``level`` and each point's ``quadrant`` are keys, and stay English)."""
    points: list[tuple[str, float, float]] = []
    if weights.item_means is not None:
        level = "item"
        for row in item_rows:
            if isinstance(row, ItemRow) and row.importance_mean is not None and row.mean_perception is not None:
                points.append((row.key, row.importance_mean, row.mean_perception))
    elif weights.dimensions is not None:
        level = "dimension"
        for row, w in zip(dim_rows, weights.dimensions, strict=True):
            if isinstance(row, DimensionRow) and row.mean_perception is not None:
                points.append((row.key, w, row.mean_perception))
    else:
        return None
    if len(points) < 2:
        return None
    res = importance_performance([p[1] for p in points], [p[2] for p in points])
    return ImportancePerformance(
        level=level,
        importance_scale=wording.say(N_("mean rating") if level == "item" else N_("weight (share of points)")),
        performance=wording.say(N_("mean perception")),
        importance_mean=res.importance_mean,
        performance_mean=res.performance_mean,
        points=tuple(IPAPoint(key=key, importance=i, performance=p, quadrant=q)
                     for (key, i, p), q in zip(points, res.quadrants, strict=True)),
    )


def _missing(instrument: Instrument, m: AnswerMatrices, engine: ScoreEngine, item_ok: list[bool],
             k: int, min_fraction: float, wording: Wording) -> MissingData:
    cols = instrument.columns
    statement = wording.say(_MISSING_STATEMENT, columns=", ".join(wording.say(_COLUMN_NAMES[c]) for c in cols),
                            fraction=wording.percent(min_fraction), k=k)
    nan_counts = engine.missing_answers()
    per_column: dict[str, LeftOut] = {}
    for c in cols:
        n_na = not_applicable_count(m, c)
        per_column[c] = LeftOut(missing=_count(nan_counts[c] - n_na, k, wording),
                                not_applicable=_count(n_na, k, wording))
    used_n = engine.items_used()
    per_item: list[ItemUse | SuppressedRow] = []
    for j, it in enumerate(instrument.items):
        if item_ok[j]:
            per_item.append(ItemUse(key=it.key, n_used=int(used_n[j]), n_excluded=int(m.n - used_n[j])))
        else:
            per_item.append(SuppressedRow.below(k, it.key, words=wording))
    return MissingData(statement=statement, answers_left_out=per_column, items=tuple(per_item))


def _adjusted(scores: Scores, ok: list[bool]) -> tuple[list[float | None], list[float | None]]:
    """Holm and Benjamini-Hochberg p-values of the rows' gap t-tests (rows below k left out)."""
    gap = scores.gap
    p = [gap[j].t_p if gap is not None and ok[j] else None for j in range(len(ok))]
    return adjust_pvalues(p, "holm"), adjust_pvalues(p, "bh")


# ----------------------------------------------------------------------------- builder


def item_wording(item: Item) -> str:
    """What respondents read for an item: its perception statement (every format has one)."""
    return item.statements.get("perception") or next(iter(item.statements.values()))


R = TypeVar("R", bound=msgspec.Struct)


def localize_report(report: R, instrument: Instrument) -> R:
    """``report`` with the instrument's texts taken from ``instrument`` (already localized).

    A report is computed once per wave and cached; its statistics do not depend on the
    language (the instrument's keys and scale are the same in every language), so a
    reader's language only swaps the words respondents read: item ``wording``, dimension
    ``title`` and ``dimension_title``, the satisfaction item's ``outcome_wording`` and the
    instrument's title, wherever they occur in the report (rows, candidates' focus areas,
    strengths, drivers). Works on any report struct, including subclasses of
    :class:`GapReport`; rows are matched by key, so numbers are never touched.
    """
    texts = _Texts(
        wording={it.key: item_wording(it) for it in instrument.items},
        titles={d.key: d.title for d in instrument.dimensions},
        outcomes={s.key: s.statement for s in instrument.satisfaction},
        instrument_title=instrument.title,
    )
    return cast(R, _relabel(report, texts))


@dataclass(frozen=True)
class _Texts:
    wording: dict[str, str]
    titles: dict[str, str]
    outcomes: dict[str, str]
    instrument_title: str


def _relabel(value: object, texts: _Texts) -> object:
    if isinstance(value, msgspec.Struct):
        changes: dict[str, object] = {}
        for name in value.__struct_fields__:
            old = getattr(value, name)
            new = _relabel(old, texts)
            if new is not old:
                changes[name] = new
        changes.update(_relabelled_texts(value, texts))
        return msgspec.structs.replace(value, **changes) if changes else value
    if isinstance(value, tuple):
        entries = cast("tuple[object, ...]", value)
        relabelled = tuple(_relabel(v, texts) for v in entries)
        return entries if all(a is b for a, b in zip(relabelled, entries, strict=True)) else relabelled
    return value


def _relabelled_texts(struct: msgspec.Struct, texts: _Texts) -> dict[str, object]:
    """The text fields of one struct, looked up by the key beside them."""
    out: dict[str, object] = {}
    if isinstance(struct, InstrumentRef):
        return {"title": texts.instrument_title} if isinstance(struct.title, str) else {}
    key = getattr(struct, "key", None)
    if isinstance(key, str):
        wording = getattr(struct, "wording", None)
        if isinstance(wording, str):
            # A focus area may be a whole dimension: its "wording" is the dimension's title.
            found = texts.wording.get(key) or texts.titles.get(key)
            if found is not None:
                out["wording"] = found
        if isinstance(getattr(struct, "title", None), str) and key in texts.titles:
            out["title"] = texts.titles[key]
    dimension = getattr(struct, "dimension", None)
    if isinstance(getattr(struct, "dimension_title", None), str) and isinstance(dimension, str) \
            and dimension in texts.titles:
        out["dimension_title"] = texts.titles[dimension]
    outcome = getattr(struct, "outcome", None)
    if isinstance(getattr(struct, "outcome_wording", None), str) and isinstance(outcome, str) \
            and outcome in texts.outcomes:
        out["outcome_wording"] = texts.outcomes[outcome]
    return out


def build_report(
    instrument: Instrument,
    matrices: AnswerMatrices,
    *,
    k_scores: int = 5,
    adjustment: str = "bh",
    confidence: float = 0.95,
    alpha_level: float = 0.05,
    min_item_fraction: float = 0.5,
    wording: Wording = ENGLISH,
) -> GapReport:
    """Build the gap report of one wave: items, dimensions, overall scores, candidates.

    Parameters
    ----------
    instrument : Instrument
        The instrument the matrices were built for.
    matrices : AnswerMatrices
        From :func:`analysis.matrices.matrices_from_answers` or ``matrices_from_csv``.
    k_scores : int
        Anonymity threshold: any cell computed from fewer respondents is suppressed.
    adjustment : {"bh", "holm"}
        Multiple-comparison adjustment that decides which gaps become candidates
        (both adjusted p-values are reported either way).
    confidence : float
        Level of every interval.
    alpha_level : float
        Significance level applied to the adjusted p-values.
    min_item_fraction : float
        A respondent's dimension score needs at least this fraction of its items.
    wording : Wording
        The language of the report's sentences and of the numbers in them (English by
        default); the numbers in its fields are the same in every language.

    Returns
    -------
    GapReport
        Frozen structs of Python numbers (``msgspec.json.encode`` gives the JSON the
        browser and the exports read).

    Notes
    -----
    Gap scores after Parasuraman, Zeithaml & Berry (1988), *Journal of Retailing* 64(1),
    12-40 and Parasuraman, Berry & Zeithaml (1991), *Journal of Retailing* 67(4),
    420-450; the perceptions-only score is reported beside every gap (Cronin & Taylor
    1992, *Journal of Marketing* 56(3), 55-68; Brown, Churchill & Peter 1993, *Journal of
    Retailing* 69(1), 127-139, on the reliability of difference scores). Candidate
    priority: see :data:`analysis.ranking.PRIORITY_FORMULA`.
    """
    check_inputs(instrument, matrices, k_scores, adjustment, confidence, alpha_level)
    k = k_scores
    dims = instrument.dimensions
    items = instrument.items
    groups = dimension_groups(instrument)
    has_gap = instrument.format != "perception-only"
    head: _Head = {
        "instrument": InstrumentRef(id=instrument.id, version=instrument.version, title=instrument.title),
        "format": instrument.format, "gap_definition": wording.say(GAP_DEFINITIONS[instrument.format]), "k_scores": k,
        "confidence": confidence, "alpha_level": alpha_level, "adjustment": adjustment,
        "priority_formula": wording.say(PRIORITY_FORMULA) if has_gap else None,
    }
    if matrices.n < k:
        hidden = suppressed(k, wording)
        return GapReport(
            **head, n=hidden, suppressed=True,
            items=tuple(SuppressedRow.below(k, it.key, dimension=it.dimension, wording=item_wording(it),
                                            words=wording) for it in items),
            dimensions=tuple(SuppressedRow.below(k, d.key, title=d.title, words=wording) for d in dims),
            overall=hidden, importance=hidden, ipa=None, candidates=(),
            missing_data=MissingData(statement=hidden.reason),
            notes=(wording.say(N_("the whole report is suppressed: fewer than k respondents")),),
        )

    engine = score_engine(instrument, matrices, groups, min_item_fraction)
    notes: list[str] = []
    weights = _importance(instrument, matrices, groups, k, wording)
    if weights.dimensions is None or weights.items is None:
        rank_dim = [1.0 / len(dims)] * len(dims)
        rank_item = [1.0 / len(dims)] * len(items)
        if has_gap:
            notes.append(wording.say(N_("no usable importance data: candidates are ranked with equal weights")))
    else:
        rank_dim, rank_item = list(weights.dimensions), weights.items

    # ---- items -------------------------------------------------------------------------
    iscores = engine.item_scores(confidence)
    item_n = [s.n for s in iscores.columns["perception"]]
    item_ok = [n >= k for n in item_n]
    p_holm, p_bh = _adjusted(iscores, item_ok)
    p_rank = p_bh if adjustment == "bh" else p_holm
    item_rows: list[ItemRow | SuppressedRow] = []
    item_cells: list[Cell] = []
    for j, it in enumerate(items):
        if not item_ok[j]:
            item_rows.append(SuppressedRow.below(k, it.key, dimension=it.dimension, wording=item_wording(it),
                                                 words=wording))
            continue
        fields = _score_fields(iscores, j, p_holm, p_bh)
        note: str | None
        if iscores.gap is not None:
            note = _said(iscores.gap[j].note, wording)
            item_cells.append(_cell("item", it.key, it.dimension, iscores.gap[j], fields, p_rank[j], rank_item[j]))
        else:
            note = _said(iscores.columns["perception"][j].note, wording)
        item_rows.append(ItemRow(
            key=it.key, dimension=it.dimension, wording=item_wording(it), n=item_n[j], note=note,
            importance_mean=weights.item_means[j] if weights.item_means is not None else None, **fields,
        ))

    # ---- dimensions --------------------------------------------------------------------
    dscores = engine.dimension_scores(confidence)
    dim_n = [s.n for s in dscores.columns["perception"]]
    dim_ok = [n >= k for n in dim_n]
    dp_holm, dp_bh = _adjusted(dscores, dim_ok)
    dp_rank = dp_bh if adjustment == "bh" else dp_holm
    dim_weights = weights.block.weights if weights.block is not None else None
    dim_rows: list[DimensionRow | SuppressedRow] = []
    dim_cells: list[Cell] = []
    for d, dim in enumerate(dims):
        if not dim_ok[d]:
            dim_rows.append(SuppressedRow.below(k, dim.key, title=dim.title, words=wording))
            continue
        keys = tuple(items[j].key for j in groups[d])
        fields = _score_fields(dscores, d, dp_holm, dp_bh)
        reliability, alpha_fields = _reliability(engine.dimension_alphas(d), keys, k, wording)
        if dscores.gap is not None:
            dim_cells.append(_cell("dimension", dim.key, dim.key, dscores.gap[d], fields, dp_rank[d],
                                   rank_dim[d], title=dim.title))
        dim_rows.append(DimensionRow(
            key=dim.key, title=dim.title, n=dim_n[d], items=keys, reliability=reliability,
            importance_weight=dim_weights[dim.key] if isinstance(dim_weights, dict) else None,
            note=_said(dscores.gap[d].note, wording) if dscores.gap is not None else UNSET,
            **fields, **alpha_fields,
        ))

    # ---- candidates --------------------------------------------------------------------
    titles = {d.key: d.title for d in dims}
    candidates: tuple[Candidate, ...] = ()
    if has_gap:
        known = weights.dimensions is not None
        adj_name = ADJUSTMENTS[adjustment]
        candidates = rank_candidates(
            dim_cells, alpha_level=alpha_level, adjustment_name=adj_name,
            importance_known=known, dimension_titles=titles, wording=wording,
        ) + rank_candidates(
            item_cells, alpha_level=alpha_level, adjustment_name=adj_name,
            importance_known=known, dimension_titles=titles, wording=wording,
        )
    else:
        notes.append(wording.say(N_("perception-only format: no gap, so no action candidates "
                                    "(see the importance-performance analysis)")))

    return GapReport(
        **head, n=matrices.n, suppressed=False, items=tuple(item_rows), dimensions=tuple(dim_rows),
        overall=_overall(dim_rows, weights.dimensions, has_gap, k, wording), importance=weights.block,
        ipa=_ipa(item_rows, dim_rows, weights, wording), candidates=candidates,
        missing_data=_missing(instrument, matrices, engine, item_ok, k, min_item_fraction, wording),
        notes=tuple(notes),
    )
