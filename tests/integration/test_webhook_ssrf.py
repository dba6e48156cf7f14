"""Webhooks that cannot be pointed inward, and a delivery worker that neither holds a
transaction across HTTP calls nor lets one bad row spoil the others.

Every receiver listens on 127.0.0.1; names are resolved by a stub resolver installed
in place of :func:`service.threads.resolve`, so nothing leaves the machine.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import json
import ssl
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from litestar.testing import AsyncTestClient

from service import threads as logic
from service.app import create_app
from service.db import create_pool
from tests.integration.thread_helpers import Receiver, new_thread, signed_in
from tests.integration.wave_helpers import make_service

SECRET = "x" * 16

# Addresses an owner must not reach through the server, written the ways an attacker would.
INWARD = [
    "127.0.0.1", "10.0.0.1", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
    "255.255.255.255", "224.0.0.1", "192.0.0.8", "198.18.0.1",
    "::1", "::", "fe80::1", "fc00::1", "ff02::1",
    "::ffff:10.0.0.1", "::ffff:127.0.0.1", "::ffff:169.254.169.254",   # IPv4-mapped
    "64:ff9b::a00:1", "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe",         # NAT64 (RFC 6052) of 10/8, 127/8, metadata
    "64:ff9b:1::a00:1",                                                 # local-use NAT64 (RFC 8215)
    "2002:a00:1::", "2002:7f00:1::1", "2002:a9fe:a9fe::",               # 6to4 of private IPv4
    "2001:0:4136:e378:8000:63bf:f5ff:fffe",                              # Teredo (client 10.0.0.1)
    "2001:0:5ef5:79fd:0:59d:a0e5:ba1",                                   # Teredo with a public-looking client
]
OUTWARD = ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111", "64:ff9b::808:808", "2002:808:808::1"]


def _literal(address: str) -> str:
    return f"[{address}]" if ":" in address else address


@pytest.mark.parametrize("address", INWARD)
async def test_inward_addresses_are_refused(address):
    reason = await logic.refuse_destination(f"http://{_literal(address)}:8080/hook", allow_private=False)
    assert reason is not None and "private" in reason, address


@pytest.mark.parametrize("address", OUTWARD)
async def test_public_addresses_are_allowed(address):
    assert await logic.refuse_destination(f"https://{_literal(address)}/hook", allow_private=False) is None


class StubResolver:
    """Answers from a script, one answer per call (the last one repeats), and counts calls."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = list(answers)
        self.calls: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


@pytest.fixture
def resolver(monkeypatch) -> Iterator[StubResolver]:
    stub = StubResolver(["127.0.0.1"])
    monkeypatch.setattr(logic, "resolve", stub, raising=False)
    yield stub


async def _ticket(client, db, *, name: str = "Service Desk", url: str) -> tuple[str, str]:
    """A service whose webhook is ``url`` (set through the API) and one queued ticket."""
    service_id = await make_service(db, name)
    thread_id, _ = await new_thread(client, service_id)
    await signed_in(client, "owner")
    saved = await client.put(f"/api/services/{service_id}/webhook", json={"url": url, "secret": SECRET})
    assert saved.status_code == 200, saved.text
    assert (await client.post(f"/api/threads/{thread_id}/ticket")).status_code == 202
    return service_id, thread_id


def _due() -> datetime:
    return datetime.now(UTC) + timedelta(seconds=1)


@pytest.fixture
async def pool(thread_settings):
    pool = await create_pool(thread_settings)  # the test's own loop (the app runs in another)
    yield pool
    await pool.close()


# Saving ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [
    "http://[zz]/", "http://[::1/hook", "http://user:pw@example.org/hook", "http://:80/hook",
    "http://%zz/hook", "http://exa_mple-.org/", "http://xn--/", "http://example.org:99999/",
])
@pytest.mark.parametrize("allow_private", [True, False])
async def test_invalid_urls_are_422_naming_url_on_save(tclient, db, thread_settings, url, allow_private):
    service_id = await make_service(db)
    settings = replace(thread_settings, webhook_allow_private=allow_private)
    async with AsyncTestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
        await signed_in(client, "owner")
        response = await client.put(f"/api/services/{service_id}/webhook", json={"url": url, "secret": SECRET})
    assert response.status_code == 422, (url, response.text)
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in response.json()["errors"]] == ["url"]
    assert await db.fetchval("select count(*) from service_webhooks") == 0


async def test_a_name_that_resolves_inward_is_refused_on_save(tclient, db, thread_settings, resolver):
    resolver.answers = [["93.184.215.14", "10.0.0.5"]]  # one public address is not enough: all must be
    service_id = await make_service(db)
    strict = replace(thread_settings, webhook_allow_private=False)
    async with AsyncTestClient(create_app(strict), base_url="http://127.0.0.1:8000") as client:
        await signed_in(client, "owner")
        response = await client.put(f"/api/services/{service_id}/webhook",
                                    json={"url": "https://desk.example.org/hook", "secret": SECRET})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "url" and "private" in response.json()["errors"][0]["reason"]
    assert resolver.calls == ["desk.example.org"]


