"""Anonymity invariant 2: nothing records a client's address, user agent or referrer.

A real uvicorn server, configured exactly as `candor serve` configures it, answers
requests that carry canary values in every identifying header; no log line, at any
level, from any logger, may contain one of them.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace

import httpx

from service.app import create_app
from service.cli import uvicorn_config
from tests.support import PASSWORD, role_email

CANARIES = {
    "user-agent": "CanaryBrowser/9.9 (canary-agent)",
    "referer": "https://canary-referrer.example/page",
    "x-forwarded-for": "203.0.113.77",
    "x-real-ip": "198.51.100.23",
    "forwarded": "for=192.0.2.99",
}


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(("httpx", "httpcore")):
            return  # the test's own HTTP client, not the server
        text = record.getMessage()
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        self.lines.append(text)


def test_no_access_log_and_no_client_details_in_logs(settings, capfd):
    import uvicorn

    settings = replace(settings, log_level="DEBUG")
    config = uvicorn_config(create_app(settings), settings, "127.0.0.1", 0)
    assert config.access_log is False
    assert config.proxy_headers is False
    server = uvicorn.Server(config)
    collect = _Collect()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(collect)
    root.setLevel(logging.DEBUG)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "litestar", "candor"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=CANARIES) as http:
            assert http.get("/healthz").status_code == 200
            assert http.get("/no/such/page").status_code == 404
            assert http.post("/api/auth/login", json={"email": role_email("member"), "password": "wrong"}).status_code == 401
            assert http.post("/api/auth/login", json={"email": role_email("member"), "password": PASSWORD}).status_code == 200
            assert http.get("/api/services").status_code == 200
            assert http.post("/api/groups", content=b"{", headers={"content-type": "application/json"}).status_code == 403
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        root.removeHandler(collect)
        root.setLevel(old_level)
    out, err = capfd.readouterr()
    lines = collect.lines + out.splitlines() + err.splitlines()
    lines = [line for line in lines if "httpcore" not in line and "httpx" not in line]
    assert lines, "the server logged nothing at DEBUG: the capture is broken"
    for line in lines:
        for value in CANARIES.values():
            assert value not in line
            assert "canary" not in line.lower()
        # The only address a log line may name is the server's own listening one.
        if "127.0.0.1" in line:
            assert "running on" in line.lower(), line
        assert "GET /healthz" not in line and "HTTP/1.1" not in line, f"access log line: {line}"
