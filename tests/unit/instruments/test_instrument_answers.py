"""Answer validation: what a respondent's form may and may not submit."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from instruments import FieldError, Importance, Instrument, list_builtin, load_builtin, validate_answers


def _valid(instrument: Instrument) -> dict:
    """A complete valid answer set: every column at the scale's midpoint."""
    mid = (instrument.scale.points + 1) // 2
    answers: dict = {
        "items": {i.key: {c: mid for c in instrument.columns} for i in instrument.items},
    }
    importance = instrument.importance
    if importance is not None and importance.kind == "allocation":
        keys = [d.key for d in instrument.dimensions]
        share = {k: importance.total // len(keys) for k in keys}
        share[keys[0]] += importance.total - sum(share.values())
        answers["importance"] = share
    elif importance is not None:
        answers["importance"] = {i.key: mid for i in instrument.items}
    if instrument.satisfaction:
        answers["satisfaction"] = {s.key: mid for s in instrument.satisfaction}
    if instrument.free_text:
        answers["comments"] = {t.key: "Thanks." for t in instrument.free_text}
    if instrument.measures:
        answers["measures"] = {m.key: 1 for m in instrument.measures}  # 1 is in every kind's range
    return answers


def _fields(errors: list[FieldError]) -> list[str]:
    return [e.field for e in errors]


def _only(errors: list[FieldError], field: str, words: str) -> None:
    assert _fields(errors) == [field], errors
    assert words in errors[0].reason


@pytest.fixture(scope="module")
def servqual() -> Instrument:
    return load_builtin("servqual")


@pytest.fixture(scope="module")
def it_servqual() -> Instrument:
    return load_builtin("it-servqual")


@pytest.mark.parametrize("instrument", list_builtin(), ids=lambda i: i.id)
def test_a_complete_answer_set_is_valid_for_every_builtin(instrument):
    assert validate_answers(instrument, _valid(instrument)) == []


def test_satisfaction_and_comments_are_optional(servqual):
    answers = _valid(servqual)
    del answers["satisfaction"], answers["comments"]
    assert validate_answers(servqual, answers) == []


# --- items --------------------------------------------------------------------------


def test_a_missing_item_names_every_column_it_lacks(servqual):
    answers = _valid(servqual)
    del answers["items"]["q07"]
    assert _fields(validate_answers(servqual, answers)) == [
        "items.q07.expectation",
        "items.q07.perception",
    ]


def test_a_missing_column_is_named(servqual):
    answers = _valid(servqual)
    del answers["items"]["q14"]["perception"]
    _only(validate_answers(servqual, answers), "items.q14.perception", "missing")


def test_zone_of_tolerance_needs_all_three_columns():
    zot = load_builtin("servqual-zot")
    answers = _valid(zot)
    answers["items"]["q03"] = {"perception": 5}
    assert _fields(validate_answers(zot, answers)) == ["items.q03.minimum", "items.q03.desired"]


def test_an_unknown_item_is_named(servqual):
    answers = _valid(servqual)
    answers["items"]["q23"] = {"expectation": 1, "perception": 1}
    _only(validate_answers(servqual, answers), "items.q23", "unknown item")


def test_an_unknown_column_is_named(servqual):
    answers = _valid(servqual)
    answers["items"]["q02"]["minimum"] = 3
    _only(validate_answers(servqual, answers), "items.q02.minimum", "unknown column")


def test_an_expectation_column_on_a_perception_only_form_is_unknown():
    servperf = load_builtin("servperf")
    answers = _valid(servperf)
    answers["items"]["q01"]["expectation"] = 4
    _only(validate_answers(servperf, answers), "items.q01.expectation", "unknown column")


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (True, "true/false"),
        (False, "true/false"),
        (4.0, "decimal"),
        (4.5, "decimal"),
        ("4", "text"),
        ([4], "a list"),
        (0, "from 1 to 7, not 0"),
        (8, "from 1 to 7, not 8"),
        (-3, "from 1 to 7, not -3"),
        (None, "not applicable is not allowed"),
    ],
)
def test_an_item_answer_must_be_a_point_of_the_scale(servqual, value, words):
    answers = _valid(servqual)
    answers["items"]["q11"]["expectation"] = value
    _only(validate_answers(servqual, answers), "items.q11.expectation", words)


