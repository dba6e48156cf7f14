"""The UI's languages: which locale a page is shown in, its translations, and locale-aware formatting.

The catalogs are the ``.po`` files under ``service/locale/<lang>/LC_MESSAGES/messages.po``: they are the source of
truth translators edit, and they are read once at start-up with Babel's ``read_po``, so there is no compiled
``.mo`` in the repository and no build step to forget. English is the source language: its msgids are the English
text, so an untranslated string still reads correctly.

A page's locale is the visitor's own choice (the ``candor_lang`` cookie: a preference shared by everyone who picks
the same language, so it identifies nobody), else the best match for ``Accept-Language``, else English. The page
modules translate with ``js/lib/i18n.js``; a page receives, rendered into it, the messages of exactly the modules it
may run: those its template names (``asset()`` notes them) and everything they import, statically or later with
``import()`` (``service.static.module_graph``), found by the ``#:`` locations ``make i18n-extract`` records. So a
page never fetches its strings, and carries no other page's (the whole German catalog is over 50 KB; a page's share
a fraction of it). tests/integration/test_page_catalogs.py checks every page's share against its modules' ``t()``.
"""

from __future__ import annotations

import gettext
import json
from collections.abc import Callable, Mapping
from datetime import date, datetime
from functools import cache, lru_cache
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.core import negotiate_locale
from babel.dates import format_date, format_datetime
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from babel.support import Translations
from jinja2 import Environment, pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from analysis.wording import ENGLISH, Wording
from instruments.errors import Message, Param
from service import static

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DEFAULT_LOCALE = "en"
SUPPORTED = ("en", "de")
# What the language switcher shows: each language named in itself, so a reader finds their own.
LANGUAGE_NAMES = {"en": "English", "de": "Deutsch"}
LANG_COOKIE = "candor_lang"
JS_SOURCE_PREFIX = "frontend/static/js/"


def choose_locale(cookie: str | None, accept_language: str | None) -> str:
    """The page's locale: a supported cookie choice wins, then ``Accept-Language`` (q-values honoured), then English."""
    if cookie in SUPPORTED:
        return cookie
    if accept_language:
        preferred = [tag for tag, _ in _parse_accept_language(accept_language)]
        found = negotiate_locale(preferred, list(SUPPORTED), sep="-")
        if found is None:
            # "de-AT" should find "de": negotiate_locale only aliases whole tags.
            found = negotiate_locale([tag.split("-")[0] for tag in preferred], list(SUPPORTED), sep="-")
        if found:
            return found
    return DEFAULT_LOCALE


def browser_language(cookie: str | None, accept_language: str | None) -> str | None:
    """The language a browser reads Candor in (its switcher choice, else ``Accept-Language``) when it is one
    Candor speaks; None when the browser names none. At sign-in it becomes the member's mail language."""
    if cookie in SUPPORTED:
        return cookie
    if not accept_language:
        return None
    found = choose_locale(None, accept_language)
    # choose_locale falls back to English; that is the browser's language only when it asks for it.
    asked = {tag.split("-")[0].lower() for tag, _ in _parse_accept_language(accept_language)}
    return found if found in asked else None


def _parse_accept_language(header: str) -> list[tuple[str, float]]:
    """The header's language ranges, best first; malformed q-values count as 0 and ``*`` is ignored."""
    ranges: list[tuple[str, float]] = []
    for part in header.split(",")[:32]:
        tag, _, params = part.strip().partition(";")
        tag = tag.strip()
        if not tag or tag == "*" or len(tag) > 35:
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            ranges.append((tag, quality))
    return sorted(ranges, key=lambda item: -item[1])


@cache
def catalog(lang: str) -> Catalog:
    """The parsed ``.po`` of ``lang`` (read once per process)."""
    path = LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        return read_po(handle, locale=lang)


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The gettext translations of ``lang``; English is the msgids themselves. The catalog is compiled in memory
    (fuzzy entries left out, as ``msgfmt`` would), so plurals and contexts follow gettext's own rules."""
    if lang == DEFAULT_LOCALE or lang not in SUPPORTED:
        return gettext.NullTranslations()
    compiled = BytesIO()
    write_mo(compiled, catalog(lang))
    compiled.seek(0)
    return Translations(compiled)


