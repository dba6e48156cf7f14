"""The one public origin: origin checks, the cookies' Secure flag and absolute links.

Behind the documented TLS-terminating proxy (``deploy/Caddyfile``) the app sees plain
http and whatever ``Host`` the client sent, and ``proxy_headers`` stays off (nothing a
client sends is trusted to say where it came from). So the origin users reach is a
setting, ``CANDOR_PUBLIC_URL`` (required in production), never the request's own
scheme or Host header: a forged Host cannot put another site into a ticket link, and a
browser's ``Origin: https://…`` matches what the operator configured.

Without ``CANDOR_PUBLIC_URL`` (development and tests only) links use where
``candor serve`` listens, and an origin check also accepts the address the request
came to, so a server on another port than the settings say still signs people in.
"""

from __future__ import annotations

from litestar import Request

from service.settings import Settings


def _request_origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def same_origin(settings: Settings, request: Request) -> bool:
    """Whether an unsafe request comes from a page of this service (login CSRF).

    A browser sends ``Origin`` on every cross-site POST; when it sends none (or
    ``null``), ``Sec-Fetch-Site`` decides, and a client that sends neither is not a
    browser that could be tricked into posting.
    """
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return request.headers.get("sec-fetch-site", "same-origin") in ("same-origin", "none")
    origin = origin.rstrip("/").lower()
    if settings.public_url:
        return origin == settings.public_url.lower()
    return origin in (settings.origin.lower(), _request_origin(request).lower())


def secure_origin(settings: Settings) -> bool:
    """Cookies are Secure when users reach the service over https."""
    return settings.origin.startswith("https://")


def absolute_url(settings: Settings, path: str) -> str:
    """``path`` (starting with ``/``) as a link people can follow from outside."""
    if not path.startswith("/"):
        raise ValueError(f"an absolute path starts with '/': {path!r}")
    return settings.origin + path