def test_not_applicable_is_an_answer_where_the_scale_allows_it(it_servqual):
    answers = _valid(it_servqual)
    answers["items"]["q02"] = {"expectation": None, "perception": None}
    assert validate_answers(it_servqual, answers) == []


def test_no_opinion_on_the_9_point_zone_of_tolerance_scale():
    zot = load_builtin("servqual-zot")
    answers = _valid(zot)
    answers["items"]["q01"]["perception"] = None
    answers["items"]["q02"]["desired"] = 9
    assert validate_answers(zot, answers) == []
    answers["items"]["q02"]["desired"] = 10
    _only(validate_answers(zot, answers), "items.q02.desired", "from 1 to 9")


def test_an_item_answer_that_is_not_an_object(servqual):
    answers = _valid(servqual)
    answers["items"]["q05"] = 6
    _only(validate_answers(servqual, answers), "items.q05", "must be an object")


def test_items_are_required(servqual):
    answers = _valid(servqual)
    del answers["items"]
    _only(validate_answers(servqual, answers), "items", "required")


@given(st.integers(min_value=-20, max_value=20))
def test_exactly_the_points_1_to_7_are_accepted(value):
    servqual = load_builtin("servqual")
    answers = _valid(servqual)
    answers["items"]["q22"]["perception"] = value
    assert (validate_answers(servqual, answers) == []) == (1 <= value <= 7)


# --- importance: allocation ---------------------------------------------------------


def test_importance_is_required_when_the_instrument_asks_for_it(servqual):
    answers = _valid(servqual)
    del answers["importance"]
    _only(validate_answers(servqual, answers), "importance", "required")


def test_importance_is_refused_when_the_instrument_does_not_ask_for_it():
    servperf = load_builtin("servperf")
    answers = _valid(servperf)
    answers["importance"] = {"tangibles": 100}
    _only(validate_answers(servperf, answers), "importance", "does not ask")


def test_an_allocation_must_total_exactly_100(servqual):
    answers = _valid(servqual)
    answers["importance"]["empathy"] -= 1
    _only(validate_answers(servqual, answers), "importance", "add up to 99; they must add up to exactly 100")
    answers["importance"]["empathy"] += 2
    _only(validate_answers(servqual, answers), "importance", "add up to 101")


def test_zero_points_for_a_dimension_is_allowed(servqual):
    answers = _valid(servqual)
    answers["importance"] = {"tangibles": 0, "reliability": 100, "responsiveness": 0, "assurance": 0, "empathy": 0}
    assert validate_answers(servqual, answers) == []


@pytest.mark.parametrize(
    ("value", "words"),
    [(-10, "negative"), (10.0, "decimal"), (True, "true/false"), ("10", "text"), (None, "not null")],
)
def test_allocated_points_are_non_negative_whole_numbers(servqual, value, words):
    answers = _valid(servqual)
    answers["importance"]["assurance"] = value
    # no total is reported for a broken entry: the entry's own error says it all
    _only(validate_answers(servqual, answers), "importance.assurance", words)


def test_an_allocation_names_every_dimension(servqual):
    answers = _valid(servqual)
    answers["importance"]["reliability"] += answers["importance"].pop("responsiveness")
    _only(validate_answers(servqual, answers), "importance.responsiveness", "missing")


def test_an_unknown_dimension_in_the_allocation(servqual):
    answers = _valid(servqual)
    answers["importance"]["speed"] = 0
    _only(validate_answers(servqual, answers), "importance.speed", "unknown dimension")


