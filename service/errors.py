"""RFC 9457 problem details for every error the service returns.

``type`` is ``/problems/<slug>``, the ``title`` is fixed per type, ``detail`` says what
happened this time, and validation problems carry ``errors``: one entry per field.
An unhandled exception becomes a bare 500 with nothing of its internals.
"""

from __future__ import annotations

import logging
import re
from http import HTTPStatus
from typing import Any

import asyncpg
import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, SerializationException, ValidationException
from litestar.openapi.datastructures import ResponseSpec

from instruments.errors import FieldError  # one shape for every field error the API reports

log = logging.getLogger("candor")

PROBLEM_JSON = "application/problem+json"

TITLES: dict[str, str] = {
    "bad-request": "The request could not be understood",
    "malformed-body": "The request body is not well-formed",
    "validation": "The request has invalid fields",
    "unauthenticated": "Sign-in required",
    "invalid-credentials": "Email or password is wrong",
    "password-login-disabled": "Password sign-in is switched off",
    "forbidden": "Not allowed",
    "csrf": "Missing or wrong CSRF token",
    "not-found": "Not found",
    "method-not-allowed": "Method not allowed",
    "conflict": "Conflict",
    "body-too-large": "Request body too large",
    "unsupported-media-type": "Unsupported media type",
    "too-many-requests": "Too many requests",
    "campaign-closed": "The survey wave is not accepting this",
    "token-issued": "Token already issued",
    "token-invalid": "Missing or invalid Privacy Pass token",
    "token-spent": "This token has already been used",
    "thread-secret": "Missing or unknown thread secret",
    "action-locked": "The action item is locked",
    "action-transition": "That status change is not allowed",
    "internal": "Internal server error",
    "unavailable": "Service unavailable",
}

_STATUS_SLUGS = {
    400: "bad-request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "body-too-large",
    415: "unsupported-media-type",
    422: "validation",
    429: "too-many-requests",
    503: "unavailable",
}


class ProblemDetails(msgspec.Struct, frozen=True, omit_defaults=True):
    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None


class Problem(HTTPException):
    """Raise from a handler to answer with a specific problem type.

    The request's transaction is rolled back, unless ``commit``: then what the request
    wrote so far is committed with the error answer (a failed sign-in's count, a wrong
    thread secret's), see ``service.db.provide_db``.
    """

    def __init__(
        self,
        status: int,
        slug: str,
        detail: str,
        *,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
        commit: bool = False,
    ) -> None:
        if slug not in TITLES:
            raise ValueError(f"unknown problem type {slug!r}")
        super().__init__(detail=detail, status_code=status, headers=headers)
        self.slug = slug
        self.errors = errors
        self.commit = commit


