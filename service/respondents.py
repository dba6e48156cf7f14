"""Respondent-level exports of a closed wave: CSV, SPSS (.sav) and Stata (.dta).

Analysts want the answers themselves, one row per response, to run their own models.
That is safe only where the report itself is: a closed wave (nothing changes any more, so
two downloads cannot be differenced) with at least ``k_scores`` responses. The rows carry
no identifier, no receipt and no date, and come in a fresh random order on every download
(the stored order is already shuffled by the arrival-order pass; this does not rely on
it). Free text is included only when the wave reaches ``k_comments``, as in the report.

Variables are named ``<item>_<column>`` (``q05_perception``), ``importance_<key>``,
``satisfaction_<key>`` and ``comment_<prompt>``; each carries what respondents read as its
label, and the rating variables carry the scale's value labels. A "not applicable" answer
is a missing value (blank in CSV, system-missing in SPSS, ``.`` in Stata).
"""

from __future__ import annotations

import csv
import io
import os
import re
import secrets
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from analysis.report import item_wording
from instruments import Instrument
from instruments.schema import MEASURE_RANGES, Measure

FORMATS = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "sav": ("application/x-spss-sav", "sav"),
    "dta": ("application/x-stata-dta", "dta"),
}

Row = tuple[list[int | None], list[int | None] | None, list[int | None] | None, dict[str, str],
            list[int | None] | None]


@dataclass(frozen=True, slots=True)
class Variable:
    name: str
    label: str
    value_labels: dict[int, str] | None  # rating variables; None for counts and text
    text: bool = False


def _name(raw: str, used: set[str]) -> str:
    """A variable name SPSS and Stata both accept: a letter first, letters, digits and
    underscores, at most 32 characters, unique."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", raw)
    if not name[:1].isalpha():
        name = "v_" + name
    name = name[:32]
    base, n = name, 2
    while name.lower() in used:
        suffix = f"_{n}"
        name = base[: 32 - len(suffix)] + suffix
        n += 1
    used.add(name.lower())
    return name


def _statement(statements: Mapping[Any, str], column: str, fallback: str) -> str:
    return statements.get(column, fallback)


def variables(instrument: Instrument, *, with_comments: bool) -> list[Variable]:
    """The export's variables in order, with labels."""
    scale = instrument.scale
    labels = {v: str(v) for v in range(1, scale.points + 1)}
    labels[1] = f"1 {scale.low_label}"
    labels[scale.points] = f"{scale.points} {scale.high_label}"
    used: set[str] = set()
    out: list[Variable] = []
    for item in instrument.items:
        for column in instrument.columns:
            out.append(Variable(_name(f"{item.key}_{column}", used),
                                f"{column}: {_statement(item.statements, column, item.key)}", labels))
    if instrument.importance is not None:
        imp = instrument.importance
        if imp.kind == "allocation":
            for dim in instrument.dimensions:
                out.append(Variable(_name(f"importance_{dim.key}", used),
                                    f"importance points (of {imp.total}): {dim.title}", None))
        else:
            rating = {v: str(v) for v in range(1, scale.points + 1)}
            rating[1] = f"1 {imp.low_label}"
            rating[scale.points] = f"{scale.points} {imp.high_label}"
            for item in instrument.items:
                out.append(Variable(_name(f"importance_{item.key}", used),
                                    f"importance: {item_wording(item)}", rating))
    for sat in instrument.satisfaction:
        out.append(Variable(_name(f"satisfaction_{sat.key}", used), sat.statement, labels))
    for measure in instrument.measures:
        out.append(Variable(_name(f"{measure.kind}_{measure.key}", used), measure.statement, _measure_labels(measure)))
    if with_comments:
        for prompt in instrument.free_text:
            out.append(Variable(_name(f"comment_{prompt.key}", used), prompt.prompt, None, text=True))
    return out


def _measure_labels(measure: Measure) -> dict[int, str] | None:
    """Value labels of an IT experience measure: one per point (CSAT, effort), the two
    anchors (0-10 recommendation), none for minutes lost."""
    if measure.kind == "minutes" or not measure.labels:
        return None
    low, high = MEASURE_RANGES[measure.kind]
    if len(measure.labels) == high - low + 1:
        return {low + i: f"{low + i} {label}" for i, label in enumerate(measure.labels)}
    out = {v: str(v) for v in range(low, high + 1)}
    out[low], out[high] = f"{low} {measure.labels[0]}", f"{high} {measure.labels[-1]}"
    return out


def table(instrument: Instrument, rows: list[Row], *, with_comments: bool) -> tuple[list[Variable], list[list[Any]]]:
    """The variables and the rows (in a fresh random order) of one wave's answers."""
    out: list[list[Any]] = []
    width_items = len(instrument.items) * len(instrument.columns)
    imp_width = 0
    if instrument.importance is not None:
        imp_width = len(instrument.dimensions) if instrument.importance.kind == "allocation" else len(instrument.items)
    n_measures = len(instrument.measures)
    for item_values, importance, satisfaction, comments, measures in rows:
        line: list[Any] = list(item_values[:width_items])
        line += list(importance or [None] * imp_width)[:imp_width]
        line += list(satisfaction or [None] * len(instrument.satisfaction))[: len(instrument.satisfaction)]
        line += list(measures or [None] * n_measures)[:n_measures]
        if with_comments:
            line += [comments.get(p.key, "") for p in instrument.free_text]
        out.append(line)
    secrets.SystemRandom().shuffle(out)
    return variables(instrument, with_comments=with_comments), out


def to_csv(names: list[Variable], rows: list[list[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([v.name for v in names])
    for row in rows:
        # a leading =, +, - or @ would run as a formula in a spreadsheet
        writer.writerow(["" if x is None else ("'" + x if isinstance(x, str) and x[:1] in "=+-@" else x) for x in row])
    return buffer.getvalue().encode("utf-8")


def to_stats_file(kind: str, names: list[Variable], rows: list[list[Any]]) -> bytes:
    """SPSS or Stata file with variable and value labels, written by pyreadstat."""
    import pandas as pd  # noqa: PLC0415 - only the statistics formats need it
    import pyreadstat  # noqa: PLC0415

    columns: dict[str, Any] = {}
    for j, v in enumerate(names):
        values = [row[j] for row in rows]
        columns[v.name] = (pd.Series(["" if x is None else x for x in values], dtype="object") if v.text
                           else pd.Series(values, dtype="float64"))
    frame: Any = pd.DataFrame(columns)  # pyreadstat's hints name narwhals' frame type
    labels: dict[str, str | None] = {v.name: v.label for v in names}
    value_labels = {v.name: {float(k): s for k, s in v.value_labels.items()} for v in names if v.value_labels}
    fd, path = tempfile.mkstemp(suffix="." + kind)
    os.close(fd)
    try:
        if kind == "sav":
            pyreadstat.write_sav(frame, path, column_labels=labels, variable_value_labels=value_labels)
        else:
            # Stata: labels of at most 80 characters, value labels on integer values
            short: dict[str, str | None] = {k: (s or "")[:80] for k, s in labels.items()}
            pyreadstat.write_dta(frame, path, column_labels=short, variable_value_labels=value_labels)
        with open(path, "rb") as f:
            return f.read()
    finally:
        os.unlink(path)
