"""Forward-only SQL migrations.

``service/migrations/NNNN_<what>.sql`` files are applied in order, all pending ones in
one transaction, under an advisory lock and a ``FOR UPDATE`` on the state row so that
several replicas starting at once apply each migration exactly once. A database whose
version is ahead of the code is refused: running old code on a newer schema is how
data gets silently damaged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from service.queries import migrations as q

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class MigrationError(Exception):
    pass


class DatabaseAheadError(MigrationError):
    """The database has migrations this code does not know."""

    def __init__(self, database_version: int, code_version: int) -> None:
        self.database_version = database_version
        self.code_version = code_version
        super().__init__(
            f"the database is at schema version {database_version} but this code knows only up to "
            f"{code_version}; refusing to start (deploy the newer code instead)"
        )


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def load_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    migrations = []
    for path in sorted(directory.glob("*.sql")):
        match = _NAME.match(path.name)
        if match is None:
            raise MigrationError(f"migration file {path.name} does not match NNNN_<what>.sql")
        migrations.append(Migration(int(match.group(1)), path.stem, path.read_text(encoding="utf-8")))
    expected = list(range(1, len(migrations) + 1))
    if [m.version for m in migrations] != expected:
        raise MigrationError("migration versions must be consecutive from 0001")
    return migrations


async def database_version(conn: asyncpg.Connection) -> int:
    return await q.select_version(conn)


async def migrate(conn: asyncpg.Connection, migrations: list[Migration] | None = None) -> list[int]:
    """Apply pending migrations; return the versions applied."""
    migrations = load_migrations() if migrations is None else migrations
    code_version = migrations[-1].version if migrations else 0
    async with conn.transaction():
        await q.lock_migrations(conn)
        await q.create_schema_version(conn)
        current = await q.lock_version(conn)
        if current > code_version:
            raise DatabaseAheadError(current, code_version)
        applied = []
        for migration in migrations:
            if migration.version <= current:
                continue
            await q.apply_migration(conn, sql=migration.sql)
            applied.append(migration.version)
        if applied:
            await q.update_version(conn, version=applied[-1])
    return applied


async def check_version(conn: asyncpg.Connection, migrations: list[Migration] | None = None) -> None:
    """Refuse to serve against a schema that is ahead of or behind this code."""
    migrations = load_migrations() if migrations is None else migrations
    code_version = migrations[-1].version if migrations else 0
    current = await database_version(conn)
    if current > code_version:
        raise DatabaseAheadError(current, code_version)
    if current < code_version:
        raise MigrationError(
            f"the database is at schema version {current}, the code needs {code_version}: run `candor migrate`"
        )