def problem_response(
    status: int,
    slug: str,
    detail: str,
    *,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[ProblemDetails]:
    body = ProblemDetails(
        type=f"/problems/{slug}", title=TITLES[slug], status=status, detail=detail, errors=errors
    )
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def problem_spec(description: str) -> ResponseSpec:
    """OpenAPI ``responses=`` entry for a problem+json error."""
    return ResponseSpec(data_container=ProblemDetails, description=description, media_type=PROBLEM_JSON)


_PHRASES = {s.value for s in HTTPStatus}

_UNKNOWN = re.compile(r"unknown field `([^`]+)`")
_MISSING = re.compile(r"missing required field `([^`]+)`")
_AT = re.compile(r" - at `\$\.?(.*)`$")


def _field_error(entry: dict[str, Any]) -> FieldError:
    """Name the field precisely: Litestar reports struct-level problems under ``data``."""
    message = str(entry.get("message", "invalid"))
    key = str(entry.get("key") or "")
    source = entry.get("source")
    prefix = "" if key in ("", "data", "body") else key
    for pattern in (_UNKNOWN, _MISSING):
        if match := pattern.search(message):
            name = match.group(1)
            return FieldError(field=f"{prefix}.{name}" if prefix else name, reason=message)
    if match := _AT.search(message):
        message = message[: match.start()]
        path = match.group(1)
        prefix = f"{prefix}.{path}" if prefix and path else (path or prefix)
    field = prefix or ("body" if source == "body" else str(source or "request"))
    return FieldError(field=field, reason=message)


def handle_http_exception(request: Request, exc: HTTPException) -> Response[ProblemDetails]:
    if isinstance(exc, Problem):
        return problem_response(exc.status_code, exc.slug, exc.detail, errors=exc.errors, headers=exc.headers)
    if isinstance(exc, ValidationException):
        entries = exc.extra if isinstance(exc.extra, list) else []
        errors = [_field_error(e) for e in entries if isinstance(e, dict)]
        if errors:
            return problem_response(
                422, "validation", f"{len(errors)} field(s) failed validation", errors=errors
            )
    status = exc.status_code
    if status >= 500:
        return handle_internal_error(request, exc)
    if isinstance(exc.__cause__, SerializationException):
        return problem_response(400, "malformed-body", f"The body could not be decoded: {exc.detail}")
    slug = _STATUS_SLUGS.get(status, "bad-request")
    generic = exc.detail in (None, "", HTTPStatus(status).phrase) if status in _PHRASES else not exc.detail
    detail = _default_detail(request, status) if generic else exc.detail
    return problem_response(status, slug, detail, headers=exc.headers)


def _default_detail(request: Request, status: int) -> str:
    if status == 404:
        return "No resource at this address"
    if status == 405:
        return f"{request.method} is not allowed here"
    if status == 413:
        return "The request body exceeds the size limit"
    return TITLES.get(_STATUS_SLUGS.get(status, "bad-request"), "Error")


# The database is down, restarting, refusing connections or too slow, or no pool
# connection came free in time (TimeoutError is an OSError): the request may succeed a
# moment later, so the answer is 503 with Retry-After, never a 500 or a hang.
DATABASE_UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.OperatorInterventionError,  # shutting down, starting up, statement timeout
    asyncpg.exceptions.InsufficientResourcesError,  # too many connections
)
RETRY_AFTER_SECONDS = 5


def _route(request: Request) -> str:
    # Log lines name the route, never the client (no address, agent or referrer).
    route = getattr(request.scope.get("route_handler"), "paths", None)
    return f"{request.method} {sorted(route) if route else '?'}"


def handle_unavailable(request: Request, exc: Exception) -> Response[ProblemDetails]:
    log.warning("database unavailable in %s: %s", _route(request), type(exc).__name__)
    return problem_response(503, "unavailable", "The database cannot be reached right now; try again shortly",
                            headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


# PostgreSQL text cannot hold NUL (U+0000), which JSON and query strings can carry: the
# client's input is at fault, wherever it was going to be stored or compared.
UNSTORABLE_TEXT: tuple[type[BaseException], ...] = (
    asyncpg.exceptions.CharacterNotInRepertoireError,
    asyncpg.exceptions.UntranslatableCharacterError,
)


def handle_unstorable_text(request: Request, exc: Exception) -> Response[ProblemDetails]:
    return problem_response(400, "bad-request", "Text in this request contains a NUL character (U+0000), "
                                                "which cannot be stored; remove it and send the request again")


def handle_internal_error(request: Request, exc: Exception) -> Response[ProblemDetails]:
    # A dependency's clean-up failing after the handler failed arrives as a group: a lost
    # connection is still a 503.
    if isinstance(exc, BaseExceptionGroup) and exc.subgroup(DATABASE_UNAVAILABLE) is not None:
        return handle_unavailable(request, exc)
    log.error("unhandled error in %s", _route(request), exc_info=exc)
    return problem_response(500, "internal", "An unexpected error occurred")


EXCEPTION_HANDLERS = {
    HTTPException: handle_http_exception,
    **dict.fromkeys(DATABASE_UNAVAILABLE, handle_unavailable),
    **dict.fromkeys(UNSTORABLE_TEXT, handle_unstorable_text),
    Exception: handle_internal_error,
}
