"""Migrations apply to an empty database, are idempotent, and refuse a database ahead of the code."""

from __future__ import annotations

from dataclasses import replace

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.migrate import (
    DatabaseAheadError,
    Migration,
    MigrationError,
    check_version,
    database_version,
    load_migrations,
    migrate,
)


def _contains(exc: BaseException, kind: type) -> bool:
    """The lifespan's error may arrive wrapped in an exception group."""
    if isinstance(exc, kind):
        return True
    return isinstance(exc, BaseExceptionGroup) and any(_contains(e, kind) for e in exc.exceptions)


async def _start(settings) -> BaseException:
    try:
        async with AsyncTestClient(create_app(settings)):
            pass
    except BaseException as exc:  # noqa: BLE001 - the caller checks what it was
        return exc
    raise AssertionError("the app started")


async def test_apply_on_empty_database_then_nothing_to_do(empty_database_url):
    conn = await asyncpg.connect(empty_database_url)
    try:
        migrations = load_migrations()
        assert await database_version(conn) == 0
        applied = await migrate(conn)
        assert applied == [m.version for m in migrations]
        assert await database_version(conn) == migrations[-1].version
        tables = {r["tablename"] for r in await conn.fetch("select tablename from pg_tables where schemaname='public'")}
        assert {"accounts", "sessions", "groups", "services", "login_throttle"} <= tables
        assert await migrate(conn) == []
        await check_version(conn)
    finally:
        await conn.close()


async def test_refuses_a_database_ahead_of_the_code(empty_database_url):
    conn = await asyncpg.connect(empty_database_url)
    try:
        await migrate(conn)
        ahead = load_migrations()[-1].version + 1
        await conn.execute("update schema_version set version = $1", ahead)
        with pytest.raises(DatabaseAheadError) as caught:
            await migrate(conn)
        assert caught.value.database_version == ahead
        with pytest.raises(DatabaseAheadError):
            await check_version(conn)
    finally:
        await conn.close()


async def test_app_refuses_to_start_on_a_database_ahead(database_url, settings):
    conn = await asyncpg.connect(database_url)
    await conn.execute("update schema_version set version = version + 1")
    await conn.close()
    assert _contains(await _start(replace(settings, database_url=database_url)), DatabaseAheadError)


async def test_app_refuses_to_start_on_an_unmigrated_database(empty_database_url, settings):
    assert _contains(await _start(replace(settings, database_url=empty_database_url)), MigrationError)


async def test_failed_migration_applies_nothing(empty_database_url):
    conn = await asyncpg.connect(empty_database_url)
    try:
        broken = [
            Migration(1, "0001_ok", "create table fine (id int)"),
            Migration(2, "0002_broken", "create table oops (id int); select no_such_function()"),
        ]
        with pytest.raises(asyncpg.PostgresError):
            await migrate(conn, broken)
        assert await conn.fetchval("select to_regclass('fine')") is None
        assert await database_version(conn) == 0
    finally:
        await conn.close()


def test_migration_files_are_consecutive(tmp_path):
    (tmp_path / "0001_a.sql").write_text("select 1")
    (tmp_path / "0003_c.sql").write_text("select 1")
    with pytest.raises(MigrationError):
        load_migrations(tmp_path)
    (tmp_path / "bad name.sql").write_text("select 1")
    with pytest.raises(MigrationError):
        load_migrations(tmp_path)
