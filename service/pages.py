"""What the HTML pages need besides their routes: templates, static files, sign-in.

Pages are Jinja2 templates under ``frontend/templates`` and hand-written CSS and ES
modules under ``frontend/static``; nothing is built and nothing comes from another
origin. Data that belongs to the JSON API (waves, tokens, answers) is fetched by the
page's modules from that API, so a page never grows a second copy of its rules.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from litestar import Request, Router
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.datastructures import CacheControlHeader, State
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from service.auth import SESSION_COOKIE, email_key, new_session_token, token_hash
from service.passwords import verify_password
from service.queries import accounts as q
from service.queries.accounts import Account
from service.settings import Settings

FRONTEND = Path(__file__).resolve().parent.parent / "frontend"


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    return TemplateConfig(directory=FRONTEND / "templates", engine=JinjaTemplateEngine)


def static_files_router() -> Router:
    # Short cache: files keep their names across releases (no build step to fingerprint them).
    return create_static_files_router(
        path="/static",
        directories=[FRONTEND / "static"],
        cache_control=CacheControlHeader(max_age=300),
        include_in_schema=False,
        tags=["pages"],
    )


@dataclass(frozen=True)
class SignIn:
    """Outcome of a sign-in attempt: ``token`` on success, else ``status`` and ``retry_after``."""

    account: Account | None = None
    token: str | None = None
    status: int = 200
    retry_after: int = 0


async def sign_in(request: Request, state: State, db: asyncpg.Connection, *, email: str, password: str) -> SignIn:
    """The same checks as ``POST /api/auth/login``: throttle, verify, rotate the session."""
    settings: Settings = state.settings
    key = email_key(settings, email)
    failures, remaining = await q.select_throttle(db, email_key=key, window_minutes=settings.login_window_minutes)
    if failures >= settings.login_max_failures:
        return SignIn(status=429, retry_after=max(1, math.ceil(remaining)))
    found = await q.select_login(db, email=email)
    ok = await verify_password(found[1] if found else None, password)
    if not ok or found is None or not found[0].active:
        async with state.pool.acquire() as conn:
            await q.record_login_failure(conn, email_key=key, window_minutes=settings.login_window_minutes)
        return SignIn(status=401)
    await q.clear_login_failures(db, email_key=key)
    if old := request.cookies.get(SESSION_COOKIE):
        await q.delete_session(db, token_hash=token_hash(old))
    token = new_session_token()
    await q.insert_session(db, token_hash=token_hash(token), account_id=found[0].id, csrf_token=new_session_token())
    return SignIn(account=found[0], token=token)
