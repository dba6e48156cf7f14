"""The report from stored integer arrays (binary COPY, byte codes) is the report of the
plain path (Python lists, float matrices) to 1e-9: every format, both importance kinds,
missing and not-applicable answers, missing arrays, a previous wave and the key drivers."""

from __future__ import annotations

import math
from typing import Any

import msgspec
import numpy as np
import pytest

from analysis.decision import PreviousWave, build_drivers, build_summary
from analysis.engine import CodeEngine, dimension_groups, score_engine
from analysis.engine.coded import CodedMatrices, coded_matrices
from analysis.engine.respondents import respondent_dimension_scores
from analysis.report import build_report
from analysis.scales import respondent_means
from instruments.schema import SatisfactionItem
from service.queries.reports import NULL_ANSWER
from service.reports import WaveData, _coded_wave_data, _wave_data

from .analysis.analysis_helpers import make_instrument

FORMATS = ("expectation-perception", "zone-of-tolerance", "perception-only")


def _same(a: Any, b: Any, path: tuple = ()) -> None:
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), path
        for key in a:
            _same(a[key], b[key], (*path, key))
    elif isinstance(a, list | tuple):
        assert type(a) is type(b) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, (*path, i))
    elif isinstance(a, float) and isinstance(b, float):
        assert (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), (path, a, b)
    else:
        assert a == b and type(a) is type(b), (path, a, b)


def _instrument(rng: np.random.Generator, fmt: str, importance: str | None):
    k = int(rng.integers(2, 10))
    dims = [f"d{int(x)}" for x in rng.integers(0, min(k, 4), k)]
    points = int(rng.choice([5, 7, 11, 15]))  # 15: beyond the code engine's tables
    inst = make_instrument({f"i{j}": dims[j] for j in range(k)}, fmt=fmt,  # type: ignore[arg-type]
                           importance=importance, points=points)  # type: ignore[arg-type]
    return msgspec.structs.replace(inst, satisfaction=(SatisfactionItem(key="overall", statement="Overall"),
                                                       SatisfactionItem(key="other", statement="Other")))


def _stored(rng: np.random.Generator, inst, n: int) -> tuple[list, list, list]:
    """Random stored arrays as the plain query returns them: lists with None."""
    k, c, points = len(inst.items), len(inst.columns), inst.scale.points
    base = rng.integers(1, points + 1, (n, k, 1))
    values = np.clip(base + rng.integers(-2, 3, (n, k, c)), 1, points).reshape(n, k * c).astype(object)
    miss = float(rng.choice([0.0, 0.03, 0.3]))
    values[rng.random(values.shape) < miss] = None
    if n and rng.random() < 0.3:
        values[0, :] = None  # a respondent who answered nothing
    importance: list = [None] * n
    if inst.importance is not None:
        if inst.importance.kind == "allocation":
            w = len(inst.dimensions)
            alloc = rng.multinomial(100, [1 / w] * w, n).astype(object)
            importance = alloc.tolist()
        else:
            ratings = rng.integers(1, points + 1, (n, k)).astype(object)
            ratings[rng.random(ratings.shape) < miss] = None
            importance = ratings.tolist()
    sat = np.clip(np.rint(rng.normal(points / 2, 1.5, (n, 2))), 1, points).astype(object)
    sat[rng.random(sat.shape) < miss] = None
    satisfaction: list = [None if rng.random() < 0.1 else row for row in sat.tolist()]
    return values.tolist(), importance, satisfaction


def _int16(rows: list, width: int) -> np.ndarray:
    out = np.full((len(rows), width), NULL_ANSWER, np.int16)
    for r, row in enumerate(rows):
        if row is not None:
            out[r] = [NULL_ANSWER if v is None else v for v in row]
    return out


def _coded(inst, values: list, importance: list, satisfaction: list) -> WaveData:
    """What fetch_wave_data's COPY gives: int16 with NULL_ANSWER, missing arrays all-null."""
    k, c = len(inst.items), len(inst.columns)
    w = 0 if inst.importance is None else len(inst.dimensions) if inst.importance.kind == "allocation" else k
    answers = np.hstack([_int16(values, k * c), _int16(importance, w), _int16(satisfaction, 2)])
    return _coded_wave_data(inst, answers, (k * c, w, 2))


