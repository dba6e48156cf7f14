"""The built-in instrument library: every file loads and says what the literature says."""

from __future__ import annotations

import hashlib
import importlib.resources
from typing import Any

import msgspec
import pytest

from instruments import (
    Dimension,
    Instrument,
    Item,
    Scale,
    instrument_hash,
    list_builtin,
    load_builtin,
    load_instrument_bytes,
)

SERVQUAL_DIMENSIONS = {
    "tangibles": range(1, 5),
    "reliability": range(5, 10),
    "responsiveness": range(10, 14),
    "assurance": range(14, 18),
    "empathy": range(18, 23),
}
EXPECTED_DIMENSION = {
    f"q{n:02d}": dim for dim, numbers in SERVQUAL_DIMENSIONS.items() for n in numbers
}
BUILTIN_IDS = ["it-experience", "it-servqual", "pulse", "servperf", "servqual", "servqual-zot"]


def _library_text(instrument_id: str) -> str:
    path = importlib.resources.files("instruments") / "library" / f"{instrument_id}.toml"
    return path.read_text(encoding="utf-8")


def test_the_library_holds_the_five_builtins_in_id_order():
    assert [i.id for i in list_builtin()] == BUILTIN_IDS


@pytest.mark.parametrize("instrument_id", BUILTIN_IDS)
def test_each_builtin_cites_its_source_in_data_and_in_a_header(instrument_id):
    instrument = load_builtin(instrument_id)
    assert instrument.id == instrument_id
    assert len(instrument.source) > 40 and any(y in instrument.source for y in ("1991", "1992", "1994", "1995", "2010"))
    header = _library_text(instrument_id).splitlines()[:3]
    assert all(line.startswith("#") for line in header)


@pytest.mark.parametrize("instrument_id", ["servqual", "servqual-zot", "servperf"])
def test_the_22_items_sit_in_the_published_dimensions(instrument_id):
    instrument = load_builtin(instrument_id)
    assert [i.key for i in instrument.items] == [f"q{n:02d}" for n in range(1, 23)]
    assert {i.key: i.dimension for i in instrument.items} == EXPECTED_DIMENSION
    assert [d.key for d in instrument.dimensions] == list(SERVQUAL_DIMENSIONS)


def test_servqual_is_expectation_perception_on_7_points_with_a_100_point_allocation():
    servqual = load_builtin("servqual")
    assert servqual.format == "expectation-perception"
    assert servqual.scale == Scale(points=7, low_label="Strongly disagree", high_label="Strongly agree")
    assert servqual.importance is not None
    assert (servqual.importance.kind, servqual.importance.total) == ("allocation", 100)
    for item in servqual.items:
        assert "excellent IT service" in item.statements["expectation"]
        assert "excellent" not in item.statements["perception"]
    assert [s.key for s in servqual.satisfaction] == ["overall"]
    assert [t.key for t in servqual.free_text] == ["general"]


def test_zone_of_tolerance_has_three_columns_on_9_points_with_no_opinion():
    zot = load_builtin("servqual-zot")
    assert zot.format == "zone-of-tolerance"
    assert zot.columns == ("minimum", "desired", "perception")
    assert zot.scale.points == 9
    assert zot.scale.allow_not_applicable
    assert zot.scale.not_applicable_label == "No opinion"
    assert all(set(i.statements) == {"minimum", "desired", "perception"} for i in zot.items)


def test_servperf_asks_the_servqual_perceptions_and_nothing_else():
    servperf, servqual = load_builtin("servperf"), load_builtin("servqual")
    assert servperf.format == "perception-only"
    assert servperf.importance is None
    assert [i.statements for i in servperf.items] == [
        {"perception": i.statements["perception"]} for i in servqual.items
    ]


def test_it_servqual_rates_importance_per_item_for_a_service_desk():
    it = load_builtin("it-servqual")
    assert it.format == "expectation-perception"
    assert it.importance is not None and it.importance.kind == "rating"
    assert {d.key for d in it.dimensions} == set(SERVQUAL_DIMENSIONS)
    assert {i.dimension for i in it.items} == set(SERVQUAL_DIMENSIONS)
    wording = " ".join(i.statements["perception"] for i in it.items).lower()
    for word in ("ticket", "updated", "knowledge", "hours", "service desk"):
        assert word in wording


