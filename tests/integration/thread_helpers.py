"""Arranging feedback threads for the integration tests (the fixtures are in conftest.py)."""

from __future__ import annotations

import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from service.client import fetch_thread_key, open_thread, request_thread_token
from service.threads import new_secret
from tests.support import login

# The allowance and throttle of the ``thread_settings`` fixture (tests/integration/conftest.py).
TOKENS_PER_MONTH = 3
FAILURES_PER_MINUTE = 5


async def signed_in(client, role: str) -> str:
    client.cookies.clear()
    client.headers.pop("x-csrf-token", None)
    return await login(client, role)


async def thread_token(client, role: str = "member"):
    csrf = await signed_in(client, role)
    key = await fetch_thread_key(client)
    return await request_thread_token(client, key, csrf_token=csrf)


async def new_thread(client, service_id: str, *, title: str = "Printer on floor 3 jams",
                     body: str = "The printer jams every morning.", category: str = "problem") -> tuple[str, str]:
    """As member@: get a token, open a thread; returns (thread_id, secret). Leaves the
    client signed in as member@ (the anonymous call itself carried no cookie)."""
    token = await thread_token(client)
    secret = new_secret()
    response = await open_thread(client, token, service_id=service_id, category=category, title=title, body=body,
                                 secret=secret)
    assert response.status_code == 201, response.text
    return response.json()["thread_id"], secret


class Receiver:
    """A webhook receiver on 127.0.0.1 answering with scripted statuses (then 200).
    ``hold``: each request waits until ``release`` is set; ``tls``: serve https."""

    def __init__(self, statuses: list[int] | None = None, *, hold: bool = False,
                 tls: ssl.SSLContext | None = None) -> None:
        self.statuses = list(statuses or [])
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.arrived = threading.Event()
        self.release = threading.Event()
        if not hold:
            self.release.set()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                receiver.arrived.set()
                receiver.release.wait(timeout=20)
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
