"""Liveness and readiness probes."""

from __future__ import annotations

import msgspec
from litestar import Controller, get
from litestar.datastructures import State

from service.errors import Problem, problem_spec


class Health(msgspec.Struct, frozen=True):
    status: str


class HealthController(Controller):
    tags = ["health"]

    @get("/healthz", operation_id="healthz", summary="The process is up")
    async def healthz(self) -> Health:
        return Health(status="ok")

    @get(
        "/readyz",
        operation_id="readyz",
        summary="The database answers",
        responses={503: problem_spec("The database is unreachable")},
    )
    async def readyz(self, state: State) -> Health:
        try:
            async with state.pool.acquire(timeout=2) as conn:
                await conn.fetchval("select 1")
        except Exception as exc:  # any failure to reach the database means not ready
            raise Problem(503, "unavailable", "The database is not reachable") from exc
        return Health(status="ready")
