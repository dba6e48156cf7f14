"""Attack: on a quiet day, join the one issuance and the one answer of that day by date
(or any time), or place an answer next to a sign-in time.

The anonymous and issuance tables are read from the catalog, so a date or time column
added later is caught here too. Only what SLA metrics need is allowed: a thread's
opening day, an author message's day (staff messages name their writer and moment), and
the month that keys thread-token budgets. Sessions keep times in 5-minute steps.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta

import asyncpg
import pytest

from service.client import fetch_token_key, redeem, request_token
from tests.integration.wave_helpers import answers_for, create_wave
from tests.support import login

ANONYMOUS_AND_ISSUANCE = ("responses", "spent_tokens", "token_issuances", "threads", "thread_messages",
                          "thread_spent_tokens", "thread_token_issuances")
ALLOWED = {
    ("threads", "opened_on"),             # the day only: SLA metrics
    ("thread_messages", "posted_on"),     # the day only
    ("thread_messages", "posted_at"),     # staff messages only (checked below)
    ("thread_spent_tokens", "period"),    # a month: the key's period
    ("thread_token_issuances", "period"),  # a month: the budget's key
}
TIME_TYPES = ("date", "time", "timestamp", "interval", "abstime", "reltime", "tstzrange", "tsrange", "daterange")
STEP_SECONDS = 300


async def test_no_table_carries_a_date_or_time_that_could_join_the_two_sides(db):
    columns = await db.fetch(
        """
        select table_name, column_name, data_type, column_default from information_schema.columns
        where table_schema = 'public' and table_name = any($1::text[])
        """,
        list(ANONYMOUS_AND_ISSUANCE),
    )
    assert {c["table_name"] for c in columns} == set(ANONYMOUS_AND_ISSUANCE)
    timed = {(c["table_name"], c["column_name"]) for c in columns if c["data_type"].startswith(TIME_TYPES)}
    assert timed <= ALLOWED, f"date/time columns on anonymous or issuance tables: {sorted(timed - ALLOWED)}"
    # Nor a default that writes the moment into another type (e.g. text).
    for c in columns:
        default = (c["column_default"] or "").lower()
        if (c["table_name"], c["column_name"]) not in ALLOWED:
            assert not any(f in default for f in ("now()", "current_", "clock_timestamp", "statement_timestamp",
                                                  "transaction_timestamp", "localtime")), c
    # The two month columns can only hold a first of month (they reference thread_periods).
    assert await db.fetchval("select count(*) from pg_constraint where conname = 'thread_periods_period_check'") == 1
    # An author message cannot carry a moment.
    service_id = await db.fetchval("insert into services (name) values ('Quiet') returning id")
    thread_id = await db.fetchval(
        "insert into threads (service_id, secret_hash, category, title) values ($1, $2, 'idea', 't') returning id",
        service_id, b"\x01" * 32)
    with pytest.raises(asyncpg.CheckViolationError):
        await db.execute("insert into thread_messages (thread_id, seq, from_staff, body, posted_at) "
                         "values ($1, 1, false, 'b', now())", thread_id)


async def test_a_quiet_days_issuance_and_answer_share_no_date(client, db):
    wave = await create_wave(client, db)
    client.cookies.clear()
    csrf = await login(client, "member")
    stored = await request_token(client, await fetch_token_key(client, wave["id"]), csrf_token=csrf)
    client.cookies.clear()
    submitted = await redeem(client, stored, answers_for("pulse"))
    assert submitted.status_code == 201
    # The receipt names the wave, not a day.
    assert "submitted_on" not in submitted.json() and set(submitted.json()) == {"receipt", "response_id"}
    check = (await client.get(f"/anon/campaigns/{wave['id']}/receipts/{submitted.json()['receipt']}")).json()
    assert check["verified"] is True and not any("_on" in k or "_at" in k for k in check)

    # The operator's join: any date or time value on both sides of that day.
    def moments(rows: list[asyncpg.Record]) -> set:
        return {v for r in rows for v in r.values() if isinstance(v, date | datetime | time | timedelta)}

    issuance = await db.fetch("select * from token_issuances where campaign_id = $1", uuid.UUID(wave["id"]))
    answers = await db.fetch("select * from responses where campaign_id = $1", uuid.UUID(wave["id"]))
    spent = await db.fetch("select * from spent_tokens where campaign_id = $1", uuid.UUID(wave["id"]))
    assert len(issuance) == len(answers) == len(spent) == 1
    assert moments(issuance) == moments(answers) == moments(spent) == set()


async def test_sessions_keep_no_time_finer_than_five_minutes(client, db):
    await login(client, "member")
    assert (await client.get("/api/auth/me")).status_code == 200
    # Activity after the step changed: the slide writes the new step, not the moment.
    await db.execute("update sessions set last_seen_at = last_seen_at - interval '10 minutes'")
    assert (await client.get("/api/auth/me")).status_code == 200
    # Even a write of the exact moment, by any code path, is stored in steps.
    await db.execute("insert into sessions (token_hash, account_id, csrf_token, created_at, last_seen_at) "
                     "select $1, id, 'x', clock_timestamp(), clock_timestamp() from accounts limit 1", b"\x02" * 32)
    rows = await db.fetch("select extract(epoch from created_at) as created, extract(epoch from last_seen_at) as seen "
                          "from sessions")
    assert len(rows) == 2
    for row in rows:
        assert row["created"] % STEP_SECONDS == 0 and row["seen"] % STEP_SECONDS == 0, dict(row)
