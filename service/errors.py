"""RFC 9457 problem details for every error the service returns.

``type`` is ``/problems/<slug>``, the ``title`` is fixed per type, ``detail`` says what
happened this time, and validation problems carry ``errors``: one entry per field.
An unhandled exception becomes a bare 500 with nothing of its internals.

Problems are answered in the reader's language (``service.i18n.choose_locale``: the language cookie, else
``Accept-Language``; an anonymous request's header is read for this answer only, never kept), with
``Content-Language``. The code raising a problem writes the detail and each field's reason as an ``N_``-marked
English template with named parameters (``N_("No survey wave {campaign}", campaign=campaign_id)``); they are
translated and filled, numbers and dates written the locale's way, only here, when the answer is made. msgspec's
own validation messages are matched to marked templates of the same English wording. The ``type``, ``status``
and each ``field`` never change with the language.
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

from instruments.errors import N_, FieldError, Message  # one shape for every field error the API reports
from service.i18n import LANG_COOKIE, choose_locale, localize

log = logging.getLogger("candor")

PROBLEM_JSON = "application/problem+json"

TITLES: dict[str, str] = {
    "bad-request": N_("The request could not be understood"),
    "malformed-body": N_("The request body is not well-formed"),
    "validation": N_("The request has invalid fields"),
    "unauthenticated": N_("Sign-in required"),
    "invalid-credentials": N_("Email or password is wrong"),
    "password-login-disabled": N_("Password sign-in is switched off"),
    "forbidden": N_("Not allowed"),
    "csrf": N_("Missing or wrong CSRF token"),
    "not-found": N_("Not found"),
    "method-not-allowed": N_("Method not allowed"),
    "conflict": N_("Conflict"),
    "body-too-large": N_("Request body too large"),
    "unsupported-media-type": N_("Unsupported media type"),
    "too-many-requests": N_("Too many requests"),
    "campaign-closed": N_("The survey wave is not accepting this"),
    "token-issued": N_("Token already issued"),
    "token-invalid": N_("Missing or invalid Privacy Pass token"),
    "token-spent": N_("This token has already been used"),
    "thread-secret": N_("Missing or unknown thread secret"),
    "action-locked": N_("The action item is locked"),
    "action-transition": N_("That status change is not allowed"),
    "internal": N_("Internal server error"),
    "unavailable": N_("Service unavailable"),
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

    ``detail`` is said in the reader's language when it is an ``N_``-marked template (filled with its
    parameters); other text is answered as it is.

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
        self.message = detail  # as given: HTTPException may not keep a Message as it is
        self.slug = slug
        self.errors = errors
        self.commit = commit


def problem_response(
    request: Request,
    status: int,
    slug: str,
    detail: str,
    *,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[ProblemDetails]:
    """The problem in the request's language: title, detail and each reason (never a field's name)."""
    lang = choose_locale(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))
    said = None if errors is None else [FieldError(field=e.field, reason=localize(e.reason, lang)) for e in errors]
    body = ProblemDetails(type=f"/problems/{slug}", title=localize(TITLES[slug], lang), status=status,
                          detail=localize(detail, lang), errors=said)
    answer = {**(headers or {}), "Content-Language": lang}
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=answer)


def problem_spec(description: str) -> ResponseSpec:
    """OpenAPI ``responses=`` entry for a problem+json error."""
    return ResponseSpec(data_container=ProblemDetails, description=description, media_type=PROBLEM_JSON)


_PHRASES = {s.value for s in HTTPStatus}

_UNKNOWN = re.compile(r"unknown field `([^`]+)`")
_MISSING = re.compile(r"missing required field `([^`]+)`")
_AT = re.compile(r" - at `\$\.?(.*)`$")

# msgspec's messages (the ones a client can provoke), as marked templates of the same English wording; a message
# matching none stays as msgspec wrote it. The parameters are msgspec's own text: type names and limits.
_MSGSPEC: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"Expected `(?P<expected>[^`]+)`, got `(?P<got>[^`]+)`"), N_("Expected `{expected}`, got `{got}`")),
    (re.compile(r"Expected `(?P<type>\w+)` >= (?P<limit>\S+)"), N_("Expected `{type}` >= {limit}")),
    (re.compile(r"Expected `(?P<type>\w+)` > (?P<limit>\S+)"), N_("Expected `{type}` > {limit}")),
    (re.compile(r"Expected `(?P<type>\w+)` <= (?P<limit>\S+)"), N_("Expected `{type}` <= {limit}")),
    (re.compile(r"Expected `(?P<type>\w+)` < (?P<limit>\S+)"), N_("Expected `{type}` < {limit}")),
    (re.compile(r"Expected `(?P<type>\w+)` of length >= (?P<limit>\d+)"), N_("Expected `{type}` of length >= {limit}")),
    (re.compile(r"Expected `(?P<type>\w+)` of length <= (?P<limit>\d+)"), N_("Expected `{type}` of length <= {limit}")),
    (re.compile(r"Expected `str` matching regex (?P<pattern>.+)"), N_("Expected `str` matching regex {pattern}")),
    (re.compile(r"Object missing required field `(?P<name>[^`]+)`"), N_("Object missing required field `{name}`")),
    (re.compile(r"Object contains unknown field `(?P<name>[^`]+)`"), N_("Object contains unknown field `{name}`")),
    (re.compile(r"Invalid enum value (?P<value>.+)"), N_("Invalid enum value {value}")),
    (re.compile(r"Invalid value (?P<value>.+)"), N_("Invalid value {value}")),
    (re.compile(r"Invalid UUID"), N_("Invalid UUID")),
    (re.compile(r"Invalid RFC3339 encoded date"), N_("Invalid RFC3339 encoded date")),
    (re.compile(r"Invalid RFC3339 encoded datetime"), N_("Invalid RFC3339 encoded datetime")),
    (re.compile(r"Invalid RFC3339 encoded time"), N_("Invalid RFC3339 encoded time")),
    (re.compile(r"Invalid base64 encoded string"), N_("Invalid base64 encoded string")),
)


def _msgspec_reason(message: str) -> str:
    """msgspec's ``message`` as a marked template when it is one of the known shapes, else as it is."""
    for pattern, template in _MSGSPEC:
        if match := pattern.fullmatch(message):
            return Message(template, match.groupdict())
    return message


