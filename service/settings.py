"""Frozen settings read once from the environment (``CANDOR_*`` and ``DATABASE_URL``).

Nothing reads the environment at import time: ``Settings.from_env(os.environ)`` is
called by the CLI and the result is passed into ``create_app``. Every name is
documented in ``.env.example``.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

ENVIRONMENTS = ("development", "production", "test")

# Secrets a production deployment must provide; development generates and keeps them
# under the local data folder (see service/embedded.py).
PRODUCTION_SECRETS = ("DATABASE_URL", "CANDOR_SECRET_KEY", "CANDOR_KEY_ENCRYPTION_KEY", "CANDOR_PUBLIC_URL")


class SettingsError(Exception):
    """The environment cannot configure Candor; ``missing`` and ``invalid`` say why."""

    def __init__(self, *, missing: list[str] | None = None, invalid: list[str] | None = None) -> None:
        self.missing = missing or []
        self.invalid = invalid or []
        parts = []
        if self.missing:
            parts.append("missing required settings: " + ", ".join(self.missing))
        if self.invalid:
            parts.append("invalid settings: " + "; ".join(self.invalid))
        super().__init__(". ".join(parts))


@dataclass(frozen=True, slots=True)
class Settings:
    environment: str = "development"
    database_url: str | None = None
    # HMAC key for session ids, CSRF tokens and throttle keys (>= 32 bytes, base64).
    secret_key: bytes = field(default=b"", repr=False)
    # AES-256-GCM key wrapping issuer private keys at rest (32 bytes, base64).
    key_encryption_key: bytes = field(default=b"", repr=False)
    host: str = "127.0.0.1"
    port: int = 8000
    max_body_bytes: int = 1_048_576
    session_idle_minutes: int = 30
    session_absolute_hours: int = 12
    # None: Secure cookies exactly when the public origin (CANDOR_PUBLIC_URL) is https.
    secure_cookies: bool | None = None
    login_max_failures: int = 5
    login_window_minutes: int = 15
    db_pool_min: int = 1
    db_pool_max: int = 10
    data_dir: str = ".candor"
    log_level: str = "INFO"
    # The issuer name in every wave's TokenChallenge (RFC 9577 §2.1.1): the public host name.
    issuer_name: str = "localhost"
    # Thread tokens per member per calendar month (each opens one anonymous thread).
    thread_tokens_per_month: int = 10
    # Failed thread-secret look-ups per minute, service-wide, before further look-ups get 429.
    thread_secret_failures_per_minute: int = 60
    # Service-desk webhooks may only reach public addresses unless this is set (e.g. for
    # a service desk inside the organisation's network, or tests on 127.0.0.1).
    webhook_allow_private: bool = False
    # The one public origin (scheme://host[:port]) users reach the service at: origin/CSRF
    # checks, the cookies' Secure flag and every absolute link use it, never the Host header.
    # Empty in development and tests: http://{host}:{port}.
    public_url: str = ""
    # Anonymous rows that arrived since the previous pass are rewritten in random order
    # (and vacuumed) every this many minutes: no arrival order older than this survives.
    scrub_window_minutes: int = 60
    # Opening a wave is refused when another wave of the same service opened within this
    # many days has an audience differing by 1 ... k-1 people (audience subtraction).
    audience_lookback_days: int = 365
    # Seconds a request waits for a pool connection before it gets 503 with Retry-After.
    db_acquire_timeout_seconds: float = 5.0
    # PostgreSQL statement_timeout and idle_in_transaction_session_timeout for the app's sessions.
    db_statement_timeout_ms: int = 30_000
    db_idle_in_transaction_timeout_ms: int = 60_000
    # Password hashes (argon2id, 64 MiB each) computed at once per process; more get 503.
    password_hash_concurrency: int = 4
    # Webhook delivery-log entries older than this many days are purged.
    webhook_log_retention_days: int = 90
    # Background jobs (service.housekeeping) this process does not run, by name. Not read
    # from the environment: every job is safe in every replica; tests that drive a job
    # themselves (with their own clock) switch its loop off here.
    disabled_jobs: frozenset[str] = frozenset()

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Build settings from ``env``; raise :class:`SettingsError` listing every problem."""
        missing: list[str] = []
        invalid: list[str] = []
        environment = env.get("CANDOR_ENV", "development")
        if environment not in ENVIRONMENTS:
            invalid.append(f"CANDOR_ENV must be one of {', '.join(ENVIRONMENTS)}")
        if environment == "production":
            missing = [name for name in PRODUCTION_SECRETS if not env.get(name)]

        def integer(name: str, default: int, low: int, high: int) -> int:
            raw = env.get(name)
            if raw is None or raw == "":
                return default
            try:
                value = int(raw)
            except ValueError:
                invalid.append(f"{name} must be an integer")
                return default
            if not low <= value <= high:
                invalid.append(f"{name} must be between {low} and {high}")
            return value

        def secret(name: str, min_len: int) -> bytes:
            raw = env.get(name, "")
            if not raw:
                return b""
            try:
                value = base64.b64decode(raw, validate=True)
            except (binascii.Error, ValueError):
                invalid.append(f"{name} must be base64")
                return b""
            if len(value) < min_len:
                invalid.append(f"{name} must decode to at least {min_len} bytes")
            return value

        secure_raw = env.get("CANDOR_SECURE_COOKIES", "auto").lower()
        secure_cookies: bool | None
        if secure_raw in ("auto", ""):
            secure_cookies = True if environment == "production" else None
        elif secure_raw in ("1", "true", "yes"):
            secure_cookies = True
        elif secure_raw in ("0", "false", "no"):
            secure_cookies = False
        else:
            invalid.append("CANDOR_SECURE_COOKIES must be auto, true or false")
            secure_cookies = None

        issuer_name = env.get("CANDOR_ISSUER_NAME", "localhost")
        if not issuer_name.isascii() or not 1 <= len(issuer_name) <= 253 or " " in issuer_name:
            invalid.append("CANDOR_ISSUER_NAME must be an ASCII host name")

        public_url = env.get("CANDOR_PUBLIC_URL", "").strip().rstrip("/")
        if public_url and not re.fullmatch(r"https?://[A-Za-z0-9.\-\[\]:]+", public_url):
            invalid.append("CANDOR_PUBLIC_URL must be an origin: scheme://host[:port], nothing after it")
        elif environment == "production" and public_url and not public_url.startswith("https://"):
            invalid.append("CANDOR_PUBLIC_URL must use https in production")

        kek = secret("CANDOR_KEY_ENCRYPTION_KEY", 32)
        if kek and len(kek) != 32:
            invalid.append("CANDOR_KEY_ENCRYPTION_KEY must decode to exactly 32 bytes")
        settings = cls(
            environment=environment,
            database_url=env.get("DATABASE_URL") or None,
            secret_key=secret("CANDOR_SECRET_KEY", 32),
            key_encryption_key=kek,
            host=env.get("CANDOR_HOST", "127.0.0.1"),
            port=integer("CANDOR_PORT", 8000, 1, 65535),
            max_body_bytes=integer("CANDOR_MAX_BODY_BYTES", 1_048_576, 1024, 1 << 30),
            session_idle_minutes=integer("CANDOR_SESSION_IDLE_MINUTES", 30, 1, 24 * 60),
            session_absolute_hours=integer("CANDOR_SESSION_ABSOLUTE_HOURS", 12, 1, 24 * 30),
            secure_cookies=secure_cookies,
            login_max_failures=integer("CANDOR_LOGIN_MAX_FAILURES", 5, 1, 1000),
            login_window_minutes=integer("CANDOR_LOGIN_WINDOW_MINUTES", 15, 1, 24 * 60),
            db_pool_min=integer("CANDOR_DB_POOL_MIN", 1, 0, 100),
            db_pool_max=integer("CANDOR_DB_POOL_MAX", 10, 1, 1000),
            data_dir=env.get("CANDOR_DATA_DIR", ".candor"),
            log_level=env.get("CANDOR_LOG_LEVEL", "INFO").upper(),
            issuer_name=issuer_name,
            thread_tokens_per_month=integer("CANDOR_THREAD_TOKENS_PER_MONTH", 10, 1, 1000),
            thread_secret_failures_per_minute=integer("CANDOR_THREAD_SECRET_FAILURES_PER_MINUTE", 60, 1, 100_000),
            webhook_allow_private=env.get("CANDOR_WEBHOOK_ALLOW_PRIVATE", "false").lower() in ("1", "true", "yes"),
            public_url=public_url,
            scrub_window_minutes=integer("CANDOR_SCRUB_WINDOW_MINUTES", 60, 1, 24 * 60),
            audience_lookback_days=integer("CANDOR_AUDIENCE_LOOKBACK_DAYS", 365, 0, 10 * 365),
            db_acquire_timeout_seconds=float(integer("CANDOR_DB_ACQUIRE_TIMEOUT_SECONDS", 5, 1, 120)),
            db_statement_timeout_ms=integer("CANDOR_DB_STATEMENT_TIMEOUT_MS", 30_000, 100, 3_600_000),
            db_idle_in_transaction_timeout_ms=integer("CANDOR_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS", 60_000, 100, 3_600_000),
            password_hash_concurrency=integer("CANDOR_PASSWORD_HASH_CONCURRENCY", 4, 1, 256),
            webhook_log_retention_days=integer("CANDOR_WEBHOOK_LOG_RETENTION_DAYS", 90, 1, 3650),
        )
        if missing or invalid:
            raise SettingsError(missing=missing, invalid=invalid)
        return settings

    @property
    def origin(self) -> str:
        """The public origin: ``CANDOR_PUBLIC_URL``, else where ``candor serve`` listens."""
        return self.public_url or f"http://{self.host}:{self.port}"

    def require_runtime_secrets(self) -> None:
        """Refuse to serve without the secrets that protect sessions and issuer keys."""
        missing = [
            name
            for name, value in (
                ("DATABASE_URL", self.database_url),
                ("CANDOR_SECRET_KEY", self.secret_key),
                ("CANDOR_KEY_ENCRYPTION_KEY", self.key_encryption_key),
            )
            if not value
        ]
        if missing:
            raise SettingsError(missing=missing)
