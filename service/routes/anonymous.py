"""Anonymous redemption: answers arrive with a Privacy Pass token and nothing else.

Everything under ``/anon/`` is reached without a session: the session middleware never
reads cookies here, nothing is logged about the request, and the rows written carry
the wave, a date and a random id. The token is verified, the answers validated, and
only then — in the same transaction as the response — is its nonce spent, so answers
that fail validation leave the token usable.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any
from uuid import UUID

import asyncpg
import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, PathParameter
from litestar.status_codes import HTTP_201_CREATED

from crypto.tokens import TokenError, format_www_authenticate, parse_authorization, verify_token
from instruments import validate_answers
from instruments.packing import PackedAnswers, pack_answers, unpack_answers
from service.errors import Problem, problem_spec
from service.queries import campaigns as q
from service.queries.campaigns import CampaignKeys
from service.waves import accepting, instrument_by_hash, receipt_for

Receipt = Annotated[str, PathParameter(pattern=r"^[0-9a-f]{64}$")]


class SubmissionReceipt(msgspec.Struct, frozen=True):
    receipt: str
    response_id: UUID
    submitted_on: date


class StoredAnswers(msgspec.Struct, frozen=True):
    receipt: str
    response_id: UUID
    submitted_on: date
    answers: dict[str, Any]
    verified: bool


def _unauthorized(keys: CampaignKeys, detail: str) -> Problem:
    return Problem(
        401, "token-invalid", detail,
        headers={"WWW-Authenticate": format_www_authenticate(keys.challenge, keys.token_key)},
    )


async def _keys(db: asyncpg.Connection, campaign_id: UUID) -> CampaignKeys:
    keys = await q.select_keys(db, campaign_id=campaign_id)
    if keys is None:
        raise Problem(404, "not-found", f"No opened survey wave {campaign_id}")
    return keys


class AnonymousController(Controller):
    path = "/anon/campaigns"
    tags = ["anonymous"]

    @post(
        "/{campaign_id:uuid}/responses",
        operation_id="submitResponse",
        status_code=HTTP_201_CREATED,
        responses={
            401: problem_spec("Missing or invalid token; WWW-Authenticate carries the challenge"),
            404: problem_spec("No such opened wave"),
            409: problem_spec("Token already spent, or the wave is closed"),
            422: problem_spec("Invalid answers; the token is not spent"),
        },
    )
    async def submit(
        self, request: Request, db: NamedDependency[asyncpg.Connection], campaign_id: FromPath[UUID],
        data: JSONBody[dict[str, Any]],
    ) -> SubmissionReceipt:
        keys = await _keys(db, campaign_id)
        header = request.headers.get("authorization")
        if not header:
            raise _unauthorized(keys, "Send the wave's Privacy Pass token: Authorization: PrivateToken token=…")
        try:
            token = verify_token(parse_authorization(header), keys.token_key, keys.challenge, key_id=keys.token_key_id)
        except TokenError as exc:
            raise _unauthorized(keys, f"The token is not valid for this wave: {exc}") from None
        today = date.today()
        if reason := accepting(keys, today):
            raise Problem(409, "campaign-closed", reason)
        instrument = await instrument_by_hash(request.app.state, db, keys.instrument_hash)
        if errors := validate_answers(instrument, data):
            raise Problem(422, "validation", f"{len(errors)} answer(s) need attention; your token was not used",
                          errors=errors)
        if not await q.spend_token(db, campaign_id=campaign_id, nonce=token.nonce):
            raise Problem(409, "token-spent", "This token has already been used: this wave has your answers")
        packed = pack_answers(instrument, data)
        response_id = uuid.uuid4()
        receipt = receipt_for(campaign_id, response_id, today, unpack_answers(instrument, packed))
        await q.insert_response(
            db, response_id=response_id, campaign_id=campaign_id, submitted_on=today, receipt=receipt,
            item_values=packed.item_values, importance=packed.importance, satisfaction=packed.satisfaction,
            comments=packed.comments,
        )
        return SubmissionReceipt(receipt=receipt, response_id=response_id, submitted_on=today)

    @get("/{campaign_id:uuid}/receipts/{receipt:str}", operation_id="checkReceipt",
         responses={404: problem_spec("No response with this receipt in this wave")})
    async def check_receipt(
        self, request: Request, db: NamedDependency[asyncpg.Connection], campaign_id: FromPath[UUID], receipt: Receipt
    ) -> StoredAnswers:
        keys = await _keys(db, campaign_id)
        stored = await q.select_response_by_receipt(db, campaign_id=campaign_id, receipt=receipt)
        if stored is None:
            raise Problem(404, "not-found", "No response with this receipt in this wave")
        instrument = await instrument_by_hash(request.app.state, db, keys.instrument_hash)
        answers = unpack_answers(
            instrument, PackedAnswers(stored.item_values, stored.importance, stored.satisfaction, stored.comments)
        )
        recomputed = receipt_for(campaign_id, stored.id, stored.submitted_on, answers)
        return StoredAnswers(receipt=stored.receipt, response_id=stored.id, submitted_on=stored.submitted_on,
                             answers=answers, verified=recomputed == stored.receipt)
