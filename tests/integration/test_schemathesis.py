"""Schemathesis against the running app's OpenAPI description, signed out and as each role.

Every operation in /schema/openapi.json gets a bounded number of generated requests
(derandomized, so a run is reproducible), half with random path ids and half with the ids
of real arranged objects so that handlers get past their 404s. Two checks: no response
is a server error, and every error is RFC 9457 problem+json with type, title, status
(equal to the response's) and detail. Failures are collected per operation and reported
together, one example each.

Nothing leaves the machine: the test process refuses every name lookup and connection
that is not to the loopback address or a Unix socket (the embedded PostgreSQL), which
covers schemathesis, the app under test and its webhook worker alike.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
import socket
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok

from tests.integration.test_authorization_matrix import arrange_objects
from tests.support import PASSWORD, ROLES, role_email

ANON = "anonymous"
CALLERS = (ANON, *ROLES)
# Examples per operation and pass (valid input, invalid input, valid input on arranged
# objects): about 3 × 5 × 71 operations × 6 callers ≈ 6,000 requests, 2–3 minutes on 2 idle cores.
MAX_EXAMPLES = 5
# Signing out would end the session the rest of the run uses (test_auth covers logout).
SIGNED_IN_SKIP = {"logout"}
# The operations that take a raw Privacy Pass TokenRequest (requestToken,
# requestThreadTokens) or an anonymous submission (submitResponse, uploadInstrument's TOML)
# declare no request body in the schema, so schemathesis sends none: their binary bodies
# cannot be generated meaningfully (a random byte string is refused at the first length
# check); test_waves/test_threads exercise them with real token requests.


# Nothing but loopback ------------------------------------------------------------------------


def _local(host: Any) -> bool:
    if host in ("localhost", None):
        return True
    try:
        return ipaddress.ip_address(str(host).strip("[]").split("%")[0]).is_loopback
    except ValueError:
        return False


@pytest.fixture
def loopback_only(monkeypatch) -> Iterator[list[str]]:
    """Refuse (and list) every lookup or connection to anything but 127.0.0.1 / ::1 / Unix sockets."""
    refused: list[str] = []
    real_getaddrinfo, real_connect, real_connect_ex = socket.getaddrinfo, socket.socket.connect, socket.socket.connect_ex

    def getaddrinfo(host, *args, **kwargs):
        if not _local(host):
            refused.append(f"lookup {host!r}")
            raise socket.gaierror(socket.EAI_NONAME, "refused by the test: loopback only")
        return real_getaddrinfo(host, *args, **kwargs)

    def _allowed(sock: socket.socket, address: Any) -> bool:
        return sock.family == socket.AF_UNIX or _local(address[0])

    def connect(self, address):
        if not _allowed(self, address):
            refused.append(f"connect {address!r}")
            raise ConnectionRefusedError("refused by the test: loopback only")
        return real_connect(self, address)

    def connect_ex(self, address):
        if not _allowed(self, address):
            refused.append(f"connect {address!r}")
            return 111  # ECONNREFUSED
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    yield refused


def test_the_loopback_guard_refuses_the_outside(loopback_only):
    with pytest.raises(OSError):
        socket.getaddrinfo("example.org", 80)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock, pytest.raises(OSError):
        sock.connect(("192.0.2.1", 9))
    assert loopback_only == ["lookup 'example.org'", "connect ('192.0.2.1', 9)"]


# Checks ----------------------------------------------------------------------------------


def problem_details(ctx, response, case) -> None:
    """Every 4xx/5xx is application/problem+json with type, title, status and detail."""
    if response.status_code < 400:
        return
    media_type = response.headers.get("content-type", [""])[0].split(";")[0].strip()
    assert media_type == "application/problem+json", f"{response.status_code} answered as {media_type or 'nothing'}"
    body = response.json()
    missing = [k for k in ("type", "title", "status", "detail") if not body.get(k)]
    assert not missing, f"problem without {', '.join(missing)}: {body}"
    assert body["status"] == response.status_code, f"status {body['status']} in a {response.status_code} answer"
    assert str(body["type"]).startswith("/problems/"), body["type"]


CHECKS = [not_a_server_error, problem_details]


@pytest.mark.parametrize(
    ("status", "media_type", "body", "complaint"),
    [
        (404, "text/html", None, "answered as text/html"),
        (422, "application/json", {"detail": "x"}, "answered as application/json"),
        (400, "application/problem+json", {"type": "/problems/bad-request", "status": 400}, "without title, detail"),
        (409, "application/problem+json", {"type": "/problems/conflict", "title": "t", "status": 400, "detail": "d"},
         "status 400 in a 409 answer"),
    ],
)
def test_the_problem_check_catches_other_error_shapes(status, media_type, body, complaint):
    from types import SimpleNamespace

    response = SimpleNamespace(status_code=status, headers={"content-type": [media_type]}, json=lambda: body)
    with pytest.raises(AssertionError, match=complaint):
        problem_details(None, response, None)


# The run ---------------------------------------------------------------------------------


def _session(base_url: str, who: str) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no proxy from the environment: straight to 127.0.0.1
    if who != ANON:
        response = session.post(f"{base_url}/api/auth/login", json={"email": role_email(who), "password": PASSWORD},
                                timeout=30)
        assert response.status_code == 200, response.text
        session.headers["x-csrf-token"] = response.json()["csrf_token"]
    return session


def _arranged_path(operation, ids: dict[str, str]) -> dict[str, Any]:
    real = {"campaign_id": ids["wave"], "thread_id": ids["thread"], "action_id": ids["action"],
            "service_id": ids["service"], "group_id": ids["group"], "account_id": ids["member"],
            "instrument_id": "servqual", "chart": "dimension-gaps", "seq": 1, "receipt": "0" * 64}
    return {name: real[name] for name in re.findall(r"{(\w+)}", operation.path) if name in real}


def _fuzz(operation, strategy, base_url: str, session: requests.Session, found: dict[str, str]) -> None:
    # Iterating HealthCheck (its metaclass leaves out the deprecated checks) is untyped for pyright.
    all_checks: list[HealthCheck] = list(HealthCheck)  # pyright: ignore[reportAssignmentType]

    @given(case=strategy)
    @hypothesis_settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
                         phases=[Phase.explicit, Phase.generate], suppress_health_check=all_checks)
    def run(case) -> None:
        response = case.call(base_url=base_url, session=session, timeout=30)
        try:
            case.validate_response(response, checks=CHECKS)
        except FailureGroup as failures:
            for failure in failures.exceptions:
                key = f"{operation.label}: {failure.title}"
                found.setdefault(key, f"{failure.message}\n    {case.as_curl_command()}\n    -> {response.status_code} "
                                      f"{response.text[:300]}")

    # Negative mode on an operation without inputs: there is nothing to make invalid.
    with contextlib.suppress(Unsatisfiable):
        run()


@pytest.mark.parametrize("who", CALLERS)
async def test_openapi_operations_as(who, loopback_only, live_server, db):
    ids = await arrange_objects(live_server, db)
    schema = schemathesis.openapi.from_url(f"{live_server}/schema/openapi.json", timeout=30)
    session = _session(live_server, who)
    found: dict[str, str] = {}
    operations = [result.ok() for result in schema.get_all_operations() if isinstance(result, Ok)]
    assert len(operations) > 50, "the schema lost its operations"
    for operation in operations:
        if who != ANON and operation.definition.raw.get("operationId") in SIGNED_IN_SKIP:
            continue
        _fuzz(operation, operation.as_strategy(), live_server, session, found)
        # Invalid input (wrong types, missing fields, bad formats): the answers the
        # problem+json check is mostly about.
        _fuzz(operation, operation.as_strategy(GenerationMode.NEGATIVE), live_server, session, found)
        # Signed out, every route but the anonymous ones stops at the sign-in check.
        deep = who != ANON or operation.path.startswith("/anon/")
        if deep and (arranged := _arranged_path(operation, ids)):
            _fuzz(operation, operation.as_strategy(path_parameters=arranged), live_server, session, found)
    session.close()
    assert not found, f"{len(found)} failure(s) as {who}:\n" + "\n".join(f"- {k}\n    {v}" for k, v in found.items())


# What the fuzzer found, pinned down ------------------------------------------------------


async def test_a_nul_character_is_a_client_error_not_a_crash(client, db):
    """Found by schemathesis: PostgreSQL text cannot hold U+0000, and a NUL in a search
    query or a JSON string reached the database and came back as a 500."""
    from tests.support import login

    await login(client, "admin")
    searched = await client.get("/api/board", params={"q": "a\x00b"})
    created = await client.post("/api/groups", json={"name": "a\x00b"})
    for response in (searched, created):
        assert response.status_code == 400, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "NUL" in response.json()["detail"]
    assert await db.fetchval("select count(*) from groups") == 0
