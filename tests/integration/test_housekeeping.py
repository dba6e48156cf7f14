"""The purge job: state whose purpose has passed is removed, live state is kept.

Expired sessions (idle or absolute), ended login-throttle windows, past minutes of
thread-secret failures, and delivered or abandoned webhook log rows past the retention.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from service.db import create_pool
from service.housekeeping import purge
from tests.integration.wave_helpers import make_service
from tests.support import login


@pytest.fixture
def settings(settings):
    # The pending delivery stays pending: no background worker delivers it meanwhile.
    return replace(settings, disabled_jobs=frozenset({"webhook_worker"}))


@pytest.fixture
async def pool(settings):
    pool = await create_pool(settings)  # the test's own loop (the app runs in another)
    yield pool
    await pool.close()


async def test_purge_removes_what_expired_and_keeps_what_lives(client, db, pool, settings):
    for role in ("member", "owner", "manager", "admin"):
        client.cookies.clear()
        await login(client, role)
    account = {r["email"].split("@")[0]: r["id"] for r in await db.fetch("select id, email from accounts")}
    # member: live; owner: idle too long; manager: past the absolute limit; admin: deactivated.
    await db.execute("update sessions set last_seen_at = now() - make_interval(mins => $1) where account_id = $2",
                     settings.session_idle_minutes + 6, account["owner"])
    await db.execute("update sessions set created_at = now() - make_interval(hours => $1) where account_id = $2",
                     settings.session_absolute_hours, account["manager"])
    await db.execute("update accounts set active = false where id = $1", account["admin"])

    await db.execute(
        "insert into login_throttle values ('\\x01', 3, now() - make_interval(mins => $1)), ('\\x02', 1, now())",
        settings.login_window_minutes + 1)
    await db.execute("insert into thread_secret_failures values (date_trunc('minute', now()) - interval '1 minute', 9), "
                     "(date_trunc('minute', now()), 2)")
    service_id = await make_service(db)
    thread_id = await db.fetchval(
        "insert into threads (service_id, secret_hash, category, title) values ($1, '\\x03'::bytea || $2, 'idea', 't') "
        "returning id", service_id, b"\x00" * 31)
    old = f"now() - make_interval(days => {settings.webhook_log_retention_days + 1})"
    for state, created in (("delivered", old), ("failed", old), ("pending", old), ("delivered", "now()")):
        await db.execute(f"insert into webhook_deliveries (service_id, thread_id, payload, state, created_at) "
                         f"values ($1, $2, '{{}}', '{state}', {created})", service_id, thread_id)

    removed = await purge(pool, settings)

    assert removed == {"sessions": 3, "login_throttle": 1, "thread_secret_failures": 1, "webhook_deliveries": 2}
    assert [r["account_id"] for r in await db.fetch("select account_id from sessions")] == [account["member"]]
    assert await db.fetchval("select email_key from login_throttle") == b"\x02"
    assert await db.fetchval("select failures from thread_secret_failures") == 2
    assert sorted(r["state"] for r in await db.fetch("select state from webhook_deliveries")) == ["delivered", "pending"]
    # The live session still works.
    client.cookies.clear()
    await login(client, "member")
    assert (await client.get("/api/auth/me")).status_code == 200
    assert await purge(pool, settings) == dict.fromkeys(removed, 0)
