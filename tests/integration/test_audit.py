"""`candor audit` on a fresh database with the demo organisation: every check passes, it
only reads, the CLI's exit codes and JSON, and the start-up run that the privacy page shows."""

from __future__ import annotations

import asyncio
import json
import logging
import re

import asyncpg
import pytest
from markupsafe import escape

from service.audit import SessionLimits, audit_database, connect_read_only, startup_audit
from service.cli import main

LIMITS = SessionLimits(idle_minutes=30, absolute_hours=12)
CHECK_IDS = [
    "commit-timestamps",
    "statement-logging",
    "column-precision",
    "ordered-defaults",
    "arrival-order",
    "expired-sessions",
    "key-log",
]


def _failures(report) -> str:
    return "\n".join(f"{c.id}: {c.details}" for c in report.checks if not c.ok)


async def test_demo_database_passes_every_check(demo_database_url):
    report = await audit_database(demo_database_url, LIMITS)
    assert [c.id for c in report.checks] == CHECK_IDS
    assert report.ok, _failures(report)


async def test_the_audit_connection_cannot_write(database_url):
    conn = await connect_read_only(database_url)
    try:
        with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
            await conn.execute("create table audit_wrote_here (x int)")
        with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
            await conn.execute("delete from sessions")
    finally:
        await conn.close()


async def test_the_audit_changes_nothing(demo_database_url):
    """No transaction id is consumed: a read-only audit leaves the database as it found it."""
    conn = await asyncpg.connect(demo_database_url)
    try:
        before = await conn.fetchval("select pg_current_xact_id()::text::bigint")
        await conn.execute("select 1")  # the id above was this connection's own transaction
        await audit_database(demo_database_url, LIMITS)
        after = await conn.fetchval("select pg_current_xact_id()::text::bigint")
    finally:
        await conn.close()
    assert after == before + 1


