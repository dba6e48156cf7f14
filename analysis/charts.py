"""Accessible SVG charts of a gap report, rendered server-side (no JavaScript).

Every chart is a standalone ``<svg role="img" aria-labelledby=...>`` with a ``<title>``
and a ``<desc>`` that states the numbers in words, text labels on every mark, and
suppressed cells drawn as a hatched band labelled "suppressed" -- never as a value.
Styling uses presentation attributes only (``fill``, ``stroke``...): no ``style``
attribute and no ``<script>``, so the pages' Content-Security-Policy needs no
``unsafe-inline``.

A chart is read like the report: its titles, axes, labels and description come from
``N_()``-marked templates filled through the :class:`~analysis.wording.Wording` it is
given (English by default), numbers written the reader's way.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from html import escape
from typing import Any

from analysis.report_types import (
    UNSET,
    DimensionRow,
    GapReport,
    ItemRow,
    SuppressedRow,
    UnsetType,
    suppression_reason,
)
from analysis.wording import ENGLISH, N_, Wording

Row = ItemRow | DimensionRow | SuppressedRow

__all__ = ["dimension_gap_chart", "importance_performance_chart", "item_gap_chart", "score_trend_chart"]

WIDTH = 680
LABEL_W = 170
RIGHT_PAD = 70
ROW_H = 26
TOP = 34
BOTTOM = 34
FONT = "system-ui, sans-serif"
NEG = "#b3261e"
POS = "#1b6e3a"
NEUTRAL = "#3b5b8c"
INK = "#1f1f1f"
GRID = "#8a8a8a"  # lines only (3.4:1 on white, enough for graphics)
MUTED = "#595959"  # secondary text (7:1 on white, WCAG AA for text)


def _e(s: object) -> str:
    return escape(str(s), quote=True)


def _fmt(v: float, wording: Wording = ENGLISH) -> str:
    return wording.num(v, 2).replace("-", "−")


def _tick(v: int, wording: Wording) -> str:
    return wording.num(v, 0).replace("-", "−")


# The words of the charts. A row's description is one whole sentence per case: a translation
# cannot be put together from English pieces.
_ROW = {
    ("gap", True): N_("{name}: gap {value}, 95% interval {low} to {high}"),
    ("gap", False): N_("{name}: gap {value}"),
    ("perception", True): N_("{name}: perception {value}, 95% interval {low} to {high}"),
    ("perception", False): N_("{name}: perception {value}"),
}
_SUPPRESSED_ROW = N_("{name}: suppressed ({reason})")
_NO_DATA_ROW = N_("{name}: no data")
_SUPPRESSED = N_("suppressed")
_NO_DATA = N_("no data")
_IPA = N_("Importance-performance analysis")
#: The quadrants of :data:`analysis.importance.QUADRANTS` (keys: the report's JSON keeps them English) and the
#: report's IPA scales (a report built in English names them in English); a chart says them in its reader's
#: language.
_QUADRANTS = (N_("concentrate here"), N_("keep up the good work"), N_("low priority"), N_("possible overkill"))
_IPA_WORDS = (N_("mean rating"), N_("weight (share of points)"), N_("mean perception"), N_("item"),
              N_("dimension"))


def _open(prefix: str, title: str, desc: str, height: int) -> list[str]:
    t, d = f"{prefix}-title", f"{prefix}-desc"
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="{t} {d}" '
        f'width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" '
        f'font-family="{FONT}" font-size="12">',
        f'<title id="{t}">{_e(title)}</title>',
        f'<desc id="{d}">{_e(desc)}</desc>',
        "<defs>",
        f'<pattern id="{prefix}-hatch" patternUnits="userSpaceOnUse" width="8" height="8" '
        f'patternTransform="rotate(45)"><rect width="8" height="8" fill="#ffffff"/>'
        f'<line x1="0" y1="0" x2="0" y2="8" stroke="{GRID}" stroke-width="3"/></pattern>',
        "</defs>",
        f'<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#ffffff"/>',
    ]


def _is_suppressed(point: dict[str, Any]) -> bool:
    return bool(point.get("suppressed"))


def _value(r: ItemRow | DimensionRow, gap: bool) -> float | None:
    """The bar's value: the mean gap, or the mean perception."""
    if not gap:
        return r.mean_perception
    return r.mean_gap if r.mean_gap is not UNSET else None


