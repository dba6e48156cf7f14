"""scim2-tester (PyPI), the conformance checker of the python-scim project, against the
live app's SCIM endpoint: discovery, then create, read, attribute selection, replace,
delete and PATCH add/remove/replace of every attribute the server advertises, for
Users and Groups. Zero errors; checks of features the ServiceProviderConfig says are
not supported are skipped by the tester itself.

scim2-client's own network engine needs ``httpx2``; the client here is the same few
lines over ``httpx``, which the project already uses.
"""

from __future__ import annotations

from typing import Any

import httpx
from scim2_client import BaseSyncSCIMClient
from scim2_tester import Status, check_server

from tests.support import login

FAILED = {Status.ERROR, Status.CRITICAL}


class HttpxSCIMClient(BaseSyncSCIMClient):
    def __init__(self, client: httpx.Client, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.client = client

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self.client.request(method, url, **kwargs)

    def _parse_json(self, response: Any) -> Any:
        return response.json()

    def _stays_under_base_url(self, endpoint: str) -> bool:
        url = self.client.build_request("GET", endpoint).url
        base = self.client.base_url
        return url.scheme == base.scheme and url.netloc == base.netloc and url.raw_path.startswith(base.raw_path)


async def scim_token(base_url: str) -> str:
    async with httpx.AsyncClient(base_url=base_url) as admin:
        await login(admin, "admin")
        created = await admin.post("/api/admin/scim-tokens", json={"name": "scim2-tester"})
        assert created.status_code == 201, created.text
        return created.json()["token"]


def run_checks(base_url: str, token: str, **options: Any) -> list:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=f"{base_url}/scim/v2", headers=headers, timeout=30) as http:
        return check_server(HttpxSCIMClient(http), **options)


async def test_scim2_tester_finds_no_failure(live_server):
    results = run_checks(live_server, await scim_token(live_server))
    failures = [r for r in results if r.status in FAILED]
    assert not failures, "\n".join(f"{r.resource_type or ''} {r.title}: {r.reason}" for r in failures)
    # It really ran: discovery, and CRUD and PATCH on both resource types.
    passed = {(r.resource_type, r.title) for r in results if r.status == Status.SUCCESS}
    for resource_type in ("User", "Group"):
        for check in ("object_creation", "object_query", "object_replacement", "object_deletion",
                      "check_add_attribute", "check_remove_attribute", "check_replace_attribute",
                      "object_query_with_attributes"):
            assert (resource_type, check) in passed, (resource_type, check)
    assert (None, "random_url") in passed


async def test_scim2_tester_fails_without_a_valid_token(live_server):
    """The same run with a wrong token fails at once: the checks above are not vacuous."""
    results = run_checks(live_server, "candor_scim_not-a-token")
    assert any(r.status in FAILED for r in results)
    assert not any(r.status == Status.SUCCESS and r.title == "object_creation" for r in results)
