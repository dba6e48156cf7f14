"""The report's binary COPY read (answer_codes, migration 0014) against the plain query,
on the real database: same rows in the same order, same matrices, same report; a wave
with a response of another shape falls back to the plain read, inside a transaction."""

from __future__ import annotations

import secrets
import uuid
from uuid import UUID

import msgspec
import numpy as np

from analysis.decision import build_drivers, build_summary
from analysis.engine.coded import CodedMatrices
from analysis.report import build_report
from instruments.schema import Instrument
from service.db import init_connection
from service.queries import reports as q
from service.queries.instruments import select_instrument_by_hash
from service.reports import _wave_data, fetch_wave_data
from tests.integration.wave_helpers import create_wave
from tests.unit.test_report_paths import _same


async def _wave(client, db, n: int, rng: np.random.Generator) -> tuple[UUID, Instrument]:
    wave = await create_wave(client, db, instrument="servqual")
    campaign_id = UUID(wave["id"])
    await init_connection(db)
    digest = await db.fetchval("select instrument_hash from campaigns where id = $1", campaign_id)
    instrument = await select_instrument_by_hash(db, digest=digest)
    assert instrument is not None
    k = len(instrument.items) * len(instrument.columns)
    values = rng.integers(1, 8, (n, k)).astype(object)
    values[rng.random((n, k)) < 0.05] = None
    satisfaction = rng.integers(1, 8, (n, 1)).astype(object)
    satisfaction[rng.random((n, 1)) < 0.2] = None
    rows = [(uuid.uuid4(), campaign_id, secrets.token_hex(32), values[i].tolist(),
             rng.multinomial(100, [0.2] * 5).tolist(), satisfaction[i].tolist()) for i in range(n)]
    await db.copy_records_to_table("responses", records=rows, columns=[
        "id", "campaign_id", "receipt", "item_values", "importance", "satisfaction"])
    return campaign_id, instrument


def _report(instrument, data) -> dict:
    report = build_report(instrument, data.matrices, k_scores=5)
    return msgspec.to_builtins({
        "report": report, "summary": build_summary(instrument, report, data.matrices, audience=500),
        "drivers": build_drivers(instrument, report, data.matrices, data.satisfaction, resamples=50)})


async def test_copy_read_is_the_plain_read(client, db):
    campaign_id, instrument = await _wave(client, db, 400, np.random.default_rng(5))
    stored = await q.select_answer_arrays(db, campaign_id=campaign_id)
    plain = _wave_data(instrument, *stored)
    copied = await fetch_wave_data(db, instrument, campaign_id)
    assert isinstance(copied.matrices, CodedMatrices)
    _same(_report(instrument, plain), _report(instrument, copied))
    for column in instrument.columns:  # row for row, in the same order
        np.testing.assert_array_equal(plain.matrices.scores[column], copied.matrices.scores[column])
    np.testing.assert_array_equal(plain.satisfaction, copied.satisfaction)
    np.testing.assert_array_equal(plain.matrices.importance, copied.matrices.importance)
    # the generated column is the arrays, two bytes each, -32768 for null
    item_values, importance, satisfaction, codes = await db.fetchrow(
        "select item_values, importance, satisfaction, answer_codes from responses where campaign_id = $1 limit 1",
        campaign_id)
    expected = [q.NULL_ANSWER if v is None else v for v in [*item_values, *importance, *satisfaction]]
    assert np.frombuffer(codes, ">i2").tolist() == expected


async def test_a_response_of_another_shape_is_read_the_plain_way(client, db):
    """A response stored without its satisfaction array (its answer_codes shorter than
    the others): the COPY read notices and the plain read, which fills it with nulls,
    takes over, inside the caller's transaction."""
    campaign_id, instrument = await _wave(client, db, 30, np.random.default_rng(6))
    await db.execute("insert into responses (campaign_id, receipt, item_values, importance) "
                     "select campaign_id, $2, item_values, importance from responses where campaign_id = $1 limit 1",
                     campaign_id, secrets.token_hex(32))
    async with db.transaction():
        data = await fetch_wave_data(db, instrument, campaign_id)
        assert not isinstance(data.matrices, CodedMatrices)
        assert data.matrices.n == 31 and data.satisfaction is not None
        assert int(np.isnan(data.satisfaction[:, 0]).sum()) >= 1
        assert await db.fetchval("select count(*) from responses where campaign_id = $1", campaign_id) == 31
