"""Exports: action items as CSV; a wave's report aggregates as JSON and CSV.

A report export is built from the already-suppressed report by *whitelisting* fields:
only numbers that the report shows as numbers are copied, and a suppressed cell
becomes the word "suppressed" with its reason, never a value. Comments and anything
that is not an aggregate are left out.
"""

from __future__ import annotations

import csv
import io
from typing import Any

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
REPORT_COLUMNS = ("level", "key", "dimension", "suppressed", *ROW_FIELDS)


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


def _reason(v: Any) -> str | None:
    if isinstance(v, dict) and v.get("suppressed") is True:
        return str(v.get("reason", "suppressed"))
    return None


def _row(level: str, row: dict[str, Any], k: int) -> dict[str, Any]:
    out: dict[str, Any] = {"level": level, "key": row.get("key"), "dimension": row.get("dimension", row.get("key"))}
    if row.get("suppressed"):
        return out | {"suppressed": str(row.get("reason", f"fewer than k={k} responses"))}
    values = {f: row[f] for f in ROW_FIELDS if _is_number(row.get(f))}
    # Fields the report suppressed on their own (e.g. a listwise alpha below k).
    hidden = sorted(f for f in ROW_FIELDS if _reason(row.get(f)))
    out |= values
    if hidden:
        out["suppressed_fields"] = hidden
    return out


def report_aggregates(report: dict[str, Any], *, campaign: dict[str, Any]) -> dict[str, Any]:
    """The report's aggregates at or above k: every number a report cell shows, nothing else."""
    k = int(report["k_scores"])
    head = {
        "campaign": campaign,
        "instrument": report.get("instrument"),
        "format": report.get("format"),
        "gap_definition": report.get("gap_definition"),
        "k_scores": k,
        "confidence": report.get("confidence"),
        "adjustment": report.get("adjustment"),
    }
    if report.get("suppressed") is True or not _is_number(report.get("n")):
        return head | {"n": None, "suppressed": f"fewer than k={k} responses", "rows": []}
    rows = [_row("item", r, k) for r in report.get("items", [])]
    rows += [_row("dimension", r, k) for r in report.get("dimensions", [])]
    overall = report.get("overall") or {}
    overall_out: dict[str, Any] = {}
    if _reason(overall) is None:
        for f in OVERALL_FIELDS:
            if _is_number(overall.get(f)):
                overall_out[f] = overall[f]
            elif _reason(overall.get(f)):
                overall_out[f] = "suppressed"
    else:
        overall_out = {"suppressed": _reason(overall)}
    candidates = [
        {f: c.get(f) for f in ("rank", "level", "target", "dimension", "priority", "weight", "mean_gap",
                                "ci_low", "ci_high", "p_adjusted", "reason")}
        for c in report.get("candidates", [])
    ]
    return head | {"n": report["n"], "suppressed": None, "rows": rows, "overall": overall_out,
                   "candidates": candidates}


def report_csv(aggregates: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(REPORT_COLUMNS)
    k = aggregates["k_scores"]
    if aggregates.get("suppressed"):
        writer.writerow(["wave", "", "", aggregates["suppressed"], *[""] * len(ROW_FIELDS)])
        return out.getvalue()
    writer.writerow(["wave", "", "", "", aggregates["n"], *[""] * (len(ROW_FIELDS) - 1)])
    for row in aggregates["rows"]:
        hidden = set(row.get("suppressed_fields", ()))
        writer.writerow([
            row["level"], _csv_safe(row["key"]), _csv_safe(row["dimension"]), row.get("suppressed", ""),
            *[("suppressed" if f in hidden else _num(row.get(f))) for f in ROW_FIELDS],
        ])
    overall = aggregates.get("overall") or {}
    for f in OVERALL_FIELDS:
        v = overall.get(f, overall.get("suppressed"))
        if v is None:
            continue
        field = "mean_perception" if f.startswith("perception") else "mean_gap"
        cells = ["overall", f, "", "" if _is_number(v) else f"fewer than k={k} responses"]
        cells += [_num(v) if name == field else "" for name in ROW_FIELDS]
        writer.writerow(cells)
    return out.getvalue()
