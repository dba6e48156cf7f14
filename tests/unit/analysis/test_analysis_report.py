"""Report builder: k-suppression, candidate ranking on constructed data, CLI, charts."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import msgspec
import numpy as np
import pytest

from analysis.change import WELCH_NOTES, build_change_report
from analysis.charts import dimension_gap_chart, importance_performance_chart, item_gap_chart
from analysis.cli import main
from analysis.matrices import MatrixError, matrices_from_answers, matrices_from_csv
from analysis.parametric import welch_difference
from analysis.report import build_report
from analysis.report_types import ChangeRow, DimensionRow, ItemRow, SuppressedRow
from analysis.wording import Wording

from .analysis_helpers import make_instrument


def answers(rows):
    """rows: list of ({item: (E, P) or None}, {dim: points})."""
    out = []
    for items, imp in rows:
        out.append({"items": {k: ({"expectation": v[0], "perception": v[1]} if v else
                                  {"expectation": None, "perception": None})
                              for k, v in items.items()},
                    "importance": imp})
    return out


def num(v: object) -> float:
    """A report number (not None, not unset, not suppressed)."""
    assert isinstance(v, float)
    return v


def wire(report):
    """The report as the browser and the exports receive it (JSON decoded to builtins)."""
    return msgspec.json.decode(msgspec.json.encode(report))


def numbers_in(obj):
    """Every int/float anywhere inside obj (bools excluded)."""
    if isinstance(obj, bool):
        return []
    if isinstance(obj, (int, float)):
        return [obj]
    if isinstance(obj, dict):
        return [x for v in obj.values() for x in numbers_in(v)]
    if isinstance(obj, list):
        return [x for v in obj for x in numbers_in(v)]
    return []


INST = make_instrument({"a1": "alpha", "a2": "alpha", "b1": "beta", "c1": "gamma"})


def constructed():
    """Known answer: b1 is a moderate gap (-1.5) in a heavy dimension (90%), a1/a2 big gaps
    (-3, -3.5) in a light one (5%), c1 no gap. Priority = weight x -upper CI bound:
    b1 0.9 x ~1.2 > a2 0.05 x ~3.2 > a1 0.05 x ~2.5, so beta before alpha."""
    rows = []
    for r in range(12):
        wiggle = (r % 3) - 1  # -1, 0, 1
        rows.append(({"a1": (7, 4 + wiggle), "a2": (7, 3 + r % 2), "b1": (6, 4 + r % 2),
                      "c1": (4, 4 + wiggle)}, {"alpha": 5, "beta": 90, "gamma": 5}))
    return answers(rows)


def test_candidates_ranked_by_documented_formula():
    m = matrices_from_answers(INST, constructed())
    rep = build_report(INST, m, k_scores=5)
    dims = [c for c in rep.candidates if c.level == "dimension"]
    items = [c for c in rep.candidates if c.level == "item"]
    assert [c.target for c in dims] == ["beta", "alpha"]
    assert [c.target for c in items] == ["b1", "a2", "a1"]
    by_key = {r.key: r for r in rep.items if isinstance(r, ItemRow)}
    for c in items:
        assert c.priority == pytest.approx(c.weight * -num(by_key[c.target].ci_high))
    assert "c1" not in {c.target for c in items}
    assert (rep.priority_formula or "").startswith("priority = importance weight")
    assert "90% of the importance" in items[0].reason
    assert items[0].mean_perception == pytest.approx(4.5)
    assert items[0].mean_gap == pytest.approx(-1.5)
    assert wire(rep)["candidates"][0]["reason"] == dims[0].reason  # encodes: Python numbers only


def test_holm_is_selectable_and_more_conservative():
    m = matrices_from_answers(INST, constructed())
    bh = build_report(INST, m, adjustment="bh")
    holm = build_report(INST, m, adjustment="holm")
    assert holm.adjustment == "holm"
    for a, b in zip(bh.items, holm.items, strict=True):
        assert isinstance(a, ItemRow) and isinstance(b, ItemRow)
        assert num(b.p_holm) >= num(a.p_bh) - 1e-15
    assert all("Holm" in c.reason for c in holm.candidates)


def test_cells_below_k_are_suppressed_without_numbers():
    rows = constructed()[:7]
    for r in rows[:4]:  # only 3 respondents left answering c1
        r["items"]["c1"] = {"expectation": None, "perception": None}
    m = matrices_from_answers(INST, rows)
    rep = wire(build_report(INST, m, k_scores=5))
    c1 = next(r for r in rep["items"] if r["key"] == "c1")
    assert c1["suppressed"] is True and c1["reason"] == "fewer than k=5 responses"
    assert numbers_in(c1) == []
    gamma = next(d for d in rep["dimensions"] if d["key"] == "gamma")
    assert gamma["suppressed"] and numbers_in(gamma) == []
    # the overall mean of dimension means would reveal gamma, so it is suppressed too
    assert numbers_in(rep["overall"]) == []
    assert "c1" not in {c["target"] for c in rep["candidates"]}
    assert "gamma" not in {c["target"] for c in rep["candidates"]}
    assert numbers_in(next(i for i in rep["missing_data"]["items"] if i["key"] == "c1")) == []
    assert rep["missing_data"]["answers_left_out"]["expectation"]["not_applicable"] == \
        {"suppressed": True, "reason": "fewer than k=5 responses"}


def test_whole_report_suppressed_below_k():
    m = matrices_from_answers(INST, constructed()[:4])
    rep = wire(build_report(INST, m, k_scores=5))
    assert rep["suppressed"] is True and rep["candidates"] == []
    for part in ("n", "items", "dimensions", "overall", "importance"):
        assert numbers_in(rep[part]) == []


def test_change_between_waves_uses_welch_and_suppresses():
    before = matrices_from_answers(INST, constructed())
    after_rows = constructed()
    for r in after_rows:
        r["items"]["b1"]["perception"] = 6
    after = matrices_from_answers(INST, after_rows)
    ch = build_change_report(INST, before, after, k_scores=5)
    b1 = next(i for i in ch.items if i.key == "b1")
    assert isinstance(b1, ChangeRow) and b1.difference == pytest.approx(1.5)
    assert 0 < num(b1.ci_low) < 1.5 < num(b1.ci_high)
    small = build_change_report(INST, before, matrices_from_answers(INST, constructed()[:3]))
    assert all(isinstance(i, SuppressedRow) for i in small.items)
    assert numbers_in(wire(small)["items"]) == []


def test_change_sentences_in_the_readers_language_with_the_same_numbers():
    """Every sentence of a change report goes through the Wording; the numbers do not."""
    rows = constructed()
    for r in rows:  # the same b1 answer from everyone in both waves: no interval for b1 (and beta), a note
        r["items"]["b1"] = {**r["items"]["b1"], "perception": 4, "expectation": 6}
    before = matrices_from_answers(INST, rows)
    after_rows = constructed()
    for r in after_rows:
        r["items"]["b1"] = {**r["items"]["b1"], "perception": 5, "expectation": 6}
        r["items"]["a1"]["perception"] = 6
    after = matrices_from_answers(INST, after_rows)
    marked = Wording(gettext=lambda message: f"«{message}»")
    english = wire(build_change_report(INST, before, after, k_scores=5))
    loud = wire(build_change_report(INST, before, after, k_scores=5, wording=marked))
    assert loud["method"] == f"«{english['method']}»" and english["method"].startswith("difference = after")
    notes = {r["note"] for r in english["items"] + english["dimensions"]} - {None}
    assert notes and {r["note"] for r in loud["items"] + loud["dimensions"]} - {None} == {f"«{n}»" for n in notes}
    assert numbers_in(loud) == numbers_in(english)
    small = wire(build_change_report(INST, before, matrices_from_answers(INST, constructed()[:3]), wording=marked))
    assert {r["reason"] for r in small["items"]} == {"«fewer than k=5 responses»"}


@pytest.mark.parametrize(("a", "b"), [([1.0], [2.0, 3.0]), ([3.0, 3.0], [4.0, 4.0])])
def test_every_welch_note_is_marked_for_translation(a, b):
    """The notes parametric writes are the ones change marks: a new one would stay English in every report."""
    note = welch_difference(a, b).note
    assert note is not None and note in WELCH_NOTES


def test_zone_of_tolerance_report():
    inst = make_instrument({"q1": "d", "q2": "d"}, fmt="zone-of-tolerance")
    rows = []
    for r in range(10):
        w = r % 2
        rows.append({"items": {"q1": {"minimum": 5, "desired": 7, "perception": 2 + w},
                               "q2": {"minimum": 3, "desired": 7, "perception": 5 + w}},
                     "importance": {"d": 100}})
    rep = wire(build_report(inst, matrices_from_answers(inst, rows)))
    zones = {r["key"]: r["zone"] for r in rep["items"]}
    assert zones == {"q1": "below", "q2": "within"}
    q1 = rep["items"][0]
    assert q1["mean_gap"] == pytest.approx(-2.5) and q1["mss"]["mean"] == pytest.approx(-4.5)
    assert {c["target"] for c in rep["candidates"] if c["level"] == "item"} == {"q1"}


def test_perception_only_report_has_no_gaps_or_candidates():
    inst = make_instrument({"q1": "d", "q2": "d"}, fmt="perception-only", importance=None)
    rows = [{"items": {"q1": {"perception": 3 + r % 3}, "q2": {"perception": 5}}}
            for r in range(6)]
    rep = wire(build_report(inst, matrices_from_answers(inst, rows)))
    assert rep["candidates"] == [] and "mean_gap" not in rep["items"][0]
    assert rep["items"][0]["mean_perception"] == pytest.approx(4.0)
    assert rep["items"][1]["ci_low"] is None  # zero variance: no interval


def test_answers_with_unknown_item_or_bad_value_are_rejected():
    with pytest.raises(MatrixError, match="row 1.*zz"):
        matrices_from_answers(INST, [{"items": {"zz": {"perception": 1}}}])
    with pytest.raises(MatrixError, match="row 2.*a1.perception"):
        matrices_from_answers(INST, [{"items": {}}, {"items": {"a1": {"perception": 8}}}])


# ----------------------------------------------------------------------------- CLI

CSV = """respondent,a1.expectation,a1.perception,a2.expectation,a2.perception,b1.expectation,b1.perception,c1.expectation,c1.perception,importance.alpha,importance.beta,importance.gamma
""" + "\n".join(
    f"{r},7,{4 + (r % 3) - 1},7,{3 + r % 2},6,{4 + r % 2},4,{'NA' if r < 2 else 4},5,90,5"
    for r in range(12)
) + "\n"

TOML = """id = "tiny"
version = "1"
title = "Tiny"
format = "expectation-perception"
[importance]
kind = "allocation"
prompt = "Allocate 100 points"
[[dimensions]]
key = "alpha"
title = "Alpha"
[[dimensions]]
key = "beta"
title = "Beta"
[[dimensions]]
key = "gamma"
title = "Gamma"
""" + "".join(
    f'[[items]]\nkey = "{k}"\ndimension = "{d}"\nstatements.expectation = "e"\n'
    f'statements.perception = "p"\n'
    for k, d in (("a1", "alpha"), ("a2", "alpha"), ("b1", "beta"), ("c1", "gamma"))
)


@pytest.fixture
def files(tmp_path):
    inst = tmp_path / "tiny.toml"
    inst.write_text(TOML)
    csv = tmp_path / "responses.csv"
    csv.write_text(CSV)
    return inst, csv, tmp_path


def test_cli_json(files, capsys):
    inst, csv, _ = files
    assert main(["--instrument", str(inst), "--responses", str(csv), "--format", "json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["n"] == 12
    assert next(r for r in rep["items"] if r["key"] == "c1")["n"] == 10
    assert rep["candidates"][0]["target"] == "beta"
    assert "pairwise" in rep["missing_data"]["statement"]


def test_cli_text(files, capsys):
    inst, csv, _ = files
    assert main(["--instrument", str(inst), "--responses", str(csv), "--k", "5"]) == 0
    out = capsys.readouterr().out
    assert "Action candidates" in out and "Beta dimension" in out and "b1" in out


def test_cli_bad_value_names_row_and_column(files, capsys):
    inst, csv, tmp = files
    bad = tmp / "bad.csv"
    bad.write_text(CSV.replace("\n3,7,", "\n3,x,", 1))
    assert main(["--instrument", str(inst), "--responses", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "row 4" in err and "a1.expectation" in err


def test_cli_unknown_column_exits_2(files, capsys):
    inst, csv, tmp = files
    bad = tmp / "bad.csv"
    bad.write_text(CSV.replace("c1.perception", "c1.percepton", 1))
    assert main(["--instrument", str(inst), "--responses", str(bad)]) == 2
    assert "c1.percepton" in capsys.readouterr().err


def test_cli_builtin_servqual(tmp_path, capsys):
    from instruments.loader import load_builtin

    inst = load_builtin("servqual")
    head = [f"{i.key}.{c}" for i in inst.items for c in ("expectation", "perception")]
    head += [f"importance.{d.key}" for d in inst.dimensions]
    rng = np.random.default_rng(3)
    lines = [",".join(head)]
    for _ in range(8):
        vals = [str(int(v)) for v in rng.integers(1, 8, 2 * len(inst.items))]
        lines.append(",".join(vals + ["20"] * 5))
    f = tmp_path / "sq.csv"
    f.write_text("\n".join(lines) + "\n")
    assert main(["--instrument", "servqual", "--responses", str(f), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["n"] == 8


def test_csv_blank_is_missing_and_na_is_not_applicable():
    m = matrices_from_csv(INST, CSV)
    assert m.not_applicable["perception"][:2, 3].all()
    assert np.isnan(m.scores["perception"][:2, 3]).all()


# ----------------------------------------------------------------------------- charts


@pytest.mark.parametrize("chart", [dimension_gap_chart, item_gap_chart,
                                   importance_performance_chart])
def test_charts_are_accessible_and_csp_safe(chart):
    rows = constructed()[:7]
    for r in rows[:4]:
        r["items"]["c1"] = {"expectation": None, "perception": None}
    rep = build_report(INST, matrices_from_answers(INST, rows))
    svg = chart(rep)
    root = ET.fromstring(svg)  # well-formed
    ns = "{http://www.w3.org/2000/svg}"
    assert root.get("role") == "img"
    ids = (root.get("aria-labelledby") or "").split()
    title, desc = root.find(f"{ns}title"), root.find(f"{ns}desc")
    assert title is not None and desc is not None
    assert title.get("id") == ids[0]
    assert desc.get("id") == ids[1]
    assert " style=" not in svg and "<script" not in svg.lower() and "<style" not in svg
    if chart is not importance_performance_chart:
        assert "suppressed" in svg and "hatch" in svg
        assert "suppressed" in (desc.text or "")


def test_charts_in_the_readers_language():
    """Titles, axes, labels and descriptions come from the catalog; numbers in the reader's format."""
    from analysis.charts import score_trend_chart
    from service.i18n import wording

    german = wording("de")
    rows = constructed()[:7]
    for r in rows[:4]:
        r["items"]["c1"] = {"expectation": None, "perception": None}
    rep = build_report(INST, matrices_from_answers(INST, rows))
    dims = dimension_gap_chart(rep, wording=german)
    ET.fromstring(dims)
    assert "Lücke je Dimension" in dims and "Lücke (95-%-KI)" in dims and "unterdrückt" in dims
    assert "Gap per dimension" not in dims and "gap (95% CI)" not in dims and "suppressed" not in dims
    beta = next(r for r in rep.dimensions if r.key == "beta")
    assert isinstance(beta, DimensionRow) and isinstance(beta.mean_gap, float)
    gap = f"{beta.mean_gap:.2f}".replace(".", ",").replace("-", "−")
    assert f"Beta: Lücke {gap}, 95-%-Intervall " in dims
    assert "Wahrnehmung je Item" not in item_gap_chart(rep) and "Lücke je Item" in item_gap_chart(rep, wording=german)
    ipa = importance_performance_chart(build_report(INST, matrices_from_answers(INST, constructed())), wording=german)
    assert "Wichtigkeits-Leistungs-Analyse" in ipa and "hier ansetzen" in ipa and "Fadenkreuz" in ipa
    assert "concentrate here" not in ipa and "Importance-performance" not in ipa
    series = {"service": {"name": "Desk"}, "instrument_title": "SQ", "score": "gap", "waves": [
        {"title": "Spring", "closes_on": "2026-03-01", "n": 10, "mean": -0.5, "ci_low": -0.9, "ci_high": -0.1},
        {"title": "Autumn", "closes_on": "2026-09-01", "suppressed": True, "reason": "fewer than k=5 responses"}]}
    trend = score_trend_chart(series, wording=german)
    assert "Desk: Gesamtlücke über die Befragungswellen (SQ)" in trend
    # German dates too (the series carries ISO dates), under each wave and in the description.
    assert "Spring (abgeschlossen am 01.03.2026): −0,50, 95-%-Intervall −0,90 bis −0,10, n = 10" in trend
    assert ">01.03.2026</text>" in trend and "2026-03-01" not in trend
    english = score_trend_chart(series)
    assert "Desk: overall gap across survey waves (SQ)" in english
    assert "Spring (closed 2026-03-01): -0.50" not in english and "Spring (closed 2026-03-01): −0.50" in english
    assert ">2026-03-01</text>" in english and "01.03.2026" not in english
    # A suppressed wave's reason (English in the series the service assembles) is said in German too.
    assert "Autumn (abgeschlossen am 01.09.2026): unterdrückt (weniger als k=5 Antworten)" in trend
    assert "fewer than" not in trend
    # A report built in English, charted in German: its rows' reasons are said in German as well.
    assert "s (c1): unterdrückt (weniger als k=5 Antworten)" in item_gap_chart(rep, wording=german)


