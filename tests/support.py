"""Constants and helpers shared by the integration tests."""

from __future__ import annotations

PASSWORD = "correct horse battery staple"
ROLES = ("member", "owner", "manager", "moderator", "admin")


def role_email(role: str) -> str:
    return f"{role}@test.example"


async def login(client, role: str, password: str = PASSWORD) -> str:
    """Sign in as the template's account for ``role``; keep its CSRF token on the client."""
    response = await client.post("/api/auth/login", json={"email": role_email(role), "password": password})
    assert response.status_code == 200, response.text
    token = response.json()["csrf_token"]
    client.headers["x-csrf-token"] = token
    return token


async def dump_tables(db) -> dict[str, list[dict]]:
    """Every row of every table: what an insider with the database sees."""
    tables = [r["tablename"] for r in await db.fetch("select tablename from pg_tables where schemaname = 'public'")]
    return {t: [dict(r) for r in await db.fetch(f'select * from "{t}"')] for t in tables}


def cell_text(value) -> str:
    """A cell as text to search in (bytes as hex, as a dump would show them)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    return str(value)
