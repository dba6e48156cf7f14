"""WCAG 2.2 AA contrast (1.4.3): every text colour the pages and charts use reaches
4.5:1 on every background it can sit on. Relative luminance and contrast ratio as
defined in WCAG 2.2, "relative luminance" and "contrast ratio"."""

from __future__ import annotations

import re
from itertools import product
from pathlib import Path

import pytest

from analysis import charts

CSS = (Path(__file__).resolve().parents[3] / "frontend" / "static" / "css" / "candor.css").read_text()
VARIABLES = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})", CSS))

TEXT = ["ink", "muted", "accent", "danger", "ok"]
BACKGROUNDS = ["paper", "wash", "danger-wash", "ok-wash", "warn-wash"]


def luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_reference_values():
    # Black on white is 21:1; WCAG's own example grey #777777 on white is about 4.48:1.
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


@pytest.mark.parametrize(("text", "background"), list(product(TEXT, BACKGROUNDS)))
def test_page_text_colours(text, background):
    assert contrast(VARIABLES[text], VARIABLES[background]) >= 4.5


def test_text_on_accent_buttons():
    assert contrast(VARIABLES["accent-ink"], VARIABLES["accent"]) >= 4.5


def test_input_borders_are_visible():
    # 1.4.11 non-text contrast: component boundaries need 3:1.
    assert contrast(VARIABLES["line"], VARIABLES["paper"]) >= 3.0


@pytest.mark.parametrize("name", ["INK", "MUTED", "NEG", "POS", "NEUTRAL"])
def test_chart_text_colours(name):
    assert contrast(getattr(charts, name), "#ffffff") >= 4.5


def test_chart_text_uses_no_light_grey():
    source = Path(charts.__file__).read_text()
    for line in source.splitlines():
        if "<text" in line:
            assert "{GRID}" not in line, line