async def _run_cli(monkeypatch, tmp_path, capsys, url: str, *args: str) -> tuple[int, str, str]:
    """``candor audit …`` as the command line runs it (its own event loop, in a thread)."""
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("CANDOR_DATA_DIR", str(tmp_path))  # development secrets land here, not in the tree
    code = await asyncio.to_thread(main, ["audit", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


async def test_cli_text_and_json(demo_database_url, monkeypatch, tmp_path, capsys):
    code, out, err = await _run_cli(monkeypatch, tmp_path, capsys, demo_database_url)
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0].endswith("7/7 checks passed")
    assert [line.split(" ", 2)[1] for line in lines if line.startswith(("PASS", "FAIL"))] == CHECK_IDS
    assert all(line.startswith(("PASS ", "    ")) for line in lines[1:])

    code, out, err = await _run_cli(monkeypatch, tmp_path, capsys, demo_database_url, "--format", "json")
    assert code == 0
    report = json.loads(out)
    assert set(report) == {"ok", "checked_on", "checks"}
    assert report["ok"] is True
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", report["checked_on"])
    assert [c["id"] for c in report["checks"]] == CHECK_IDS
    for check in report["checks"]:
        assert set(check) == {"id", "description", "ok", "details", "findings"}
        # The findings are the details as templates and values (what a reader of another language is shown).
        assert len(check["findings"]) == len(check["details"]) and all("text" in f for f in check["findings"])


async def test_cli_exits_1_when_a_check_fails(database_url, monkeypatch, tmp_path, capsys):
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("alter table spent_tokens add column spent_at timestamptz")
    finally:
        await conn.close()
    code, out, err = await _run_cli(monkeypatch, tmp_path, capsys, database_url, "--format", "json")
    assert code == 1
    failed = [c for c in json.loads(out)["checks"] if not c["ok"]]
    assert [c["id"] for c in failed] == ["column-precision"]
    assert any("spent_tokens.spent_at" in d for d in failed[0]["details"])


async def test_cli_exits_2_without_a_database(monkeypatch, tmp_path, capsys):
    # A Unix socket folder with no server in it: nothing listens, nothing leaves the machine.
    url = f"postgresql://candor@/candor?host={tmp_path}"
    code, out, err = await _run_cli(monkeypatch, tmp_path, capsys, url)
    assert code == 2
    assert out == ""
    assert "cannot connect" in err


async def test_startup_audit_is_stored_and_shown_on_the_privacy_page(settings, client, db, caplog):
    response = await client.get("/privacy")
    assert response.status_code == 200
    assert "No audit result is stored yet" in response.text
    assert "candor audit" in response.text and "DATABASE_URL" in response.text

    with caplog.at_level(logging.INFO, logger="candor.audit"):
        report = await startup_audit(settings)
    assert report is not None and report.ok, _failures(report)
    lines = [r.getMessage() for r in caplog.records if r.name == "candor.audit"]
    assert lines == ["candor audit: 7/7 checks passed"]
    stored = await db.fetchrow("select checked_on, ok, result from audit_results")
    assert stored["ok"] is True and stored["checked_on"].isoformat() == report.checked_on

    page = (await client.get("/privacy")).text
    assert f"<strong>{report.checked_on}</strong>" in page
    assert "7 of 7 checks passed" in page

    # A failing check shows up, named, at the next start.
    await db.execute("alter table responses add column arrived_at timestamp")
    with caplog.at_level(logging.INFO, logger="candor.audit"):
        caplog.clear()
        await startup_audit(settings)
    assert [r.getMessage() for r in caplog.records if r.name == "candor.audit"] == [
        "candor audit: 6/7 checks passed; failed: column-precision"
    ]
    page = (await client.get("/privacy")).text
    assert "6 of 7 checks passed" in page
    assert "FAILED: <code>column-precision</code>" in page


async def test_the_privacy_page_shows_the_checks_in_the_readers_language(settings, client, db):
    report = await startup_audit(settings)
    assert report is not None and report.ok, _failures(report)
    client.cookies.set("candor_lang", "de")
    german = (await client.get("/privacy")).text
    assert "7 von 7" in german
    assert "track_commit_timestamp ist aus (sonst trüge die Transaktion jeder anonymen Zeile" in german
    assert "abgelaufene Sitzungen werden gelöscht" in german
    assert "das Schlüsselprotokoll ist vollständig" in german
    for check in report.checks:  # each description in German, none left in English
        assert f"<code>{check.id}</code>" in german
        assert str(escape(check.description)) not in german, check.description
    # The stored result keeps the English the CLI prints, and an English reader gets it.
    stored = await db.fetchval("select result->'checks'->0->>'description' from audit_results")
    assert stored == report.checks[0].description
    client.cookies.set("candor_lang", "en")
    english = (await client.get("/privacy")).text
    assert all(str(escape(check.description)) in english for check in report.checks)
    # A failed check names what failed, in the reader's language; a passed one only its description.
    await db.execute("alter table responses add column arrived_at timestamp")
    await startup_audit(settings)
    client.cookies.set("candor_lang", "de")
    german = (await client.get("/privacy")).text
    assert "6 von 7" in german
    assert "<li>responses.arrived_at (timestamp without time zone) enthält eine Uhrzeit</li>" in german
    assert "holds a time of day" not in german and "thread_messages.posted_at nur bei" not in german
    client.cookies.set("candor_lang", "en")
    english = (await client.get("/privacy")).text
    assert "<li>responses.arrived_at (timestamp without time zone) holds a time of day</li>" in english
    # A result stored by another version, with a description this one does not know, is shown as stored.
    await db.execute("""update audit_results set result = jsonb_set(result, '{checks,0,description}',
                        '"an older description"')""")
    client.cookies.set("candor_lang", "de")
    assert "an older description" in (await client.get("/privacy")).text
    # A result stored before findings were kept shows its (English) details.
    await db.execute("update audit_results set result = jsonb_set(result, '{checks,2}', "
                     "(result->'checks'->2) - 'findings')")
    assert "(timestamp without time zone) holds a time of day</li>" in (await client.get("/privacy")).text
