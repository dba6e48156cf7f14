"""Instruments in several languages: the loader's refusals and Instrument.localized()."""

from __future__ import annotations

import msgspec
import pytest

from instruments import Instrument, InstrumentError, instrument_hash, list_builtin, load_builtin, load_instrument_bytes
from instruments.loader import _canonical  # pyright: ignore[reportPrivateUsage]
from instruments.translations import find_language

BASE = """
id = "lab"
version = "1"
title = "Lab survey"
language = "en"
languages = ["en", "de"]
format = "expectation-perception"

[scale]
points = 5
low_label = "Disagree"
high_label = "Agree"

[importance]
kind = "allocation"
prompt = "Share 100 points."

[[dimensions]]
key = "speed"
title = "Speed"
description = "How fast."

[[dimensions]]
key = "care"
title = "Care"

[[items]]
key = "q1"
dimension = "speed"
statements.expectation = "An excellent desk will be fast."
statements.perception = "The desk is fast."

[[items]]
key = "q2"
dimension = "care"
statements.expectation = "An excellent desk will care."
statements.perception = "The desk cares."

[[satisfaction]]
key = "overall"
statement = "Overall I am satisfied."

[[free_text]]
key = "general"
prompt = "Anything else?"

[translations.de]
title = "Laborumfrage"
scale.low_label = "Stimme nicht zu"
scale.high_label = "Stimme zu"
importance.prompt = "Verteilen Sie 100 Punkte."
dimensions.speed.title = "Tempo"
dimensions.speed.description = "Wie schnell."
dimensions.care.title = "Sorgfalt"
items.q1.expectation = "Ein exzellenter Service wird schnell sein."
items.q1.perception = "Der Service ist schnell."
items.q2.expectation = "Ein exzellenter Service wird sorgfältig sein."
items.q2.perception = "Der Service ist sorgfältig."
satisfaction.overall = "Insgesamt bin ich zufrieden."
free_text.general = "Noch etwas?"
"""


def _load(text: str) -> Instrument:
    return load_instrument_bytes(text.encode(), name="lab.toml", fmt="toml")


def _refused(text: str) -> dict[str, str]:
    with pytest.raises(InstrumentError) as caught:
        _load(text)
    return {e["field"]: e["reason"] for e in caught.value.errors}


def test_a_complete_translation_loads_and_localizes_every_text():
    lab = _load(BASE)
    assert lab.offered_languages == ("en", "de")
    de = lab.localized("de")
    assert de.language == "de" and de.translations == {}
    assert de.title == "Laborumfrage"
    assert (de.scale.low_label, de.scale.high_label, de.scale.points) == ("Stimme nicht zu", "Stimme zu", 5)
    assert de.importance is not None and de.importance.prompt == "Verteilen Sie 100 Punkte."
    assert [(d.key, d.title, d.description) for d in de.dimensions] == [
        ("speed", "Tempo", "Wie schnell."), ("care", "Sorgfalt", "")]
    assert [i.statements for i in de.items] == [
        {"expectation": "Ein exzellenter Service wird schnell sein.", "perception": "Der Service ist schnell."},
        {"expectation": "Ein exzellenter Service wird sorgfältig sein.", "perception": "Der Service ist sorgfältig."}]
    assert de.satisfaction[0].statement == "Insgesamt bin ich zufrieden."
    assert de.free_text[0].prompt == "Noch etwas?"
    # Keys, order, format and scale are the instrument's own: answers do not depend on the language.
    assert [(i.key, i.dimension) for i in de.items] == [(i.key, i.dimension) for i in lab.items]
    assert (de.format, de.scale.points, de.importance.kind) == (lab.format, 5, "allocation")


def test_localized_to_the_primary_language_is_the_instrument_without_translations():
    lab = _load(BASE)
    en = lab.localized("en")
    assert en == msgspec.structs.replace(lab, translations={})
    assert lab.localized("EN").title == "Lab survey"


def test_an_unoffered_language_is_a_key_error():
    lab = _load(BASE)
    with pytest.raises(KeyError):
        lab.localized("fr")
    assert find_language(lab, "DE") == "de" and find_language(lab, "fr") is None


def test_a_missing_item_statement_is_refused_naming_item_column_and_language():
    errors = _refused(BASE.replace('items.q2.perception = "Der Service ist sorgfältig."\n', ""))
    assert list(errors) == ["translations.de.items.q2.perception"]
    assert "'de'" in errors["translations.de.items.q2.perception"]
    assert "missing" in errors["translations.de.items.q2.perception"]


@pytest.mark.parametrize(("line", "field"), [
    ('title = "Laborumfrage"\n', "translations.de.title"),
    ('scale.high_label = "Stimme zu"\n', "translations.de.scale.high_label"),
    ('importance.prompt = "Verteilen Sie 100 Punkte."\n', "translations.de.importance.prompt"),
    ('dimensions.speed.title = "Tempo"\n', "translations.de.dimensions.speed.title"),
    ('dimensions.speed.description = "Wie schnell."\n', "translations.de.dimensions.speed.description"),
    ('satisfaction.overall = "Insgesamt bin ich zufrieden."\n', "translations.de.satisfaction.overall"),
    ('free_text.general = "Noch etwas?"\n', "translations.de.free_text.general"),
])
def test_every_shown_text_is_required(line, field):
    assert line in BASE
    assert list(_refused(BASE.replace(line, ""))) == [field]


