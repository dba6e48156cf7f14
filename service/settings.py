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
from typing import Any
from urllib.parse import urlsplit

from service.queries.accounts import ROLES

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
    # Mail (service.mail): the SMTP server (smtp:// STARTTLS, smtps:// TLS, smtp+plain://; empty: no
    # sending, a development mailbox outside production), the From address, and the reminder days
    # ("3,7,-1": 3 and 7 days after a wave opens, 1 day before it closes). Checked by service.mail.
    smtp_url: str = field(default="", repr=False)
    mail_from: str = ""
    mail_reminder_days: str = "3,7"
    # The organisation's language: mail to a member whose language Candor does not know yet
    # (they never signed in with a browser or chose one) is written in it. Checked by service.mail.
    default_language: str = "en"
    # Request Tracker 5 (service.servicedesk): the RT base URL (REST 2 is under /REST/2.0), an
    # RT auth token (sent as "Authorization: token ..."), and the shared secret RT's scrip signs
    # status callbacks with. Empty URL: no service-desk connector. Checked by service.servicedesk.
    rt_url: str = ""
    rt_token: str = field(default="", repr=False)
    rt_callback_secret: str = field(default="", repr=False)
    # OpenID Connect sign-in (service.oidc): on when the issuer is set. The issuer is https,
    # except a loopback address outside production (a provider started by the tests).
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: str = field(default="", repr=False)
    # Shown on the sign-in page as "Sign in with <name>".
    oidc_provider_name: str = "single sign-on"
    oidc_scopes: str = "openid email profile"
    # Claims read from the ID token; an empty groups or roles claim name switches that mapping off.
    oidc_email_claim: str = "email"
    oidc_name_claim: str = "name"
    oidc_groups_claim: str = "groups"
    oidc_roles_claim: str = "roles"
    # Values of the roles claim -> Candor roles. When set, the provider decides every role
    # but member at each sign-in; when empty, roles stay as admins set them.
    oidc_role_map: tuple[tuple[str, str], ...] = ()
    # Unknown people get a member account at their first sign-in (else only existing accounts).
    oidc_allow_signup: bool = True
    # A group named in the groups claim that Candor does not have is created (else ignored).
    oidc_create_groups: bool = False
    # Treat the e-mail claim as verified without an email_verified claim (single-tenant
    # providers that vouch for every address, e.g. Entra ID); it links local accounts.
    oidc_trust_email: bool = False
    # false: local passwords are refused; only the provider signs people in (the admin CLI still works).
    password_login: bool = True
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

        def flag(name: str, default: bool) -> bool:
            raw = env.get(name, "").strip().lower()
            if raw == "":
                return default
            if raw in ("1", "true", "yes"):
                return True
            if raw in ("0", "false", "no"):
                return False
            invalid.append(f"{name} must be true or false")
            return default

        oidc = _oidc_settings(env, environment, invalid)
        password_login = flag("CANDOR_PASSWORD_LOGIN", True)
        if not password_login and not oidc.get("oidc_issuer"):
            invalid.append("CANDOR_PASSWORD_LOGIN=false needs CANDOR_OIDC_ISSUER: nobody could sign in")

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
            smtp_url=env.get("CANDOR_SMTP_URL", "").strip(),
            mail_from=env.get("CANDOR_MAIL_FROM", "").strip(),
            mail_reminder_days=env.get("CANDOR_MAIL_REMINDER_DAYS", "3,7").strip(),
            default_language=env.get("CANDOR_DEFAULT_LANGUAGE", "en").strip().lower(),
            rt_url=env.get("CANDOR_RT_URL", "").strip().rstrip("/"),
            rt_token=env.get("CANDOR_RT_TOKEN", "").strip(),
            rt_callback_secret=env.get("CANDOR_RT_CALLBACK_SECRET", "").strip(),
            oidc_allow_signup=flag("CANDOR_OIDC_ALLOW_SIGNUP", True),
            oidc_create_groups=flag("CANDOR_OIDC_CREATE_GROUPS", False),
            oidc_trust_email=flag("CANDOR_OIDC_TRUST_EMAIL", False),
            password_login=password_login,
            **oidc,
        )
        if missing or invalid:
            raise SettingsError(missing=missing, invalid=invalid)
        return settings

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer)

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


_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def _oidc_settings(env: Mapping[str, str], environment: str, invalid: list[str]) -> dict[str, Any]:
    """The ``CANDOR_OIDC_*`` settings as keyword arguments; problems go to ``invalid``.

    The issuer is where keys and tokens come from, so it must be https: plain http is
    accepted only on a loopback address outside production (a provider the tests start).
    """
    issuer = env.get("CANDOR_OIDC_ISSUER", "").strip().rstrip("/")
    client_id = env.get("CANDOR_OIDC_CLIENT_ID", "").strip()
    client_secret = env.get("CANDOR_OIDC_CLIENT_SECRET", "")
    if not issuer:
        if client_id or client_secret:
            invalid.append("CANDOR_OIDC_CLIENT_ID and CANDOR_OIDC_CLIENT_SECRET need CANDOR_OIDC_ISSUER")
        return {}
    parts = urlsplit(issuer)
    loopback = parts.scheme == "http" and (parts.hostname or "") in _LOOPBACK_HOSTS
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.query or parts.fragment:
        invalid.append("CANDOR_OIDC_ISSUER must be an https URL without query or fragment")
    elif parts.scheme == "http" and (environment == "production" or not loopback):
        invalid.append("CANDOR_OIDC_ISSUER must use https (http only for a loopback provider outside production)")
    if not client_id:
        invalid.append("CANDOR_OIDC_CLIENT_ID is required with CANDOR_OIDC_ISSUER")
    if not client_secret:
        invalid.append("CANDOR_OIDC_CLIENT_SECRET is required with CANDOR_OIDC_ISSUER")
    scopes = " ".join(env.get("CANDOR_OIDC_SCOPES", "openid email profile").split())
    if "openid" not in scopes.split():
        invalid.append("CANDOR_OIDC_SCOPES must include openid")
    role_map: list[tuple[str, str]] = []
    for pair in filter(None, (p.strip() for p in env.get("CANDOR_OIDC_ROLE_MAP", "").split(","))):
        value, _, role = pair.rpartition("=")
        if not value.strip() or role.strip() not in ROLES:
            invalid.append(f"CANDOR_OIDC_ROLE_MAP entry {pair!r} must be <claim value>=<one of {', '.join(ROLES)}>")
            continue
        role_map.append((value.strip(), role.strip()))
    name = env.get("CANDOR_OIDC_PROVIDER_NAME", "").strip() or "single sign-on"
    if len(name) > 60:
        invalid.append("CANDOR_OIDC_PROVIDER_NAME must be at most 60 characters")
    return {
        "oidc_issuer": issuer,
        "oidc_client_id": client_id,
        "oidc_client_secret": client_secret,
        "oidc_provider_name": name,
        "oidc_scopes": scopes,
        "oidc_email_claim": env.get("CANDOR_OIDC_EMAIL_CLAIM", "email").strip(),
        "oidc_name_claim": env.get("CANDOR_OIDC_NAME_CLAIM", "name").strip(),
        "oidc_groups_claim": env.get("CANDOR_OIDC_GROUPS_CLAIM", "groups").strip(),
        "oidc_roles_claim": env.get("CANDOR_OIDC_ROLES_CLAIM", "roles").strip(),
        "oidc_role_map": tuple(role_map),
    }
