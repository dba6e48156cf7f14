"""Anonymous redemption: answers arrive with a Privacy Pass token and nothing else.

Everything under ``/anon/`` is reached without a session: the session middleware never
reads cookies here, nothing is logged about the request, and the rows written carry
the wave and a random id, no time (the arrival-order pass erases even the order). The token is verified, the answers validated, and
only then — in the same transaction as the response — is its nonce spent, so answers
that fail validation leave the token usable.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from uuid import UUID

import asyncpg
import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, PathParameter
from litestar.status_codes import HTTP_201_CREATED

from instruments import validate_answers
from instruments.errors import N_
from instruments.packing import PackedAnswers, pack_answers, unpack_answers
from service.db import autocommit
from service.errors import Problem, problem_spec
from service.issuance import Issuer
from service.queries import campaigns as q
from service.waves import RedemptionKeys, accepting, receipt_for, redemption_keys, today

Receipt = Annotated[str, PathParameter(pattern=r"^[0-9a-f]{64}$")]


class SubmissionReceipt(msgspec.Struct, frozen=True):
    """What the respondent keeps: the wave is in the URL, the receipt names no date."""

    receipt: str
    response_id: UUID


class StoredAnswers(msgspec.Struct, frozen=True):
    receipt: str
    response_id: UUID
    answers: dict[str, Any]
    verified: bool


async def _keys(request: Request, db: asyncpg.Connection, campaign_id: UUID) -> RedemptionKeys:
    keys = await redemption_keys(request.app.state, db, campaign_id)
    if keys is None:
        raise Problem(404, "not-found", N_("No opened survey wave {campaign_id}", campaign_id=campaign_id))
    return keys


class AnonymousController(Controller):
    path = "/anon/campaigns"
    tags = ["anonymous"]

    @post(
        "/{campaign_id:uuid}/responses",
        operation_id="submitResponse",
        status_code=HTTP_201_CREATED,
        description=(
            "Body (application/json): the answers, validated against the wave's instrument — "
            '{"items": {"<item>": {"<column>": 1..points | null}}, "importance": {...}, '
            '"satisfaction": {...}, "comments": {"<prompt>": "text"}}. '
            'Credential: Authorization: PrivateToken token="…" (RFC 9577), nothing else.'
        ),
        responses={
            401: problem_spec("Missing or invalid token; WWW-Authenticate carries the challenge"),
            404: problem_spec("No such opened wave"),
            409: problem_spec("Token already spent, or the wave is closed"),
            422: problem_spec("Invalid answers; the token is not spent"),
        },
    )
    async def submit(self, request: Request, campaign_id: FromPath[UUID]) -> SubmissionReceipt:
        # The busiest endpoint holds its connection only for the one statement that spends
        # the token and stores the answers (its own transaction), not for the CPU work.
        pool = request.app.state.pool
        keys = await redemption_keys(request.app.state, pool, campaign_id)
        if keys is None:
            raise Problem(404, "not-found", N_("No opened survey wave {campaign_id}", campaign_id=campaign_id))
        issuer: Issuer = request.app.state.issuer
        token, _ = await issuer.redeem(request.headers.get("authorization"), keys.key)
        try:
            # Decoded here, not by a typed body parameter: answers are checked against the
            # wave's instrument (validate_answers), the one schema that matters.
            data = msgspec.json.decode(await request.body())
        except msgspec.DecodeError as exc:
            raise Problem(400, "malformed-body", N_("The body could not be decoded: {reason}",
                                                    reason=str(exc))) from None
        if reason := accepting("open", keys.opens_on, keys.closes_on, today()):
            raise Problem(409, "campaign-closed", reason)
        if errors := validate_answers(keys.instrument, data):
            raise Problem(422, "validation", N_("{count} answer(s) need attention; your token was not used",
                                                count=len(errors)),
                          errors=errors)
        packed = pack_answers(keys.instrument, data)
        response_id = uuid.uuid4()
        receipt = receipt_for(campaign_id, response_id, packed)
        # Autocommit statements only: the connection goes back without a reset round trip.
        async with autocommit(pool) as db:
            stored = await q.store_response(
                db, campaign_id=campaign_id, nonce=token.nonce, response_id=response_id, receipt=receipt,
                item_values=packed.item_values, importance=packed.importance,
                satisfaction=packed.satisfaction, comments=packed.comments, measures=packed.measures,
            )
            status = None if stored else await q.select_status(db, campaign_id=campaign_id)
        if not stored:
            if status != "open":
                raise Problem(409, "campaign-closed", N_("This survey wave is closed"))
            raise Problem(409, "token-spent", N_("This token has already been used: this wave has your answers"))
        return SubmissionReceipt(receipt=receipt, response_id=response_id)

    @get("/{campaign_id:uuid}/receipts/{receipt:str}", operation_id="checkReceipt",
         responses={404: problem_spec("No response with this receipt in this wave")})
    async def check_receipt(
        self, request: Request, db: NamedDependency[asyncpg.Connection], campaign_id: FromPath[UUID], receipt: Receipt
    ) -> StoredAnswers:
        keys = await _keys(request, db, campaign_id)
        stored = await q.select_response_by_receipt(db, campaign_id=campaign_id, receipt=receipt)
        if stored is None:
            raise Problem(404, "not-found", N_("No response with this receipt in this wave"))
        packed = PackedAnswers(stored.item_values, stored.importance, stored.satisfaction, stored.comments,
                               stored.measures)
        answers = unpack_answers(keys.instrument, packed)
        recomputed = receipt_for(campaign_id, stored.id, packed)
        return StoredAnswers(receipt=stored.receipt, response_id=stored.id, answers=answers,
                             verified=recomputed == stored.receipt)