# Delivering -----------------------------------------------------------------------------------


async def test_a_name_re_pointed_inward_is_refused_at_delivery(tclient, db, thread_settings, resolver, pool):
    """Saved while the name looked public; by delivery time it answers 10.0.0.5."""
    resolver.answers = [["93.184.215.14"]]
    service_id = await make_service(db)
    strict = replace(thread_settings, webhook_allow_private=False)
    async with AsyncTestClient(create_app(strict), base_url="http://127.0.0.1:8000") as client:
        thread_id, _ = await new_thread(client, service_id)
        await signed_in(client, "owner")
        saved = await client.put(f"/api/services/{service_id}/webhook",
                                 json={"url": "https://desk.example.org/hook", "secret": SECRET})
        assert saved.status_code == 200, saved.text
        assert (await client.post(f"/api/threads/{thread_id}/ticket")).status_code == 202
    resolver.answers = [["10.0.0.5"]]
    sent: list[httpx.Request] = []
    http = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: sent.append(r) or httpx.Response(200)))
    assert await logic.deliver_due(pool, thread_settings.key_encryption_key, now=_due(), http=http) == 1
    row = await db.fetchrow("select state, last_error from webhook_deliveries")
    assert row["state"] == "failed" and "private" in row["last_error"]
    assert sent == []


async def test_https_delivery_goes_to_the_checked_ip_with_the_name_in_host_and_sni(
    tclient, db, thread_settings, resolver, pool
):
    """The request's URL carries the checked address; Host and SNI carry the name."""
    resolver.answers = [["93.184.215.14"], ["10.0.0.5"]]
    await _ticket(tclient, db, url="https://desk.example.org:8443/hook?x=1")
    sent: list[httpx.Request] = []
    http = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: sent.append(r) or httpx.Response(204)))
    await logic.deliver_due(pool, thread_settings.key_encryption_key, now=_due(), http=http)
    [request] = sent
    assert (request.url.host, request.url.port, request.url.raw_path) == ("93.184.215.14", 8443, b"/hook?x=1")
    assert request.headers["host"] == "desk.example.org:8443"
    assert request.extensions["sni_hostname"] == "desk.example.org"
    assert await db.fetchval("select state from webhook_deliveries") == "delivered"


async def test_the_connection_uses_the_first_checked_answer_not_a_second_lookup(tclient, db, thread_settings,
                                                                               resolver, pool):
    """DNS rebinding: the first answer is checked, a later look-up would say 127.0.0.2
    (where nothing listens). The request must reach 127.0.0.1, carrying the name."""
    resolver.answers = [["127.0.0.1"], ["127.0.0.2"]]
    with Receiver() as receiver:
        await _ticket(tclient, db, url=f"http://hook.candor.test:{receiver.port}/hook")
        assert await logic.deliver_due(pool, thread_settings.key_encryption_key, now=_due(), allow_private=True) == 1
    assert resolver.calls == ["hook.candor.test"]  # resolved once, by the checker
    assert await db.fetchval("select state from webhook_deliveries") == "delivered"
    [(headers, body)] = receiver.requests
    assert headers["host"] == f"hook.candor.test:{receiver.port}"
    assert set(json.loads(body)) == {"title", "text", "link"}


def _tls_context(name: str, tmp_path: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a self-signed certificate for ``name``, and a client
    context that trusts exactly that certificate (and checks the host name)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    (tmp_path / "cert.pem").write_bytes(cert_pem)
    (tmp_path / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                          serialization.PrivateFormat.PKCS8,
                                                          serialization.NoEncryption()))
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    client = ssl.create_default_context(cadata=cert_pem.decode())
    return server, client


@pytest.mark.parametrize(("certified", "delivered"), [("hook.candor.test", True), ("other.candor.test", False)])
async def test_tls_to_the_pinned_ip_still_checks_the_certificate_for_the_name(
    tclient, db, thread_settings, resolver, pool, tmp_path, certified, delivered
):
    server_tls, client_tls = _tls_context(certified, tmp_path)
    with Receiver(tls=server_tls) as receiver:
        await _ticket(tclient, db, url=f"https://hook.candor.test:{receiver.port}/hook")
        async with httpx.AsyncClient(verify=client_tls, trust_env=False) as http:
            await logic.deliver_due(pool, thread_settings.key_encryption_key, now=_due(), http=http,
                                    allow_private=True)
    row = await db.fetchrow("select state, last_error from webhook_deliveries")
    assert (row["state"] == "delivered") is delivered, row
    assert len(receiver.requests) == (1 if delivered else 0)


