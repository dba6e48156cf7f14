"""Malformed instrument files give one error naming the file, the field path and the reason."""

from __future__ import annotations

import json

import pytest

from instruments import (
    MAX_INSTRUMENT_BYTES,
    InstrumentError,
    load_instrument_bytes,
    load_instrument_file,
    validate_instrument,
)


def _base() -> dict:
    """A small valid expectation-perception instrument with every section."""
    return {
        "id": "mini",
        "version": "1",
        "title": "Mini",
        "format": "expectation-perception",
        "source": "test",
        "scale": {"points": 7, "allow_not_applicable": False},
        "importance": {"kind": "allocation", "prompt": "Share 100 points.", "total": 100},
        "dimensions": [
            {"key": "speed", "title": "Speed"},
            {"key": "care", "title": "Care"},
        ],
        "items": [
            {"key": "a", "dimension": "speed", "statements": {"expectation": "E a", "perception": "P a"}},
            {"key": "b", "dimension": "speed", "statements": {"expectation": "E b", "perception": "P b"}},
            {"key": "c", "dimension": "care", "statements": {"expectation": "E c", "perception": "P c"}},
            {"key": "d", "dimension": "care", "statements": {"expectation": "E d", "perception": "P d"}},
        ],
        "satisfaction": [{"key": "overall", "statement": "Overall fine."}],
        "free_text": [{"key": "general", "prompt": "Anything else?", "max_length": 500}],
    }


def _toml_value(value) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(value)  # str, int, float and bool are spelled alike in TOML


