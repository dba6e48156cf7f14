"""The built-in instrument library in the database, and the language an instrument is shown in.

Every built-in version is stored once and never changed. An instrument may be offered in
several languages (:mod:`instruments.translations`); which one a page or report shows is
the reader's choice (``?lang=``), else the reader's UI locale when the instrument offers
it, else the instrument's primary language. The answers never record it.
"""

from __future__ import annotations

import asyncpg

from analysis.report import R, localize_report
from instruments import Instrument, list_builtin
from instruments.errors import N_, FieldError
from instruments.translations import find_language
from service.errors import Problem
from service.i18n import choose_locale
from service.queries import instruments as instruments_q


async def sync_builtin_instruments(conn: asyncpg.Connection) -> None:
    """Store every built-in version; a built-in edited without a new version stops start-up."""
    for instrument in list_builtin():
        summary, _ = await instruments_q.insert_instrument(conn, instrument=instrument, builtin=True, uploaded_by=None)
        if summary is None:
            raise RuntimeError(
                f"built-in instrument {instrument.id} version {instrument.version} changed without a new "
                "version number; instrument versions are immutable once stored"
            )


def reading_language(instrument: Instrument, lang: str | None, *, locale: str | None = None) -> str:
    """The language to show ``instrument`` in: ``lang`` when given (400 naming ``lang`` when
    the instrument does not offer it), else ``locale`` when offered, else the primary."""
    if lang is not None:
        found = find_language(instrument, lang)
        if found is None:
            offered = ", ".join(instrument.offered_languages)
            raise Problem(400, "bad-request", N_("{id} is not offered in {lang!r}; it is offered in {offered}",
                                                 id=instrument.id, lang=lang, offered=offered),
                          errors=[FieldError(field="lang", reason=N_("not offered (offered: {offered})",
                                                                     offered=offered))])
        return found
    if locale is not None and (found := find_language(instrument, locale)) is not None:
        return found
    return instrument.language


def in_reading_language(report: R, instrument: Instrument, *, lang: str | None, cookie: str | None,
                           accept_language: str | None) -> R:
    """``report`` (cached, computed in the primary language) with the instrument's texts in
    ``lang``, else the reader's UI language (cookie, then Accept-Language) when offered."""
    chosen = reading_language(instrument, lang, locale=choose_locale(cookie, accept_language))
    return report if chosen == instrument.language else localize_report(report, instrument.localized(chosen))