def _bar_chart(rows: Sequence[Row], *, gap: bool, points: int, title: str,
               prefix: str, label_of: Callable[[Row], str], label_width: int = LABEL_W,
               wording: Wording = ENGLISH) -> str:
    """Horizontal bars (gap from 0, or perception mean) with CI whiskers per row."""
    values: list[float] = []
    for r in rows:
        if isinstance(r, SuppressedRow):
            continue
        values += [float(v) for v in (r.ci_low, r.ci_high, _value(r, gap)) if v is not None]
    if gap:
        span = max([1.0] + [abs(v) for v in values])
        lo, hi = -math.ceil(span), math.ceil(span)
        lo, hi = (min(lo, -1), max(hi, 1))
    else:
        lo, hi = 1.0, float(points)
    height = TOP + BOTTOM + ROW_H * max(len(rows), 1)
    x0, x1 = label_width, WIDTH - RIGHT_PAD

    def sx(v: float) -> float:
        return x0 + (v - lo) / (hi - lo) * (x1 - x0)

    w = wording
    parts_desc: list[str] = []
    for r in rows:
        name = label_of(r)
        if isinstance(r, SuppressedRow):
            parts_desc.append(w.say(_SUPPRESSED_ROW, name=name, reason=suppression_reason(r.reason, w)))
            continue
        v = _value(r, gap)
        if v is None:
            parts_desc.append(w.say(_NO_DATA_ROW, name=name))
            continue
        interval = r.ci_low is not None and r.ci_high is not None
        parts_desc.append(w.say(_ROW["gap" if gap else "perception", interval], name=name, value=_fmt(v, w),
                                low=_fmt(r.ci_low, w) if r.ci_low is not None else "",
                                high=_fmt(r.ci_high, w) if r.ci_high is not None else ""))
    what = (w.say(N_("Mean gap (perception minus expectation or minimum); bars left of zero are shortfalls."))
            if gap else w.say(N_("Mean perception on a 1 to {points} scale."), points=points))
    svg = _open(prefix, title, what + " " + "; ".join(parts_desc) + ".", height)
    # axis and ticks
    svg.append(f'<text x="{WIDTH / 2:.1f}" y="18" text-anchor="middle" font-size="14" '
               f'font-weight="bold" fill="{INK}">{_e(title)}</text>')
    step = 1 if hi - lo <= 12 else 2
    t = math.ceil(lo)
    base_y = height - BOTTOM
    while t <= hi + 1e-9:
        x = sx(t)
        svg.append(f'<line x1="{x:.1f}" y1="{TOP - 4}" x2="{x:.1f}" y2="{base_y}" '
                   f'stroke="{GRID}" stroke-width="{1.5 if (gap and t == 0) else 0.5}"/>')
        svg.append(f'<text x="{x:.1f}" y="{base_y + 14}" text-anchor="middle" '
                   f'fill="{INK}">{_e(_tick(t, w))}</text>')
        t += step
    axis = w.say(N_("gap (95% CI)")) if gap else w.say(N_("mean perception (95% CI)"))
    svg.append(f'<text x="{(x0 + x1) / 2:.1f}" y="{base_y + 28}" text-anchor="middle" '
               f'fill="{INK}">{_e(axis)}</text>')
    for i, r in enumerate(rows):
        y = TOP + i * ROW_H
        cy = y + ROW_H / 2
        name = label_of(r)
        svg.append(f'<text x="{x0 - 8}" y="{cy + 4:.1f}" text-anchor="end" '
                   f'fill="{INK}">{_e(name)}</text>')
        if isinstance(r, SuppressedRow):
            svg.append(f'<rect x="{x0}" y="{y + 4}" width="{x1 - x0}" height="{ROW_H - 8}" '
                       f'fill="url(#{prefix}-hatch)" stroke="{GRID}"/>')
            svg.append(f'<text x="{(x0 + x1) / 2:.1f}" y="{cy + 4:.1f}" text-anchor="middle" '
                       f'fill="{INK}" font-weight="bold">{_e(w.say(_SUPPRESSED))}</text>')
            continue
        v = _value(r, gap)
        if v is None:
            svg.append(f'<text x="{x0 + 4}" y="{cy + 4:.1f}" fill="{INK}">{_e(w.say(_NO_DATA))}</text>')
            continue
        start = sx(0.0) if gap else sx(lo)
        end = sx(v)
        colour = (NEG if v < 0 else POS) if gap else NEUTRAL
        svg.append(f'<rect x="{min(start, end):.1f}" y="{y + 6}" width="{abs(end - start):.1f}" '
                   f'height="{ROW_H - 12}" fill="{colour}" fill-opacity="0.75"/>')
        cl, ch = r.ci_low, r.ci_high
        if cl is not None and ch is not None:
            a, b = sx(cl), sx(ch)
            svg.append(f'<line x1="{a:.1f}" y1="{cy:.1f}" x2="{b:.1f}" y2="{cy:.1f}" '
                       f'stroke="{INK}" stroke-width="1.5"/>')
            for xx in (a, b):
                svg.append(f'<line x1="{xx:.1f}" y1="{cy - 5:.1f}" x2="{xx:.1f}" '
                           f'y2="{cy + 5:.1f}" stroke="{INK}" stroke-width="1.5"/>')
        svg.append(f'<text x="{x1 + 6}" y="{cy + 4:.1f}" fill="{INK}">{_e(_fmt(v, w))}</text>')
    svg.append("</svg>")
    return "\n".join(svg)


