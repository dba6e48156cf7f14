"""An app on the test's own database, and helpers to sign in as each role."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.settings import Settings

TEST_SETTINGS = Settings(
    environment="test",
    secret_key=b"s" * 32,
    key_encryption_key=b"k" * 32,
    max_body_bytes=64 * 1024,
    login_max_failures=3,
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