def test_an_empty_translation_counts_as_missing():
    errors = _refused(BASE.replace('"Der Service ist schnell."', '"  "'))
    assert list(errors) == ["translations.de.items.q1.perception"]


def test_a_declared_language_without_a_table_is_refused():
    text = BASE.replace('languages = ["en", "de"]', 'languages = ["en", "de", "fr"]')
    assert _refused(text) == {"translations.fr": "missing: language 'fr' is declared but has no [translations.fr] table"}


def test_translations_for_an_undeclared_language_are_refused():
    errors = _refused(BASE.replace('languages = ["en", "de"]\n', ""))
    assert list(errors) == ["translations.de"]
    assert "not declared" in errors["translations.de"]


def test_a_translation_of_the_primary_language_is_refused():
    text = BASE + '\n[translations.en]\ntitle = "Lab"\n'
    assert list(_refused(text)) == ["translations.en"]


@pytest.mark.parametrize(("line", "field"), [
    ('items.q3.perception = "Gibt es nicht."\n', "translations.de.items.q3.perception"),
    ('items.q1.desired = "Gewünscht."\n', "translations.de.items.q1.desired"),
    ('dimensions.speed.subtitle = "x"\n', "translations.de.dimensions.speed.subtitle"),
    ('version = "2"\n', "translations.de.version"),
    ('measures.nope.statement = "x"\n', "translations.de.measures.nope.statement"),
])
def test_unknown_keys_in_a_translation_are_refused(line, field):
    errors = _refused(BASE + line)
    assert list(errors) == [field]
    assert errors[field].startswith("unknown field")


def test_a_translation_must_be_text():
    errors = _refused(BASE.replace('free_text.general = "Noch etwas?"', "free_text.general = 3"))
    assert "translations.de.free_text.general" in errors


@pytest.mark.parametrize(("languages", "field"), [
    ('["de"]', "languages"),                 # the primary is not among them
    ('["en", "de", "DE"]', "languages[2]"),  # twice
    ('["en", "de", "d e"]', "languages[2]"),  # not a tag
])
def test_the_language_list_itself_is_checked(languages, field):
    errors = _refused(BASE.replace('languages = ["en", "de"]', f"languages = {languages}"))
    assert field in errors


def test_texts_the_form_never_shows_need_no_translation():
    # No N/A on this scale, and an allocation has no rating anchors: neither label is
    # translated, and the instrument loads.
    lab = _load(BASE)
    assert not lab.scale.allow_not_applicable
    assert lab.localized("de").scale.not_applicable_label == "Not applicable"
    # Once the form shows N/A, its label must be translated.
    with_na = BASE.replace("[scale]\n", "[scale]\nallow_not_applicable = true\n")
    assert list(_refused(with_na)) == ["translations.de.scale.not_applicable_label"]
    fixed = with_na.replace('scale.high_label = "Stimme zu"\n',
                            'scale.high_label = "Stimme zu"\nscale.not_applicable_label = "Keine Angabe"\n')
    assert _load(fixed).localized("de").scale.not_applicable_label == "Keine Angabe"


def test_an_instrument_without_languages_keeps_its_hash():
    # An instrument written before languages existed: no languages, no translations.
    pulse = msgspec.structs.replace(load_builtin("pulse"), languages=(), translations={})
    plain = msgspec.to_builtins(pulse)
    del plain["languages"], plain["translations"]
    assert instrument_hash(msgspec.convert(plain, Instrument)) == instrument_hash(pulse)
    assert b"translations" not in msgspec.json.encode(_canonical(pulse))
    # ... and a translation is content: it changes the hash.
    assert instrument_hash(_load(BASE)) != instrument_hash(msgspec.structs.replace(_load(BASE), translations={}))


GERMAN = ["servqual", "servperf", "servqual-zot", "it-servqual", "pulse"]


@pytest.mark.parametrize("instrument_id", GERMAN)
def test_the_servqual_family_ships_in_english_and_german(instrument_id):
    instrument = load_builtin(instrument_id)
    assert instrument.offered_languages == ("en", "de")
    de = instrument.localized("de")
    english = [s for i in instrument.items for s in i.statements.values()]
    german = [s for i in de.items for s in i.statements.values()]
    assert len(german) == len(english) and not set(german) & set(english)
    assert de.title != instrument.title
    assert [d.title for d in de.dimensions] != [d.title for d in instrument.dimensions]


@pytest.mark.parametrize("instrument_id", GERMAN)
def test_the_german_files_say_the_wording_is_candors_translation(instrument_id):
    import importlib.resources
    text = (importlib.resources.files("instruments") / "library" / f"{instrument_id}.toml").read_text("utf-8")
    header = "\n".join(line for line in text.splitlines() if line.startswith("#"))
    assert "German" in header and "not a published" in header


def test_every_builtin_localizes_to_every_language_it_offers():
    for instrument in list_builtin():
        for lang in instrument.offered_languages:
            localized = instrument.localized(lang)
            assert [i.key for i in localized.items] == [i.key for i in instrument.items]
