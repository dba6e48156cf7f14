"""Fixtures for the analysis tests: tiny hand-made instruments and the kiosk data set."""

from __future__ import annotations

import csv
import io
import pathlib

import pytest

from instruments.schema import Instrument

from .analysis_helpers import make_instrument

DATA = pathlib.Path(__file__).resolve().parents[2] / "data" / "kiosk_kservqual"
KIOSK_DIMS = ["usefulness", "playfulness", "control", "economy", "personalization",
              "convenience", "security", "tangibility"]


@pytest.fixture(scope="session")
def kiosk_instrument() -> Instrument:
    items = {f"k{i:02d}": KIOSK_DIMS[(i - 1) // 3] for i in range(1, 25)}
    return make_instrument(items, importance="rating")


@pytest.fixture(scope="session")
def kiosk_csv() -> str:
    """The kiosk data rewritten in Candor's CSV layout (k01.expectation, ...)."""
    with open(DATA / "kiosk_kservqual_clean_n194.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    out = io.StringIO()
    w = csv.writer(out)
    head = ["respondent"]
    for i in range(1, 25):
        head += [f"k{i:02d}.expectation", f"k{i:02d}.perception", f"k{i:02d}.importance"]
    w.writerow(head)
    for r in rows:
        line = [r["respondent"]]
        for i in range(1, 25):
            line += [r[f"E{i:02d}"], r[f"P{i:02d}"], r[f"IMP{i:02d}"]]
        w.writerow(line)
    return out.getvalue()
