"""Survey instruments as versioned, validated data (pure: no I/O beyond reading files).

The schema (:mod:`instruments.schema`), the built-in library (``instruments/library``),
loading and fingerprinting (:mod:`instruments.loader`) and answer validation
(:mod:`instruments.responses`).
"""

from instruments.errors import FieldError, InstrumentError
from instruments.loader import (
    GAP_FORMATS,
    MAX_INSTRUMENT_BYTES,
    instrument_hash,
    list_builtin,
    load_builtin,
    load_instrument_bytes,
    load_instrument_file,
    validate_instrument,
)
from instruments.responses import validate_answers
from instruments.schema import (
    FORMAT_COLUMNS,
    Column,
    Dimension,
    Format,
    Importance,
    Instrument,
    Item,
    SatisfactionItem,
    Scale,
    TextPrompt,
)

__all__ = [
    "FORMAT_COLUMNS",
    "GAP_FORMATS",
    "MAX_INSTRUMENT_BYTES",
    "Column",
    "Dimension",
    "FieldError",
    "Format",
    "Importance",
    "Instrument",
    "InstrumentError",
    "Item",
    "SatisfactionItem",
    "Scale",
    "TextPrompt",
    "instrument_hash",
    "list_builtin",
    "load_builtin",
    "load_instrument_bytes",
    "load_instrument_file",
    "validate_answers",
    "validate_instrument",
]
