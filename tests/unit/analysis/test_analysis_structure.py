"""The analysis package's shape: pure, no private names across modules, typed reports that
encode as JSON from every format and both score engines."""

from __future__ import annotations

import ast
import pathlib

import msgspec
import numpy as np
import pytest

from analysis import report_types
from analysis.engine import CodeEngine
from analysis.matrices import matrices_from_arrays
from analysis.report import build_report

from .analysis_helpers import make_instrument

PACKAGE = pathlib.Path(report_types.__file__).parent
MODULES = sorted(PACKAGE.rglob("*.py"))


def _imports(path: pathlib.Path) -> list[tuple[str, str]]:
    """(module, name) of every ``from x import name`` in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [(node.module or "", alias.name) for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
            for alias in node.names] + [
        (alias.name, "") for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_private_names_cross_modules(path):
    private = [(m, n) for m, n in _imports(path) if m.startswith("analysis") and n.startswith("_")]
    assert private == []


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_analysis_stays_pure(path):
    web = [m for m, _ in _imports(path) if m.split(".")[0] in ("litestar", "asyncpg", "service")]
    assert web == []


def test_report_types_hold_no_any():
    for name in report_types.__all__:
        cls = getattr(report_types, name)
        if isinstance(cls, type) and issubclass(cls, msgspec.Struct):
            for field in msgspec.structs.fields(cls):
                assert "Any" not in repr(field.type), (name, field.name)


def _matrices(inst, rng, n, *, integers=True):
    vals = rng.integers(1, inst.scale.points + 1, (n, len(inst.items), len(inst.columns))).astype(float)
    vals[rng.random(vals.shape) < 0.1] = np.nan
    imp = None
    if inst.importance is not None and inst.importance.kind == "allocation":
        imp = rng.integers(0, 40, (n, len(inst.dimensions))).astype(float)
    elif inst.importance is not None:
        imp = rng.integers(1, inst.scale.points + 1, (n, len(inst.items))).astype(float)
    return matrices_from_arrays(inst, vals, imp)


@pytest.mark.parametrize("fmt", ["expectation-perception", "zone-of-tolerance", "perception-only"])
@pytest.mark.parametrize("importance", ["allocation", "rating", None])
@pytest.mark.parametrize("n", [3, 8, 120])
def test_every_report_encodes_to_json_numbers(fmt, importance, n):
    """msgspec refuses NumPy scalars: a NumPy value anywhere in a report fails here."""
    inst = make_instrument({"a1": "a", "a2": "a", "b1": "b", "b2": "b", "c1": "c"}, fmt=fmt,
                           importance=importance)
    m = _matrices(inst, np.random.default_rng(n), n)
    if fmt == "expectation-perception":  # both engines
        assert CodeEngine.build(inst, m, [[0, 1], [2, 3], [4]], 0.5) is not None
    report = build_report(inst, m, k_scores=5)
    wire = msgspec.json.decode(msgspec.json.encode(report))
    assert wire["suppressed"] is (n < 5)
    columns = set(inst.columns)
    for row in wire["items"]:
        # a row carries the means of its format's columns and no other's
        for c in ("expectation", "minimum", "desired"):
            assert (f"mean_{c}" in row) == (c in columns and "suppressed" not in row), (c, row)
