"""What the HTML pages need besides their routes: templates, static files, the
role gate and the page renderer every page controller shares.

Pages are Jinja2 templates under ``frontend/templates`` and hand-written CSS and ES
modules under ``frontend/static``; nothing is built and nothing comes from another
origin. Data that belongs to the JSON API (waves, tokens, answers) is fetched by the
page's modules from that API, so a page never grows a second copy of its rules.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Request, Router
from litestar.datastructures import CacheControlHeader
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

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


PageResponse = Template | Redirect


def page(request: Request, name: str, *, status: int = 200, **context: Any) -> Template:
    """The template ``name`` with the visitor, their roles and their CSRF token; never cached
    (a page shows what its visitor may see)."""
    user = request.scope.get("user")
    auth = request.scope.get("auth")
    roles = set(user.roles) if user else set()
    return Template(
        template_name=f"{name}.html",
        context={"user": user, "roles": roles, "csrf": auth.csrf_token if auth else "", "page": name, **context},
        status_code=status,
        headers={"cache-control": "no-store"},
    )


def gate(request: Request, *roles: str) -> PageResponse | None:
    """``None`` when the visitor may see the page; else the redirect to sign in, or the
    403 page naming the roles that would (pages answer people, not problem+json)."""
    user = request.scope.get("user")
    if user is None:
        return Redirect("/login", status_code=303)
    if roles and set(roles).isdisjoint(user.roles):
        return page(request, "forbidden", status=403, needed=sorted(roles))
    return None
