"""Exports: action items as CSV; a wave's report aggregates as JSON and CSV.

A report export is built from the already-suppressed, typed report by *whitelisting* fields:
only numbers that the report shows as numbers are copied, and a suppressed cell
becomes the word "suppressed" with its reason, never a value. Comments and anything
that is not an aggregate are left out.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import msgspec

from analysis.report_types import UNSET, DimensionRow, GapReport, ItemRow, Overall, Suppressed, SuppressedRow
from service.queries.actions import ActionItem

ACTION_COLUMNS = (
    "id", "title", "description", "service", "owner", "status", "wont_do_reason", "source", "campaign_id",
    "thread_id", "target_level", "target_key", "candidate_mean_gap", "candidate_ci_low", "candidate_ci_high",
    "candidate_reason", "expected_level", "expected_key", "expected_change", "due_on", "overdue",
    "created_by", "created_at", "accepted_at", "started_at", "done_at", "closed_at",
)

# Aggregate fields a report row may carry; each is exported only when it is a number.
ROW_FIELDS = (
    "n", "mean_expectation", "mean_minimum", "mean_desired", "mean_perception", "sd_perception",
    "perception_ci_low", "perception_ci_high", "mean_gap", "sd_gap", "se_gap", "ci_low", "ci_high", "t", "t_p",
    "wilcoxon_p", "d_z", "p_holm", "p_bh", "alpha_expectation", "alpha_minimum", "alpha_desired",
    "alpha_perception", "alpha_gap", "importance_mean", "importance_weight",
)
OVERALL_FIELDS = ("unweighted", "weighted", "perception_unweighted", "perception_weighted")
# "wording": what respondents read (an item's statement, a dimension's title); last, so
# the positions of the earlier columns stay what analysts' scripts expect.
REPORT_COLUMNS = ("level", "key", "dimension", "suppressed", *ROW_FIELDS, "wording")


def _csv_safe(value: object) -> str:
    """Text cells that a spreadsheet would run as a formula get a leading apostrophe."""
    s = "" if value is None else str(value)
    return "'" + s if s[:1] in ("=", "+", "-", "@", "\t", "\r") else s


def actions_csv(items: list[ActionItem]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(ACTION_COLUMNS)
    for a in items:
        c = a.candidate or {}
        writer.writerow([
            a.id, _csv_safe(a.title), _csv_safe(a.description), _csv_safe(a.service.name), _csv_safe(a.owner.name),
            a.status, _csv_safe(a.wont_do_reason), a.source, a.campaign_id or "", a.thread_id or "",
            a.target_level, a.target_key or "", _num(c.get("mean_gap")), _num(c.get("ci_low")),
            _num(c.get("ci_high")), _csv_safe(c.get("reason")),
            a.expected.level if a.expected else "", a.expected.key if a.expected else "",
            f"{a.expected.change:+g}" if a.expected else "", a.due_on.isoformat(), str(a.overdue).lower(),
            _csv_safe(a.created_by.name), _iso(a.created_at), _iso(a.accepted_at), _iso(a.started_at),
            _iso(a.done_at), _iso(a.closed_at),
        ])
    return out.getvalue()


def _iso(v: Any) -> str:
    return v.isoformat() if v is not None else ""


def _num(v: Any) -> str:
    return repr(float(v)) if _is_number(v) else ""


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _row_fields(row: ItemRow | DimensionRow) -> dict[str, object]:
    """Every aggregate a row may carry, by its column name (values not yet whitelisted)."""
    fields: dict[str, object] = {
        "n": row.n, "mean_expectation": row.mean_expectation, "mean_minimum": row.mean_minimum,
        "mean_desired": row.mean_desired, "mean_perception": row.mean_perception, "sd_perception": row.sd_perception,
        "perception_ci_low": row.perception_ci_low, "perception_ci_high": row.perception_ci_high,
        "mean_gap": row.mean_gap, "sd_gap": row.sd_gap, "se_gap": row.se_gap, "ci_low": row.ci_low,
        "ci_high": row.ci_high, "t": row.t, "t_p": row.t_p, "wilcoxon_p": row.wilcoxon_p, "d_z": row.d_z,
        "p_holm": row.p_holm, "p_bh": row.p_bh,
    }
    if isinstance(row, DimensionRow):
        fields |= {"alpha_expectation": row.alpha_expectation, "alpha_minimum": row.alpha_minimum,
                   "alpha_desired": row.alpha_desired, "alpha_perception": row.alpha_perception,
                   "alpha_gap": row.alpha_gap, "importance_weight": row.importance_weight}
    else:
        fields["importance_mean"] = row.importance_mean
    return fields


def _row(level: str, row: ItemRow | DimensionRow | SuppressedRow) -> dict[str, Any]:
    dimension = row.key if isinstance(row, DimensionRow) or row.dimension is UNSET else row.dimension
    out: dict[str, Any] = {"level": level, "key": row.key, "dimension": dimension}
    wording = row.title if isinstance(row, DimensionRow) else row.wording
    if isinstance(row, SuppressedRow) and level == "dimension":
        wording = row.title
    if isinstance(wording, str):
        out["wording"] = wording
    if isinstance(row, SuppressedRow):
        return out | {"suppressed": row.reason}
    fields = _row_fields(row)
    out |= {f: v for f, v in fields.items() if _is_number(v)}
    # Fields the report suppressed on their own (e.g. a listwise alpha below k).
    hidden = sorted(f for f, v in fields.items() if isinstance(v, Suppressed))
    if hidden:
        out["suppressed_fields"] = hidden
    return out


def _overall(overall: Overall | Suppressed) -> dict[str, Any]:
    if isinstance(overall, Suppressed):
        return {"suppressed": overall.reason}
    out: dict[str, Any] = {}
    for f, v in (("unweighted", overall.unweighted), ("weighted", overall.weighted),
                 ("perception_unweighted", overall.perception_unweighted),
                 ("perception_weighted", overall.perception_weighted)):
        if _is_number(v):
            out[f] = v
        elif isinstance(v, Suppressed):
            out[f] = "suppressed"
    return out


def report_aggregates(report: GapReport, *, campaign: dict[str, Any]) -> dict[str, Any]:
    """The report's aggregates at or above k: every number a report cell shows, nothing else."""
    k = report.k_scores
    head = {
        "campaign": campaign,
        "instrument": msgspec.to_builtins(report.instrument),
        "format": report.format,
        "gap_definition": report.gap_definition,
        "k_scores": k,
        "confidence": report.confidence,
        "adjustment": report.adjustment,
    }
    if report.suppressed or not isinstance(report.n, int):
        return head | {"n": None, "suppressed": f"fewer than k={k} responses", "rows": []}
    rows = [_row("item", r) for r in report.items] + [_row("dimension", r) for r in report.dimensions]
    candidates = [
        {"rank": c.rank, "level": c.level, "target": c.target, "dimension": c.dimension, "priority": c.priority,
         "weight": c.weight, "mean_gap": c.mean_gap, "ci_low": c.ci_low, "ci_high": c.ci_high,
         "p_adjusted": c.p_adjusted, "reason": c.reason}
        for c in report.candidates
    ]
    # The IT experience measures, already suppressed below k by analysis.experience.
    experience = getattr(report, "experience", None)
    return head | {"n": report.n, "suppressed": None, "rows": rows, "overall": _overall(report.overall),
                   "candidates": candidates,
                   "experience": msgspec.to_builtins(experience) if experience is not None else None}


