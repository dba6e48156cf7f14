"""The report export whitelist: every aggregate a typed report row carries has a CSV
column, and a field the report suppressed on its own never becomes a number."""

from __future__ import annotations

import msgspec

from analysis.matrices import matrices_from_answers
from analysis.report import build_report
from analysis.report_types import DimensionRow, ItemRow
from instruments import load_builtin
from service.exports import ROW_FIELDS, _row_fields, report_aggregates, report_csv


def _report(n: int):
    inst = load_builtin("servqual")
    answers = [{"items": {i.key: {"expectation": 1 + (r + j) % 7, "perception": 1 + (2 * r + j) % 7}
                          for j, i in enumerate(inst.items)},
                "importance": {d.key: 20 for d in inst.dimensions}} for r in range(n)]
    return build_report(inst, matrices_from_answers(inst, answers), k_scores=5)


def test_every_row_aggregate_has_a_column():
    report = _report(12)
    for row in (*report.items, *report.dimensions):
        assert isinstance(row, ItemRow | DimensionRow)
        assert set(_row_fields(row)) <= set(ROW_FIELDS)


def test_suppressed_report_exports_no_numbers():
    aggregates = report_aggregates(_report(4), campaign={"id": "w"})
    assert aggregates["suppressed"] and aggregates["rows"] == [] and aggregates["n"] is None
    assert report_csv(aggregates).count("\r\n") == 2  # header and the suppressed wave line
    msgspec.json.encode(aggregates)
