"""The integer-code engine of build_report agrees with the general (float) engine."""

from __future__ import annotations

import math

import msgspec
import numpy as np
import pytest

from analysis.engine import CodeEngine, GeneralEngine, dimension_groups, score_engine
from analysis.matrices import AnswerMatrices
from analysis.report import build_report

from .analysis_helpers import make_instrument


def _matrices(inst, e, p, na, alloc) -> AnswerMatrices:
    return AnswerMatrices(
        instrument_id=inst.id, item_keys=tuple(i.key for i in inst.items),
        item_dimensions=tuple(i.dimension for i in inst.items),
        dimension_keys=tuple(d.key for d in inst.dimensions),
        scores={"expectation": e, "perception": p},
        not_applicable={"expectation": na, "perception": np.zeros(e.shape, bool)},
        importance_kind="allocation", importance=alloc, importance_total=100,
    )


def _same(a, b, path=()):
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), path
        for key in a:
            _same(a[key], b[key], path + (key,))
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, path + (i,))
    elif isinstance(a, float) and isinstance(b, float):
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), (path, a, b)
    else:
        assert a == b and type(a) is type(b), (path, a, b)


@pytest.mark.parametrize("seed", range(40))
def test_fast_path_matches_general_path(seed, monkeypatch):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 9))
    dims = [f"d{int(x)}" for x in rng.integers(0, min(k, 3), k)]
    inst = make_instrument({f"i{j}": dims[j] for j in range(k)},
                           points=int(rng.choice([5, 7, 11])))
    points = inst.scale.points
    n = int(rng.choice([5, 8, 30, 400]))
    e = rng.integers(1, points + 1, (n, k)).astype(float)
    p = np.clip(e + rng.integers(-2, 2, (n, k)), 1, points).astype(float)
    if seed % 5 == 0:
        p = e.copy()  # zero gaps: no Wilcoxon, zero variance
    if seed % 7 == 0:
        e[:] = 3.0
    miss = float(rng.choice([0.0, 0.05, 0.4]))
    e[rng.random((n, k)) < miss] = np.nan
    p[rng.random((n, k)) < miss] = np.nan
    na = rng.random((n, k)) < 0.05
    e[na] = np.nan
    alloc = rng.integers(0, 40, (n, len(inst.dimensions))).astype(float)
    m = _matrices(inst, e, p, na, alloc)
    kw = {"k_scores": int(rng.choice([1, 5])),
          "min_item_fraction": float(rng.choice([0.3, 0.5, 1.0]))}
    groups = dimension_groups(inst)
    assert isinstance(score_engine(inst, m, groups, kw["min_item_fraction"]), CodeEngine)
    fast = build_report(inst, m, **kw)
    monkeypatch.setattr(CodeEngine, "build", classmethod(lambda cls, *a: None))
    assert isinstance(score_engine(inst, m, groups, kw["min_item_fraction"]), GeneralEngine)
    general = build_report(inst, m, **kw)
    _same(msgspec.to_builtins(fast), msgspec.to_builtins(general))


@pytest.mark.parametrize("bad", [2.5, 0.0, -1.0, 8.0, 300.0])
def test_values_off_the_scale_still_raise(bad):
    inst = make_instrument({"a1": "a", "a2": "a", "b1": "b"})
    rng = np.random.default_rng(1)
    e = rng.integers(1, 8, (20, 3)).astype(float)
    p = rng.integers(1, 8, (20, 3)).astype(float)
    e[3, 1] = bad
    m = _matrices(inst, e, p, np.zeros(e.shape, bool), np.full((20, 2), 50.0))
    with pytest.raises(ValueError):
        build_report(inst, m)