def _dimension_label(r: Row) -> str:
    if isinstance(r, ItemRow) or isinstance(r.title, UnsetType):
        return r.key
    return r.title or r.key


#: Longest item wording on a chart axis; longer statements end in an ellipsis (the full
#: wording is in the chart's description and the report's table).
LABEL_CHARS = 44
#: Room for those labels left of the item chart's bars.
ITEM_LABEL_W = 300


def _short(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1].rstrip() + "…"


def _item_label(r: Row) -> str:
    if isinstance(r, DimensionRow) or isinstance(r.dimension, UnsetType):
        return r.key
    if isinstance(r.wording, str):
        return f"{_short(r.wording)} ({r.key})"
    return f"{r.key} ({r.dimension})"


def dimension_gap_chart(report: GapReport, *, prefix: str = "dimgap", wording: Wording = ENGLISH) -> str:
    """SVG bar chart of each dimension's mean gap with its 95% interval.

    Parameters
    ----------
    report : GapReport
        From :func:`analysis.report.build_report`.
    prefix : str
        Prefix of the element ids (unique per page).
    wording : Wording
        The language of the chart's words and numbers (English by default).

    Returns
    -------
    str
        ``<svg>`` markup; perception means instead of gaps for perception-only reports.
    """
    gap = report.format != "perception-only"
    title = wording.say(N_("Gap per dimension")) if gap else wording.say(N_("Perception per dimension"))
    return _bar_chart(report.dimensions, gap=gap, points=_points(report), title=title,
                      prefix=prefix, label_of=_dimension_label, wording=wording)


def item_gap_chart(report: GapReport, *, prefix: str = "itemgap", wording: Wording = ENGLISH) -> str:
    """SVG bar chart of each item's mean gap with its 95% interval (see
    :func:`dimension_gap_chart`)."""
    gap = report.format != "perception-only"
    title = wording.say(N_("Gap per item")) if gap else wording.say(N_("Perception per item"))
    return _bar_chart(report.items, gap=gap, points=_points(report), title=title,
                      prefix=prefix, label_of=_item_label, label_width=ITEM_LABEL_W, wording=wording)


def _points(report: GapReport) -> int:
    top = 0.0
    for r in report.items:
        if isinstance(r, ItemRow):
            for v in (r.mean_perception, r.perception_ci_high):
                if v is not None:
                    top = max(top, float(v))
    return max(5, math.ceil(top)) if top <= 7 else math.ceil(top)


