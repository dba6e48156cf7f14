"""The ``candor`` command: serve, migrate, create-admin, analyze."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import getpass
import os
import sys
from collections.abc import Mapping

import asyncpg

from service.migrate import MigrationError, migrate
from service.settings import Settings, SettingsError


def _resolve_environment(env: Mapping[str, str]) -> tuple[dict[str, str], object | None]:
    """Fill in what a development machine may default: the embedded database and secrets.

    Returns the effective environment and the embedded server handle (or None).
    """
    effective = dict(env)
    server = None
    if effective.get("CANDOR_ENV", "development") == "production":
        return effective, None
    from service.embedded import development_secrets, start_embedded

    data_dir = effective.get("CANDOR_DATA_DIR", ".candor")
    if not effective.get("DATABASE_URL"):
        server = start_embedded(data_dir)
        effective["DATABASE_URL"] = server.get_uri()
    for name, value in development_secrets(data_dir).items():
        effective.setdefault(name, value)
    return effective, server


def _settings(env: Mapping[str, str]) -> Settings:
    try:
        return Settings.from_env(env)
    except SettingsError as exc:
        raise SystemExit(f"candor: {exc}") from None


async def _migrate(settings: Settings) -> list[int]:
    conn = await asyncpg.connect(settings.database_url)
    try:
        return await migrate(conn)
    finally:
        await conn.close()


async def _seed(settings: Settings) -> bool:
    from service.db import init_connection
    from service.demo import seed_demo

    conn = await asyncpg.connect(settings.database_url)
    try:
        await init_connection(conn)
        return await seed_demo(conn, settings)
    finally:
        await conn.close()


def _uvicorn_options(settings: Settings, host: str, port: int) -> dict[str, object]:
    # No access log, no proxy headers: the server never learns or records who asked.
    # The event loop and HTTP parser are uvloop's and httptools' where installed (the
    # runtime dependencies; uvicorn's "auto"), else asyncio's and h11.
    return {"host": host, "port": port, "access_log": False, "proxy_headers": False, "server_header": False,
            "log_level": settings.log_level.lower(), "lifespan": "on"}


def uvicorn_config(app, settings: Settings, host: str, port: int):
    import uvicorn

    return uvicorn.Config(app, **_uvicorn_options(settings, host, port))  # type: ignore[arg-type]


def worker_app():
    """The app of one ``candor serve --workers N`` worker: settings from the environment
    its parent prepared (database, secrets, host and port, its share of signing processes)."""
    from service.app import configure_logging, create_app

    settings = _settings(os.environ)
    configure_logging(settings)
    return create_app(settings)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from service.app import configure_logging, create_app
    from service.demo import demo_credentials

    embedded_database = not os.environ.get("DATABASE_URL")
    env, _server = _resolve_environment(os.environ)
    settings = _settings(env)
    configure_logging(settings)
    try:
        applied = asyncio.run(_migrate(settings))
    except MigrationError as exc:
        raise SystemExit(f"candor: {exc}") from None
    if applied:
        print(f"Applied migrations {applied}")
    if embedded_database and settings.environment == "development":
        if asyncio.run(_seed(settings)):
            print("Seeded the demo organisation.")
        print("Demo accounts (all share one password):")
        for email, password, roles in demo_credentials():
            print(f"  {email:28} {password:22} {roles}")
        print("  member2..member9@candor.example   (members)")
    # Audit the database as it is about to be served; the privacy page shows the result.
    from service.audit import startup_audit

    asyncio.run(startup_audit(settings))
    host = args.host or settings.host
    port = args.port or settings.port
    # Without CANDOR_PUBLIC_URL, links and origin checks use where this server listens.
    settings = dataclasses.replace(settings, host=host, port=port)
    print(f"Candor is serving on http://{host}:{port}  (Ctrl-C stops it)", flush=True)
    from crypto.blindrsa import signing_backend

    # Which RSA private operation signs tokens: OpenSSL's, or the slower GMP fallback and why.
    print(f"Blind signing: {signing_backend()}", flush=True)
    # The embedded server (if any) is stopped by its own exit hook when this process ends.
    if args.workers > 1:
        # Each worker is a process with its own event loop, database pool and signing
        # processes; the cores are divided among their pools (one signing process per core
        # in all). The workers read what this process resolved from the environment.
        from service.issuance import SIGNING_PROCESSES_ENV, worker_share

        os.environ.update({**env, "CANDOR_HOST": host, "CANDOR_PORT": str(port),
                           SIGNING_PROCESSES_ENV: str(worker_share(args.workers))})
        print(f"{args.workers} worker processes", flush=True)
        uvicorn.run("service.cli:worker_app", factory=True, workers=args.workers,
                    **_uvicorn_options(settings, host, port))  # type: ignore[arg-type]
        return 0
    uvicorn.Server(uvicorn_config(create_app(settings), settings, host, port)).run()
    return 0


def cmd_migrate(_: argparse.Namespace) -> int:
    env, _server = _resolve_environment(os.environ)
    settings = _settings(env)
    try:
        applied = asyncio.run(_migrate(settings))
    except MigrationError as exc:
        print(f"candor: {exc}", file=sys.stderr)
        return 1
    print(f"Applied migrations {applied}" if applied else "The database is up to date.")
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    from service.audit import audit_command

    env, _server = _resolve_environment(os.environ)
    return audit_command(args, env)


def cmd_create_admin(args: argparse.Namespace) -> int:
    from service.passwords import hash_password
    from service.queries.accounts import insert_account

    env, _server = _resolve_environment(os.environ)
    settings = _settings(env)
    password = os.environ.get("CANDOR_ADMIN_PASSWORD") or (
        getpass.getpass("Password for the new admin: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
    )
    if len(password) < 10:
        print("candor: the password must have at least 10 characters", file=sys.stderr)
        return 2

    async def run() -> bool:
        conn = await asyncpg.connect(settings.database_url)
        try:
            await migrate(conn)
            account = await insert_account(
                conn,
                email=args.email,
                display_name=args.name,
                password_hash=await hash_password(password),
                roles=["admin"],
            )
            return account is not None
        finally:
            await conn.close()

    if not asyncio.run(run()):
        print(f"candor: an account with email {args.email} exists", file=sys.stderr)
        return 1
    print(f"Created admin {args.email}")
    return 0


def _password(prompt: str) -> str:
    return os.environ.get("CANDOR_PASSWORD") or (
        getpass.getpass(prompt) if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
    )


def cmd_token(args: argparse.Namespace) -> int:
    """Sign in, fetch this account's blind-signed token for a wave, keep it in a file."""
    import httpx
    import msgspec

    from service.client import ClientError, fetch_token_key, request_token, sign_in, state_path_beside

    async def run() -> None:
        log = _key_log(args, args.log_state or state_path_beside(args.out))
        async with httpx.AsyncClient(base_url=args.url, timeout=30) as http:
            csrf = await sign_in(http, args.email, _password(f"Password for {args.email}: "))
            # Checked against the transparency log before anything is blinded (issue 15).
            key = await fetch_token_key(http, args.campaign, log=log)
            stored = await request_token(http, key, csrf_token=csrf)
            await http.post("/api/auth/logout", headers={"x-csrf-token": csrf})
        with open(args.out, "wb") as f:
            f.write(msgspec.json.encode(stored))

    try:
        asyncio.run(run())
    except ClientError as exc:
        print(f"candor: {exc}", file=sys.stderr)
        return 1
    print(f"Token for wave {args.campaign} saved to {args.out}; it is not linked to your account.")
    return 0


