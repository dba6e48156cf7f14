"""Helpers shared by the analysis tests."""

from __future__ import annotations

from typing import Literal

from instruments.schema import Dimension, Format, Importance, Instrument, Item, Scale


def make_instrument(items: dict[str, str], *, fmt: Format = "expectation-perception",
                    importance: Literal["allocation", "rating"] | None = "allocation", points: int = 7) -> Instrument:
    """An instrument with ``items = {item key: dimension key}``."""
    columns = {"expectation-perception": ("expectation", "perception"),
               "zone-of-tolerance": ("minimum", "desired", "perception"),
               "perception-only": ("perception",)}[fmt]
    dims = list(dict.fromkeys(items.values()))
    return Instrument(
        id="test", version="1", title="Test instrument", format=fmt,
        scale=Scale(points=points, allow_not_applicable=True),
        dimensions=tuple(Dimension(key=d, title=d.title()) for d in dims),
        items=tuple(Item(key=k, dimension=d, statements={c: "s" for c in columns})
                    for k, d in items.items()),
        importance=Importance(kind=importance, prompt="How important?") if importance else None,
    )
