"""Admin pages: accounts, groups (admins) and the service catalogue (admins and managers).

The pages are shells; their ES modules read and write through the admin JSON API, so
the API's rules (last admin, owners must hold the owner role) stay in one place. The
services page lists the accounts that may own a service, because managers edit the
catalogue but cannot list accounts through the API.
"""

from __future__ import annotations

import asyncpg
from litestar import Controller, Request, get
from litestar.di import NamedDependency

from service.origin import absolute_url
from service.pages import PageResponse, gate, page
from service.queries import accounts as accounts_q


class AdminPageController(Controller):
    path = "/admin"
    tags = ["pages"]
    include_in_schema = False

    @get("/accounts", operation_id="adminAccountsPage")
    async def accounts(self, request: Request) -> PageResponse:
        return gate(request, "admin") or page(request, "admin/accounts")

    @get("/groups", operation_id="adminGroupsPage")
    async def groups(self, request: Request) -> PageResponse:
        return gate(request, "admin") or page(request, "admin/groups",
                                              scim_base_url=absolute_url(request.app.state.settings, "/scim/v2"))

    @get("/services", operation_id="adminServicesPage")
    async def services(self, request: Request, db: NamedDependency[asyncpg.Connection]) -> PageResponse:
        if denied := gate(request, "admin", "manager"):
            return denied
        owners = [a for a in await accounts_q.select_accounts(db) if a.active and "owner" in a.roles]
        return page(request, "admin/services", owner_candidates=owners)
