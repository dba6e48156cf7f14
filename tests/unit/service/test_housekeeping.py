"""Background jobs: a job named in ``Settings.disabled_jobs`` never runs, the others do,
and a name that is no job stops start-up instead of leaving the job running unnoticed."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from service.housekeeping import background_lifespan
from service.settings import Settings


def _app(**settings) -> SimpleNamespace:
    return SimpleNamespace(state=SimpleNamespace(settings=Settings(**settings)))


async def test_a_disabled_job_never_runs_while_the_others_do():
    ran: dict[str, int] = {"on": 0, "off": 0}
    enough = asyncio.Event()

    async def on(app) -> None:
        ran["on"] += 1
        if ran["on"] >= 3:
            enough.set()

    async def off(app) -> None:
        ran["off"] += 1

    # Both loops have the same (zero) interval: had "off" been started it would have run too.
    lifespan = background_lifespan({"on": (0, on), "off": (0, off)})
    async with lifespan(_app(disabled_jobs=frozenset({"off"}))):
        await asyncio.wait_for(enough.wait(), timeout=10)
    assert ran["on"] >= 3
    assert ran["off"] == 0


async def test_every_job_runs_by_default():
    seen: set[str] = set()
    both = asyncio.Event()

    def job(name: str):
        async def run(app) -> None:
            seen.add(name)
            if seen == {"a", "b"}:
                both.set()
        return run

    async with background_lifespan({"a": (0, job("a")), "b": (0, job("b"))})(_app()):
        await asyncio.wait_for(both.wait(), timeout=10)


async def test_a_misspelt_job_name_stops_start_up():
    async def job(app) -> None:
        raise AssertionError("no job may start")

    lifespan = background_lifespan({"webhook_worker": (0, job)})
    with pytest.raises(ValueError, match="webhook_workers"):
        async with lifespan(_app(disabled_jobs=frozenset({"webhook_workers"}))):
            pass
