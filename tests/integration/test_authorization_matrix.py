"""Authorization matrix: every route the app serves × every kind of caller, against one policy.

The routes come from the app's own route table, the policy from
``authorization_policy.toml`` next to this file. A served route without a policy entry
fails, so a new route cannot ship without someone deciding who may call it. Each route
is then called, with real ids of arranged objects, by a signed-out browser, one session
per role and an "outsider" (member and owner roles, owns nothing, in no audience):
callers outside the policy must be refused (401 / 403 / the declared 404, or the sign-in
redirect for pages) and callers inside it must never be told to sign in or that they are
not allowed.
"""

from __future__ import annotations

import tomllib
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.app import create_app
from tests.integration.wave_helpers import create_wave
from tests.support import PASSWORD, ROLES, login, role_email

POLICY_FILE = Path(__file__).with_name("authorization_policy.toml")
ANON = "anonymous"
OUTSIDER = "outsider"
CALLERS = (ANON, *ROLES, OUTSIDER)
# Problem types that mean "who you are is not enough"; allowed callers never see them.
REFUSALS = {"/problems/unauthenticated", "/problems/forbidden", "/problems/csrf"}
# Sent last: they end the caller's session.
LAST = ("POST /api/auth/logout", "POST /logout")


def load_policy() -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    data = tomllib.loads(POLICY_FILE.read_text())
    excluded = data.pop("excluded")
    return data, excluded


def served_routes(settings) -> list[str]:
    """Every (method, path) pair of the route table, static files and the schema included."""
    app = create_app(settings)
    return sorted({f"{method} {route.path}" for route in app.routes for method in route.methods})


def _is_excluded(route: str, excluded: dict[str, str]) -> bool:
    return route in excluded or route.split(" ", 1)[0] in excluded


def test_policy_names_every_route_and_no_other(settings):
    policy, excluded = load_policy()
    routes = [r for r in served_routes(settings) if not _is_excluded(r, excluded)]
    missing = sorted(set(routes) - set(policy))
    stale = sorted(set(policy) - set(routes))
    assert not missing, f"routes without an entry in {POLICY_FILE.name}: {missing}"
    assert not stale, f"{POLICY_FILE.name} names routes the app does not serve: {stale}"
    for route, entry in policy.items():
        allow, hidden = set(entry["allow"]), set(entry.get("hidden", ()))
        assert allow <= set(CALLERS), (route, allow - set(CALLERS))
        assert ANON not in allow or allow == {ANON}, f"{route}: 'anonymous' already means everyone"
        assert not hidden & allow and hidden <= set(CALLERS) - {ANON}, (route, hidden)


# Arrangement -------------------------------------------------------------------------------


async def arrange_objects(base_url: str, db) -> dict[str, str]:
    """As the manager, through the API: a closed wave (audience: member@, service owned by
    owner@) and a draft; in the database: a thread with one message and an action item on
    that service, a second thread to make an action item from, groups, and the outsider."""
    async with httpx.AsyncClient(base_url=base_url) as manager:
        wave = await create_wave(manager, db, title="Closed")
        draft = await create_wave(manager, db, title="Draft", open_it=False)
        closed = await manager.post(f"/api/campaigns/{wave['id']}/close")
        assert closed.status_code == 200, closed.text
    service = uuid.UUID(wave["service"]["id"])
    owner = await db.fetchval("select id from accounts where email = $1", role_email("owner"))
    member = await db.fetchval("select id from accounts where email = $1", role_email("member"))
    await db.execute(
        """insert into accounts (email, display_name, password_hash, roles)
           select 'outsider@test.example', 'Outsider', password_hash, '{member,owner}' from accounts where id = $1""",
        member)
    thread = await db.fetchval(
        "insert into threads (service_id, secret_hash, category, title) values ($1, $2, 'idea', 'T') returning id",
        service, uuid.uuid4().bytes * 2)
    await db.execute("insert into thread_messages (thread_id, seq, from_staff, body) values ($1, 1, false, 'b')", thread)
    action_thread = await db.fetchval(
        "insert into threads (service_id, secret_hash, category, title) values ($1, $2, 'problem', 'A') returning id",
        service, uuid.uuid4().bytes * 2)
    action = await db.fetchval(
        """insert into action_items (title, service_id, owner_id, source, target_level, due_on, created_by)
           values ('Arranged', $1, $2, 'thread', 'thread', current_date + 30, $2) returning id""", service, owner)
    group = await db.fetchval("insert into groups (name) values ('Keep') returning id")
    doomed = await db.fetchval("insert into groups (name) values ('Doomed') returning id")
    return {name: str(value) for name, value in {
        "wave": wave["id"], "draft": draft["id"], "service": service, "member": member, "thread": thread,
        "action_thread": action_thread, "action": action, "group": group, "doomed": doomed,
    }.items()}