def report_csv(aggregates: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(REPORT_COLUMNS)
    k = aggregates["k_scores"]
    if aggregates.get("suppressed"):
        writer.writerow(["wave", "", "", aggregates["suppressed"], *[""] * len(ROW_FIELDS), ""])
        return out.getvalue()
    writer.writerow(["wave", "", "", "", aggregates["n"], *[""] * (len(ROW_FIELDS) - 1), ""])
    for row in aggregates["rows"]:
        hidden = set(row.get("suppressed_fields", ()))
        writer.writerow([
            row["level"], _csv_safe(row["key"]), _csv_safe(row["dimension"]), row.get("suppressed", ""),
            *[("suppressed" if f in hidden else _num(row.get(f))) for f in ROW_FIELDS],
            _csv_safe(row.get("wording", "")),
        ])
    overall = aggregates.get("overall") or {}
    for f in OVERALL_FIELDS:
        v = overall.get(f, overall.get("suppressed"))
        if v is None:
            continue
        field = "mean_perception" if f.startswith("perception") else "mean_gap"
        cells = ["overall", f, "", "" if _is_number(v) else f"fewer than k={k} responses"]
        cells += [_num(v) if name == field else "" for name in ROW_FIELDS]
        writer.writerow([*cells, ""])
    return out.getvalue()
