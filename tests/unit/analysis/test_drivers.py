"""Key-driver analysis (analysis/drivers.py) against independent implementations.

- Relative weights against the PyPI package ``relativeImp`` (0.0.2, Johnson's method from a
  pandas correlation matrix with ``numpy.linalg.eig``) and against Johnson's (2000) original
  construction written plainly here from the raw data: the SVD ``X = P D Q'`` of the
  standardised predictors gives their closest orthonormal counterparts ``Z = sqrt(n-1) P Q'``.
- General dominance against a plain all-subsets implementation: an ordinary least-squares fit
  with intercept (``numpy.linalg.lstsq`` on the raw answers) for every subset, averaged per
  Budescu (1993, eq. 5-6).

Data: the public K-SERVQUAL kiosk survey (tests/data/kiosk_kservqual), perceptions averaged
per dimension as drivers, the first overall-satisfaction item as the outcome.
"""

from __future__ import annotations

import csv
import itertools
import math

import numpy as np
import pandas as pd
import pytest
from relativeImp import relativeImp

from analysis.drivers import (
    MAX_DOMINANCE_PREDICTORS,
    compare_importance,
    general_dominance,
    key_drivers,
    relative_weights,
)

from .conftest import DATA, KIOSK_DIMS


@pytest.fixture(scope="module")
def kiosk() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-dimension perception means (n x 8), OVERALL1, and per-dimension importance means."""
    with open(DATA / "kiosk_kservqual_clean_n194.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    p = np.array([[float(r[f"P{i:02d}"]) for i in range(1, 25)] for r in rows])
    imp = np.array([[float(r[f"IMP{i:02d}"]) for i in range(1, 25)] for r in rows])
    y = np.array([float(r["OVERALL1"]) for r in rows])
    dims = p.reshape(len(rows), 8, 3).mean(axis=2)
    stated = imp.reshape(len(rows), 8, 3).mean(axis=2).mean(axis=0)
    return dims, y, stated


def _ols_r2(x: np.ndarray, y: np.ndarray) -> float:
    """R² of y on x with an intercept, by least squares on the raw values."""
    design = np.column_stack([np.ones(len(y)), x])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    resid = y - design @ coef
    return 1.0 - float(resid @ resid) / float(((y - y.mean()) ** 2).sum())


def _plain_dominance(x: np.ndarray, y: np.ndarray) -> list[float]:
    p = x.shape[1]
    r2: dict[tuple[int, ...], float] = {(): 0.0}
    for k in range(1, p + 1):
        for subset in itertools.combinations(range(p), k):
            r2[subset] = _ols_r2(x[:, list(subset)], y)
    out = []
    for j in range(p):
        others = [i for i in range(p) if i != j]
        per_size = []
        for k in range(p):
            gains = [r2[tuple(sorted((*s, j)))] - r2[s] for s in itertools.combinations(others, k)]
            per_size.append(sum(gains) / len(gains))
        out.append(sum(per_size) / p)
    return out


def _plain_johnson(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    n = len(y)
    zx = (x - x.mean(axis=0)) / x.std(axis=0, ddof=1)
    zy = (y - y.mean()) / y.std(ddof=1)
    u, _, vt = np.linalg.svd(zx, full_matrices=False)
    z = math.sqrt(n - 1) * u @ vt  # orthonormal (in correlation terms) counterparts of X
    beta = np.linalg.lstsq(z, zy, rcond=None)[0]  # y on Z
    lam = np.linalg.lstsq(z, zx, rcond=None)[0]  # X on Z: loadings (Z'Z = (n-1) I)
    return (lam**2).T @ (beta**2)


def _corr(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.corrcoef(np.column_stack([x, y]), rowvar=False)


def test_relative_weights_match_relativeimp_package(kiosk):
    x, y, _ = kiosk
    frame = pd.DataFrame(x, columns=KIOSK_DIMS).assign(overall=y)
    expected = relativeImp(frame, outcomeName="overall", driverNames=list(KIOSK_DIMS))
    got = relative_weights(_corr(x, y))
    np.testing.assert_allclose(got, np.real(expected["rawRelaImpt"].to_numpy()), rtol=0, atol=1e-10)


def test_relative_weights_match_johnsons_construction_and_sum_to_r_squared(kiosk):
    x, y, _ = kiosk
    got = relative_weights(_corr(x, y))
    np.testing.assert_allclose(got, _plain_johnson(x, y), rtol=0, atol=1e-10)
    assert got.sum() == pytest.approx(_ols_r2(x, y), abs=1e-10)
    assert (got > 0).all()


def test_general_dominance_matches_all_subsets_least_squares(kiosk):
    x, y, _ = kiosk
    got = general_dominance(_corr(x, y))
    np.testing.assert_allclose(got, _plain_dominance(x, y), rtol=0, atol=1e-10)
    assert got.sum() == pytest.approx(_ols_r2(x, y), abs=1e-10)


def test_dominance_refuses_too_many_predictors():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, MAX_DOMINANCE_PREDICTORS + 1))
    y = x.sum(axis=1) + rng.normal(size=200)
    with pytest.raises(ValueError, match="predictors or fewer"):
        general_dominance(_corr(x, y))
    # key_drivers still gives relative weights, without dominance
    result = key_drivers(x, y, [f"x{i}" for i in range(x.shape[1])], resamples=20)
    assert result is not None
    assert all(d.dominance is None for d in result.drivers)


def test_a_driver_that_moves_the_outcome_ranks_first_with_an_interval_around_it():
    rng = np.random.default_rng(7)
    n = 400
    common = rng.normal(size=n)
    x = np.column_stack([common + rng.normal(size=n) for _ in range(4)])  # correlated drivers
    y = 2.0 * x[:, 2] + 0.3 * x[:, 0] + rng.normal(size=n)
    result = key_drivers(x, y, ["a", "b", "c", "d"], resamples=300)
    assert result is not None
    shares = [d.share for d in result.drivers]
    assert max(range(4), key=lambda j: shares[j]) == 2
    for d in result.drivers:
        assert d.share_low is not None and d.share_high is not None
        assert d.share_low <= d.share <= d.share_high
        assert d.dominance_low is not None and d.dominance_high is not None
    assert result.r_squared_low is not None and result.r_squared_high is not None
    assert result.r_squared_low <= result.r_squared <= result.r_squared_high
    assert sum(shares) == pytest.approx(1.0)
    # the same seed gives the same intervals: a report is rebuilt identically
    again = key_drivers(x, y, ["a", "b", "c", "d"], resamples=300)
    assert again == result


def test_bootstrap_interval_covers_the_population_weight_most_of_the_time():
    # Coverage check: the population relative weights are known from the population
    # correlation matrix; 95% percentile intervals should cover them in most samples.
    rng = np.random.default_rng(11)
    cov = np.array([[1.0, 0.5, 0.3], [0.5, 1.0, 0.4], [0.3, 0.4, 1.0]])
    beta = np.array([0.6, 0.1, 0.3])
    full = np.zeros((4, 4))
    full[:3, :3] = cov
    full[:3, 3] = full[3, :3] = cov @ beta
    full[3, 3] = beta @ cov @ beta + 1.0
    sd = np.sqrt(np.diag(full))
    truth = relative_weights(full / np.outer(sd, sd))
    covered = 0
    trials = 40
    for _ in range(trials):
        data = rng.multivariate_normal(np.zeros(4), full, size=300)
        result = key_drivers(data[:, :3], data[:, 3], ["a", "b", "c"], resamples=200, seed=int(rng.integers(1 << 30)))
        assert result is not None
        covered += all(d.weight_low <= t <= d.weight_high for d, t in zip(result.drivers, truth, strict=True))
    assert covered / trials >= 0.7  # joint coverage of three 95% intervals; 0.86 expected


def test_too_little_or_constant_data_gives_no_analysis():
    x = np.array([[1.0, 2.0], [2.0, 1.0], [3.0, 3.0]])
    assert key_drivers(x, np.array([1.0, 2.0, 3.0]), ["a", "b"]) is None  # n < p + 2
    x = np.column_stack([np.arange(10.0), np.full(10, 3.0)])
    assert key_drivers(x, np.arange(10.0) ** 2, ["a", "b"]) is None  # constant driver
    x = np.column_stack([np.arange(10.0), np.arange(10.0) * 2])
    assert key_drivers(x, np.arange(10.0) ** 2, ["a", "b"]) is None  # collinear drivers


def test_missing_answers_are_left_out_listwise(kiosk):
    x, y, _ = kiosk
    holed = x.copy()
    holed[:10, 3] = np.nan
    result = key_drivers(holed, y, list(KIOSK_DIMS), resamples=0)
    assert result is not None and result.n == len(y) - 10
    expected = relative_weights(_corr(x[10:], y[10:]))
    np.testing.assert_allclose([d.weight for d in result.drivers], expected, atol=1e-12)
    assert result.drivers[0].weight_low is None  # no resamples, no interval


def test_derived_and_stated_importance_disagree_where_ranks_are_far_apart(kiosk):
    x, y, stated = kiosk
    result = key_drivers(x, y, list(KIOSK_DIMS), resamples=200)
    assert result is not None
    rows = compare_importance(result, list(stated))
    assert [r.key for r in rows] == KIOSK_DIMS
    assert sum(r.stated_share for r in rows) == pytest.approx(1.0)
    for r in rows:
        far = abs(r.derived_rank - r.stated_rank) >= 2
        assert r.disagrees >= far  # far apart is always flagged
    # a stated weight that copies the derived shares never disagrees
    same = compare_importance(result, [d.share for d in result.drivers])
    assert not any(r.disagrees for r in same)
    with pytest.raises(ValueError):
        compare_importance(result, [1.0, 2.0])


def test_large_waves_use_a_rescaled_m_out_of_n_bootstrap_of_the_same_width(monkeypatch):
    import analysis.drivers as drivers

    rng = np.random.default_rng(5)
    n = 40_000
    common = rng.normal(size=n)
    x = np.column_stack([common + rng.normal(size=n) for _ in range(3)])
    y = x @ np.array([0.2, 0.5, 0.1]) + rng.normal(size=n)
    monkeypatch.setattr(drivers, "MAX_RESAMPLE_SIZE", 5_000)
    small = key_drivers(x, y, ["a", "b", "c"], resamples=300)
    monkeypatch.setattr(drivers, "MAX_RESAMPLE_SIZE", n)
    full = key_drivers(x, y, ["a", "b", "c"], resamples=300)
    assert small is not None and full is not None
    for s, f in zip(small.drivers, full.drivers, strict=True):
        assert s.weight == f.weight
        assert s.weight_low is not None and s.weight_high is not None
        assert f.weight_low is not None and f.weight_high is not None
        assert s.weight_low < s.weight < s.weight_high
        width_small, width_full = s.weight_high - s.weight_low, f.weight_high - f.weight_low
        assert 0.7 < width_small / width_full < 1.4
