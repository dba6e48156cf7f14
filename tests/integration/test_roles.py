"""Role guards: every route × every role → the expected status.

The table must name every route the app serves, so a new route without a decision
about who may call it fails here.
"""

from __future__ import annotations

import uuid

import msgspec
import pytest

from instruments import load_builtin

from service.app import create_app
from tests.support import PASSWORD, ROLES, login, role_email

ANON = "anonymous"
EVERYONE = (ANON, *ROLES)
SIGNED_IN = ROLES


def only(*allowed: str, ok: int = 200) -> dict[str, int]:
    """``ok`` for the allowed roles, 401 when not signed in, 403 for other roles."""
    return {who: ok if who in allowed else (401 if who == ANON else 403) for who in EVERYONE}


def everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(EVERYONE, status)


# (method, route path) -> expected status per caller, in the order requests are sent.
TABLE: dict[tuple[str, str], dict[str, int]] = {
    ("GET", "/healthz"): everyone(200),
    ("GET", "/readyz"): everyone(200),
    ("POST", "/api/auth/login"): everyone(200),
    ("GET", "/api/auth/me"): only(*SIGNED_IN),
    ("GET", "/api/accounts"): only("admin"),
    ("POST", "/api/accounts"): only("admin", ok=201),
    ("GET", "/api/accounts/{account_id:uuid}"): only("admin"),
    ("PATCH", "/api/accounts/{account_id:uuid}"): only("admin"),
    ("GET", "/api/groups"): only("admin", "manager"),
    ("POST", "/api/groups"): only("admin", ok=201),
    ("GET", "/api/groups/{group_id:uuid}"): only("admin", "manager"),
    ("PATCH", "/api/groups/{group_id:uuid}"): only("admin"),
    ("PUT", "/api/groups/{group_id:uuid}/members"): only("admin"),
    ("DELETE", "/api/groups/{group_id:uuid}"): only("admin", ok=204),
    ("GET", "/api/services"): only(*SIGNED_IN),
    ("GET", "/api/services/{service_id:uuid}"): only(*SIGNED_IN),
    ("POST", "/api/services"): only("admin", "manager", ok=201),
    ("PATCH", "/api/services/{service_id:uuid}"): only("admin", "manager"),
    ("GET", "/api/instruments"): only(*SIGNED_IN),
    ("GET", "/api/instruments/{instrument_id:str}"): only(*SIGNED_IN),
    ("POST", "/api/instruments"): only("admin", "manager", ok=201),
    ("POST", "/api/auth/logout"): everyone(204),
}


def served_routes(settings) -> set[tuple[str, str]]:
    app = create_app(settings)
    routes = set()
    for route in app.routes:
        if route.path.startswith("/schema"):
            continue
        for method in getattr(route, "methods", ()):
            if method not in ("HEAD", "OPTIONS"):
                routes.add((method, route.path))
    return routes


def test_table_covers_every_route(settings):
    assert served_routes(settings) == set(TABLE)


async def _arrange(db) -> dict[str, str]:
    member = await db.fetchval("select id from accounts where email = $1", role_email("member"))
    owner = await db.fetchval("select id from accounts where email = $1", role_email("owner"))
    group = await db.fetchval("insert into groups (name) values ('Keep') returning id")
    doomed = await db.fetchval("insert into groups (name) values ('Doomed') returning id")
    service = await db.fetchval("insert into services (name) values ('Wiki') returning id")
    return {"member": str(member), "owner": str(owner), "group": str(group), "doomed": str(doomed),
            "service": str(service)}


def _request(method: str, path: str, ids: dict[str, str]) -> tuple[str, str, object]:
    unique = uuid.uuid4().hex[:8]
    url = path
    bodies: dict[tuple[str, str], object] = {
        ("POST", "/api/auth/login"): {"email": role_email("member"), "password": PASSWORD},
        ("POST", "/api/accounts"): {"email": f"new{unique}@test.example", "display_name": "New",
                                    "password": "a long enough password"},
        ("PATCH", "/api/accounts/{account_id:uuid}"): {"display_name": "Renamed"},
        ("POST", "/api/groups"): {"name": f"Group {unique}"},
        ("PATCH", "/api/groups/{group_id:uuid}"): {"description": "changed"},
        ("PUT", "/api/groups/{group_id:uuid}/members"): {"account_ids": [ids["member"]]},
        ("POST", "/api/services"): {"name": f"Service {unique}"},
        ("PATCH", "/api/services/{service_id:uuid}"): {"owner_ids": [ids["owner"]]},
        ("POST", "/api/instruments"): msgspec.to_builtins(
            msgspec.structs.replace(load_builtin("pulse"), id=f"custom-{unique}")
        ),
    }
    url = url.replace("{instrument_id:str}", "servqual")
    url = url.replace("{account_id:uuid}", ids["member"]).replace("{service_id:uuid}", ids["service"])
    group = ids["doomed"] if method == "DELETE" else ids["group"]
    url = url.replace("{group_id:uuid}", group)
    return method, url, bodies.get((method, path))


@pytest.mark.parametrize("who", EVERYONE)
async def test_role_guards(client, db, who):
    ids = await _arrange(db)
    if who != ANON:
        await login(client, who)
    got = {}
    for method, path in TABLE:
        verb, url, body = _request(method, path, ids)
        kwargs = {"json": body} if body is not None else {}
        response = await client.request(verb, url, **kwargs)
        got[(method, path)] = response.status_code
        if (method, path) == ("POST", "/api/auth/login"):
            # That signed this browser in as the member: go back to being `who`.
            client.cookies.clear()
            client.headers.pop("x-csrf-token", None)
            if who != ANON:
                await login(client, who)
    assert got == {key: statuses[who] for key, statuses in TABLE.items()}