def importance_performance_chart(report: GapReport, *, prefix: str = "ipa", wording: Wording = ENGLISH) -> str:
    """SVG scatter of importance (x) against performance (y), crosshair at the means.

    Quadrants after Martilla & James (1977), *Journal of Marketing* 41(1), 77-79, are
    named in the plot ("concentrate here": high importance, low performance, bottom
    right); each point carries its key as a label.
    Returns a chart saying "not available" when the report has no IPA section.
    """
    w = wording
    ipa = report.ipa
    height = 420
    if not ipa:
        svg = _open(prefix, w.say(_IPA),
                    w.say(N_("Not available: the report has no importance data on at least k respondents, or fewer "
                             "than two points.")), 80)
        svg.append(f'<text x="{WIDTH / 2}" y="45" text-anchor="middle" fill="{INK}">'
                   f'{_e(w.say(N_("Importance-performance analysis: not available")))}</text>')
        svg.append("</svg>")
        return "\n".join(svg)
    pts = ipa.points
    xs = [p.importance for p in pts]
    ys = [p.performance for p in pts]
    pad_x = (max(xs) - min(xs)) * 0.15 or 0.05
    pad_y = (max(ys) - min(ys)) * 0.15 or 0.25
    xlo, xhi = min(xs) - pad_x, max(xs) + pad_x
    ylo, yhi = min(ys) - pad_y, max(ys) + pad_y
    left, right, top, bottom = 70, WIDTH - 30, 40, height - 50

    def sx(v: float) -> float:
        return left + (v - xlo) / (xhi - xlo) * (right - left)

    def sy(v: float) -> float:
        return bottom - (v - ylo) / (yhi - ylo) * (bottom - top)

    scale, performance = w.say(ipa.importance_scale), w.say(ipa.performance)
    each = (N_("Importance ({scale}) against performance ({performance}) of each item; crosshair at the means, "
               "importance {importance} and performance {performance_mean}.") if ipa.level == "item" else
            N_("Importance ({scale}) against performance ({performance}) of each dimension; crosshair at the "
               "means, importance {importance} and performance {performance_mean}."))
    desc = (w.say(each, scale=scale, performance=performance, importance=_fmt(ipa.importance_mean, w),
                  performance_mean=_fmt(ipa.performance_mean, w)) + " "
            + "; ".join(w.say(N_("{key}: importance {importance}, performance {performance}, {quadrant}"),
                              key=p.key, importance=_fmt(p.importance, w), performance=_fmt(p.performance, w),
                              quadrant=w.say(p.quadrant)) for p in pts) + ".")
    svg = _open(prefix, w.say(_IPA), desc, height)
    svg.append(f'<text x="{WIDTH / 2:.1f}" y="20" text-anchor="middle" font-size="14" '
               f'font-weight="bold" fill="{INK}">{_e(w.say(_IPA))}</text>')
    svg.append(f'<rect x="{left}" y="{top}" width="{right - left}" height="{bottom - top}" '
               f'fill="none" stroke="{GRID}"/>')
    cx, cy = sx(ipa.importance_mean), sy(ipa.performance_mean)
    svg.append(f'<line x1="{cx:.1f}" y1="{top}" x2="{cx:.1f}" y2="{bottom}" stroke="{INK}" '
               f'stroke-dasharray="4 3"/>')
    svg.append(f'<line x1="{left}" y1="{cy:.1f}" x2="{right}" y2="{cy:.1f}" stroke="{INK}" '
               f'stroke-dasharray="4 3"/>')
    for label, x, y, anchor in (
        (_QUADRANTS[0], right - 6, bottom - 8, "end"),
        (_QUADRANTS[1], right - 6, top + 16, "end"),
        (_QUADRANTS[2], left + 6, bottom - 8, "start"),
        (_QUADRANTS[3], left + 6, top + 16, "start"),
    ):
        svg.append(f'<text x="{x}" y="{y}" text-anchor="{anchor}" fill="{MUTED}" '
                   f'font-style="italic">{_e(w.say(label))}</text>')
    for p in pts:
        x, y = sx(p.importance), sy(p.performance)
        colour = NEG if p.quadrant == "concentrate here" else NEUTRAL
        svg.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="{colour}"/>')
        svg.append(f'<text x="{x + 7:.1f}" y="{y - 6:.1f}" fill="{INK}">{_e(p.key)}</text>')
    svg.append(f'<text x="{(left + right) / 2:.1f}" y="{height - 14}" text-anchor="middle" '
               f'fill="{INK}">{_e(w.say(N_("importance ({scale})"), scale=scale))}</text>')
    svg.append(f'<text x="18" y="{(top + bottom) / 2:.1f}" text-anchor="middle" fill="{INK}" '
               f'transform="rotate(-90 18 {(top + bottom) / 2:.1f})">'
               f'{_e(w.say(N_("performance ({performance})"), performance=performance))}</text>')
    svg.append("</svg>")
    return "\n".join(svg)


