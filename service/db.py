"""The asyncpg pool (opened in the app's lifespan) and one transaction per request.

Connection discipline: a request holds at most one pool connection at a time (a
handler that takes a second while holding one deadlocks the process once every
connection is held that way), and no acquire waits longer than
``db_acquire_timeout_seconds`` (the timeout becomes a 503 with Retry-After, see
``service.errors``). Writes that must outlive an error answer (throttle counters) are
made on the request's own connection and committed with it: ``Problem(commit=True)``.
The anonymous submission's single statement borrows its connection through
:func:`autocommit`, which saves the reset round trip a release otherwise costs.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from typing import cast

import asyncpg
import msgspec
from litestar import Litestar
from litestar.datastructures import State

from service.errors import DATABASE_UNAVAILABLE, Problem
from service.instruments import sync_builtin_instruments
from service.migrate import check_version
from service.settings import Settings

log = logging.getLogger("candor.db")


async def init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec(
        "jsonb",
        schema="pg_catalog",
        encoder=lambda value: msgspec.json.encode(value).decode(),
        decoder=msgspec.json.decode,
        format="text",
    )


class Connection(asyncpg.Connection):
    """asyncpg's connection that can be released without its reset query once.

    Returning a connection to the pool normally costs a round trip: asyncpg sends
    ``pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`` in case the borrower
    left session state behind. After statements that cannot have (see
    :func:`autocommit`) that is wasted work on both sides, on the busiest endpoint.
    ``get_reset_query`` is asyncpg's documented hook for this (asyncpg 0.30+).
    """

    __slots__ = ("_session_untouched",)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._session_untouched = False

    def mark_session_untouched(self) -> None:
        """The next release skips the reset query (then it is sent again as usual)."""
        self._session_untouched = True

    def get_reset_query(self) -> str:
        if self._session_untouched:
            self._session_untouched = False
            return ""
        return super().get_reset_query()


class Pool(asyncpg.Pool):
    """asyncpg's pool whose ``acquire`` (also inside ``pool.fetch…``) never waits forever."""

    __slots__ = ("acquire_timeout",)

    def acquire(self, *, timeout: float | None = None):
        return super().acquire(timeout=self.acquire_timeout if timeout is None else timeout)

    async def release(self, connection, *, timeout: float | None = None) -> None:
        # Resetting a connection the server dropped fails after the request's work is
        # done (a submission committed, say): asyncpg terminates it and a new one replaces
        # it on the next acquire, and the request keeps its answer instead of a 503.
        try:
            await super().release(connection, timeout=timeout)
        except DATABASE_UNAVAILABLE as exc:
            log.warning("a pool connection was lost when it was released: %s", type(exc).__name__)


async def create_pool(settings: Settings) -> Pool:
    pool = Pool(
        settings.database_url,
        min_size=settings.db_pool_min,
        max_size=settings.db_pool_max,
        max_queries=50_000,
        # Idle connections are closed after a while; one the server dropped (a restart)
        # is noticed as closed and replaced on the next acquire.
        max_inactive_connection_lifetime=300.0,
        init=init_connection,
        loop=None,
        connection_class=Connection,
        record_class=asyncpg.Record,
        # A statement on a connection whose server vanished without a word (no FIN)
        # would wait for TCP to give up; the client gives up a little after the server would.
        command_timeout=settings.db_statement_timeout_ms / 1000 + 5,
        server_settings={
            "application_name": "candor",
            "timezone": "UTC",
            "statement_timeout": str(settings.db_statement_timeout_ms),
            "idle_in_transaction_session_timeout": str(settings.db_idle_in_transaction_timeout_ms),
            # A 201 promises the answers are stored: commits wait for the WAL flush
            # whatever the server's default says.
            "synchronous_commit": "on",
        },
    )
    pool.acquire_timeout = settings.db_acquire_timeout_seconds
    return await pool


@asynccontextmanager
async def autocommit(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """A pool connection for autocommit statements that leave no session state behind,
    nor do the triggers they fire (no ``SET``, ``LISTEN``, session advisory lock, cursor
    or temporary table): released without the reset query, one round trip fewer. Only
    when the block completes: after an error or a cancellation part-way the connection
    gets the full reset. Every connection comes out of the pool reset, so skipping it
    here keeps that true."""
    async with pool.acquire() as proxy:
        conn = cast(Connection, proxy)  # the proxy forwards every call to create_pool's Connection
        yield conn
        conn.mark_session_untouched()


def pool_lifespan(settings: Settings):
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncGenerator[None, None]:
        pool = await create_pool(settings)
        try:
            async with pool.acquire() as proxy:
                conn = cast(asyncpg.Connection, proxy)  # the pool's proxy forwards every call
                await check_version(conn)
                await sync_builtin_instruments(conn)
            app.state.pool = pool
            yield
        finally:
            await pool.close()

    return lifespan


async def provide_db(state: State) -> AsyncGenerator[asyncpg.Connection, None]:
    """One connection and one transaction per request: commit on success, else roll back.

    Litestar throws a handler's exception (an HTTP error included) into this generator,
    so a request that fails half-way leaves nothing behind, except what a
    ``Problem(commit=True)`` keeps. The commit happens before the answer is sent: a 2xx
    means stored.
    """
    async with state.pool.acquire() as conn:
        transaction = conn.transaction()
        await transaction.start()
        try:
            yield conn
        except Problem as exc:
            if exc.commit:
                await transaction.commit()
            else:
                await _rollback(conn, transaction)
            raise
        except BaseException:
            await _rollback(conn, transaction)
            raise
        else:
            await transaction.commit()


async def _rollback(conn: asyncpg.Connection, transaction) -> None:
    # On a connection the server dropped there is nothing to roll back (the server did),
    # and trying would hide the request's own error behind a second one.
    if not conn.is_closed():
        await transaction.rollback()