def _to_toml(doc: dict) -> str:
    """Just enough of a TOML writer for instrument-shaped documents."""
    lines = [f"{k} = {_toml_value(v)}" for k, v in doc.items() if not isinstance(v, (dict, list))]
    for key, value in doc.items():
        if isinstance(value, dict):
            lines += [f"[{key}]"] + [f"{k} = {_toml_value(v)}" for k, v in value.items()]
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for table in value:
                lines += [f"[[{key}]]"] + [f"{k} = {_toml_value(v)}" for k, v in table.items()]
        elif isinstance(value, list):
            lines.insert(0, f"{key} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"


def _write(tmp_path, doc: dict, fmt: str):
    path = tmp_path / f"custom.{fmt}"
    path.write_text(_to_toml(doc) if fmt == "toml" else json.dumps(doc), encoding="utf-8")
    return path


def _error_of(path) -> InstrumentError:
    with pytest.raises(InstrumentError) as info:
        load_instrument_file(path)
    return info.value


def _set(path: str, value):
    """A mutation that sets ``doc[a][0][b] = value`` for a path ``a.0.b``."""

    def mutate(doc):
        *parents, last = path.split(".")
        node = doc
        for p in parents:
            node = node[int(p)] if p.isdigit() else node[p]
        node[int(last) if last.isdigit() else last] = value

    return mutate


def _delete(path: str):
    def mutate(doc):
        *parents, last = path.split(".")
        node = doc
        for p in parents:
            node = node[int(p)] if p.isdigit() else node[p]
        del node[int(last) if last.isdigit() else last]

    return mutate


# (case id, mutation, field path, words of the reason)
BAD_FILES = [
    ("unknown-field", _set("colour", "red"), "colour", "unknown field"),
    ("unknown-item-field", _set("items.1.weight", 2), "items[1].weight", "unknown field"),
    ("missing-field", _delete("title"), "title", "required field is missing"),
    ("missing-item-key", _delete("items.2.key"), "items[2].key", "required field is missing"),
    ("wrong-type", _set("scale.points", "7"), "scale.points", "expected int, got str"),
    ("bool-as-int", _set("scale.points", True), "scale.points", "expected int, got bool"),
    ("items-not-a-list", _set("items", {"a": 1}), "items", "expected array, got object"),
    ("bad-format", _set("format", "gap"), "format", "zone-of-tolerance"),
    ("bad-importance-kind", _set("importance.kind", "vote"), "importance.kind", "allocation, rating"),
    ("bad-key-pattern", _set("items.0.key", "Q 1"), "items[0].key", "lowercase letters, digits"),
    ("empty-title", _set("dimensions.1.title", ""), "dimensions[1].title", "length >= 1"),
    ("empty-statement", _set("items.3.statements.perception", ""), "items[3].statements.perception", "length >= 1"),
    ("statement-not-text", _set("items.1.statements.expectation", 5), "items[1].statements.expectation", "expected str, got int"),
    ("unknown-column", _set("items.0.statements.feeling", "F"), "items[0].statements.feeling", "unknown column 'feeling'"),
    ("unknown-dimension", _set("items.3.dimension", "speeed"), "items[3].dimension", "unknown dimension 'speeed'"),
    ("duplicate-dimension", lambda d: d["dimensions"].append({"key": "care", "title": "Care 2"}), "dimensions[2].key", "duplicate dimension key 'care'"),
    ("duplicate-item", _set("items.2.key", "a"), "items[2].key", "duplicate item key 'a'"),
    ("one-point-scale", _set("scale.points", 1), "scale.points", "2 to 11 points, not 1"),
    ("huge-scale", _set("scale.points", 101), "scale.points", "2 to 11 points, not 101"),
    ("missing-statement", _delete("items.1.statements.expectation"), "items[1].statements.expectation", "missing"),
    ("extra-statement", _set("items.2.statements.minimum", "M"), "items[2].statements.minimum", "has no 'minimum' column"),
    ("allocation-on-perception-only", lambda d: _perception_only(d), "importance.kind", "has no gap"),
    ("allocation-total-zero", _set("importance.total", 0), "importance.total", "at least 1"),
    ("allocation-total-negative", _set("importance.total", -100), "importance.total", "at least 1"),
    ("rating-with-total", lambda d: d["importance"].update(kind="rating", total=50), "importance.total", "only an allocation"),
    ("empty-dimension", lambda d: d["dimensions"].append({"key": "looks", "title": "Looks"}), "dimensions[2]", "'looks' has no items"),
    ("no-items", _set("items", []), "items", "at least one item"),
    ("empty-version", _set("version", " "), "version", "must not be empty"),
    ("bad-language", _set("language", "english please"), "language", "not a language tag"),
    ("duplicate-satisfaction", lambda d: d["satisfaction"].append({"key": "overall", "statement": "x"}), "satisfaction[1].key", "duplicate"),
    ("duplicate-text-prompt", lambda d: d["free_text"].append({"key": "general", "prompt": "x"}), "free_text[1].key", "duplicate"),
    ("zero-text-length", _set("free_text.0.max_length", 0), "free_text[0].max_length", "1 to 20000"),
]


def _perception_only(doc):
    doc["format"] = "perception-only"
    for item in doc["items"]:
        del item["statements"]["expectation"]


@pytest.mark.parametrize("fmt", ["toml", "json"])
@pytest.mark.parametrize(("mutate", "field", "reason"), [c[1:] for c in BAD_FILES], ids=[c[0] for c in BAD_FILES])
def test_a_malformed_file_names_file_field_and_reason(tmp_path, fmt, mutate, field, reason):
    doc = _base()
    mutate(doc)
    error = _error_of(_write(tmp_path, doc, fmt))
    assert error.name == f"custom.{fmt}"
    assert [e["path"] for e in error.errors] == [field]
    assert error.errors[0]["field"] == field
    assert reason in error.errors[0]["reason"]
    assert str(error).startswith(f"custom.{fmt}: {field}: ")
    assert reason in str(error)


@pytest.mark.parametrize("fmt", ["toml", "json"])
def test_the_base_document_is_valid_so_each_case_tests_one_thing(tmp_path, fmt):
    instrument = load_instrument_file(_write(tmp_path, _base(), fmt))
    assert instrument.id == "mini"
    assert [i.dimension for i in instrument.items] == ["speed", "speed", "care", "care"]


def test_several_semantic_problems_are_reported_together(tmp_path):
    doc = _base()
    doc["items"][0]["dimension"] = "nope"
    doc["items"][3]["key"] = "c"
    error = _error_of(_write(tmp_path, doc, "toml"))
    assert [e["path"] for e in error.errors] == ["items[0].dimension", "items[3].key"]
    assert str(error).startswith("custom.toml: 2 problems: items[0].dimension: ")
    assert all(set(e) == {"field", "path", "reason"} for e in error.errors)


@pytest.mark.parametrize(
    ("change", "valid"),
    [
        ({"format": "zone-of-tolerance", "importance": {"kind": "allocation", "prompt": "p"}}, True),
        ({"format": "perception-only", "importance": {"kind": "rating", "prompt": "p"}}, True),
        ({"format": "zone-of-tolerance", "importance": {"kind": "rating", "prompt": "p"}}, True),
        ({"format": "expectation-perception", "importance": {"kind": "allocation", "prompt": "p", "total": 10}}, True),
        ({"format": "perception-only", "importance": {"kind": "allocation", "prompt": "p"}}, False),
        ({"format": "perception-only", "importance": None}, True),
    ],
)
def test_which_importance_goes_with_which_format(change, valid):
    columns = {
        "expectation-perception": ("expectation", "perception"),
        "zone-of-tolerance": ("minimum", "desired", "perception"),
        "perception-only": ("perception",),
    }[change["format"]]
    doc = _base()
    doc.update(change)
    for item in doc["items"]:
        item["statements"] = {c: f"{c} {item['key']}" for c in columns}
    data = json.dumps(doc).encode()
    if valid:
        load_instrument_bytes(data, name="x.json", fmt="json")
    else:
        with pytest.raises(InstrumentError):
            load_instrument_bytes(data, name="x.json", fmt="json")


def test_bad_toml_syntax_names_file_and_line(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text('id = "x"\ntitle = \n', encoding="utf-8")
    error = _error_of(path)
    assert error.errors[0]["path"] == ""
    assert "invalid TOML" in str(error) and "line 2" in str(error)
    assert str(error).startswith("broken.toml: ")


def test_bad_json_syntax(tmp_path):
    path = tmp_path / "broken.json"
    path.write_bytes(b'{"id": }')
    error = _error_of(path)
    assert "invalid JSON" in error.errors[0]["reason"]


def test_a_json_document_that_is_not_an_object():
    with pytest.raises(InstrumentError, match="must be an object"):
        load_instrument_bytes(b"[1, 2]", name="list.json", fmt="json")


def test_non_utf8_toml():
    with pytest.raises(InstrumentError, match="not UTF-8"):
        load_instrument_bytes(b'id = "\xff"', name="latin.toml", fmt="toml")


def test_an_unsupported_suffix_is_refused(tmp_path):
    path = tmp_path / "servqual.yaml"
    path.write_text("id: x\n", encoding="utf-8")
    error = _error_of(path)
    assert error.name == "servqual.yaml" and ".toml or .json" in str(error)


def test_an_oversized_upload_is_refused_before_parsing():
    with pytest.raises(InstrumentError, match="larger than"):
        load_instrument_bytes(b" " * (MAX_INSTRUMENT_BYTES + 1), name="big.json", fmt="json")


def test_an_unknown_fmt_is_a_caller_error():
    with pytest.raises(ValueError) as info:
        load_instrument_bytes(b"{}", name="x.yaml", fmt="yaml")  # type: ignore[arg-type]
    assert not isinstance(info.value, InstrumentError)


def test_uploads_and_files_decode_alike(tmp_path):
    doc = _base()
    from_file = load_instrument_file(_write(tmp_path, doc, "toml"))
    from_bytes = load_instrument_bytes(_to_toml(doc).encode(), name="up.toml", fmt="toml")
    assert from_file == from_bytes


def test_validate_instrument_on_a_valid_struct_is_empty(tmp_path):
    assert validate_instrument(load_instrument_file(_write(tmp_path, _base(), "json"))) == []


def test_the_file_name_only_is_reported_never_its_directory(tmp_path):
    doc = _base()
    doc["items"][0]["dimension"] = "nope"
    error = _error_of(_write(tmp_path, doc, "json"))
    assert str(tmp_path) not in str(error)


def test_the_errors_are_ready_for_problem_json():
    doc = _base()
    doc["scale"]["points"] = 1
    with pytest.raises(InstrumentError) as info:
        load_instrument_bytes(json.dumps(doc).encode(), name="up.json", fmt="json")
    assert info.value.errors == [
        {"field": "scale.points", "path": "scale.points", "reason": "a scale has 2 to 11 points, not 1"}
    ]
    json.dumps(info.value.errors)  # plain data