def _field_error(entry: dict[str, Any]) -> FieldError:
    """Name the field precisely: Litestar reports struct-level problems under ``data``."""
    message = str(entry.get("message", "invalid"))
    key = str(entry.get("key") or "")
    source = entry.get("source")
    prefix = "" if key in ("", "data", "body") else key
    for pattern in (_UNKNOWN, _MISSING):
        if match := pattern.search(message):
            name = match.group(1)
            return FieldError(field=f"{prefix}.{name}" if prefix else name, reason=_msgspec_reason(message))
    if match := _AT.search(message):
        message = message[: match.start()]
        path = match.group(1)
        prefix = f"{prefix}.{path}" if prefix and path else (path or prefix)
    field = prefix or ("body" if source == "body" else str(source or "request"))
    return FieldError(field=field, reason=_msgspec_reason(message))


def handle_http_exception(request: Request, exc: HTTPException) -> Response[ProblemDetails]:
    if isinstance(exc, Problem):
        return problem_response(request, exc.status_code, exc.slug, exc.message, errors=exc.errors,
                                headers=exc.headers)
    if isinstance(exc, ValidationException):
        entries = exc.extra if isinstance(exc.extra, list) else []
        errors = [_field_error(e) for e in entries if isinstance(e, dict)]
        if errors:
            return problem_response(request, 422, "validation",
                                    N_("{count} field(s) failed validation", count=len(errors)), errors=errors)
    status = exc.status_code
    if status >= 500:
        return handle_internal_error(request, exc)
    if isinstance(exc.__cause__, SerializationException):
        return problem_response(request, 400, "malformed-body",
                                N_("The body could not be decoded: {reason}", reason=str(exc.detail)))
    slug = _STATUS_SLUGS.get(status, "bad-request")
    generic = exc.detail in (None, "", HTTPStatus(status).phrase) if status in _PHRASES else not exc.detail
    detail = _default_detail(request, status) if generic else exc.detail
    return problem_response(request, status, slug, detail, headers=exc.headers)


def _default_detail(request: Request, status: int) -> str:
    if status == 404:
        return N_("No resource at this address")
    if status == 405:
        return N_("{method} is not allowed here", method=request.method)
    if status == 413:
        return N_("The request body exceeds the size limit")
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
    return problem_response(request, 503, "unavailable",
                            N_("The database cannot be reached right now; try again shortly"),
                            headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


# PostgreSQL text cannot hold NUL (U+0000), which JSON and query strings can carry: the
# client's input is at fault, wherever it was going to be stored or compared.
UNSTORABLE_TEXT: tuple[type[BaseException], ...] = (
    asyncpg.exceptions.CharacterNotInRepertoireError,
    asyncpg.exceptions.UntranslatableCharacterError,
)


def handle_unstorable_text(request: Request, exc: Exception) -> Response[ProblemDetails]:
    return problem_response(request, 400, "bad-request", N_(
        "Text in this request contains a NUL character (U+0000), which cannot be stored; remove it and send the "
        "request again"))


def handle_internal_error(request: Request, exc: Exception) -> Response[ProblemDetails]:
    # A dependency's clean-up failing after the handler failed arrives as a group: a lost
    # connection is still a 503.
    if isinstance(exc, BaseExceptionGroup) and exc.subgroup(DATABASE_UNAVAILABLE) is not None:
        return handle_unavailable(request, exc)
    log.error("unhandled error in %s", _route(request), exc_info=exc)
    return problem_response(request, 500, "internal", N_("An unexpected error occurred"))


EXCEPTION_HANDLERS = {
    HTTPException: handle_http_exception,
    **dict.fromkeys(DATABASE_UNAVAILABLE, handle_unavailable),
    **dict.fromkeys(UNSTORABLE_TEXT, handle_unstorable_text),
    Exception: handle_internal_error,
}
