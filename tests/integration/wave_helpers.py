"""Arranging survey waves for the integration tests."""

from __future__ import annotations

from datetime import date, timedelta

from instruments import load_builtin
from service.client import fetch_token_key, request_token
from tests.support import login, role_email

MEMBERS = [f"m{i}@test.example" for i in range(1, 8)]


async def make_audience(db, *, size: int = 7, name: str = "Audience") -> str:
    """A group of ``size`` member accounts (the test password), member@ among them."""
    password_hash = await db.fetchval("select password_hash from accounts where email = $1", role_email("member"))
    group_id = await db.fetchval("insert into groups (name) values ($1) returning id", name)
    ids = [await db.fetchval("select id from accounts where email = $1", role_email("member"))]
    for email in MEMBERS[: size - 1]:
        ids.append(await db.fetchval(
            """insert into accounts (email, display_name, password_hash, roles) values ($1, $1, $2, '{member}')
               on conflict (email) do update set email = excluded.email returning id""",
            email, password_hash))
    await db.execute("insert into group_members select $1, unnest($2::uuid[])", group_id, ids)
    return str(group_id)


async def make_service(db, name: str = "Service Desk") -> str:
    owner = await db.fetchval("select id from accounts where email = $1", role_email("owner"))
    service_id = await db.fetchval("insert into services (name) values ($1) returning id", name)
    await db.execute("insert into service_owners values ($1, $2)", service_id, owner)
    return str(service_id)


async def create_wave(client, db, *, instrument: str = "pulse", size: int = 7, k_scores: int = 5,
                      open_it: bool = True, **extra) -> dict:
    """As the manager: create (and open) a wave; leaves the client signed in as manager."""
    group_id = await make_audience(db, size=size, name=f"Audience {instrument} {extra.get('title', '')}")
    service_id = await make_service(db, name=f"Service {group_id[:8]}")
    await login(client, "manager")
    today = date.today()
    body = {"title": "Spring pulse", "service_id": service_id, "instrument_id": instrument,
            "audience_group_id": group_id, "opens_on": str(today), "closes_on": str(today + timedelta(days=14)),
            "k_scores": k_scores, **extra}
    created = await client.post("/api/campaigns", json=body)
    assert created.status_code == 201, created.text
    wave = created.json()
    if open_it:
        opened = await client.post(f"/api/campaigns/{wave['id']}/open")
        assert opened.status_code == 200, opened.text
        wave = opened.json()
    return wave


async def token_for(client, campaign_id: str, email: str):
    """Sign in as ``email`` and fetch its token for the wave."""
    from tests.support import PASSWORD

    client.cookies.clear()
    response = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    csrf = response.json()["csrf_token"]
    key = await fetch_token_key(client, campaign_id)
    return await request_token(client, key, csrf_token=csrf)


def answers_for(instrument_id: str, value: int = 5) -> dict:
    """A complete, valid set of answers for a built-in instrument."""
    instrument = load_builtin(instrument_id)
    answers: dict = {"items": {i.key: {c: value for c in instrument.columns} for i in instrument.items}}
    if instrument.importance is not None:
        if instrument.importance.kind == "allocation":
            dims = [d.key for d in instrument.dimensions]
            share, rest = divmod(instrument.importance.total, len(dims))
            answers["importance"] = {d: share + (rest if i == 0 else 0) for i, d in enumerate(dims)}
        else:
            answers["importance"] = {i.key: value for i in instrument.items}
    return answers
