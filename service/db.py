"""The asyncpg pool (opened in the app's lifespan) and one transaction per request."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager

import asyncpg
import msgspec
from litestar import Litestar
from litestar.datastructures import State

from service.migrate import check_version
from service.routes.instruments import sync_builtin_instruments
from service.settings import Settings


async def init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec(
        "jsonb",
        schema="pg_catalog",
        encoder=lambda value: msgspec.json.encode(value).decode(),
        decoder=msgspec.json.decode,
        format="text",
    )


async def create_pool(settings: Settings) -> asyncpg.Pool:
    return await asyncpg.create_pool(
        settings.database_url,
        min_size=settings.db_pool_min,
        max_size=settings.db_pool_max,
        init=init_connection,
        # No prepared-statement cache surprises behind a transaction pooler.
        server_settings={"application_name": "candor", "timezone": "UTC"},
    )


def pool_lifespan(settings: Settings):
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncGenerator[None, None]:
        pool = await create_pool(settings)
        try:
            async with pool.acquire() as conn:
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
    so a request that fails half-way leaves nothing behind.
    """
    async with state.pool.acquire() as conn:
        transaction = conn.transaction()
        await transaction.start()
        try:
            yield conn
        except BaseException:
            await transaction.rollback()
            raise
        else:
            await transaction.commit()
