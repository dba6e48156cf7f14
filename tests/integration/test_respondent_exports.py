"""Respondent-level exports (CSV, SPSS, Stata) of a closed wave: read back with pyreadstat
(an independent reader of the files), value labels present, rows carry nothing but
answers, in a fresh random order, only at k responses, free text only at k_comments."""

from __future__ import annotations

import csv
import io
import tempfile
from collections import Counter
from typing import Any

import pyreadstat
import pytest

from instruments import load_builtin
from tests.integration.test_actions import BAD, closed_wave, servqual_answers
from tests.support import login

SERVQUAL = load_builtin("servqual")


def _sets(n: int) -> list[dict]:
    answers = servqual_answers(n, reliability=BAD)
    for i, a in enumerate(answers):
        a["satisfaction"] = {"overall": 1 + i % 7}
        a["comments"] = {"general": f"comment number {i}"}
    return answers


def _read(kind: str, body: bytes) -> tuple[Any, Any]:
    """The frame (pandas) and metadata pyreadstat reads back from the file."""
    with tempfile.NamedTemporaryFile(suffix="." + kind) as f:
        f.write(body)
        f.flush()
        return (pyreadstat.read_sav if kind == "sav" else pyreadstat.read_dta)(f.name)


@pytest.mark.parametrize("kind", ["sav", "dta"])
async def test_statistics_files_carry_labels_and_every_answer(client, db, kind):
    answers = _sets(8)
    wave = await closed_wave(client, db, answers)
    response = await client.get(f"/api/campaigns/{wave['id']}/export/responses/{kind}")
    assert response.status_code == 200, response.text
    assert "attachment" in response.headers["content-disposition"]
    frame, meta = _read(kind, response.content)
    assert len(frame) == 8
    q07 = SERVQUAL.items[6]
    assert meta.column_names_to_labels["q07_perception"].endswith(q07.statements["perception"][:60])
    labels = meta.variable_value_labels["q07_perception"]
    assert labels[1.0].endswith(SERVQUAL.scale.low_label) and labels[7.0].endswith(SERVQUAL.scale.high_label)
    # the multiset of answers is exactly what was stored (order aside)
    expected = Counter(a["items"]["q07"]["perception"] for a in answers)
    assert Counter(int(v) for v in frame["q07_perception"]) == expected
    assert Counter(int(v) for v in frame["satisfaction_overall"]) == Counter(a["satisfaction"]["overall"] for a in answers)
    assert all(c.startswith(("q", "importance_", "satisfaction_", "comment_")) for c in frame.columns)
    assert "comment_general" not in frame.columns  # 8 responses < k_comments = 10


async def test_csv_rows_come_in_a_fresh_random_order_with_comments_at_k_comments(client, db):
    wave = await closed_wave(client, db, _sets(12))
    orders = []
    for _ in range(4):
        response = await client.get(f"/api/campaigns/{wave['id']}/export/responses/csv")
        assert response.status_code == 200
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert len(rows) == 12
        orders.append(tuple(r["comment_general"] for r in rows))
    assert sorted(orders[0]) == sorted(f"comment number {i}" for i in range(12))
    assert len(set(orders)) > 1  # 12! orders: four equal ones would be a stored order leaking
    assert not any(name in rows[0] for name in ("id", "receipt", "submitted_on", "created_at"))


async def test_no_respondent_rows_below_k_before_close_or_for_others(client, db):
    small = await closed_wave(client, db, _sets(4), title="Small")
    response = await client.get(f"/api/campaigns/{small['id']}/export/responses/csv")
    assert response.status_code == 409 and "at least k" in response.json()["detail"]
    wave = await closed_wave(client, db, _sets(8), title="Big")
    assert (await client.get(f"/api/campaigns/{wave['id']}/export/responses/xlsx")).status_code == 404
    client.cookies.clear()
    await login(client, "member")
    assert (await client.get(f"/api/campaigns/{wave['id']}/export/responses/csv")).status_code in (403, 404)