@cache
def js_messages_by_module(lang: str) -> Mapping[str, Mapping[str, str]]:
    """The translated messages of each page module (``t()`` in ``frontend/static/js``): static name (``js/lib/base.js``)
    → msgid → text. English has none: its msgids are the text."""
    if lang == DEFAULT_LOCALE or lang not in SUPPORTED:
        return {}
    found: dict[str, dict[str, str]] = {}
    for message in catalog(lang):
        if not isinstance(message.id, str) or not message.id or message.fuzzy or not message.string:
            continue
        for path, _ in message.locations:
            if path.startswith(JS_SOURCE_PREFIX):
                module = "js/" + path.removeprefix(JS_SOURCE_PREFIX)
                found.setdefault(module, {})[message.id] = str(message.string)
    return found


def js_messages(lang: str) -> Mapping[str, str]:
    """The translated messages of every page module, msgid → text."""
    return {msgid: text for messages in js_messages_by_module(lang).values() for msgid, text in messages.items()}


def page_messages(lang: str, entries: frozenset[str]) -> Mapping[str, str]:
    """The translated messages a page whose templates name the modules ``entries`` may need, msgid → text."""
    by_module = js_messages_by_module(lang)
    found: dict[str, str] = {}
    for module in sorted(static.module_graph(entries)):
        found.update(by_module.get(module, {}))
    return found


# Keyed by the page's entry modules: as many sets as templates (and roles) combine them, a few dozen.
@lru_cache(maxsize=256)
def page_catalog_json(lang: str, entries: frozenset[str]) -> Markup | None:
    """:func:`page_messages` as JSON for the page's script element, made once per language and set of modules;
    ``None`` when the modules say nothing."""
    messages = page_messages(lang, entries)
    return _json_for_script(messages) if messages else None


class PageCatalog:
    """A page's ``<script id="i18n-catalog">``: the template notes the modules it names while it renders
    (``service.static.page_asset``, into ``modules``) and asks for ``json()`` after the last of them."""

    __slots__ = ("lang", "modules")

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.modules: set[str] = set()

    def json(self) -> Markup | None:
        """The messages of the modules named so far, as JSON for the script element; ``None`` when there are none."""
        return page_catalog_json(self.lang, frozenset(self.modules))


def _gettext(context: Context, message: str) -> str:
    return translations(context.get("locale", DEFAULT_LOCALE)).gettext(message)


def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return translations(context.get("locale", DEFAULT_LOCALE)).ngettext(singular, plural, n)


def _pgettext(context: Context, msgctxt: str, message: str) -> str:
    return translations(context.get("locale", DEFAULT_LOCALE)).pgettext(msgctxt, message)


def _locale_filter(format_value: Callable[[Any, str], str]) -> Callable[..., str]:
    @pass_context
    def apply(context: Context, value: Any, *args: Any) -> str:
        if value is None or value == "":
            return ""
        return format_value(value, context.get("locale", DEFAULT_LOCALE), *args)
    return apply


def _as_datetime(value: datetime | date | str) -> datetime | date:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def locale_date(value: Any, lang: str, style: str = "medium") -> str:
    # English keeps the ISO dates the pages always showed (one reading for British and American readers).
    day = _as_datetime(value)
    if lang == DEFAULT_LOCALE:
        return (day.date() if isinstance(day, datetime) else day).isoformat()
    return format_date(day, format=style, locale=lang)


def _format_datetime(value: Any, lang: str, style: str = "medium") -> str:
    moment = _as_datetime(value)
    if lang == DEFAULT_LOCALE:
        return moment.isoformat()
    if not isinstance(moment, datetime):
        return format_date(moment, format=style, locale=lang)
    return format_datetime(moment, format=style, locale=lang)


def locale_number(value: Any, lang: str, digits: int | None = None) -> str:
    if digits is None:
        return format_decimal(value, locale=lang)
    pattern = "#,##0." + "0" * digits if digits > 0 else "#,##0"
    return format_decimal(value, format=pattern, locale=lang)


def _format_signed(value: Any, lang: str, digits: int = 2) -> str:
    """A change with its sign always shown (``+0.40``, ``−1.20`` → ``+0,40`` in German)."""
    decimals = "." + "0" * digits if digits > 0 else ""
    return format_decimal(value, format=f"+#,##0{decimals};-#,##0{decimals}", locale=lang)


def _format_percent(value: Any, lang: str) -> str:
    return format_percent(value, locale=lang)


