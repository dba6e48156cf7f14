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

from service.queries import accounts as accounts_q
from service.queries import threads as threads_q

log = logging.getLogger("candor.housekeeping")

# Expired sessions and ended throttle windows go within this many seconds.
PURGE_INTERVAL_SECONDS = 300

Job = Callable[[Any], Awaitable[object]]


async def _every(app: Any, name: str, seconds: float, job: Job) -> None:
    while True:
        await asyncio.sleep(seconds)
        try:
            await job(app)
        except Exception:  # noqa: BLE001 - the loop must outlive one bad round
            log.exception("background job %s failed", name)


def background_lifespan(jobs: dict[str, tuple[float, Job]]):
    """Lifespan hook that runs each ``name: (interval seconds, job(app))`` while serving,
    except the jobs named in ``Settings.disabled_jobs``."""

    @asynccontextmanager
    async def lifespan(app: Any):
        disabled = app.state.settings.disabled_jobs
        # A misspelt name would leave the job running while its test believes it is off.
        if unknown := sorted(disabled - jobs.keys()):
            raise ValueError(f"disabled_jobs names no background job: {', '.join(unknown)} (jobs: {', '.join(jobs)})")
        tasks = [asyncio.create_task(_every(app, name, seconds, job))
                 for name, (seconds, job) in jobs.items() if name not in disabled]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    return lifespan


async def purge(pool: Any, settings: Any) -> dict[str, int]:
    """Remove state whose purpose has passed — expired sessions (their times would map
    transaction ids to wall time), ended login-throttle windows, past minutes of
    thread-secret failures, and delivered or abandoned webhook log rows older than the
    retention; the number of rows removed per table. Deletes are idempotent, so
    replicas may run it at once."""
    async with pool.acquire() as conn, conn.transaction():
        return {
            "sessions": await accounts_q.delete_expired_sessions(
                conn, idle_minutes=settings.session_idle_minutes, absolute_hours=settings.session_absolute_hours),
            "login_throttle": await accounts_q.delete_ended_throttles(
                conn, window_minutes=settings.login_window_minutes),
            "thread_secret_failures": await threads_q.delete_past_secret_failures(conn),
            "webhook_deliveries": await threads_q.delete_old_deliveries(
                conn, retention_days=settings.webhook_log_retention_days),
        }


async def purge_expired(app: Any) -> dict[str, int]:
    """Background job (every ``PURGE_INTERVAL_SECONDS``): :func:`purge`."""
    return await purge(app.state.pool, app.state.settings)
