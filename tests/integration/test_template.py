"""Each test's database is a copy of the template (tests/conftest.py), which already holds
what the app's start-up stores: the app starting on it finds nothing to write."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from instruments import list_builtin
from service.app import create_app


async def test_each_copy_holds_every_builtin_instrument(db):
    stored = await db.fetch("select id, version from instruments where builtin")
    assert {(r["id"], r["version"]) for r in stored} == {(i.id, i.version) for i in list_builtin()}


async def test_app_start_up_rewrites_no_instrument(settings, db):
    # xmin changes whenever a row is written again: equal rows mean start-up only confirmed them.
    query = "select hash, xmin::text as xmin from instruments order by hash"
    before = [dict(r) for r in await db.fetch(query)]
    async with AsyncTestClient(create_app(settings)):
        pass  # the app's start-up (and shut-down) ran
    assert before and [dict(r) for r in await db.fetch(query)] == before
