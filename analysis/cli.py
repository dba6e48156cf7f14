"""Analyst CLI: ``candor analyze --instrument <id or file> --responses <CSV>``.

Also runnable as ``python -m analysis.cli``. Exit codes: 0 success, 2 bad input
(unknown instrument, unknown column, bad value -- the message names row and column).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

import msgspec

from analysis.matrices import MatrixError, matrices_from_csv
from analysis.report import build_report
from analysis.report_types import UNSET, DimensionRow, GapReport, ItemRow, Overall, Suppressed, SuppressedRow
from instruments.schema import Instrument

__all__ = ["main", "render_text"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="candor analyze",
        description="SERVQUAL gap analysis of a CSV of responses (one row per respondent).",
    )
    p.add_argument("--instrument", required=True,
                   help="built-in instrument id (e.g. servqual) or a TOML/JSON instrument file")
    p.add_argument("--responses", required=True,
                   help="CSV file: columns <item>.<column>, importance.<dimension>, ...")
    p.add_argument("--format", choices=("json", "text"), default="text", dest="output")
    p.add_argument("--k", type=int, default=5, help="suppress cells with fewer respondents")
    p.add_argument("--adjustment", choices=("bh", "holm"), default="bh",
                   help="multiple-comparison adjustment for candidates (default bh)")
    return p


def _load_instrument(spec: str) -> Instrument:
    from instruments.loader import InstrumentError, load_builtin, load_instrument_file

    try:
        if os.path.exists(spec):
            return load_instrument_file(spec)
        return load_builtin(spec)
    except InstrumentError as e:
        raise SystemExit(_fail(f"instrument: {e}")) from None
    except (KeyError, LookupError, FileNotFoundError, OSError) as e:
        raise SystemExit(_fail(f"instrument {spec!r} not found ({e})")) from None


def _fail(message: str) -> int:
    print(f"candor analyze: error: {message}", file=sys.stderr)
    return 2


def _num(v: object, digits: int = 2) -> str:
    if isinstance(v, Suppressed):
        return "suppr."
    if v is None or v is UNSET:
        return "—"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def _p(v: object) -> str:
    if isinstance(v, float):
        return "<0.001" if v < 0.001 else f"{v:.3f}"
    return _num(v)


def _table(out: list[str], report: GapReport, rows: Sequence[ItemRow | DimensionRow | SuppressedRow],
           first: str, label: str) -> None:
    has_gap = report.format != "perception-only"
    out.append("")
    out.append(label)
    if has_gap:
        head = (f"{first:<16}{'n':>6}{'E/min':>7}{'P':>7}{'gap':>7}{'95% CI':>17}"
                f"{'t p':>8}{'W p':>8}{'p_adj':>8}{'d_z':>7}")
    else:
        head = f"{first:<16}{'n':>6}{'P':>7}{'95% CI':>17}"
    out.append(head)
    out.append("-" * len(head))
    for r in rows:
        key = r.key
        if isinstance(r, SuppressedRow):
            out.append(f"{key:<16}{'suppressed (' + r.reason + ')':>40}")
            continue
        ci = f"[{_num(r.ci_low)}, {_num(r.ci_high)}]"
        if has_gap:
            ref = r.mean_expectation if r.mean_expectation is not UNSET else r.mean_minimum
            padj = r.p_bh if report.adjustment == "bh" else r.p_holm
            out.append(
                f"{key:<16}{_num(r.n):>6}{_num(ref):>7}{_num(r.mean_perception):>7}"
                f"{_num(r.mean_gap):>7}{ci:>17}{_p(r.t_p):>8}{_p(r.wilcoxon_p):>8}"
                f"{_p(padj):>8}{_num(r.d_z):>7}"
            )
        else:
            out.append(f"{key:<16}{_num(r.n):>6}{_num(r.mean_perception):>7}{ci:>17}")


def render_text(report: GapReport) -> str:
    """Readable tables and the ranked candidate list of a report from ``build_report``."""
    out: list[str] = []
    inst = report.instrument
    out.append(f"{inst.title if isinstance(inst.title, str) else ''} ({inst.id} {inst.version}), "
               f"format {report.format}")
    out.append(f"respondents: {_num(report.n)}   k = {report.k_scores}   "
               f"{report.gap_definition}")
    if report.suppressed:
        out.append("")
        out.append("Report suppressed: fewer than k respondents.")
        return "\n".join(out) + "\n"
    has_gap = report.format != "perception-only"
    _table(out, report, report.items, "item", "Items")
    _table(out, report, report.dimensions, "dimension", "Dimensions")
    out.append("")
    out.append("Reliability (Cronbach's alpha, listwise)")
    for d in report.dimensions:
        if isinstance(d, SuppressedRow):
            continue
        parts = [f"{name} {_num(block.alpha)}" for name, block in d.reliability.items()]
        out.append(f"  {d.key:<16}" + ", ".join(parts))
    ov = report.overall
    out.append("")
    if isinstance(ov, Overall):
        out.append(f"Overall: unweighted gap {_num(ov.unweighted)}, weighted gap "
                   f"{_num(ov.weighted)}; perceptions-only {_num(ov.perception_unweighted)}"
                   f" (weighted {_num(ov.perception_weighted)})")
    if has_gap:
        out.append("")
        out.append("Action candidates")
        out.append(f"  {report.priority_formula}")
        if not report.candidates:
            out.append("  none: no gap is significantly negative after adjustment")
        for c in report.candidates:
            out.append(f"  {c.level:<9} #{c.rank:<3} priority {c.priority:.3f}  "
                       f"{c.reason}; perceptions-only {_num(c.mean_perception)}")
    if report.ipa is not None:
        ipa = report.ipa
        out.append("")
        out.append(f"Importance-performance ({ipa.level}s; crosshair at importance "
                   f"{_num(ipa.importance_mean)}, performance {_num(ipa.performance_mean)})")
        for pt in ipa.points:
            out.append(f"  {pt.key:<16}{pt.quadrant}")
    out.append("")
    out.append("Missing data: " + report.missing_data.statement)
    for note in report.notes:
        out.append("Note: " + note)
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run ``candor analyze``; returns the exit code."""
    args = _parser().parse_args(argv)
    if args.k < 1:
        return _fail("--k must be at least 1")
    try:
        instrument = _load_instrument(args.instrument)
    except SystemExit as e:
        return int(e.code or 2)
    try:
        with open(args.responses, encoding="utf-8-sig", newline="") as f:
            text = f.read()
    except OSError as e:
        return _fail(f"cannot read {args.responses}: {e.strerror}")
    try:
        matrices = matrices_from_csv(instrument, text)
    except MatrixError as e:
        return _fail(f"{args.responses}: {e}")
    report = build_report(instrument, matrices, k_scores=args.k, adjustment=args.adjustment)
    if args.output == "json":
        sys.stdout.write(json.dumps(msgspec.to_builtins(report), ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(render_text(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
