"""A wave's gap report: stored responses → answer matrices → analysis, off the event loop.

Responses are stored as arrays in the instrument's order (see instruments.packing), so
the matrices come from one query; every null is a "not applicable" (every item must be
answered). Only closed waves have reports (an open wave's would change one response
at a time, and two reads apart would give that response away); a closed wave's never
changes, so it is computed once per process.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any
from uuid import UUID

import asyncpg
import numpy as np

from analysis.charts import dimension_gap_chart, importance_performance_chart, item_gap_chart
from analysis.matrices import AnswerMatrices, matrices_from_arrays
from analysis.report import build_report
from instruments import Instrument
from service.lru import LRUCache

CHARTS = {
    "dimension-gaps": dimension_gap_chart,
    "item-gaps": item_gap_chart,
    "importance-performance": importance_performance_chart,
}


def _float_matrix(rows: list, width: int) -> np.ndarray:
    """Rows of int-or-None lists as a float matrix with NaN for None."""
    if not rows:
        return np.empty((0, width))
    return np.array(rows, dtype=float).reshape(len(rows), width)


def matrices_from_rows(instrument: Instrument, item_values: list, importance: list | None) -> AnswerMatrices:
    n_items, n_columns = len(instrument.items), len(instrument.columns)
    values = _float_matrix(item_values, n_items * n_columns).reshape(-1, n_items, n_columns)
    imp = None
    if instrument.importance is not None and importance is not None:
        width = len(instrument.dimensions) if instrument.importance.kind == "allocation" else n_items
        imp = _float_matrix(importance, width)
    return matrices_from_arrays(instrument, values, imp)


async def fetch_matrices(db: asyncpg.Connection, instrument: Instrument, campaign_id: UUID) -> AnswerMatrices:
    rows = await db.fetch("select item_values, importance from responses where campaign_id = $1", campaign_id)
    item_values = [r["item_values"] for r in rows]
    importance = [r["importance"] for r in rows] if instrument.importance is not None else None
    return await asyncio.to_thread(matrices_from_rows, instrument, item_values, importance)


async def fetch_comments(db: asyncpg.Connection, campaign_id: UUID, *, n: int, k_comments: int) -> dict[str, Any]:
    """Free-text answers, only when the wave has at least ``k_comments`` responses, in a
    random order (the stored order must not hint at who wrote what)."""
    if n < k_comments:
        return {"suppressed": True, "reason": f"fewer than k={k_comments} responses"}
    rows = await db.fetch(
        "select key, value from responses, jsonb_each_text(comments) where campaign_id = $1", campaign_id
    )
    by_prompt: dict[str, list[str]] = {}
    for row in rows:
        by_prompt.setdefault(row["key"], []).append(row["value"])
    for texts in by_prompt.values():
        random.shuffle(texts)
    return {"by_prompt": by_prompt}


class ReportCache(LRUCache[UUID, dict[str, Any]]):
    """Reports of closed waves by wave, bounded: a closed wave's responses never change."""

    def __init__(self, size: int = 32) -> None:
        super().__init__(size)


async def wave_report(
    state: Any, db: asyncpg.Connection, *, campaign_id: UUID, instrument: Instrument, k_scores: int, k_comments: int
) -> dict[str, Any]:
    """The report of a *closed* wave (the caller checks: see ``service.routes.campaigns._report``)."""
    cache: ReportCache = state.reports
    if (cached := cache.get(campaign_id)) is not None:
        return cached
    matrices = await fetch_matrices(db, instrument, campaign_id)
    report = await asyncio.to_thread(build_report, instrument, matrices, k_scores=k_scores)
    report["comments"] = await fetch_comments(db, campaign_id, n=matrices.n, k_comments=k_comments)
    cache.put(campaign_id, report)
    return report