async def test_one_broken_row_never_spoils_the_batch(tclient, db, thread_settings, pool):
    """An unparseable URL stored while private targets were allowed (older code saved
    it) and an undecryptable secret: each is recorded on its own row; the good one goes."""
    with Receiver() as receiver:
        good, _ = await _ticket(tclient, db, name="Good", url=f"http://127.0.0.1:{receiver.port}/hook")
        bad_url, _ = await _ticket(tclient, db, name="Bad URL", url="http://127.0.0.1:9/hook")
        bad_key, _ = await _ticket(tclient, db, name="Bad key", url=f"http://127.0.0.1:{receiver.port}/hook")
        await db.execute("update service_webhooks set url = 'http://[zz]/' where service_id = $1", bad_url)
        await db.execute("update service_webhooks set secret = '\\x00'::bytea where service_id = $1", bad_key)
        # The broken rows come first in the batch.
        await db.execute("update webhook_deliveries set next_attempt_at = now() - interval '1 minute' "
                         "where service_id <> $1", good)
        tried = await logic.deliver_due(pool, thread_settings.key_encryption_key, now=_due(), allow_private=True)
    assert tried == 3
    rows = {r["service_id"]: r for r in await db.fetch(
        "select service_id::text, state, attempts, last_error from webhook_deliveries")}
    assert (rows[good]["state"], rows[good]["attempts"]) == ("delivered", 1)
    assert (rows[bad_url]["state"], rows[bad_url]["attempts"]) == ("failed", 1)
    assert "not a valid URL" in rows[bad_url]["last_error"]
    assert (rows[bad_key]["state"], rows[bad_key]["attempts"]) == ("pending", 1)  # retried later
    assert rows[bad_key]["last_error"]
    assert len(receiver.requests) == 1


async def test_no_transaction_or_connection_is_held_while_a_delivery_is_in_flight(tclient, db, thread_settings, pool):
    with Receiver(hold=True) as receiver:
        await _ticket(tclient, db, url=f"http://127.0.0.1:{receiver.port}/hook")
        now = _due()
        worker = asyncio.create_task(
            logic.deliver_due(pool, thread_settings.key_encryption_key, now=now, allow_private=True))
        try:
            assert await asyncio.to_thread(receiver.arrived.wait, 20), "the delivery never arrived"
            open_transactions = await db.fetchval(
                """
                select count(*) from pg_stat_activity
                where datname = current_database() and pid <> pg_backend_pid() and backend_type = 'client backend'
                  and (state like 'idle in transaction%' or xact_start is not null)
                """)
            assert open_transactions == 0
            assert pool.get_size() == pool.get_idle_size(), "a pool connection is held across the HTTP call"
            # Another replica running now finds nothing to take: the row is claimed and leased.
            assert await logic.deliver_due(pool, thread_settings.key_encryption_key, now=now,
                                           allow_private=True) == 0
        finally:
            receiver.release.set()
            await asyncio.wait_for(worker, 30)
    assert await db.fetchval("select state from webhook_deliveries") == "delivered"
    assert len(receiver.requests) == 1


async def test_a_delivery_whose_worker_died_is_retried_after_its_lease(tclient, db, thread_settings, pool):
    with Receiver() as receiver:
        await _ticket(tclient, db, url=f"http://127.0.0.1:{receiver.port}/hook")
        now = _due()
        async with pool.acquire() as conn:  # what a worker that dies after claiming leaves behind
            await logic.q.claim_due_deliveries(conn, now=now, lease_until=now + timedelta(seconds=logic.LEASE_SECONDS),
                                               max_attempts=logic.MAX_ATTEMPTS)
        assert await logic.deliver_due(pool, thread_settings.key_encryption_key, now=now, allow_private=True) == 0
        later = now + timedelta(seconds=logic.LEASE_SECONDS)
        assert await logic.deliver_due(pool, thread_settings.key_encryption_key, now=later, allow_private=True) == 1
    row = await db.fetchrow("select state, attempts from webhook_deliveries")
    assert (row["state"], row["attempts"]) == ("delivered", 2)
    assert len(receiver.requests) == 1


def test_embedded_ipv4_forms_are_decoded():
    """The unit rule behind the table above, for the forms that embed IPv4."""
    assert not logic.public_address("64:ff9b::a00:1")
    assert logic.public_address("64:ff9b::808:808")
    assert not logic.public_address("2002:a00:1::")
    assert logic.public_address("2002:808:808::")
    assert not logic.public_address("::ffff:127.0.0.1")
    assert not logic.public_address(str(ipaddress.IPv6Address("2001:0:4136:e378:8000:63bf:f5ff:fffe")))
    assert not logic.public_address("not an address")