def _url(route: str, ids: dict[str, str]) -> str:
    method, path = route.split(" ", 1)
    draft_routes = ("PATCH /api/campaigns/{campaign_id:uuid}", "POST /api/campaigns/{campaign_id:uuid}/open")
    fill = {
        "{campaign_id:uuid}": ids["draft"] if route in draft_routes else ids["wave"],
        "{group_id:uuid}": ids["doomed"] if method == "DELETE" else ids["group"],
        "{account_id:uuid}": ids["member"],
        "{service_id:uuid}": ids["service"],
        "{thread_id:uuid}": ids["thread"],
        "{action_id:uuid}": ids["action"],
        "{seq:int}": "1",
        "{instrument_id:str}": "servqual",
        "{chart:str}": "dimension-gaps",
        "{fmt:str}": "csv",
        "{receipt:str}": "0" * 64,
        "{file_path:path}": "css/candor.css",
        "{path:str}": "openapi.json",
        "{token_id:uuid}": str(uuid.uuid4()),  # no such token: 404 for admins, the guard for others
    }
    for placeholder, value in fill.items():
        path = path.replace(placeholder, value)
    assert "{" not in path, f"no value to fill in {path}"
    return path


def _body(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        for name, id_ in {**ids, "unique": uuid.uuid4().hex[:8]}.items():
            value = value.replace("{" + name + "}", id_)
        return value
    if isinstance(value, list):
        return [_body(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: _body(v, ids) for k, v in value.items()}
    return value


async def _sign_in(base_url: str, who: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=base_url, follow_redirects=False)
    if who == OUTSIDER:
        response = await client.post("/api/auth/login", json={"email": "outsider@test.example", "password": PASSWORD})
        assert response.status_code == 200, response.text
        client.headers["x-csrf-token"] = response.json()["csrf_token"]
    elif who != ANON:
        await login(client, who)
    return client


# Verdicts ----------------------------------------------------------------------------------


def _problem_type(response: httpx.Response) -> str | None:
    if not response.headers.get("content-type", "").startswith("application/problem+json"):
        return None
    return response.json().get("type")


def _redirects_to_login(response: httpx.Response) -> bool:
    return response.status_code in (302, 303) and response.headers.get("location", "").endswith("/login")


def _is_html(response: httpx.Response) -> bool:
    return response.headers.get("content-type", "").startswith("text/html")


def judge(response: httpx.Response, who: str, entry: dict[str, Any]) -> str | None:
    """``None`` if the answer fits the policy for this caller, else what is wrong."""
    allow, hidden = set(entry["allow"]), set(entry.get("hidden", ()))
    status, kind = response.status_code, _problem_type(response)
    if status >= 500:
        return f"server error {status}"
    if ANON in allow or who in allow:
        sent_to_login = _redirects_to_login(response) and not entry.get("signs_out", False)
        if (status in (401, 403) and (kind in REFUSALS or _is_html(response))) or sent_to_login:
            return f"allowed, but refused: {status} {kind or response.headers.get('location')}"
        return None
    if 200 <= status < 300:
        return f"not allowed, but answered {status}"
    if who == ANON:
        if _redirects_to_login(response) or (status == 401 and kind == "/problems/unauthenticated"):
            return None
        return f"signed out: expected 401 unauthenticated or the sign-in redirect, got {status} {kind}"
    if who in hidden:
        return None if status == 404 and kind == "/problems/not-found" else f"expected 404 not-found, got {status} {kind}"
    if status == 403 and (kind == "/problems/forbidden" or _is_html(response)):
        return None
    return f"expected 403 forbidden, got {status} {kind or response.headers.get('content-type')}"


async def test_every_route_refuses_whom_the_policy_refuses(settings, live_server, db):
    policy, excluded = load_policy()
    routes = [r for r in served_routes(settings) if not _is_excluded(r, excluded)]
    assert set(routes) <= set(policy), "see test_policy_names_every_route_and_no_other"
    routes.sort(key=lambda r: r in LAST)
    ids = await arrange_objects(live_server, db)
    clients = {who: await _sign_in(live_server, who) for who in CALLERS}
    wrong: list[str] = []
    try:
        for route in routes:
            entry = policy[route]
            method = route.split(" ", 1)[0]
            for who, client in clients.items():
                kwargs = {"json": _body(entry["body"], ids)} if "body" in entry else {}
                response = await client.request(method, _url(route, ids), **kwargs)
                if problem := judge(response, who, entry):
                    wrong.append(f"{route} as {who}: {problem}")
    finally:
        for client in clients.values():
            await client.aclose()
    assert not wrong, "answers that do not fit the policy:\n" + "\n".join(wrong)


@pytest.mark.parametrize(
    ("status", "headers", "who", "entry", "expected"),
    [
        # A route the policy keeps from members that answers them 200 is reported.
        (200, {"content-type": "application/json"}, "member", {"allow": ["admin"]}, "not allowed, but answered 200"),
        # An allowed caller told to sign in is reported.
        (401, {"content-type": "application/problem+json"}, "owner", {"allow": ["owner"]}, "allowed, but refused"),
        # A hidden caller that gets 403 (so learns the object exists) is reported.
        (403, {"content-type": "application/problem+json"}, "admin", {"allow": ["owner"], "hidden": ["admin"]},
         "expected 404"),
        (303, {"location": "/login"}, "manager", {"allow": ["manager"]}, "allowed, but refused"),
    ],
)
def test_the_judge_catches_wrong_answers(status, headers, who, entry, expected):
    body = b'{"type": "/problems/forbidden"}' if status in (401, 403) else b"{}"
    if status == 401:
        body = b'{"type": "/problems/unauthenticated"}'
    response = httpx.Response(status, headers=headers, content=body)
    assert expected in (judge(response, who, entry) or "")
