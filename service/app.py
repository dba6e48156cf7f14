"""The Litestar application: ``create_app(settings)``."""

from __future__ import annotations

import logging

from litestar import Litestar, Request
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.types import Message, Scope

from instruments.errors import N_
from service.auth import SessionMiddleware
from service.db import pool_lifespan, provide_db
from service.errors import EXCEPTION_HANDLERS, Problem
from service.housekeeping import PURGE_INTERVAL_SECONDS, background_lifespan, purge_expired
from service.issuance import Issuer, signing_lifespan
from service.lru import LRUCache
from service.mail import SEND_INTERVAL_SECONDS, check_mail_settings, queue_notices, send_mail
from service.oidc import Provider
from service.pages import template_config
from service.passwords import PasswordChecks
from service.reports import BUILD_INTERVAL_SECONDS, REPORT_CACHE_SIZE, ReportSchemaPlugin, report_builder
from service.routes.accounts import AccountController
from service.routes.actions import (
    ActionController,
    ActionPageController,
    PublicActionController,
    WaveExportController,
)
from service.routes.admin_pages import AdminPageController
from service.routes.anon_threads import AnonymousThreadController
from service.routes.anonymous import AnonymousController
from service.routes.auth import AuthController
from service.routes.campaigns import CampaignController, ReportController
from service.routes.groups import GroupController
from service.routes.health import HealthController
from service.routes.instruments import InstrumentController
from service.routes.mail import MailboxPageController, MailPreferenceController
from service.routes.oidc import OidcController
from service.routes.pages import PageController
from service.routes.scim import ScimController, ScimTokenController
from service.routes.servicedesk import ServiceDeskCallbackController, ServiceDeskController
from service.routes.services import ServiceController
from service.routes.threads import BoardController, ServiceThreadsController, ThreadController, ThreadPageController
from service.routes.transparency import TransparencyController
from service.scrub import scrub_arrival_order
from service.servicedesk import POLL_JOB_INTERVAL_SECONDS, poll_tickets, send_tickets
from service.servicedesk import SEND_INTERVAL_SECONDS as DESK_SEND_INTERVAL_SECONDS
from service.servicedesk import check_settings as check_servicedesk_settings
from service.settings import Settings
from service.static import script_hash, static_files_router
from service.threads import WORKER_INTERVAL_SECONDS, deliver_webhooks
from service.transparency import log_lifespan
from service.waves import close_expired_waves

# The one inline script allowed is the import map, by its SHA-256 (service.static).
CONTENT_SECURITY_POLICY = (
    f"default-src 'self'; script-src 'self' {script_hash()}; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# Waves close on their last day's end; a minute's delay is of no consequence.
WAVE_CLOSER_INTERVAL_SECONDS = 60


_ENCODED_HEADERS = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in SECURITY_HEADERS.items()]
_NO_STORE = (b"cache-control", b"no-store")
_SECURITY_NAMES = frozenset(name for name, _ in _ENCODED_HEADERS)
_PRIVATE_NAMES = _SECURITY_NAMES | {b"cache-control"}


async def add_security_headers(message: Message, scope: Scope) -> None:
    """Every response, errors and unknown routes included, carries the same headers
    (pre-encoded: this runs for every response, the busiest endpoint's included)."""
    if message["type"] == "http.response.start":
        path = scope.get("path", "")
        private = path.startswith(("/api/", "/anon/"))
        # Ours replace any the handler set; API answers are never cached.
        drop = _PRIVATE_NAMES if private else _SECURITY_NAMES
        headers = [h for h in message.get("headers", ()) if h[0].lower() not in drop]
        headers.extend(_ENCODED_HEADERS)
        if private:
            headers.append(_NO_STORE)
        message["headers"] = headers


async def require_media_type(request: Request) -> None:
    """415 unless the body's media type is one the route accepts (JSON by default)."""
    if request.method not in _BODY_METHODS:
        return
    has_body = request.headers.get("content-length", "0") != "0" or "transfer-encoding" in request.headers
    if not has_body:
        return
    accepted = request.route_handler.opt.get("accept", ("application/json",))
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type not in accepted:
        raise Problem(
            415, "unsupported-media-type",
            N_("Send the body as {accepted} (got {media_type})",
               accepted=' or '.join(accepted), media_type=media_type or 'no content type'),
        )


