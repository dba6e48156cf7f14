"""Test-wide fixtures: one embedded PostgreSQL per run, a fresh database per test.

The server is the same package `make run` uses; its data lives in a temporary folder
that is deleted when the run ends. A template database holds the migrated schema, one
account per role and the built-in instruments, so each test gets an isolated copy in
milliseconds.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.settings import Settings
from tests.support import PASSWORD, ROLES, role_email

TEMPLATE_DB = "candor_template"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[object]:
    from service.embedded import start_embedded

    root = Path(tempfile.mkdtemp(prefix="candor-test-"))
    os.environ["XDG_RUNTIME_DIR"] = str(root)
    server = start_embedded(root, keep=False)
    yield server
    server.cleanup()


async def _build_template(admin_url: str, template_url: str) -> None:
    from service.db import pool_lifespan
    from service.migrate import migrate
    from service.passwords import hash_password
    from service.queries.accounts import insert_account

    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f"drop database if exists {TEMPLATE_DB}")
        await admin.execute(f"create database {TEMPLATE_DB}")
    finally:
        await admin.close()
    conn = await asyncpg.connect(template_url)
    try:
        await migrate(conn)
        password_hash = await hash_password(PASSWORD)
        for role in ROLES:
            await insert_account(
                conn, email=role_email(role), display_name=role.title(), password_hash=password_hash, roles=[role]
            )
    finally:
        await conn.close()
    # The app's own start-up (service.db's lifespan: version check, built-in instruments),
    # run once here: every copy already holds what it stores, so each test's app start-up
    # only confirms it instead of inserting every instrument again.
    async with pool_lifespan(replace(TEST_SETTINGS, database_url=template_url))(Litestar()):
        pass


@pytest.fixture(scope="session")
def template_database(pg_server) -> str:
    asyncio.run(_build_template(pg_server.get_uri(), pg_server.get_uri(TEMPLATE_DB)))
    return TEMPLATE_DB


@asynccontextmanager
async def scratch_database(pg_server, *, prefix: str, template: str | None = None) -> AsyncIterator[str]:
    """A database of its own for one test (a copy of ``template``), dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex}"
    admin = await asyncpg.connect(pg_server.get_uri())
    try:
        await admin.execute(f"create database {name}" + (f" template {template}" if template else ""))
        yield pg_server.get_uri(name)
        await admin.execute(f"drop database {name} with (force)")
    finally:
        await admin.close()


@pytest.fixture
async def database_url(pg_server, template_database) -> AsyncIterator[str]:
    """A fresh copy of the template (schema and one account per role) for this test."""
    async with scratch_database(pg_server, prefix="t", template=template_database) as url:
        yield url


@pytest.fixture
async def empty_database_url(pg_server) -> AsyncIterator[str]:
    """A database with nothing in it, for migration tests."""
    async with scratch_database(pg_server, prefix="e") as url:
        yield url


@pytest.fixture
async def db(database_url) -> AsyncIterator[asyncpg.Connection]:
    """A direct connection to the test's database, for arranging and inspecting rows."""
    conn = await asyncpg.connect(database_url)
    yield conn
    await conn.close()


# The app ------------------------------------------------------------------------------

TEST_SETTINGS = Settings(
    environment="test",
    secret_key=b"s" * 32,
    key_encryption_key=b"k" * 32,
    max_body_bytes=64 * 1024,
    login_max_failures=3,
    webhook_allow_private=True,  # the tests' webhook receivers listen on 127.0.0.1
    db_pool_min=1,
    db_pool_max=4,
)


@pytest.fixture
def settings(database_url) -> Settings:
    return replace(TEST_SETTINGS, database_url=database_url)


@pytest.fixture
async def client(settings) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(create_app(settings), base_url="http://127.0.0.1:8000") as c:
        yield c


@pytest.fixture
def live_server(settings):
    """The app served by a real uvicorn (configured as `candor serve` does) on a free port."""
    import threading
    import time

    import uvicorn

    from service.cli import uvicorn_config

    server = uvicorn.Server(uvicorn_config(create_app(settings), settings, "127.0.0.1", 0))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=30)


@pytest.fixture
async def demo_database_url(empty_database_url, settings) -> str:
    """A migrated database holding the demo organisation, as `make run` seeds it."""
    from service.db import init_connection
    from service.demo import seed_demo
    from service.migrate import migrate

    conn = await asyncpg.connect(empty_database_url)
    try:
        await init_connection(conn)
        await migrate(conn)
        assert await seed_demo(conn, replace(settings, database_url=empty_database_url))
    finally:
        await conn.close()
    return empty_database_url
