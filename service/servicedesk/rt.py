"""Request Tracker 5 over its REST 2 API (RT::REST2, under ``/REST/2.0``).

Calls used, as RT's REST2 documentation describes them:

- ``GET /tickets?query=<TicketSQL>`` — find the ticket whose subject carries the key
  (``Subject LIKE 'candor:<key>'``; LIKE matches a substring);
- ``POST /ticket`` with ``{"Queue", "Subject", "Content", "ContentType"}`` — create; RT
  answers 201 with ``{"id": "20", "type": "ticket", "_url": …}``;
- ``GET /ticket/:id`` — the ticket, whose ``Status`` is brought back to the thread.

Authentication is an RT auth token (``Authorization: token …``, RT::Authen::Token, core
in RT 5). RT's errors are JSON ``{"message": …}``; 5xx, 408, 429, 401 and 403 (a token or
right an admin can fix) are retried, other 4xx (no such queue) are not.

The subject is the thread's title, shortened so that the key always fits in RT's 200
characters (a key cut off would make the next attempt blind to the ticket); the title in
full, the text and the link are the ticket's first message.
"""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

import httpx

from service.servicedesk import DeskError, TicketRef

REST_PATH = "/REST/2.0"
SUBJECT_MAX = 200  # RT's Tickets.Subject is varchar(200)
TIMEOUT_SECONDS = 15
_TICKET_ID = re.compile(r"[1-9][0-9]{0,17}")


def key_marker(key: UUID) -> str:
    return f"[candor:{key}]"


def subject(title: str, key: UUID) -> str:
    marker = key_marker(key)
    room = SUBJECT_MAX - len(marker) - 1
    short = title if len(title) <= room else title[: room - 1].rstrip() + "…"
    return f"{short} {marker}"


def content(title: str, text: str, link: str) -> str:
    return f"{title}\n\n{text}\n\n{link}\n"


class RequestTracker:
    """:class:`service.servicedesk.Desk` for Request Tracker 5."""

    name = "Request Tracker"
    # RT's default lifecycle: resolved, rejected and deleted are inactive (final) statuses.
    final_statuses = frozenset({"resolved", "rejected", "deleted"})

    def __init__(self, url: str, token: str, *, http: httpx.AsyncClient | None = None) -> None:
        self.web = url.rstrip("/")
        self.api = self.web + REST_PATH
        self._headers = {"authorization": f"token {token}", "accept": "application/json",
                         "user-agent": "Candor-ServiceDesk/1"}
        self._http = http or httpx.AsyncClient(timeout=TIMEOUT_SECONDS, follow_redirects=False, trust_env=False)

    async def aclose(self) -> None:
        await self._http.aclose()

    def _ref(self, ticket_id: object) -> TicketRef:
        text = str(ticket_id)
        if not _TICKET_ID.fullmatch(text):
            raise DeskError(f"Request Tracker answered with no ticket number ({text[:40]!r})")
        return TicketRef(id=text, url=f"{self.web}/Ticket/Display.html?id={text}")

    async def _call(self, method: str, path: str, *, params: dict[str, str] | None = None,
                    body: dict[str, Any] | None = None) -> Any:
        try:
            response = await self._http.request(method, self.api + path, params=params, json=body,
                                                headers=self._headers)
        except httpx.HTTPError as exc:
            raise DeskError(f"Request Tracker could not be reached at {self.web} ({type(exc).__name__})") from None
        status = response.status_code
        if not response.is_success:
            message = _message(response)
            if status in (401, 403):
                raise DeskError(f"Request Tracker refused the call (HTTP {status}{message}): check CANDOR_RT_TOKEN "
                                "and the RT user's rights on the queue")
            raise DeskError(f"Request Tracker answered HTTP {status}{message}",
                            final=status < 500 and status not in (408, 429))
        try:
            return response.json()
        except ValueError:
            raise DeskError(f"Request Tracker's answer to {method} {REST_PATH}{path} is not JSON: "
                            "is CANDOR_RT_URL RT's base URL?") from None

    async def find_by_key(self, idempotency_key: UUID) -> TicketRef | None:
        marker = key_marker(idempotency_key)
        # The key is a UUID (hex and hyphens), so nothing in it can end the TicketSQL string.
        found = await self._call("GET", "/tickets", params={
            "query": f"Subject LIKE 'candor:{idempotency_key}'", "fields": "Subject", "per_page": "2"})
        items = found.get("items") if isinstance(found, dict) else None
        for item in items or []:
            if isinstance(item, dict) and marker in str(item.get("Subject", marker)):
                return self._ref(item.get("id"))
        return None

    async def create_ticket(self, *, idempotency_key: UUID, title: str, text: str, link: str,
                            queue: str) -> TicketRef:
        made = await self._call("POST", "/ticket", body={
            "Queue": queue,
            "Subject": subject(title, idempotency_key),
            "Content": content(title, text, link),
            "ContentType": "text/plain",
        })
        return self._ref(made.get("id") if isinstance(made, dict) else None)

    async def get_status(self, ticket_ref: str) -> str:
        if not _TICKET_ID.fullmatch(ticket_ref):
            raise DeskError(f"not a Request Tracker ticket number: {ticket_ref[:40]!r}", final=True)
        ticket = await self._call("GET", f"/ticket/{ticket_ref}")
        status = ticket.get("Status") if isinstance(ticket, dict) else None
        if not isinstance(status, str):
            raise DeskError(f"Request Tracker's ticket {ticket_ref} has no Status")
        return status


def _message(response: httpx.Response) -> str:
    """RT's ``{"message": …}``, shortened, as ``: message`` (or nothing)."""
    try:
        body = response.json()
    except ValueError:
        return ""
    message = body.get("message") if isinstance(body, dict) else None
    return f": {str(message)[:200]}" if message else ""
