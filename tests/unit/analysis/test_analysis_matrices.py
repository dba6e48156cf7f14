"""Stored arrays and answer dicts give the same matrices."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.matrices import matrices_from_answers, matrices_from_arrays
from analysis.report import build_report
from instruments import load_builtin
from instruments.packing import pack_answers


def _answers(instrument, rng, n):
    out = []
    for _ in range(n):
        items = {i.key: {c: int(rng.integers(1, 8)) for c in instrument.columns} for i in instrument.items}
        out.append({"items": items, "importance": {"tangibles": 20, "reliability": 20, "responsiveness": 20,
                                                   "assurance": 20, "empathy": 20}})
    return out


def test_arrays_match_answer_dicts():
    instrument = load_builtin("servqual")
    answers = _answers(instrument, np.random.default_rng(3), 12)
    packed = [pack_answers(instrument, a) for a in answers]
    values = np.array([p.item_values for p in packed], dtype=float).reshape(12, 22, 2)
    importance = np.array([p.importance for p in packed], dtype=float)
    from_arrays = matrices_from_arrays(instrument, values, importance)
    from_dicts = matrices_from_answers(instrument, answers)
    for column in instrument.columns:
        np.testing.assert_array_equal(from_arrays.scores[column], from_dicts.scores[column])
    np.testing.assert_array_equal(from_arrays.importance, from_dicts.importance)
    assert build_report(instrument, from_arrays) == build_report(instrument, from_dicts)


def test_not_applicable_is_nan():
    instrument = load_builtin("servqual-zot")
    values = np.full((3, len(instrument.items), 3), 5.0)
    values[0, 2, 1] = np.nan
    matrices = matrices_from_arrays(instrument, values)
    assert matrices.not_applicable["desired"][0, 2]
    assert matrices.not_applicable["desired"].sum() == 1


def test_wrong_shape_is_refused():
    instrument = load_builtin("servqual")
    with pytest.raises(ValueError, match="shape"):
        matrices_from_arrays(instrument, np.zeros((4, 21, 2)))
