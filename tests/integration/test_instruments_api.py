"""Instruments over HTTP: listing, reading a version, uploading, rejecting."""

from __future__ import annotations

import asyncpg
import msgspec
import pytest

from instruments import instrument_hash, list_builtin, load_builtin
from tests.support import login

CUSTOM_TOML = b"""
id = "lab-desk"
version = "1"
title = "Lab help desk check"
format = "perception-only"

[[dimensions]]
key = "speed"
title = "Speed"

[[items]]
key = "s1"
dimension = "speed"
statements = { perception = "The lab desk answers within a day." }
"""


async def test_members_list_every_builtin(client):
    await login(client, "member")
    listed = (await client.get("/api/instruments")).json()
    assert {i["id"] for i in listed} >= {"servqual", "servqual-zot", "servperf", "it-servqual", "pulse"}
    for summary in listed:
        if summary["builtin"]:
            assert summary["hash"] == instrument_hash(load_builtin(summary["id"]))


async def test_read_one_instrument(client):
    await login(client, "member")
    response = await client.get("/api/instruments/servqual")
    assert response.status_code == 200
    body = response.json()
    assert len(body["instrument"]["items"]) == 22
    assert body["instrument"]["format"] == "expectation-perception"
    assert [v["hash"] for v in body["versions"]] == [body["summary"]["hash"]]
    by_hash = await client.get(f"/api/instruments/servqual?hash={body['summary']['hash']}")
    assert by_hash.json()["summary"] == body["summary"]
    assert (await client.get("/api/instruments/servqual?hash=" + "0" * 64)).status_code == 404
    assert (await client.get("/api/instruments/servqual?hash=nothex")).status_code == 422
    assert (await client.get("/api/instruments/no-such")).status_code == 404


async def test_upload_toml_then_json_version(client):
    await login(client, "manager")
    created = await client.post("/api/instruments", content=CUSTOM_TOML, headers={"content-type": "application/toml"})
    assert created.status_code == 201, created.text
    first = created.json()
    assert (first["id"], first["version"], first["builtin"]) == ("lab-desk", "1", False)
    # The same content again is the same version, not a new one.
    again = await client.post("/api/instruments", content=CUSTOM_TOML, headers={"content-type": "application/toml"})
    assert again.status_code == 200 and again.json()["hash"] == first["hash"]
    # Changed content under the same version number is refused; a new number is a new version.
    changed = CUSTOM_TOML.replace(b"within a day", b"within an hour")
    clash = await client.post("/api/instruments", content=changed, headers={"content-type": "application/toml"})
    assert clash.status_code == 409
    assert clash.json()["errors"][0]["field"] == "version"
    bumped = changed.replace(b'version = "1"', b'version = "2"')
    v2 = await client.post("/api/instruments", content=bumped, headers={"content-type": "application/toml"})
    assert v2.status_code == 201 and v2.json()["hash"] != first["hash"]
    detail = (await client.get("/api/instruments/lab-desk")).json()
    assert {v["version"] for v in detail["versions"]} == {"1", "2"}
    old = (await client.get(f"/api/instruments/lab-desk?hash={first['hash']}")).json()
    assert old["instrument"]["items"][0]["statements"]["perception"] == "The lab desk answers within a day."


async def test_upload_json(client):
    await login(client, "admin")
    document = msgspec.to_builtins(msgspec.structs.replace(load_builtin("pulse"), id="pulse-custom"))
    response = await client.post("/api/instruments", json=document)
    assert response.status_code == 201
    assert response.json()["format"] == "perception-only"


@pytest.mark.parametrize(
    ("document", "field"),
    [
        (CUSTOM_TOML.replace(b'dimension = "speed"', b'dimension = "sped"'), "items[0].dimension"),
        (CUSTOM_TOML + b'\ncolour = "red"\n', "items[0].colour"),  # TOML: it lands in the last table
        (CUSTOM_TOML.replace(b'format = "perception-only"', b'format = "perception-only"\nscale = { points = 1 }'),
         "scale.points"),
        (b"id = = broken", ""),
    ],
)
async def test_invalid_upload_names_the_field(client, document, field):
    await login(client, "manager")
    response = await client.post("/api/instruments", content=document, headers={"content-type": "application/toml"})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == field


async def test_builtin_ids_are_reserved(client):
    await login(client, "manager")
    document = msgspec.to_builtins(msgspec.structs.replace(load_builtin("pulse"), version="99"))
    response = await client.post("/api/instruments", json=document)
    assert response.status_code == 409
    assert response.json()["errors"][0]["field"] == "id"


async def test_upload_needs_a_supported_media_type(client):
    await login(client, "manager")
    response = await client.post("/api/instruments", content=CUSTOM_TOML, headers={"content-type": "text/plain"})
    assert response.status_code == 415


async def test_stored_versions_cannot_be_rewritten(client, db):
    await login(client, "member")
    await client.get("/api/instruments")
    with pytest.raises(asyncpg.IntegrityConstraintViolationError):
        await db.execute("update instruments set title = 'tampered' where id = 'servqual'")
    assert len(list_builtin()) == await db.fetchval("select count(*) from instruments where builtin")