def configure_logging(settings: Settings) -> None:
    # The app's own log lines never carry a client address, user agent or referrer;
    # there is no access log (uvicorn's is switched off in service.cli).
    logging.basicConfig(level=settings.log_level, format="%(levelname)s %(name)s: %(message)s")


def app_state(settings: Settings) -> State:
    """Per-process state: settings and caches of things that never change once written
    (instrument versions, opened waves' keys, reports by response count)."""
    return State(
        {
            "settings": settings,
            "issuer": Issuer(settings.key_encryption_key),
            "instruments": LRUCache(256),
            "redemption_keys": LRUCache(256),
            # Action outcomes and score trends of closed waves (service.actions).
            "change_reports": LRUCache(64),
            "wave_scores": LRUCache(256),
            "reports": LRUCache(REPORT_CACHE_SIZE),
            "password_checks": PasswordChecks(settings.password_hash_concurrency),
            # The identity provider's discovery document and keys (service.oidc), when configured.
            "oidc": Provider(settings) if settings.oidc_enabled else None,
        }
    )


def create_app(settings: Settings) -> Litestar:
    settings.require_runtime_secrets()
    check_mail_settings(settings)
    check_servicedesk_settings(settings)
    return Litestar(
        route_handlers=[
            HealthController,
            AuthController,
            AccountController,
            GroupController,
            ServiceController,
            InstrumentController,
            PageController,
            AdminPageController,
            static_files_router(),
            CampaignController,
            ReportController,
            AnonymousController,
            ThreadController,
            AnonymousThreadController,
            BoardController,
            ServiceThreadsController,
            ThreadPageController,
            ActionController,
            PublicActionController,
            WaveExportController,
            ActionPageController,
            MailPreferenceController,
            MailboxPageController,
            TransparencyController,
            ScimController,
            ScimTokenController,
            ServiceDeskController,
            ServiceDeskCallbackController,
            # Only when an identity provider is configured: otherwise these paths do not exist.
            *([OidcController] if settings.oidc_enabled else []),
        ],
        dependencies={"db": Provide(provide_db)},
        middleware=[SessionMiddleware],
        before_request=require_media_type,
        before_send=[add_security_headers],
        exception_handlers=EXCEPTION_HANDLERS,
        template_config=template_config(),
        lifespan=[
            pool_lifespan(settings),
            signing_lifespan(),
            log_lifespan(settings.key_encryption_key),
            background_lifespan({
                "webhook_worker": (WORKER_INTERVAL_SECONDS, deliver_webhooks),
                "wave_closer": (WAVE_CLOSER_INTERVAL_SECONDS, close_expired_waves),
                "arrival_scrub": (settings.scrub_window_minutes * 60, scrub_arrival_order),
                "purge": (PURGE_INTERVAL_SECONDS, purge_expired),
                "mail_sender": (SEND_INTERVAL_SECONDS, send_mail),
                # Thread notices at most once a scrub window (service.mail explains why).
                "mail_notices": (settings.scrub_window_minutes * 60, queue_notices),
                "servicedesk_sender": (DESK_SEND_INTERVAL_SECONDS, send_tickets),
                "servicedesk_poller": (POLL_JOB_INTERVAL_SECONDS, poll_tickets),
                # Closed waves' reports made once, before their first reader asks.
                "report_builder": (BUILD_INTERVAL_SECONDS, report_builder()),
            }),
        ],
        state=app_state(settings),
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="Candor",
            version="0.1.0",
            description="Anonymous feedback and SERVQUAL gap analysis for IT services.",
            path="/schema",
            render_plugins=[JsonRenderPlugin(path="/")],
        ),
        plugins=[ReportSchemaPlugin()],
        logging_config=None,
        debug=False,
    )
