"""Periodic jobs each app process runs while it serves.

Every job is safe to run in several replicas at once: what must happen once is decided
in the database (row locks with SKIP LOCKED, conditional updates), never in memory.
A job that fails is logged and tried again next round; it never stops the others.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

log = logging.getLogger("candor.housekeeping")

Job = Callable[[Any], Awaitable[object]]


async def _every(app: Any, name: str, seconds: float, job: Job) -> None:
    while True:
        await asyncio.sleep(seconds)
        # Tests that drive a job themselves switch its loop off.
        if not app.state.get(f"{name}_enabled", True):
            continue
        try:
            await job(app)
        except Exception:  # noqa: BLE001 - the loop must outlive one bad round
            log.exception("background job %s failed", name)


def background_lifespan(jobs: dict[str, tuple[float, Job]]):
    """Lifespan hook that runs each ``name: (interval seconds, job(app))`` while serving."""

    @asynccontextmanager
    async def lifespan(app: Any):
        tasks = [asyncio.create_task(_every(app, name, seconds, job)) for name, (seconds, job) in jobs.items()]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    return lifespan