def score_trend_chart(series: dict[str, Any], *, prefix: str = "trend", wording: Wording = ENGLISH) -> str:
    """A service's overall score in each closed wave, oldest first, with 95% intervals.

    ``series``: ``{"service": {"name"}, "instrument_title", "score": "gap" | "perception",
    "scale_points", "waves": [{"title", "closes_on", "n", "mean", "ci_low", "ci_high"} or
    {"title", "closes_on", "suppressed": True, "reason"}]}``. A suppressed wave is drawn as
    a hatched column labelled "suppressed", never as a value. ``wording``: the language of
    its words, numbers and dates (English by default, with ISO dates).
    """
    w = wording
    waves = series.get("waves", [])
    gap = series.get("score") == "gap"
    values = [float(w[f]) for w in waves if not _is_suppressed(w)
              for f in ("mean", "ci_low", "ci_high") if isinstance(w.get(f), (int, float))]
    if gap:
        span = max([1.0] + [abs(v) for v in values])
        lo, hi = -float(math.ceil(span)), float(math.ceil(span))
    else:
        lo, hi = 1.0, float(series.get("scale_points") or 7)
    height = 300
    left, right, top, bottom = 60, WIDTH - 20, 50, height - 70
    slot = (right - left) / max(len(waves), 1)

    def sy(v: float) -> float:
        return bottom - (v - lo) / (hi - lo) * (bottom - top)

    name = str(series.get("service", {}).get("name", ""))
    instrument = str(series.get("instrument_title", ""))
    heading = (w.say(N_("{service}: overall gap across survey waves"), service=name) if gap
               else w.say(N_("{service}: overall perception across survey waves"), service=name))
    title = (w.say(N_("{service}: overall gap across survey waves ({instrument})"), service=name,
                   instrument=instrument) if gap
             else w.say(N_("{service}: overall perception across survey waves ({instrument})"), service=name,
                        instrument=instrument))
    parts: list[str] = []
    for wave in waves:
        label = w.say(N_("{title} (closed {day})"), title=wave.get("title", ""),
                      day=w.day(str(wave.get("closes_on", ""))))
        if _is_suppressed(wave):
            reason = suppression_reason(str(wave.get("reason", "")), w)
            parts.append(w.say(N_("{label}: suppressed ({reason})"), label=label, reason=reason))
        elif wave.get("mean") is None:
            parts.append(w.say(N_("{label}: no data"), label=label))
        elif wave.get("ci_low") is not None and wave.get("ci_high") is not None:
            parts.append(w.say(N_("{label}: {mean}, 95% interval {low} to {high}, n = {n}"), label=label,
                               mean=_fmt(wave["mean"], w), low=_fmt(wave["ci_low"], w), high=_fmt(wave["ci_high"], w),
                               n=wave.get("n")))
        else:
            parts.append(w.say(N_("{label}: {mean}, n = {n}"), label=label, mean=_fmt(wave["mean"], w),
                               n=wave.get("n")))
    intro = (w.say(N_("Mean overall gap per wave (perception minus expectation or minimum; below zero is a "
                      "shortfall).")) if gap else w.say(N_("Mean overall perception per wave.")))
    desc = intro + " " + ("; ".join(parts) if parts else w.say(N_("No closed waves yet"))) + "."
    svg = _open(prefix, title, desc, height)
    svg.append(f'<text x="{WIDTH / 2:.1f}" y="18" text-anchor="middle" font-size="14" '
               f'font-weight="bold" fill="{INK}">{_e(heading[:80])}</text>')
    svg.append(f'<text x="{WIDTH / 2:.1f}" y="34" text-anchor="middle" fill="{MUTED}">'
               f'{_e(instrument[:90])}</text>')
    step = 1 if hi - lo <= 12 else 2
    t = math.ceil(lo)
    while t <= hi + 1e-9:
        y = sy(t)
        svg.append(f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="{GRID}" '
                   f'stroke-width="{1.5 if (gap and t == 0) else 0.5}"/>')
        svg.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="{INK}">'
                   f'{_e(_tick(t, w))}</text>')
        t += step
    axis = w.say(N_("overall gap (95% CI)")) if gap else w.say(N_("overall perception (95% CI)"))
    svg.append(f'<text x="16" y="{(top + bottom) / 2:.1f}" text-anchor="middle" fill="{INK}" '
               f'transform="rotate(-90 16 {(top + bottom) / 2:.1f})">{_e(axis)}</text>')
    if not waves:
        svg.append(f'<text x="{(left + right) / 2:.1f}" y="{(top + bottom) / 2:.1f}" text-anchor="middle" '
                   f'fill="{INK}">{_e(w.say(N_("no closed waves yet")))}</text>')
    previous = None
    for i, wave in enumerate(waves):
        cx = left + slot * (i + 0.5)
        svg.append(f'<text x="{cx:.1f}" y="{bottom + 18}" text-anchor="middle" fill="{INK}">'
                   f'{_e(str(wave.get("title", ""))[:28])}</text>')
        svg.append(f'<text x="{cx:.1f}" y="{bottom + 34}" text-anchor="middle" fill="{MUTED}">'
                   f'{_e(w.day(str(wave.get("closes_on", ""))))}</text>')
        if _is_suppressed(wave) or wave.get("mean") is None:
            svg.append(f'<rect x="{cx - 22:.1f}" y="{top}" width="44" height="{bottom - top}" '
                       f'fill="url(#{prefix}-hatch)" stroke="{GRID}"/>')
            svg.append(f'<text x="{cx:.1f}" y="{(top + bottom) / 2:.1f}" text-anchor="middle" fill="{INK}" '
                       f'font-weight="bold">{_e(w.say(_SUPPRESSED if _is_suppressed(wave) else _NO_DATA))}</text>')
            previous = None
            continue
        y = sy(float(wave["mean"]))
        if wave.get("ci_low") is not None and wave.get("ci_high") is not None:
            a, b = sy(float(wave["ci_low"])), sy(float(wave["ci_high"]))
            svg.append(f'<line x1="{cx:.1f}" y1="{a:.1f}" x2="{cx:.1f}" y2="{b:.1f}" stroke="{INK}" '
                       f'stroke-width="1.5"/>')
            for yy in (a, b):
                svg.append(f'<line x1="{cx - 6:.1f}" y1="{yy:.1f}" x2="{cx + 6:.1f}" y2="{yy:.1f}" '
                           f'stroke="{INK}" stroke-width="1.5"/>')
        if previous is not None:
            svg.append(f'<line x1="{previous[0]:.1f}" y1="{previous[1]:.1f}" x2="{cx:.1f}" y2="{y:.1f}" '
                       f'stroke="{NEUTRAL}" stroke-width="1" stroke-dasharray="4 3"/>')
        colour = (NEG if float(wave["mean"]) < 0 else POS) if gap else NEUTRAL
        svg.append(f'<circle cx="{cx:.1f}" cy="{y:.1f}" r="5" fill="{colour}"/>')
        svg.append(f'<text x="{cx + 9:.1f}" y="{y - 6:.1f}" fill="{INK}">{_e(_fmt(float(wave["mean"]), w))}</text>')
        previous = (cx, y)
    svg.append("</svg>")
    return "\n".join(svg)