def _key_log(args: argparse.Namespace, state: str | os.PathLike[str]):
    """The client's view of the transparency log: ``--log-key`` pins the key (else it is
    pinned on first use), the state file remembers the last verified head."""
    import base64
    import binascii

    from service.client import ClientError, KeyLog

    pinned = None
    if getattr(args, "log_key", None):
        try:
            pinned = base64.b64decode(args.log_key, validate=True)
        except (binascii.Error, ValueError):
            raise ClientError("--log-key must be the base64 public key from the privacy page") from None
    return KeyLog(state, log_key=pinned)


def cmd_transparency(args: argparse.Namespace) -> int:
    """``log-key``: print the log's public key. ``verify``: check the signed head and its
    consistency with the last one this state file saw, then remember it."""
    import base64

    import httpx

    from service.client import ClientError

    async def run() -> str:
        async with httpx.AsyncClient(base_url=args.url, timeout=30) as http:
            if args.action == "log-key":
                response = await http.get("/api/transparency/log-key")
                if response.status_code != 200:
                    raise ClientError(f"log key: HTTP {response.status_code}")
                return response.json()["public_key"]
            head = await _key_log(args, args.log_state).follow(http)
            return (f"tree_size {head.tree_size} root_hash {base64.b64encode(head.root_hash).decode()} "
                    f"issued_on {head.issued_on.isoformat()}: signature and consistency verified")

    try:
        print(asyncio.run(run()))
    except ClientError as exc:
        print(f"candor: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_submit(args: argparse.Namespace) -> int:
    """Answer a wave anonymously with a saved token; print the receipt."""
    import httpx
    import msgspec

    from service.client import ClientError, StoredToken, redeem

    with open(args.token, "rb") as f:
        stored = msgspec.json.decode(f.read(), type=StoredToken)
    with open(args.answers, "rb") as f:
        answers = msgspec.json.decode(f.read())

    async def run() -> httpx.Response:
        # A fresh client with no cookies: the submission is not tied to any session.
        async with httpx.AsyncClient(base_url=args.url, timeout=30) as http:
            return await redeem(http, stored, answers)

    try:
        response = asyncio.run(run())
    except ClientError as exc:
        print(f"candor: {exc}", file=sys.stderr)
        return 1
    print(response.text)
    return 0 if response.status_code == 201 else 1


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "analyze":
        from analysis.cli import main as analyze

        return analyze(argv[1:])
    parser = argparse.ArgumentParser(prog="candor", description="Candor: anonymous feedback for IT services")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the web service")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, default=1,
                       help="app processes sharing the port (default 1); the cores' signing processes are divided "
                            "among them")
    serve.set_defaults(func=cmd_serve)
    sub.add_parser("migrate", help="apply pending database migrations").set_defaults(func=cmd_migrate)
    from service.audit import add_arguments as add_audit_arguments

    audit = sub.add_parser("audit", help="read-only check of the anonymity guarantees (needs only DATABASE_URL); "
                           "exit 0 all pass, 1 a check failed, 2 no connection")
    add_audit_arguments(audit)
    audit.set_defaults(func=cmd_audit)
    admin = sub.add_parser(
        "create-admin",
        help="create an admin account (password from CANDOR_ADMIN_PASSWORD, the terminal, or one line of stdin)",
    )
    admin.add_argument("--email", required=True)
    admin.add_argument("--name", required=True)
    admin.set_defaults(func=cmd_create_admin)
    token = sub.add_parser("token", help="sign in and save your anonymous token for a survey wave "
                           "(password from CANDOR_PASSWORD, the terminal, or one line of stdin)")
    token.add_argument("--url", default="http://127.0.0.1:8000")
    token.add_argument("--campaign", required=True)
    token.add_argument("--email", required=True)
    token.add_argument("--out", default="candor-token.json")
    token.add_argument("--log-state", help="file keeping the last verified transparency log head "
                       "(default: candor-log-state.json next to --out)")
    token.add_argument("--log-key", help="the transparency log's public key (base64, from the privacy page); "
                       "pinned on first use if not given")
    token.set_defaults(func=cmd_token)
    transparency = sub.add_parser("transparency", help="the key transparency log: `log-key` prints its public "
                                  "key, `verify` checks its signed head and consistency with the last one seen")
    transparency.add_argument("action", choices=["log-key", "verify"])
    transparency.add_argument("--url", default="http://127.0.0.1:8000")
    transparency.add_argument("--log-state", default="candor-log-state.json")
    transparency.add_argument("--log-key", help="pin this public key (base64) instead of trusting the first one seen")
    transparency.set_defaults(func=cmd_transparency)
    submit = sub.add_parser("submit", help="answer a survey wave anonymously with a saved token")
    submit.add_argument("--url", default="http://127.0.0.1:8000")
    submit.add_argument("--token", default="candor-token.json")
    submit.add_argument("--answers", required=True, help="a JSON file of answers")
    submit.set_defaults(func=cmd_submit)
    sub.add_parser("analyze", help="gap analysis of a CSV of responses (see `candor analyze --help`)")
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
