"""SCIM 2.0 provisioning: bearer tokens, Users and Groups as a directory drives them
(Entra ID's and Okta's request shapes included), deprovisioning, directory groups as
wave audiences that admins cannot edit by hand, and the trail those changes leave."""

from __future__ import annotations

import pytest

from service.scim import ERROR_SCHEMA, GROUP_SCHEMA, LIST_SCHEMA, PATCH_SCHEMA, SCIM_JSON, USER_SCHEMA
from tests.integration.wave_helpers import make_service, token_for
from tests.support import PASSWORD, login, role_email

SCIM = "/scim/v2"


@pytest.fixture
async def token(client) -> str:
    """A token created by the admin through the API; the client is signed out afterwards."""
    await login(client, "admin")
    created = await client.post("/api/admin/scim-tokens", json={"name": "Entra ID"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["token"].startswith("candor_scim_") and body["scim_base_url"].endswith(SCIM)
    client.cookies.clear()
    client.headers.pop("x-csrf-token", None)
    return body["token"]


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}", "content-type": SCIM_JSON}


def user_body(user_name: str, **extra) -> dict:
    return {"schemas": [USER_SCHEMA], "userName": user_name, **extra}


async def create_user(client, token: str, user_name: str, **extra) -> dict:
    created = await client.post(f"{SCIM}/Users", json=user_body(user_name, **extra), headers=bearer(token))
    assert created.status_code == 201, created.text
    return created.json()


async def create_group(client, token: str, name: str, members: list[str] | None = None, **extra) -> dict:
    body = {"schemas": [GROUP_SCHEMA], "displayName": name, "members": [{"value": m} for m in members or []], **extra}
    created = await client.post(f"{SCIM}/Groups", json=body, headers=bearer(token))
    assert created.status_code == 201, created.text
    return created.json()


def patch_body(*operations: dict) -> dict:
    return {"schemas": [PATCH_SCHEMA], "Operations": list(operations)}


def assert_scim_error(response, status: int, scim_type: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(SCIM_JSON)
    body = response.json()
    assert body["schemas"] == [ERROR_SCHEMA] and body["status"] == str(status) and body["detail"]
    if scim_type:
        assert body["scimType"] == scim_type
    return body


# Tokens --------------------------------------------------------------------------------


async def test_missing_wrong_and_revoked_tokens_are_refused(client, token, db):
    url = f"{SCIM}/Users"
    assert_scim_error(await client.get(url), 401)
    assert_scim_error(await client.get(url, headers={"authorization": "Basic YWRtaW46YWRtaW4="}), 401)
    wrong = await client.get(url, headers=bearer(token[:-2] + "xx"))
    assert_scim_error(wrong, 401)
    assert wrong.headers["www-authenticate"].startswith("Bearer")
    assert (await client.get(url, headers=bearer(token))).status_code == 200

    await login(client, "admin")
    listed = (await client.get("/api/admin/scim-tokens")).json()
    assert [t["name"] for t in listed] == ["Entra ID"]
    assert token not in str(listed) and "token_hash" not in listed[0]
    assert listed[0]["last_used_on"] == listed[0]["created_on"]  # a date, no time
    # Only the hash is stored.
    assert await db.fetchval("select count(*) from scim_tokens where token_hash = sha256($1::text::bytea)", token) == 1
    revoked = await client.delete(f"/api/admin/scim-tokens/{listed[0]['id']}")
    assert revoked.status_code == 204
    client.cookies.clear()
    assert_scim_error(await client.get(url, headers=bearer(token)), 401)


async def test_a_session_cookie_is_no_scim_credential(client, token):
    await login(client, "admin")
    assert_scim_error(await client.get(f"{SCIM}/Users"), 401)
    # Nor does a bearer call need the session's CSRF token.
    client.headers.pop("x-csrf-token", None)
    assert (await client.post(f"{SCIM}/Users", json=user_body("ada"), headers=bearer(token))).status_code == 201


async def test_only_admins_manage_tokens(client):
    await login(client, "manager")
    assert (await client.get("/api/admin/scim-tokens")).status_code == 403
    assert (await client.post("/api/admin/scim-tokens", json={"name": "x"})).status_code == 403


# Users ---------------------------------------------------------------------------------


async def test_user_lifecycle(client, token, db):
    created = await create_user(client, token, "Ada.Lovelace@example.org", externalId="e-1",
                                name={"givenName": "Ada", "familyName": "Lovelace"},
                                emails=[{"value": "ada@example.org", "type": "work", "primary": True}],
                                password="ignored", phoneNumbers=[{"value": "123"}])
    user_id = created["id"]
    assert created["userName"] == "Ada.Lovelace@example.org" and created["meta"]["resourceType"] == "User"
    assert "password" not in created and "phoneNumbers" not in created
    account = await db.fetchrow("select email, display_name, active, roles from accounts where id = $1::uuid", user_id)
    assert dict(account) == {"email": "ada@example.org", "display_name": "Ada Lovelace", "active": True,
                             "roles": ["member"]}

    got = await client.get(f"{SCIM}/Users/{user_id}", headers=bearer(token))
    assert got.json() == created

    duplicate = await client.post(f"{SCIM}/Users", json=user_body("ada.lovelace@EXAMPLE.org"), headers=bearer(token))
    assert_scim_error(duplicate, 409, "uniqueness")

    replaced = await client.put(f"{SCIM}/Users/{user_id}", headers=bearer(token),
                                json=user_body("ada@example.org", displayName="Countess", active=True))
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["displayName"] == "Countess" and "emails" not in replaced.json()
    assert await db.fetchval("select display_name from accounts where id = $1::uuid", user_id) == "Countess"

    deleted = await client.delete(f"{SCIM}/Users/{user_id}", headers=bearer(token))
    assert deleted.status_code == 204
    assert_scim_error(await client.get(f"{SCIM}/Users/{user_id}", headers=bearer(token)), 404)
    # The account stays (past waves and the trail name it), deactivated.
    assert await db.fetchval("select active from accounts where id = $1::uuid", user_id) is False


async def test_filters_and_pagination(client, token):
    ids = [(await create_user(client, token, f"user{i}", externalId=f"x{i}"))["id"] for i in range(5)]

    async def listing(**params) -> dict:
        response = await client.get(f"{SCIM}/Users", params=params, headers=bearer(token))
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["schemas"] == [LIST_SCHEMA]
        return body

    found = await listing(filter='userName eq "USER3"')
    assert found["totalResults"] == 1 and [r["id"] for r in found["Resources"]] == [ids[3]]
    assert (await listing(filter='externalId eq "x2"'))["Resources"][0]["id"] == ids[2]
    assert (await listing(filter='externalId eq "X2"'))["totalResults"] == 0  # externalId is case-exact
    assert (await listing(filter='userName eq "user1" and externalId eq "x1"'))["totalResults"] == 1
    assert (await listing(filter='userName eq "user1" and externalId eq "x2"'))["totalResults"] == 0

    second = await listing(startIndex=2, count=2)
    assert second["totalResults"] == 5 and second["startIndex"] == 2 and second["itemsPerPage"] == 2
    assert [r["id"] for r in second["Resources"]] == ids[1:3]
    assert [r["id"] for r in (await listing(startIndex=5, count=10))["Resources"]] == ids[4:]
    assert (await listing(count=0))["Resources"] == []

    only = (await listing(filter='userName eq "user0"', attributes="userName"))["Resources"][0]
    assert set(only) == {"schemas", "id", "userName"}

    unsupported = await client.get(f"{SCIM}/Users", params={"filter": 'emails co "x"'}, headers=bearer(token))
    assert_scim_error(unsupported, 400, "invalidFilter")


async def test_patch_as_entra_id_and_okta_send_it(client, token, db):
    user = await create_user(client, token, "grace", emails=[{"value": "grace@example.org", "primary": True}])
    url = f"{SCIM}/Users/{user['id']}"
    # Entra ID: capitalised ops, a filtered path, booleans as strings.
    entra = patch_body({"op": "Replace", "path": 'emails[type eq "work"].value', "value": "g@example.org"},
                       {"op": "Add", "path": "name.givenName", "value": "Grace"},
                       {"op": "Replace", "path": "displayName", "value": "Grace Hopper"})
    patched = await client.patch(url, json=entra, headers=bearer(token))
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert body["name"] == {"givenName": "Grace"} and body["displayName"] == "Grace Hopper"
    assert {"value": "g@example.org", "type": "work"} in body["emails"]
    # Okta: no path, a value object.
    okta = patch_body({"op": "replace", "value": {"active": False}})
    assert (await client.patch(url, json=okta, headers=bearer(token))).json()["active"] is False
    assert await db.fetchval("select active from accounts where id = $1::uuid", user["id"]) is False
    entra_active = patch_body({"op": "Replace", "path": "active", "value": "True"})
    assert (await client.patch(url, json=entra_active, headers=bearer(token))).json()["active"] is True

    refused = await client.patch(url, json=patch_body({"op": "remove", "path": "userName"}), headers=bearer(token))
    assert_scim_error(refused, 400, "mutability")
    bad = await client.patch(url, json={"Operations": []}, headers=bearer(token))
    assert_scim_error(bad, 400, "invalidSyntax")


@pytest.mark.parametrize("how", ["active-false", "delete"])
async def test_deprovisioning_ends_sessions_at_once(client, token, db, how):
    # An account made by hand before provisioning started: the directory takes it over by email.
    member = await db.fetchval("select id from accounts where email = $1", role_email("member"))
    user = await create_user(client, token, "member", emails=[{"value": role_email("member"), "primary": True}])
    assert user["id"] == str(member)
    await login(client, "member")
    assert (await client.get("/api/auth/me")).status_code == 200
    if how == "delete":
        response = await client.delete(f"{SCIM}/Users/{member}", headers=bearer(token))
    else:
        response = await client.patch(f"{SCIM}/Users/{member}", headers=bearer(token),
                                      json=patch_body({"op": "replace", "path": "active", "value": False}))
    assert response.status_code in (200, 204), response.text
    assert (await client.get("/api/auth/me")).status_code == 401
    assert await db.fetchval("select count(*) from sessions where account_id = $1", member) == 0
    signed_in = await client.post("/api/auth/login", json={"email": role_email("member"), "password": PASSWORD})
    assert signed_in.status_code == 401


# Groups --------------------------------------------------------------------------------


async def provisioned_members(client, token, db, count: int = 7) -> list[str]:
    """``count`` accounts with the test password (member@ first), taken over by the directory."""
    password_hash = await db.fetchval("select password_hash from accounts where email = $1", role_email("member"))
    emails = [role_email("member")] + [f"d{i}@test.example" for i in range(1, count)]
    for email in emails[1:]:
        await db.execute("insert into accounts (email, display_name, password_hash) values ($1, $1, $2)",
                         email, password_hash)
    return [(await create_user(client, token, email.split("@")[0], emails=[{"value": email}]))["id"]
            for email in emails]


async def test_group_lifecycle_and_member_patches(client, token, db):
    a, b, c = [(await create_user(client, token, name))["id"] for name in ("a", "b", "c")]
    group = await create_group(client, token, "Engineering", [a, b], externalId="g-1")
    url = f"{SCIM}/Groups/{group['id']}"
    assert sorted(m["value"] for m in group["members"]) == sorted([a, b])
    assert all(m["type"] == "User" and m["$ref"].endswith(f"/Users/{m['value']}") for m in group["members"])

    patched = await client.patch(url, headers=bearer(token), json=patch_body(
        {"op": "Add", "path": "members", "value": [{"value": c}]},
        {"op": "Remove", "path": f'members[value eq "{a}"]'}))
    assert patched.status_code == 200, patched.text
    assert sorted(m["value"] for m in patched.json()["members"]) == sorted([b, c])
    # Entra ID removes with a value list; Okta renames with a path-less replace.
    await client.patch(url, headers=bearer(token), json=patch_body(
        {"op": "Remove", "path": "members", "value": [{"value": b}]},
        {"op": "replace", "value": {"id": group["id"], "displayName": "Engineers"}}))
    got = (await client.get(url, headers=bearer(token))).json()
    assert got["displayName"] == "Engineers" and [m["value"] for m in got["members"]] == [c]
    listed = await client.get(f"{SCIM}/Groups", params={"filter": 'displayName eq "Engineers"',
                                                        "excludedAttributes": "members"}, headers=bearer(token))
    assert [(g["id"], "members" in g) for g in listed.json()["Resources"]] == [(group["id"], False)]

    unknown = await client.patch(url, headers=bearer(token), json=patch_body(
        {"op": "add", "path": "members", "value": [{"value": "00000000-0000-0000-0000-000000000000"}]}))
    assert_scim_error(unknown, 400, "invalidValue")
    taken = await client.post(f"{SCIM}/Groups", headers=bearer(token),
                              json={"schemas": [GROUP_SCHEMA], "displayName": "engineers"})
    assert_scim_error(taken, 409, "uniqueness")

    trail = await db.fetch("select account_id::text, change, source, actor_id from group_membership_audit "
                           "where group_id = $1::uuid order by seq", group["id"])
    assert sorted((r["account_id"], r["change"]) for r in trail) == sorted(
        [(a, "added"), (b, "added"), (c, "added"), (a, "removed"), (b, "removed")])
    assert {r["source"] for r in trail} == {"scim"} and {r["actor_id"] for r in trail} == {None}

    assert (await client.delete(url, headers=bearer(token))).status_code == 204
    assert_scim_error(await client.get(url, headers=bearer(token)), 404)
    assert await db.fetchval("select count(*) from groups where id = $1::uuid", group["id"]) == 0
    assert await db.fetchval("select source from group_membership_audit where group_id = $1::uuid "
                             "order by seq desc limit 1", group["id"]) == "scim"


async def test_a_directory_group_becomes_a_waves_audience(client, token, db):
    members = await provisioned_members(client, token, db)
    group = await create_group(client, token, "All staff", members)
    service_id = await make_service(db)
    await login(client, "manager")
    from datetime import date, timedelta

    today = date.today()
    created = await client.post("/api/campaigns", json={
        "title": "From the directory", "service_id": service_id, "instrument_id": "pulse",
        "audience_group_id": group["id"], "opens_on": str(today), "closes_on": str(today + timedelta(days=7))})
    assert created.status_code == 201, created.text
    opened = await client.post(f"/api/campaigns/{created.json()['id']}/open")
    assert opened.status_code == 200, opened.text
    assert opened.json()["status"] == "open"
    wave_id = created.json()["id"]

    # Provenance: the snapshot's members all came from the directory, by today's changes.
    provenance = await client.get(f"/api/campaigns/{wave_id}/audience-provenance")
    assert provenance.status_code == 200, provenance.text
    assert provenance.json() == {
        "group_id": group["id"], "group_name": "All staff", "managed_by": "scim", "snapshot_on": str(today),
        "members": 7, "sources": [{"source": "scim", "members": 7}], "last_change_on": str(today)}
    page = await client.get(f"/waves/{wave_id}")
    assert page.status_code == 200 and 'id="audience-provenance"' in page.text

    assert await token_for(client, wave_id, role_email("member")) is not None


async def test_provenance_counts_each_source(client, token, db):
    """A hand-made group padded three ways: by an admin, directly in the database (not in
    the trail) and by sign-in claims (OIDC); the counts and the manager name each."""
    from tests.integration.wave_helpers import make_audience

    group_id = await make_audience(db, size=7, name="Mixed")  # written directly: unrecorded
    admin = await db.fetchval("select id from accounts where email = $1", role_email("admin"))
    extra = [await db.fetchval("insert into accounts (email, display_name, password_hash) values ($1, $1, 'x') "
                               "returning id", f"x{i}@test.example") for i in range(3)]
    await db.execute("insert into group_members select $1::uuid, unnest($2::uuid[])", group_id, extra)
    await db.executemany(
        "insert into group_membership_audit (group_id, account_id, change, actor_id, source) values ($1, $2, 'added', $3, $4)",
        [(group_id, extra[0], admin, "admin"), (group_id, extra[1], admin, "admin"), (group_id, extra[2], None, "oidc")])
    service_id = await make_service(db)
    await login(client, "manager")
    from datetime import date, timedelta

    created = await client.post("/api/campaigns", json={
        "title": "Mixed", "service_id": service_id, "instrument_id": "pulse", "audience_group_id": group_id,
        "opens_on": str(date.today()), "closes_on": str(date.today() + timedelta(days=7))})
    draft = (await client.get(f"/api/campaigns/{created.json()['id']}/audience-provenance")).json()
    assert draft["snapshot_on"] is None and draft["managed_by"] == "oidc"  # the latest change's source
    assert draft["sources"] == [{"source": "unrecorded", "members": 7}, {"source": "admin", "members": 2},
                                {"source": "oidc", "members": 1}]
    assert draft["members"] == 10


async def test_admins_cannot_edit_a_directory_group_by_hand(client, token, db):
    a = (await create_user(client, token, "a"))["id"]
    group = await create_group(client, token, "Directory group", [a])
    await login(client, "admin")
    url = f"/api/groups/{group['id']}"
    listed = {g["id"]: g["managed_by"] for g in (await client.get("/api/groups")).json()}
    assert listed[group["id"]] == "scim"
    member = await db.fetchval("select id::text from accounts where email = $1", role_email("member"))
    for response in (await client.patch(url, json={"name": "Renamed"}),
                     await client.put(f"{url}/members", json={"account_ids": [a, member]}),
                     await client.delete(url)):
        assert response.status_code == 409, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "SCIM" in response.json()["detail"]
    detail = (await client.get(url)).json()
    assert detail["group"]["name"] == "Directory group" and [m["id"] for m in detail["members"]] == [a]
    # A hand-made group stays editable.
    own = await client.post("/api/groups", json={"name": "By hand"})
    assert (await client.patch(f"/api/groups/{own.json()['group']['id']}", json={"name": "Still by hand"})).status_code == 200


async def test_deleting_a_users_removes_it_from_directory_groups(client, token, db):
    a, b = [(await create_user(client, token, name))["id"] for name in ("a", "b")]
    group = await create_group(client, token, "G", [a, b])
    await client.delete(f"{SCIM}/Users/{a}", headers=bearer(token))
    got = (await client.get(f"{SCIM}/Groups/{group['id']}", headers=bearer(token))).json()
    assert [m["value"] for m in got["members"]] == [b]


async def test_errors_are_scim_errors(client, token):
    assert_scim_error(await client.get(f"{SCIM}/Users/not-an-id", headers=bearer(token)), 404)
    assert_scim_error(await client.get(f"{SCIM}/Nothing", headers=bearer(token)), 404)
    malformed = await client.post(f"{SCIM}/Users", content=b"{", headers=bearer(token))
    assert_scim_error(malformed, 400, "invalidSyntax")
    assert_scim_error(await client.post(f"{SCIM}/Users", json={"schemas": [USER_SCHEMA]}, headers=bearer(token)),
                      400, "invalidValue")
    discovery = await client.get(f"{SCIM}/ServiceProviderConfig", headers=bearer(token))
    assert discovery.json()["patch"]["supported"] is True and discovery.json()["bulk"]["supported"] is False


async def test_the_directory_cannot_deactivate_the_last_admin(client, token, db):
    admin = await create_user(client, token, "admin", emails=[{"value": role_email("admin"), "primary": True}])
    off = patch_body({"op": "replace", "path": "active", "value": False})
    refused = await client.patch(f"{SCIM}/Users/{admin['id']}", json=off, headers=bearer(token))
    assert_scim_error(refused, 409, "mutability")
    assert_scim_error(await client.delete(f"{SCIM}/Users/{admin['id']}", headers=bearer(token)), 409)
    assert await db.fetchval("select active from accounts where email = $1", role_email("admin")) is True
    # With a second admin, the directory may.
    await db.execute("update accounts set roles = '{manager,admin}' where email = $1", role_email("manager"))
    assert (await client.patch(f"{SCIM}/Users/{admin['id']}", json=off, headers=bearer(token))).status_code == 200
