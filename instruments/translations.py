"""An instrument's texts in several languages: checking the translations and applying one.

The layout is described in :mod:`instruments.schema` (module notes and
:data:`~instruments.schema.TRANSLATABLE`). Everything here works on *text slots*: one
text the form shows, addressed by the path a translation table uses for it
(``("items", "q03", "perception")``). Both the check and the localization walk the same
slots, so a section added to ``TRANSLATABLE`` is checked and translated with no code here.

Why a translation may not leave a shown text out (rather than falling back to the
primary language): a respondent who picked German and met one English statement could
read it differently from their colleagues, and nobody analysing the wave would know which
answers were given to which wording.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, NamedTuple, cast

import msgspec

from instruments.errors import N_, FieldError
from instruments.schema import TRANSLATABLE, Instrument

__all__ = ["LANGUAGE_TAG", "find_language", "localize", "translation_errors"]

#: A language tag as the loader accepts it: ``en``, ``de``, ``de-CH``, ``pt-BR``.
LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")

#: Longest translated text, as for the instrument's own texts (``schema.Text``).
MAX_TEXT = 2000


class _Slot(NamedTuple):
    path: tuple[str, ...]
    text: str
    required: bool
    #: For a tuple of texts (a measure's labels): how many the translation lists.
    length: int | None = None


def find_language(instrument: Instrument, requested: str) -> str | None:
    """The offered language ``requested`` names (tags compare case-insensitively), or None."""
    wanted = requested.strip().lower()
    return next((lang for lang in instrument.offered_languages if lang.lower() == wanted), None)


def localize(instrument: Instrument, lang: str) -> Instrument:
    """``instrument`` with the texts of ``lang``; see :meth:`Instrument.localized`.

    Raises ``KeyError`` when ``lang`` is not one of the instrument's languages.
    """
    found = find_language(instrument, lang)
    if found is None:
        raise KeyError(lang)
    if found == instrument.language:
        return msgspec.structs.replace(instrument, translations={})
    texts = dict(_leaves(instrument.translations.get(found, {}), ()))
    changes: dict[str, Any] = {}
    for section, fields in TRANSLATABLE.items():
        if section == "":
            changes.update(_replaced(instrument, fields, (), texts, keyed=False))
            continue
        value = getattr(instrument, section)
        if isinstance(value, msgspec.Struct):
            changes[section] = msgspec.structs.replace(value, **_replaced(value, fields, (section,), texts, keyed=False))
        elif isinstance(value, tuple):
            entries = cast("tuple[msgspec.Struct, ...]", value)
            changes[section] = tuple(
                msgspec.structs.replace(e, **_replaced(e, fields, (section, _key(e)), texts, keyed=True))
                for e in entries
            )
    return msgspec.structs.replace(instrument, **changes, language=found, translations={})


def translation_errors(instrument: Instrument) -> list[FieldError]:
    """What is wrong with the instrument's ``languages`` and ``translations``; empty when nothing."""
    errors: list[FieldError] = []

    def add(field: str, reason: str) -> None:
        errors.append(FieldError(field=field, reason=reason))

    declared: dict[str, int] = {}
    for i, lang in enumerate(instrument.languages):
        if not LANGUAGE_TAG.match(lang):
            add(f"languages[{i}]", N_("{lang!r} is not a language tag such as 'en' or 'de-CH'", lang=lang))
        elif lang.lower() in declared:
            add(f"languages[{i}]", N_("{lang!r} is listed twice (also languages[{first}])",
                                      lang=lang, first=declared[lang.lower()]))
        else:
            declared[lang.lower()] = i
    if instrument.languages and instrument.language not in instrument.languages:
        add("languages", N_("must include the primary language {language!r}", language=instrument.language))
    offered = ", ".join(instrument.offered_languages)

    slots = list(_slots(instrument))
    known = {slot.path: slot for slot in slots}
    for lang, table in instrument.translations.items():
        where = f"translations.{lang}"
        if lang == instrument.language:
            add(where, N_("{lang!r} is the primary language: its texts are the instrument's own fields", lang=lang))
            continue
        if lang not in instrument.offered_languages:
            add(where, N_("language {lang!r} is not declared in languages (declared: {offered})",
                          lang=lang, offered=offered))
            continue
        given: set[tuple[str, ...]] = set()
        for path, value in _leaves(table, ()):
            field = ".".join((where, *path))
            if path not in known:
                add(field, N_("unknown field: the instrument has no such text to translate into {lang!r}", lang=lang))
            elif (count := known[path].length) is not None:
                texts = cast("list[Any]", value) if isinstance(value, list) else []
                if len(texts) != count or not all(isinstance(t, str) and t.strip() for t in texts):
                    add(field, N_("must list {count} non-empty texts, one for each of the primary language's",
                                  count=count))
                else:
                    given.add(path)
            elif not isinstance(value, str):
                add(field, N_("must be text, not {kind}", kind=type(value).__name__))
            elif len(value) > MAX_TEXT:
                add(field, N_("longer than {limit} characters", limit=MAX_TEXT))
            elif value.strip():
                given.add(path)
        for slot in slots:
            if slot.required and slot.path not in given:
                add(".".join((where, *slot.path)),
                    N_("missing: language {lang!r} is declared, so this text needs its {lang!r} wording (in {language!r}: {excerpt})", lang=lang, language=instrument.language, excerpt=_excerpt(slot.text)))
    for lang in instrument.offered_languages:
        if lang != instrument.language and lang not in instrument.translations:
            add(f"translations.{lang}",
                N_("missing: language {lang!r} is declared but has no [translations.{lang}] table", lang=lang))
    return errors