@cache
def wording(lang: str) -> Wording:
    """How the analysis writes its sentences for ``lang``: the catalog's translations and the locale's numbers
    (German: ``−0,70``, ``95 %``); English is the analysis' own default, so its text stays as it always was."""
    if lang == DEFAULT_LOCALE or lang not in SUPPORTED:
        return ENGLISH

    def number(value: float, digits: int, signed: bool) -> str:
        text = _format_signed(value, lang, digits) if signed else locale_number(value, lang, digits)
        return text.replace("-", "\u2212")

    return Wording(gettext=translations(lang).gettext, number=number,
                   percent=lambda value: format_percent(value, locale=lang),
                   count=lambda value: format_decimal(value, locale=lang))


def localize(text: str, lang: str) -> str:
    """``text`` said in ``lang``, as a plain ``str``: a :class:`~instruments.errors.Message` (problem details, field
    reasons) is translated from its template and filled with its parameters written the locale's way; other text is
    looked up as it is, so a marked literal is translated and unmarked text stays English. English is the text
    itself, exactly as the code wrote it."""
    if lang == DEFAULT_LOCALE or lang not in SUPPORTED or not text:
        return str(text)
    gettext = translations(lang).gettext
    if not isinstance(text, Message):
        return gettext(str(text))
    template = gettext(text.template)
    if not text.params:
        return template
    try:
        return template.format_map({name: _localized(value, lang) for name, value in text.params.items()})
    except (KeyError, IndexError, ValueError):
        return str(text)  # a translation whose placeholders do not match its template: English rather than nothing


def _localized(value: Param, lang: str) -> Param:
    if isinstance(value, Message):
        return localize(value, lang)
    if isinstance(value, str | bool):
        return value
    if isinstance(value, int | float):
        return locale_number(value, lang)
    if isinstance(value, datetime):
        return _format_datetime(value, lang)
    if isinstance(value, date):
        return locale_date(value, lang)
    return str(value)  # an id


def report_language(lang: str | None, cookie: str | None, accept_language: str | None) -> str:
    """The language of a report's own sentences: ``lang`` when it names a UI language (``de``, ``de-AT``), else
    the reader's page language."""
    if lang:
        base = lang.replace("_", "-").split("-")[0].lower()
        if base in SUPPORTED:
            return base
    return choose_locale(cookie, accept_language)


def install(environment: Environment) -> None:
    """Add ``{% trans %}``/``_()`` (new-style: ``%(name)s`` placeholders, autoescaped) and the format filters
    (``date``, ``datetime``, ``number``, ``signed``, ``percent``) to the template environment, each following the
    ``locale`` the page's context carries."""
    environment.add_extension("jinja2.ext.i18n")
    # Line breaks and indentation inside `{% trans %}` are layout, not text (as `trimmed = true` in babel.cfg).
    environment.policies["ext.i18n.trimmed"] = True
    environment.install_gettext_callables(  # pyright: ignore[reportAttributeAccessIssue]
        pass_context(_gettext), pass_context(_ngettext), newstyle=True, pgettext=pass_context(_pgettext))
    environment.filters["date"] = _locale_filter(locale_date)
    environment.filters["datetime"] = _locale_filter(_format_datetime)
    environment.filters["number"] = _locale_filter(locale_number)
    environment.filters["percent"] = _locale_filter(_format_percent)
    environment.filters["signed"] = _locale_filter(_format_signed)


def page_context(cookie: str | None, accept_language: str | None) -> dict[str, Any]:
    """What every page template needs for its language: the locale, the switcher's choices, and (for any
    locale but English) the page's :class:`PageCatalog`, with the set ``asset()`` notes its modules in."""
    lang = choose_locale(cookie, accept_language)
    if lang == DEFAULT_LOCALE:
        return {"locale": lang, "languages": LANGUAGE_NAMES, "js_catalog": None}
    page_catalog = PageCatalog(lang)
    return {
        "locale": lang,
        "languages": LANGUAGE_NAMES,
        "js_catalog": page_catalog,
        static.PAGE_MODULES: page_catalog.modules,
    }


def _json_for_script(messages: Mapping[str, str]) -> Markup:
    """JSON safe inside a ``<script>`` element: ``<``, ``>`` and ``&`` escaped so no string can close it."""
    text = json.dumps(dict(messages), ensure_ascii=False, sort_keys=True)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)  # noqa: S704 - escaped above for the script context
