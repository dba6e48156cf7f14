"""Instruments: the built-in library and custom uploads (TOML or JSON).

``GET /api/instruments/{id}?lang=de`` gives the instrument in one of its languages (the
survey form asks for the respondent's pick); without ``lang`` it is the whole document,
translations included, as stored.
"""

from __future__ import annotations

from typing import Annotated

import asyncpg
import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from instruments import Instrument, InstrumentError, load_instrument_bytes
from instruments.errors import N_, FieldError
from service.auth import requires_login, requires_roles
from service.errors import Problem, problem_spec
from service.instruments import reading_language
from service.queries import instruments as q
from service.queries.instruments import InstrumentSummary

UPLOAD_TYPES = ("application/toml", "application/json")


class InstrumentDetail(msgspec.Struct, frozen=True):
    summary: InstrumentSummary
    instrument: Instrument
    versions: list[InstrumentSummary]
    #: The languages the instrument is offered in, its primary language first.
    languages: list[str] = []


_ERRORS = {401: problem_spec("Not signed in")}


class InstrumentController(Controller):
    path = "/api/instruments"
    tags = ["instruments"]

    @get("/", operation_id="listInstruments", guards=[requires_login], responses=_ERRORS)
    async def list_instruments(self, db: NamedDependency[asyncpg.Connection]) -> list[InstrumentSummary]:
        return await q.select_instruments(db)

    @get(
        "/{instrument_id:str}",
        operation_id="getInstrument",
        guards=[requires_login],
        responses={**_ERRORS, 400: problem_spec("The instrument is not offered in `lang`"),
                   404: problem_spec("No such instrument or version")},
    )
    async def get_instrument(
        self,
        db: NamedDependency[asyncpg.Connection],
        instrument_id: FromPath[str],
        version_hash: Annotated[str | None, QueryParameter(name="hash", pattern=r"^[0-9a-f]{64}$")] = None,
        lang: Annotated[str | None, QueryParameter(max_length=35)] = None,
    ) -> InstrumentDetail:
        found = await q.select_instrument(db, instrument_id=instrument_id, digest=version_hash)
        if found is None:
            raise Problem(404, "not-found", N_("No instrument {id!r} with hash {hash}",
                                               id=instrument_id, hash=version_hash)
                          if version_hash else N_("No instrument {id!r}", id=instrument_id))
        instrument = found.instrument
        if lang is not None:
            instrument = instrument.localized(reading_language(instrument, lang))
        versions = [s for s in await q.select_instruments(db) if s.id == instrument_id]
        return InstrumentDetail(summary=found.summary, instrument=instrument, versions=versions,
                                languages=list(found.instrument.offered_languages))

    @post(
        "/",
        operation_id="uploadInstrument",
        guards=[requires_roles("admin", "manager")],
        opt={"accept": UPLOAD_TYPES},
        status_code=HTTP_201_CREATED,
        responses={
            **_ERRORS,
            403: problem_spec("Not an admin or manager"),
            409: problem_spec("The id is a built-in, or the version exists with other content"),
            415: problem_spec("Send application/toml or application/json"),
            422: problem_spec("The instrument is invalid; `errors` names each field"),
        },
    )
    async def upload_instrument(
        self, request: Request, db: NamedDependency[asyncpg.Connection]
    ) -> Response[InstrumentSummary]:
        media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        fmt = "toml" if media_type == "application/toml" else "json"
        try:
            instrument = load_instrument_bytes(await request.body(), name=f"upload.{fmt}", fmt=fmt)
        except InstrumentError as exc:
            raise Problem(422, "validation", str(exc), errors=list(exc.field_errors)) from None
        if await q.is_builtin_id(db, instrument_id=instrument.id):
            raise Problem(409, "conflict", N_("{id!r} is a built-in instrument; choose another id", id=instrument.id),
                          errors=[FieldError(field="id", reason=N_("reserved by a built-in instrument"))])
        summary, created = await q.insert_instrument(
            db, instrument=instrument, builtin=False, uploaded_by=request.scope["user"].id
        )
        if summary is None:
            raise Problem(409, "conflict",
                          N_("{id} version {version} exists with different content; bump the version",
                             id=instrument.id, version=instrument.version),
                          errors=[FieldError(field="version", reason=N_("already used for different content"))])
        return Response(summary, status_code=HTTP_201_CREATED if created else HTTP_200_OK)

