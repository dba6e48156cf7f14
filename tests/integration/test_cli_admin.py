"""`candor migrate` and `candor create-admin` against a database named by DATABASE_URL."""

from __future__ import annotations

import asyncio

import asyncpg

from service.cli import main


async def test_migrate_then_create_admin(empty_database_url, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("DATABASE_URL", empty_database_url)
    monkeypatch.setenv("CANDOR_DATA_DIR", str(tmp_path))  # development secrets go here, not .candor
    monkeypatch.setenv("CANDOR_ADMIN_PASSWORD", "a strong admin passphrase")
    assert await asyncio.to_thread(main, ["migrate"]) == 0
    assert "Applied migrations" in capsys.readouterr().out
    assert await asyncio.to_thread(main, ["migrate"]) == 0
    assert "up to date" in capsys.readouterr().out
    assert await asyncio.to_thread(main, ["create-admin", "--email", "Root@Example.org", "--name", "Root"]) == 0
    assert await asyncio.to_thread(main, ["create-admin", "--email", "root@example.org", "--name", "Root"]) == 1
    conn = await asyncpg.connect(empty_database_url)
    try:
        rows = await conn.fetch("select email, roles, password_hash from accounts")
        # Nothing is seeded when DATABASE_URL is set: the admin is the only account.
        assert [(r["email"], r["roles"]) for r in rows] == [("root@example.org", ["admin"])]
        assert rows[0]["password_hash"].startswith("$argon2id$")
    finally:
        await conn.close()


async def test_create_admin_refuses_a_short_password(empty_database_url, monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", empty_database_url)
    monkeypatch.setenv("CANDOR_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CANDOR_ADMIN_PASSWORD", "short")
    assert await asyncio.to_thread(main, ["create-admin", "--email", "a@b.c", "--name", "A"]) == 2


def test_production_start_lists_missing_secrets(monkeypatch, capsys):
    import pytest

    for name in ("DATABASE_URL", "CANDOR_SECRET_KEY", "CANDOR_KEY_ENCRYPTION_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CANDOR_ENV", "production")
    with pytest.raises(SystemExit) as caught:
        main(["migrate"])
    message = str(caught.value)
    for name in ("DATABASE_URL", "CANDOR_SECRET_KEY", "CANDOR_KEY_ENCRYPTION_KEY"):
        assert name in message
