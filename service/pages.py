"""What the HTML pages need besides their routes: templates, the role gate and the page
renderer every page controller shares (static files: service.static).

Pages are Jinja2 templates under ``frontend/templates`` and hand-written CSS and ES
modules under ``frontend/static``; nothing is built and nothing comes from another
origin. Data that belongs to the JSON API (waves, tokens, answers) is fetched by the
page's modules from that API, so a page never grows a second copy of its rules.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Request
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.template.config import TemplateConfig

from service import i18n, static

FRONTEND = Path(__file__).resolve().parent.parent / "frontend"


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    # Every template gets `{% trans %}`, `_()` and the locale-aware format filters (service.i18n).
    return TemplateConfig(directory=FRONTEND / "templates", engine=JinjaTemplateEngine,
                          engine_callback=_configure_engine)


def _configure_engine(engine: JinjaTemplateEngine) -> None:
    i18n.install(engine.engine)
    # `asset()` and `import_map()`: content-hashed static URLs (service.static).
    static.install(engine.engine)


PageResponse = Template | Redirect


def page(request: Request, name: str, *, status: int = 200, **context: Any) -> Template:
    """The template ``name`` with the visitor, their roles, their CSRF token and their language; never
    cached (a page shows what its visitor may see, in the language they read)."""
    user = request.scope.get("user")
    auth = request.scope.get("auth")
    roles = set(user.roles) if user else set()
    return Template(
        template_name=f"{name}.html",
        context={"user": user, "roles": roles, "csrf": auth.csrf_token if auth else "", "page": name,
                 "here": _here(request),
                 # The cookie (this browser's choice), else the member's own language (another browser's
                 # choice, or the directory's), else the browser's Accept-Language.
                 **i18n.page_context(request.cookies.get(i18n.LANG_COOKIE) or (user.language if user else None),
                                     request.headers.get("accept-language")),
                 **context},
        status_code=status,
        headers={"cache-control": "no-store"},
    )


def _here(request: Request) -> str:
    """The page's own path and query: where the language switcher returns to."""
    query = request.scope.get("query_string", b"").decode("latin-1")
    return request.url.path + (f"?{query}" if query else "")


def gate(request: Request, *roles: str) -> PageResponse | None:
    """``None`` when the visitor may see the page; else the redirect to sign in, or the
    403 page naming the roles that would (pages answer people, not problem+json)."""
    user = request.scope.get("user")
    if user is None:
        return Redirect("/login", status_code=303)
    if roles and set(roles).isdisjoint(user.roles):
        return page(request, "forbidden", status=403, needed=sorted(roles))
    return None
