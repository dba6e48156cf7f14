"""Role guards: every route × every role → the expected status.

The table must name every route the app serves, so a new route without a decision
about who may call it fails here.
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
import pytest

from crypto.tokens import create_token_request
from instruments import load_builtin
from service.app import create_app
from tests.integration.wave_helpers import answers_for, create_wave
from tests.support import PASSWORD, ROLES, login, role_email

ANON = "anonymous"
EVERYONE = (ANON, *ROLES)
SIGNED_IN = ROLES


def only(*allowed: str, ok: int = 200) -> dict[str, int]:
    """``ok`` for the allowed roles, 401 when not signed in, 403 for other roles."""
    return {who: ok if who in allowed else (401 if who == ANON else 403) for who in EVERYONE}


def everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(EVERYONE, status)


VISIBLE = {ANON: 401, "member": 200, "owner": 200, "manager": 200, "moderator": 404, "admin": 404}
# Results of the arranged (open) wave: readers are told they appear when it closes.
RESULTS = {**VISIBLE, "member": 403, "owner": 409, "manager": 409}

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
    ("GET", "/api/groups/audit"): only("admin"),
    ("GET", "/api/groups/{group_id:uuid}/audit"): only("admin"),
    ("GET", "/api/services"): only(*SIGNED_IN),
    ("GET", "/api/services/{service_id:uuid}"): only(*SIGNED_IN),
    ("POST", "/api/services"): only("admin", "manager", ok=201),
    ("PATCH", "/api/services/{service_id:uuid}"): only("admin", "manager"),
    ("GET", "/api/instruments"): only(*SIGNED_IN),
    ("GET", "/api/instruments/{instrument_id:str}"): only(*SIGNED_IN),
    ("POST", "/api/instruments"): only("admin", "manager", ok=201),
    ("GET", "/api/campaigns"): only(*SIGNED_IN),
    ("POST", "/api/campaigns"): only("manager", ok=201),
    # A wave is visible to managers, its service's owners and (once open) its audience;
    # to anyone else it does not exist.
    ("GET", "/api/campaigns/{campaign_id:uuid}"): VISIBLE,
    ("GET", "/api/campaigns/{campaign_id:uuid}/manifest"): VISIBLE,
    ("PATCH", "/api/campaigns/{campaign_id:uuid}"): only("manager"),
    ("POST", "/api/campaigns/{campaign_id:uuid}/open"): only("manager"),
    ("GET", "/api/campaigns/{campaign_id:uuid}/token-key"): everyone(200),
    ("POST", "/api/campaigns/{campaign_id:uuid}/token-requests"): {**only("member"), "manager": 403},
    ("GET", "/api/campaigns/{campaign_id:uuid}/progress"): {**VISIBLE, "member": 403},
    ("GET", "/api/campaigns/{campaign_id:uuid}/report"): RESULTS,
    ("GET", "/api/campaigns/{campaign_id:uuid}/charts/{chart:str}"): RESULTS,
    ("GET", "/api/campaigns/{campaign_id:uuid}/trend"): RESULTS,
    ("GET", "/api/campaigns/{campaign_id:uuid}/audience-provenance"): {**VISIBLE, "member": 403},
    # The key transparency log is public: no session, no role (bad parameters: 400).
    ("GET", "/api/transparency/log-key"): everyone(200),
    ("GET", "/api/transparency/tree-head"): everyone(200),
    ("GET", "/api/transparency/entries"): everyone(400),
    ("GET", "/api/transparency/inclusion"): everyone(400),
    ("GET", "/api/transparency/consistency"): everyone(400),
    # Mail preferences are each account's own; the development mailbox is for admins.
    ("GET", "/api/me/mail"): only(*SIGNED_IN),
    ("PUT", "/api/me/mail"): only(*SIGNED_IN),
    ("GET", "/admin/mailbox"): {**only("admin"), ANON: 200},
    # SCIM bearer tokens are made and revoked by admins (an unknown token id: 404).
    ("GET", "/api/admin/scim-tokens"): only("admin"),
    ("POST", "/api/admin/scim-tokens"): only("admin", ok=201),
    ("DELETE", "/api/admin/scim-tokens/{token_id:uuid}"): only("admin", ok=404),
    # Anonymous endpoints know no roles: without a token every caller gets the challenge.
    ("POST", "/anon/campaigns/{campaign_id:uuid}/responses"): everyone(401),
    ("GET", "/anon/campaigns/{campaign_id:uuid}/receipts/{receipt:str}"): everyone(404),
    ("POST", "/api/campaigns/{campaign_id:uuid}/close"): only("manager"),
    # Pages: a visitor who is not signed in is redirected to the sign-in page (200 after
    # the redirect); a signed-in account without the role gets the 403 page.
    ("GET", "/"): everyone(200),
    ("GET", "/login"): everyone(200),
    ("POST", "/login"): everyone(400),  # no form fields: the form comes back with a message
    ("GET", "/privacy"): everyone(200),
    ("GET", "/receipts"): everyone(200),
    ("GET", "/language"): everyone(200),  # sets the language cookie and returns to the home page
    ("GET", "/static/{file_path:path}"): everyone(200),
    ("GET", "/surveys"): {**only("member"), ANON: 200},
    ("GET", "/surveys/{campaign_id:uuid}"): {**only("member"), ANON: 200},
    ("GET", "/waves"): {**only("manager", "owner", "admin"), ANON: 200},
    ("GET", "/waves/{campaign_id:uuid}"): {**only("manager", "owner", "admin"), ANON: 200},
    ("GET", "/admin/accounts"): {**only("admin"), ANON: 200},
    ("GET", "/admin/groups"): {**only("admin"), ANON: 200},
    ("GET", "/admin/services"): {**only("admin", "manager"), ANON: 200},
    # Feedback threads (issue 8). The arranged thread belongs to a service owner@ owns.
    ("GET", "/api/threads/token-key"): everyone(200),
    ("GET", "/api/threads/allowance"): only("member"),
    ("POST", "/api/threads/token-requests"): only("member"),
    ("GET", "/api/threads"): only("owner", "moderator"),
    ("GET", "/api/threads/audit"): only("moderator", "admin"),
    ("GET", "/api/threads/{thread_id:uuid}"): only("owner", "moderator"),
    ("POST", "/api/threads/{thread_id:uuid}/messages"): only("owner", ok=201),
    ("PUT", "/api/threads/{thread_id:uuid}/status"): only("owner"),
    ("POST", "/api/threads/{thread_id:uuid}/publication-request"): only("owner"),
    ("PUT", "/api/threads/{thread_id:uuid}/publication"): only("moderator"),
    ("POST", "/api/threads/{thread_id:uuid}/messages/{seq:int}/hide"): only("moderator"),
    ("PUT", "/api/services/{service_id:uuid}/webhook"): only("owner", "admin"),
    ("GET", "/api/services/{service_id:uuid}/webhook"): only("owner", "admin"),
    ("POST", "/api/threads/{thread_id:uuid}/ticket"): only("owner", ok=202),
    # Service desk (issue 17): no desk is configured in the tests' settings, so the allowed callers
    # get 409 saying so; RT's signed callback is not set up (404 for everyone).
    ("GET", "/api/services/{service_id:uuid}/servicedesk"): only("owner", "admin"),
    ("PUT", "/api/services/{service_id:uuid}/servicedesk"): only("owner", "admin", ok=409),
    ("GET", "/api/threads/{thread_id:uuid}/servicedesk"): only("owner", "moderator"),
    ("POST", "/api/threads/{thread_id:uuid}/servicedesk"): only("owner", ok=409),
    ("POST", "/api/servicedesk/rt/status"): everyone(404),
    ("GET", "/api/services/{service_id:uuid}/thread-metrics"): only("owner", "manager", "admin"),
    ("GET", "/api/board"): only(*SIGNED_IN),
    ("GET", "/api/board/{thread_id:uuid}"): {**everyone(404), ANON: 401},  # not published
    ("POST", "/anon/threads"): everyone(401),
    ("GET", "/anon/threads/by-secret"): everyone(401),
    ("POST", "/anon/threads/by-secret/messages"): everyone(401),
    ("PUT", "/anon/threads/by-secret/resolution"): everyone(401),
    ("PUT", "/anon/threads/by-secret/consent"): everyone(401),
    ("GET", "/threads/new"): {**only("member"), ANON: 200},
    ("GET", "/threads/follow"): everyone(200),
    ("GET", "/threads/policy"): everyone(200),
    ("GET", "/board"): {**only(*SIGNED_IN), ANON: 200},
    ("GET", "/threads/inbox"): {**only("owner", "moderator"), ANON: 200},
    ("GET", "/threads/staff/{thread_id:uuid}"): {**only("owner", "moderator"), ANON: 200},
    ("GET", "/moderation"): {**only("moderator"), ANON: 200},
    # Action items (issue 9). The arranged item belongs to owner@ on the wave's service.
    ("GET", "/api/actions"): only("manager", "owner"),
    ("POST", "/api/actions"): only("manager", "owner", ok=201),  # from a thread of owner@'s service
    ("GET", "/api/actions/{action_id:uuid}"): only("manager", "owner"),
    ("PATCH", "/api/actions/{action_id:uuid}"): only("manager", "owner"),
    ("POST", "/api/actions/{action_id:uuid}/status"): only("manager", "owner"),
    ("GET", "/api/actions/dashboard"): only("manager"),
    ("GET", "/api/actions/score-chart/{service_id:uuid}/{instrument_id:str}"): only("manager"),
    ("GET", "/api/actions/export.csv"): only("manager", "owner"),
    ("GET", "/api/you-said-we-did"): only(*SIGNED_IN),
    # By now the manager has closed the wave (above), so the manager gets its results.
    ("GET", "/api/campaigns/{campaign_id:uuid}/export/json"): {**RESULTS, "manager": 200},
    ("GET", "/api/campaigns/{campaign_id:uuid}/export/csv"): {**RESULTS, "manager": 200},
    # Respondent rows need k responses; the arranged wave has none (409 for its readers).
    ("GET", "/api/campaigns/{campaign_id:uuid}/export/responses/{fmt:str}"): RESULTS,
    ("GET", "/actions"): {**only("manager", "owner"), ANON: 200},
    ("GET", "/actions/{action_id:uuid}"): {**only("manager", "owner"), ANON: 200},
    ("GET", "/you-said-we-did"): {**only(*SIGNED_IN), ANON: 200},
    ("POST", "/logout"): everyone(200),  # signs out, then the sign-in page
    ("POST", "/api/auth/logout"): everyone(204),
}


def served_routes(settings) -> set[tuple[str, str]]:
    """Every route but the OpenAPI schema and SCIM's (which take a bearer token, not a
    session or role: tests/integration/test_scim.py and test_scim_tester.py cover them)."""
    app = create_app(settings)
    routes = set()
    for route in app.routes:
        if route.path.startswith(("/schema", "/scim/")):
            continue
        for method in getattr(route, "methods", ()):
            if method not in ("HEAD", "OPTIONS"):
                routes.add((method, route.path))
    return routes


def test_table_covers_every_route(settings):
    assert served_routes(settings) == set(TABLE)


async def _arrange(client, db) -> dict[str, Any]:
    """Two waves made through the API by the manager: one open (audience: member@), one draft."""
    wave = await create_wave(client, db, title="Open")
    draft = await create_wave(client, db, title="Draft", open_it=False)
    client.cookies.clear()
    client.headers.pop("x-csrf-token", None)
    spki, challenge = await db.fetchrow("select token_key, challenge from campaigns where id = $1",
                                        uuid.UUID(wave["id"]))
    token_request, _ = create_token_request(bytes(spki), bytes(challenge))
    ids: dict[str, Any] = await _arrange_catalogue(db)  # ids (str) and, below, token requests (bytes)
    ids.update(await _arrange_thread(client, db, ids))
    ids.update(await _arrange_action(db, wave))
    return {**ids, "wave": wave["id"], "draft": draft["id"], "token_request": token_request.encode(),
            "instrument_hash": wave["instrument_hash"], "group_id": wave["audience_group_id"],
            "service_id": wave["service"]["id"]}


async def _arrange_catalogue(db) -> dict[str, str]:
    member = await db.fetchval("select id from accounts where email = $1", role_email("member"))
    owner = await db.fetchval("select id from accounts where email = $1", role_email("owner"))
    group = await db.fetchval("insert into groups (name) values ('Keep') returning id")
    doomed = await db.fetchval("insert into groups (name) values ('Doomed') returning id")
    service = await db.fetchval("insert into services (name) values ('Wiki') returning id")
    return {"member": str(member), "owner": str(owner), "group": str(group), "doomed": str(doomed),
            "service": str(service)}


async def _arrange_thread(client, db, ids: dict[str, str]) -> dict[str, object]:
    """owner@ owns the catalogue service, which has one thread with one message."""
    from service.client import fetch_thread_key

    await db.execute("insert into service_owners values ($1, $2)", uuid.UUID(ids["service"]), uuid.UUID(ids["owner"]))
    thread = await db.fetchval(
        "insert into threads (service_id, secret_hash, category, title) values ($1, $2, 'idea', 'T') returning id",
        uuid.UUID(ids["service"]), uuid.uuid4().bytes * 2)
    await db.execute("insert into thread_messages (thread_id, seq, from_staff, body) values ($1, 1, false, 'b')", thread)
    key = await fetch_thread_key(client)
    thread_request, _ = create_token_request(key.token_key, key.challenge)
    return {"thread": str(thread), "thread_token_request": thread_request.encode()}


async def _arrange_action(db, wave: dict) -> dict[str, str]:
    """A proposed action item owned by owner@ on the wave's service (which owner@ owns),
    and a thread of that service to create another from."""
    service = uuid.UUID(wave["service"]["id"])
    owner = await db.fetchval("select id from accounts where email = $1", role_email("owner"))
    action = await db.fetchval(
        """insert into action_items (title, service_id, owner_id, source, target_level, due_on, created_by)
           values ('Arranged', $1, $2, 'thread', 'thread', current_date + 30, $2) returning id""", service, owner)
    thread = await db.fetchval(
        "insert into threads (service_id, secret_hash, category, title) values ($1, $2, 'problem', 'A') returning id",
        service, uuid.uuid4().bytes * 2)
    return {"action": str(action), "action_thread": str(thread)}


def _request(method: str, path: str, ids: dict[str, Any]) -> tuple[str, str, object]:
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
        ("POST", "/api/campaigns"): {"title": "Another", "service_id": ids["service_id"], "instrument_id": "pulse",
                                     "audience_group_id": ids["group_id"], "opens_on": "2030-01-01",
                                     "closes_on": "2030-02-01"},
        ("PATCH", "/api/campaigns/{campaign_id:uuid}"): {"description": "changed"},
        ("PUT", "/api/me/mail"): {"reminders": False},
        ("POST", "/api/admin/scim-tokens"): {"name": f"Directory {unique}"},
        ("POST", "/api/actions"): {"thread_id": ids["action_thread"], "title": "From a thread"},
        ("PATCH", "/api/actions/{action_id:uuid}"): {"title": "Renamed"},
        ("POST", "/api/actions/{action_id:uuid}/status"): {"status": "accepted"},
        ("POST", "/api/threads/{thread_id:uuid}/messages"): {"body": "An answer"},
        ("PUT", "/api/threads/{thread_id:uuid}/status"): {"status": "acknowledged"},
        ("PUT", "/api/threads/{thread_id:uuid}/publication"): {"approved": True},
        ("POST", "/api/threads/{thread_id:uuid}/messages/{seq:int}/hide"): {"reason": "Abusive"},
        ("PUT", "/api/services/{service_id:uuid}/webhook"): {"url": "http://127.0.0.1:9/hook", "secret": "x" * 16},
        ("PUT", "/api/services/{service_id:uuid}/servicedesk"): {"queue": "General"},
        ("POST", "/anon/threads"): {"service_id": ids["service"], "category": "idea", "title": "t", "body": "b",
                                    "secret": "x"},
        ("POST", "/anon/threads/by-secret/messages"): {"body": "b"},
        ("PUT", "/anon/threads/by-secret/resolution"): {"resolved": True},
        ("PUT", "/anon/threads/by-secret/consent"): {"consent": True},
        ("POST", "/api/instruments"): msgspec.to_builtins(
            msgspec.structs.replace(load_builtin("pulse"), id=f"custom-{unique}")
        ),
    }
    url = url.replace("{instrument_id:str}", "servqual").replace("{receipt:str}", "0" * 64)
    url = url.replace("{chart:str}", "dimension-gaps").replace("{fmt:str}", "sav")
    url = url.replace("{file_path:path}", "css/candor.css").replace("{token_id:uuid}", str(uuid.uuid4()))
    url = url.replace("{action_id:uuid}", ids["action"])
    url = url.replace("{thread_id:uuid}", ids["thread"]).replace("{seq:int}", "1")
    draft_routes = ("PATCH", "/api/campaigns/{campaign_id:uuid}"), ("POST", "/api/campaigns/{campaign_id:uuid}/open")
    url = url.replace("{campaign_id:uuid}", ids["draft"] if (method, path) in draft_routes else ids["wave"])
    url = url.replace("{account_id:uuid}", ids["member"]).replace("{service_id:uuid}", ids["service"])
    group = ids["doomed"] if method == "DELETE" else ids["group"]
    url = url.replace("{group_id:uuid}", group)
    if (method, path) == ("POST", "/api/campaigns/{campaign_id:uuid}/token-requests"):
        return method, url, ("application/private-token-request", ids["token_request"])
    if (method, path) == ("POST", "/api/threads/token-requests"):
        return method, url, ("application/private-token-request", ids["thread_token_request"])
    if (method, path) == ("POST", "/anon/campaigns/{campaign_id:uuid}/responses"):
        return method, url, answers_for("pulse")
    return method, url, bodies.get((method, path))


@pytest.mark.parametrize("who", EVERYONE)
async def test_role_guards(client, db, who):
    ids = await _arrange(client, db)
    if who != ANON:
        await login(client, who)
    got = {}
    for method, path in TABLE:
        verb, url, body = _request(method, path, ids)
        if isinstance(body, tuple):
            kwargs = {"content": body[1], "headers": {"content-type": body[0]}}
        else:
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
