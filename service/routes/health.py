"""Liveness and readiness probes.

``/healthz``: the process answers. ``/readyz``: a pool connection can be had within a
second and the database answers ``select 1`` — what a container health check and a
load balancer need (a replica whose requests would all get 503 is not ready).
"""

from __future__ import annotations

import msgspec
from litestar import Controller, get
from litestar.datastructures import State

from instruments.errors import N_
from service.errors import DATABASE_UNAVAILABLE, RETRY_AFTER_SECONDS, Problem, problem_spec
from service.queries import health as q

READY_TIMEOUT_SECONDS = 1.0


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
        summary="A database connection can be had within a second, and the database answers",
        responses={503: problem_spec("The database is unreachable or every connection is busy; see Retry-After")},
    )
    async def readyz(self, state: State) -> Health:
        try:
            async with state.pool.acquire(timeout=READY_TIMEOUT_SECONDS) as conn:
                await q.select_one(conn, timeout=READY_TIMEOUT_SECONDS)
        except DATABASE_UNAVAILABLE:
            raise Problem(503, "unavailable", N_("The database is unreachable or every connection is busy"),
                          headers={"Retry-After": str(RETRY_AFTER_SECONDS)}) from None
        return Health(status="ready")
