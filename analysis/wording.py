"""The sentences the analysis writes, in the reader's language, without analysis knowing any language.

A report's numbers are the same for every reader, but its sentences (evidence, notes, definitions, caveats) are
read by people: a German reader should get them in German, with a decimal comma. The analysis stays pure: it
marks each sentence as an English template with named placeholders (``N_("Gap {gap} ({interval})")``), which is
what ``make i18n-extract`` collects, and fills it through a :class:`Wording` it is given. The service builds a
German one from its catalogs and Babel; the default, :data:`ENGLISH`, translates nothing and formats numbers as
the report always did, so English output does not change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date


def N_(message: str) -> str:  # noqa: N802 - gettext's own name for a marker the extractor knows
    """Mark ``message`` for extraction; translation happens later, in :meth:`Wording.say`."""
    return message


def _identity(message: str) -> str:
    return message


def english_number(value: float, digits: int = 2, signed: bool = False) -> str:
    """``value`` with ``digits`` decimals (a ``+`` before positives when ``signed``), as ``format`` writes it."""
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def english_percent(value: float) -> str:
    """A share as a whole percentage (``0.95`` → ``95%``)."""
    return f"{value:.0%}"


def english_count(value: int) -> str:
    """A large count with thousands separators (``2,000``)."""
    return f"{value:,}"


@dataclass(frozen=True, slots=True)
class Wording:
    """How sentences are translated and numbers written for one reader's language."""

    gettext: Callable[[str], str] = _identity
    number: Callable[[float, int, bool], str] = english_number
    percent: Callable[[float], str] = english_percent
    count: Callable[[int], str] = english_count

    def say(self, template: str, **values: object) -> str:
        """``template`` (an English msgid) translated, its ``{name}`` placeholders filled with ``values``."""
        return self.gettext(template).format(**values)

    def num(self, value: float, digits: int = 2, *, signed: bool = False) -> str:
        return self.number(value, digits, signed)

    def day(self, value: str | date) -> str:
        """A calendar day (an ISO ``2026-09-01`` or a :class:`~datetime.date`) the reader's way: the order is
        the catalog's (``01.09.2026`` in German), English keeps the ISO date; text that is no date is kept."""
        try:
            found = value if isinstance(value, date) else date.fromisoformat(value)
        except ValueError:
            return str(value)
        return self.say(_DAY, year=f"{found.year:04d}", month=f"{found.month:02d}", day=f"{found.day:02d}")


# A translator orders the parts (German "{day}.{month}.{year}"); the parts are already zero-padded digits.
_DAY = N_("{year}-{month}-{day}")


ENGLISH = Wording()