#: Report fields whose text is a key, an identifier or the instrument's own words: the same in every language.
SAME_IN_EVERY_LANGUAGE = {"key", "dimension", "level", "quadrant", "zone", "wilcoxon_method", "format", "adjustment",
                          "kind", "id", "version", "title", "wording", "target", "items"}


def texts_in(value, path=""):
    """Every string of a report with the name of the field (or list) it is in."""
    if isinstance(value, str):
        return [(path, value)]
    if isinstance(value, dict):
        return [t for key, v in sorted(value.items()) for t in texts_in(v, key)]
    if isinstance(value, list):
        return [t for v in value for t in texts_in(v, path)]
    return []


def test_the_reports_sentences_in_german_with_the_same_numbers():
    """Every sentence of the report -- suppression reasons, the statistics' notes, the importance source, the
    missing-data statement, the overall note and formula, the IPA scales -- in German; numbers and keys as in
    English."""
    from service.i18n import wording

    german = wording("de")
    rows = constructed()[:7]
    for r in rows[:4]:  # c1 (all of gamma) answered by 3: suppressed, and with it the overall scores
        r["items"]["c1"] = {"expectation": None, "perception": None}
    for r in rows:  # a2 the same for everyone: no spread, so a note instead of a test
        r["items"]["a2"] = {"expectation": 7, "perception": 3}
    m = matrices_from_answers(INST, rows)
    en, de = wire(build_report(INST, m)), wire(build_report(INST, m, wording=german))
    assert numbers_in(de) == numbers_in(en)
    c1 = next(r for r in de["items"] if r["key"] == "c1")
    assert c1["reason"] == "weniger als k=5 Antworten"
    assert next(r for r in en["items"] if r["key"] == "c1")["reason"] == "fewer than k=5 responses"
    assert next(d for d in de["dimensions"] if d["key"] == "gamma")["reason"] == "weniger als k=5 Antworten"
    assert de["overall"]["unweighted"]["reason"] == "weniger als k=5 Antworten"
    assert de["overall"]["note"] == "eine Dimension ist unterdrückt, daher auch die Gesamtwerte"
    assert de["missing_data"]["answers_left_out"]["expectation"]["not_applicable"]["reason"] == \
        "weniger als k=5 Antworten"
    assert next(i for i in de["missing_data"]["items"] if i["key"] == "c1")["reason"] == "weniger als k=5 Antworten"
    statement = de["missing_data"]["statement"]
    assert statement.startswith("Fehlende Antworten und Antworten „nicht zutreffend“ werden ausgelassen")
    assert "(Erwartung, Wahrnehmung)" in statement and "mindestens 50\u00a0%" in statement
    assert statement.endswith("Anzahlen unter k=5 werden unterdrückt.")
    assert en["missing_data"]["statement"].startswith("Missing and not-applicable answers are left out")
    assert "(expectation, perception)" in en["missing_data"]["statement"]
    a2 = next(r for r in de["items"] if r["key"] == "a2")
    assert a2["note"] == "Varianz null: Alle Antworten sind gleich, daher sind t-Test und d_z nicht definiert"
    beta = next(d for d in de["dimensions"] if d["key"] == "beta")
    assert beta["reliability"]["perception"]["note"] == "Alpha braucht mindestens zwei Items"
    assert de["importance"]["source"].startswith("mittlerer Anteil in der Punkteverteilung")
    assert de["ipa"]["importance_scale"] == "Gewicht (Anteil der Punkte)"
    assert de["ipa"]["performance"] == "mittlere Wahrnehmung"
    assert [p["quadrant"] for p in de["ipa"]["points"]] == [p["quadrant"] for p in en["ipa"]["points"]]
    assert en["ipa"]["importance_scale"] == "weight (share of points)"
    # Nothing else stays English: any text the two reports share is a key or the instrument's own words.
    same = {field for (field, a), (_, b) in zip(texts_in(en), texts_in(de), strict=True) if a == b}
    assert same <= SAME_IN_EVERY_LANGUAGE, same - SAME_IN_EVERY_LANGUAGE

    full = wire(build_report(INST, matrices_from_answers(INST, constructed()), wording=german))
    assert full["overall"]["formula"].startswith("ungewichtet = Mittelwert der mittleren Lücken der Dimensionen")
    assert "note" not in full["overall"]
    rated = make_instrument({"a1": "alpha", "b1": "beta"}, importance="rating")
    rating_rows = [{"items": {"a1": {"expectation": 6, "perception": 3 + r % 3},
                              "b1": {"expectation": 6, "perception": 4 + r % 2}},
                    "importance": {"a1": 3 + r % 4, "b1": 5 + r % 2}} for r in range(8)]
    by_rating = wire(build_report(rated, matrices_from_answers(rated, rating_rows), wording=german))
    assert by_rating["importance"]["source"].startswith("Dimensionsgewicht = Mittelwert der mittleren Bewertungen")
    assert by_rating["ipa"]["importance_scale"] == "mittlere Bewertung"