def test_pulse_has_one_servqual_perception_item_per_dimension():
    pulse, servqual = load_builtin("pulse"), load_builtin("servqual")
    assert pulse.format == "perception-only"
    assert len(pulse.items) == 5
    assert sorted(i.dimension for i in pulse.items) == sorted(SERVQUAL_DIMENSIONS)
    full = {i.key: i for i in servqual.items}
    for item in pulse.items:
        assert item.dimension == full[item.key].dimension
        assert item.statements["perception"] == full[item.key].statements["perception"]


@pytest.mark.parametrize("bad_id", ["nope", "../servqual", "servqual.toml", "", "SERVQUAL"])
def test_an_unknown_builtin_is_a_key_error(bad_id):
    with pytest.raises(KeyError):
        load_builtin(bad_id)


# --- hashing ------------------------------------------------------------------------


def _tiny(**changes) -> Instrument:
    fields: dict[str, Any] = dict(
        id="tiny",
        version="1",
        title="Tiny",
        format="perception-only",
        dimensions=(Dimension(key="d", title="D"),),
        items=(Item(key="a", dimension="d", statements={"perception": "P"}),),
    )
    fields.update(changes)
    return Instrument(**fields)


def test_the_hash_is_sha256_of_sorted_json_without_defaults():
    canonical = (
        b'{"dimensions":[{"key":"d","title":"D"}],"format":"perception-only","id":"tiny",'
        b'"items":[{"dimension":"d","key":"a","statements":{"perception":"P"}}],'
        b'"title":"Tiny","version":"1"}'
    )
    assert instrument_hash(_tiny()) == hashlib.sha256(canonical).hexdigest()


@pytest.mark.parametrize("instrument_id", BUILTIN_IDS)
def test_the_same_content_always_has_the_same_hash(instrument_id):
    loaded = load_builtin(instrument_id)
    again = load_instrument_bytes(
        _library_text(instrument_id).encode(), name="copy.toml", fmt="toml"
    )
    as_json = load_instrument_bytes(
        msgspec.json.encode(loaded), name="copy.json", fmt="json"
    )
    assert len({instrument_hash(loaded), instrument_hash(again), instrument_hash(as_json)}) == 1
    assert len(instrument_hash(loaded)) == 64


def test_writing_out_a_default_does_not_change_the_hash():
    assert instrument_hash(_tiny(scale=Scale(points=7), language="en")) == instrument_hash(_tiny())


@pytest.mark.parametrize(
    "changes",
    [
        {"title": "Tiny!"},
        {"version": "2"},
        {"scale": Scale(points=5)},
        {"scale": Scale(allow_not_applicable=True)},
        {"items": (Item(key="a", dimension="d", statements={"perception": "P."}),)},
        {"dimensions": (Dimension(key="d", title="D", description="x"),)},
    ],
)
def test_any_change_of_content_changes_the_hash(changes):
    assert instrument_hash(_tiny(**changes)) != instrument_hash(_tiny())


def test_reordering_items_changes_the_hash():
    a = Item(key="a", dimension="d", statements={"perception": "A"})
    b = Item(key="b", dimension="d", statements={"perception": "B"})
    assert instrument_hash(_tiny(items=(a, b))) != instrument_hash(_tiny(items=(b, a)))


def test_editing_one_word_of_a_builtin_changes_its_hash():
    text = _library_text("servqual")
    edited = text.replace("modern-looking equipment.", "modern equipment.", 1)
    assert edited != text
    loaded = load_instrument_bytes(edited.encode(), name="servqual.toml", fmt="toml")
    assert instrument_hash(loaded) != instrument_hash(load_builtin("servqual"))


def test_builtins_have_distinct_hashes():
    assert len({instrument_hash(i) for i in list_builtin()}) == len(BUILTIN_IDS)
