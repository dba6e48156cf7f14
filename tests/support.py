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