# --- helpers -------------------------------------------------------------------------


def _slots(instrument: Instrument) -> Iterator[_Slot]:
    """Every translatable text of the instrument, in document order.

    An entry of a keyed list section with a single text field is translated by the text
    itself (``satisfaction.<key> = "..."``, ``items.<key>.<column>``); otherwise the
    fields are named (``dimensions.<key>.title``, ``scale.low_label``).
    """
    for section, fields in TRANSLATABLE.items():
        if section == "":
            yield from _struct_slots(instrument, instrument, section, fields, (), keyed=False)
            continue
        value = getattr(instrument, section, None)
        if isinstance(value, msgspec.Struct):
            yield from _struct_slots(instrument, value, section, fields, (section,), keyed=False)
        elif isinstance(value, tuple):
            for entry in cast("tuple[msgspec.Struct, ...]", value):
                yield from _struct_slots(instrument, entry, section, fields, (section, _key(entry)),
                                         keyed=True)


def _struct_slots(instrument: Instrument, struct: msgspec.Struct, section: str,
                  fields: tuple[str, ...], prefix: tuple[str, ...], *, keyed: bool) -> Iterator[_Slot]:
    single = keyed and len(fields) == 1
    for field in fields:
        value = getattr(struct, field)
        base = prefix if single else (*prefix, field)
        shown = _shown(instrument, section, field)
        if isinstance(value, dict):
            for name, text in cast("dict[str, str]", value).items():
                yield _Slot((*base, name), text, shown and bool(text.strip()))
        elif isinstance(value, str):
            yield _Slot(base, value, shown and bool(value.strip()))
        elif isinstance(value, tuple) and value:
            texts = cast("tuple[str, ...]", value)
            yield _Slot(base, " / ".join(texts), shown, length=len(texts))


def _shown(instrument: Instrument, section: str, field: str) -> bool:
    """Whether the form shows this text at all (an unshown text need not be translated)."""
    if section == "scale" and field == "not_applicable_label":
        return instrument.scale.allow_not_applicable
    if section == "importance" and field in ("low_label", "high_label"):
        return instrument.importance is not None and instrument.importance.kind == "rating"
    return True


def _replaced(struct: msgspec.Struct, fields: tuple[str, ...], prefix: tuple[str, ...],
              texts: dict[tuple[str, ...], Any], *, keyed: bool) -> dict[str, Any]:
    """The changed fields of one struct: each translated text in place of the primary one."""
    single = keyed and len(fields) == 1
    out: dict[str, Any] = {}
    for field in fields:
        value = getattr(struct, field)
        base = prefix if single else (*prefix, field)
        if isinstance(value, dict):
            primary = cast("dict[str, str]", value)
            out[field] = {name: _text(texts.get((*base, name)), text) for name, text in primary.items()}
        elif isinstance(value, str):
            out[field] = _text(texts.get(base), value)
        elif isinstance(value, tuple) and value:
            translated = texts.get(base)
            if isinstance(translated, list) and len(cast("list[Any]", translated)) == len(cast("tuple[Any, ...]", value)):
                out[field] = tuple(cast("list[str]", translated))
    return out


def _text(translated: Any, primary: str) -> str:
    return translated if isinstance(translated, str) and translated.strip() else primary


def _key(entry: msgspec.Struct) -> str:
    return str(getattr(entry, "key", ""))


def _leaves(table: Any, prefix: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    """``(path, value)`` for every non-table value of a nested translation table."""
    if not isinstance(table, dict):
        yield prefix, table
        return
    for name, value in cast("dict[str, Any]", table).items():
        yield from _leaves(value, (*prefix, str(name)))


def _excerpt(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")