def _full(inst, data: WaveData, previous: WaveData | None, k_scores: int) -> dict:
    report = build_report(inst, data.matrices, k_scores=k_scores)
    prev = None if previous is None else PreviousWave(wave_id="w0", title="before", closes_on="2025-01-01",
                                                        matrices=previous.matrices)
    return msgspec.to_builtins({
        "report": report,
        "summary": build_summary(inst, report, data.matrices, audience=1000, previous=prev),
        "drivers": build_drivers(inst, report, data.matrices, data.satisfaction, resamples=60),
    })


@pytest.mark.parametrize("seed", range(60))
def test_copy_path_gives_the_plain_report(seed: int) -> None:
    rng = np.random.default_rng(1000 + seed)
    fmt = FORMATS[seed % 3]
    importance = (None, "allocation", "rating")[(seed // 3) % 3]
    inst = _instrument(rng, fmt, importance)
    n = int(rng.choice([0, 3, 12, 60, 700]))
    k_scores = int(rng.choice([1, 5, 10]))
    stored = _stored(rng, inst, n)
    before = _stored(rng, inst, int(rng.choice([4, 80])))
    plain = _wave_data(inst, *stored)
    coded = _coded(inst, *stored)
    assert isinstance(coded.matrices, CodedMatrices)
    _same(_full(inst, plain, _wave_data(inst, *before), k_scores),
          _full(inst, coded, _coded(inst, *before), k_scores))
    if fmt == "expectation-perception" and inst.scale.points <= 11:
        # the fast path never builds the float matrices
        assert "scores" not in vars(coded.matrices) and "not_applicable" not in vars(coded.matrices)
    for name in inst.columns:  # built on demand, they are the plain path's
        np.testing.assert_array_equal(plain.matrices.scores[name], coded.matrices.scores[name])
        np.testing.assert_array_equal(plain.matrices.not_applicable[name], coded.matrices.not_applicable[name])
    assert coded.matrices.n == plain.matrices.n


@pytest.mark.parametrize("seed", range(30))
def test_respondent_scores_from_codes(seed: int) -> None:
    """Bit for bit the float path's respondent means, gap and perception, every format."""
    rng = np.random.default_rng(seed)
    inst = _instrument(rng, FORMATS[seed % 3], None)
    stored = _stored(rng, inst, int(rng.choice([1, 50, 300])))
    m = _coded(inst, *stored).matrices
    groups = dimension_groups(inst)
    plain = _wave_data(inst, *stored).matrices
    for perception in (True, False):
        fraction = float(rng.choice([0.2, 0.5, 1.0]))
        got = respondent_dimension_scores(inst, m, groups, perception=perception, min_fraction=fraction)
        want = respondent_dimension_scores(inst, plain, groups, perception=perception, min_fraction=fraction)
        np.testing.assert_array_equal(got, want)
        if perception:
            np.testing.assert_array_equal(want, respondent_means(plain.scores["perception"], groups,
                                                                 min_fraction=fraction))


def test_the_code_engine_uses_the_kept_codes() -> None:
    """Kept codes are the ones answer_codes recovers from the floats (no second pass)."""
    rng = np.random.default_rng(3)
    inst = _instrument(rng, "expectation-perception", "allocation")
    inst = msgspec.structs.replace(inst, scale=msgspec.structs.replace(inst.scale, points=7))
    stored = _stored(rng, inst, 200)
    m = _coded(inst, *stored).matrices
    engine = score_engine(inst, m, dimension_groups(inst), 0.5)
    assert isinstance(engine, CodeEngine)
    plain = CodeEngine.build(inst, _wave_data(inst, *stored).matrices, dimension_groups(inst), 0.5)
    assert plain is not None
    np.testing.assert_array_equal(engine.te, plain.te)
    np.testing.assert_array_equal(engine.tp, plain.tp)
    assert (engine.nan_e, engine.nan_p) == (plain.nan_e, plain.nan_p)


def test_answers_beyond_a_byte_keep_the_float_path() -> None:
    inst = make_instrument({"a": "d", "b": "d"}, importance=None, points=7)
    values = np.array([[1, 2, 300, 4], [5, NULL_ANSWER, 6, 7]], np.int16)
    m = coded_matrices(inst, values, None, NULL_ANSWER)
    assert not isinstance(m, CodedMatrices)
    assert math.isnan(m.scores["perception"][1, 0]) and m.scores["expectation"][0, 1] == 300