def test_an_allocation_with_another_total_counts_to_that_total():
    zot = load_builtin("servqual-zot")
    custom = Instrument(
        **{f: getattr(zot, f) for f in zot.__struct_fields__ if f != "importance"},
        importance=Importance(kind="allocation", prompt="Share 10 points.", total=10),
    )
    answers = _valid(custom)
    assert sum(answers["importance"].values()) == 10
    assert validate_answers(custom, answers) == []
    answers["importance"]["tangibles"] += 90
    _only(validate_answers(custom, answers), "importance", "exactly 10")


# --- importance: rating -------------------------------------------------------------


def test_a_rating_names_every_item(it_servqual):
    answers = _valid(it_servqual)
    del answers["importance"]["q09"]
    _only(validate_answers(it_servqual, answers), "importance.q09", "missing")


@pytest.mark.parametrize(("value", "words"), [(0, "not 0"), (8, "not 8"), (None, "required"), (2.0, "decimal"), (True, "true/false")])
def test_an_importance_rating_is_a_point_of_the_scale(it_servqual, value, words):
    answers = _valid(it_servqual)
    answers["importance"]["q13"] = value
    _only(validate_answers(it_servqual, answers), "importance.q13", words)


def test_a_rating_for_an_unknown_item(it_servqual):
    answers = _valid(it_servqual)
    answers["importance"]["tangibles"] = 5
    _only(validate_answers(it_servqual, answers), "importance.tangibles", "unknown item")


# --- satisfaction and comments -----------------------------------------------------


def test_satisfaction_is_a_point_of_the_scale(servqual):
    answers = _valid(servqual)
    answers["satisfaction"]["overall"] = 9
    _only(validate_answers(servqual, answers), "satisfaction.overall", "from 1 to 7")


def test_an_unknown_satisfaction_item(servqual):
    answers = _valid(servqual)
    answers["satisfaction"]["loyalty"] = 5
    _only(validate_answers(servqual, answers), "satisfaction.loyalty", "unknown")


def test_a_comment_may_use_its_whole_limit_and_not_one_character_more(servqual):
    limit = servqual.free_text[0].max_length
    answers = _valid(servqual)
    answers["comments"]["general"] = "é" * limit
    assert validate_answers(servqual, answers) == []
    answers["comments"]["general"] = "é" * (limit + 1)
    _only(validate_answers(servqual, answers), "comments.general", f"at most {limit}")


def test_a_comment_must_be_text(servqual):
    answers = _valid(servqual)
    answers["comments"]["general"] = 42
    _only(validate_answers(servqual, answers), "comments.general", "must be text")


def test_a_comment_for_an_unknown_prompt(servqual):
    answers = _valid(servqual)
    answers["comments"]["praise"] = "Great"
    _only(validate_answers(servqual, answers), "comments.praise", "unknown text prompt")


# --- shape --------------------------------------------------------------------------


def test_an_unknown_section(servqual):
    answers = _valid(servqual)
    answers["respondent"] = "alice"
    _only(validate_answers(servqual, answers), "respondent", "unknown section")


@pytest.mark.parametrize("section", ["items", "importance", "satisfaction", "comments"])
def test_a_section_that_is_not_an_object(servqual, section):
    answers = _valid(servqual)
    answers[section] = ["not", "an", "object"]
    _only(validate_answers(servqual, answers), section, "must be an object")


@pytest.mark.parametrize("answers", [None, [], "items", 3])
def test_answers_that_are_not_an_object(servqual, answers):
    _only(validate_answers(servqual, answers), "", "must be an object")


def test_several_problems_are_all_reported_in_instrument_order(servqual):
    answers = _valid(servqual)
    answers["items"]["q20"]["perception"] = 0
    answers["items"]["q02"]["expectation"] = 8
    answers["importance"]["tangibles"] += 1
    answers["comments"]["general"] = None
    assert _fields(validate_answers(servqual, answers)) == [
        "items.q02.expectation",
        "items.q20.perception",
        "importance",
        "comments.general",
    ]
