"""What the HTML pages need besides their routes: templates, static files, sign-in.

Pages are Jinja2 templates under ``frontend/templates`` and hand-written CSS and ES
modules under ``frontend/static``; nothing is built and nothing comes from another
origin. Data that belongs to the JSON API (waves, tokens, answers) is fetched by the
page's modules from that API, so a page never grows a second copy of its rules.
"""

from __future__ import annotations

from pathlib import Path

from litestar import Router
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.datastructures import CacheControlHeader
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
