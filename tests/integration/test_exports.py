"""Exports: a wave's report aggregates (JSON, CSV) never carry a suppressed cell as a
number; action items as CSV."""

from __future__ import annotations

import csv
import io

from tests.integration.test_actions import BAD, as_role, candidate_item, closed_wave, servqual_answers
from tests.support import login

# q01 answered by only the last three of eight respondents (n = 3 < k = 5): perceptions
# 1, 2, 4 against expectation 6, so its would-be numbers are easy to look for.
Q01_PERCEPTIONS = (1, 2, 4)
Q01_SECRETS = ("2.333", "2.33", "-3.666", "-3.67", "3.666")


def _answers() -> list[dict]:
    answers = servqual_answers(8, reliability=BAD)
    for r, p in zip(range(5, 8), Q01_PERCEPTIONS, strict=True):
        answers[r]["items"]["q01"]["perception"] = p
    return answers


def _rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


async def test_report_exports_keep_suppressed_cells_out(client, db):
    wave = await closed_wave(client, db, _answers(), skip={"q01": 5})
    report = (await client.get(f"/api/campaigns/{wave['id']}/report")).json()
    assert next(i for i in report["items"] if i["key"] == "q01")["suppressed"] is True  # the premise
    as_json = await client.get(f"/api/campaigns/{wave['id']}/export/json")
    assert as_json.status_code == 200
    data = as_json.json()
    assert data["n"] == 8 and data["k_scores"] == 5
    q01 = next(r for r in data["rows"] if r["level"] == "item" and r["key"] == "q01")
    assert q01 == {"level": "item", "key": "q01", "dimension": "tangibles", "suppressed": "fewer than k=5 responses",
                   "wording": "The IT service has modern-looking equipment."}
    q02 = next(r for r in data["rows"] if r["key"] == "q02")
    assert q02["n"] == 8 and isinstance(q02["mean_gap"], float)
    # Tangibles' listwise alpha uses 3 complete respondents: suppressed field by field.
    tangibles = next(r for r in data["rows"] if r["level"] == "dimension" and r["key"] == "tangibles")
    assert "alpha_gap" not in tangibles and "alpha_gap" in tangibles["suppressed_fields"]
    assert "comments" not in data
    as_csv = await client.get(f"/api/campaigns/{wave['id']}/export/csv")
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    rows = _rows(as_csv.text)
    q01_row = next(r for r in rows if r["level"] == "item" and r["key"] == "q01")
    assert q01_row["suppressed"] == "fewer than k=5 responses"
    assert all(q01_row[f] == "" for f in q01_row if f not in ("level", "key", "dimension", "suppressed", "wording"))
    assert q01_row["wording"] == "The IT service has modern-looking equipment."
    tangibles_row = next(r for r in rows if r["level"] == "dimension" and r["key"] == "tangibles")
    assert tangibles_row["alpha_gap"] == "suppressed" and float(tangibles_row["mean_gap"]) < 10
    for text in (as_json.text, as_csv.text):
        for secret in Q01_SECRETS:
            assert secret not in text


async def test_a_wave_below_k_exports_no_numbers(client, db):
    wave = await closed_wave(client, db, servqual_answers(4, reliability=BAD))
    data = (await client.get(f"/api/campaigns/{wave['id']}/export/json")).json()
    assert data["n"] is None and data["rows"] == [] and data["suppressed"] == "fewer than k=5 responses"
    rows = _rows((await client.get(f"/api/campaigns/{wave['id']}/export/csv")).text)
    assert rows == [{**dict.fromkeys(rows[0], ""), "level": "wave", "suppressed": "fewer than k=5 responses"}]


async def test_report_exports_are_for_readers_only(client, db):
    wave = await closed_wave(client, db, servqual_answers(8, reliability=BAD))
    await as_role(client, "member")
    assert (await client.get(f"/api/campaigns/{wave['id']}/export/csv")).status_code == 403
    await as_role(client, "owner")
    assert (await client.get(f"/api/campaigns/{wave['id']}/export/json")).status_code == 200


async def test_action_items_csv(client, db):
    wave = await closed_wave(client, db, servqual_answers(8, reliability=BAD))
    await candidate_item(client, wave, expected_change=0.5, title="=HYPERLINK(\"http://evil\")")
    await candidate_item(client, wave, level="item", target="q05", title="Second")
    await login(client, "manager")
    response = await client.get("/api/actions/export.csv")
    assert response.status_code == 200 and "attachment" in response.headers["content-disposition"]
    rows = _rows(response.text)
    assert [r["title"] for r in rows] == ["'=HYPERLINK(\"http://evil\")", "Second"]  # no formula runs
    first = rows[0]
    assert (first["status"], first["target_level"], first["target_key"]) == ("proposed", "dimension", "reliability")
    assert first["expected_change"] == "+0.5" and float(first["candidate_mean_gap"]) < 0
    assert first["owner"] == "Owner" and first["created_by"] == "Manager"
    filtered = _rows((await client.get("/api/actions/export.csv", params={"status": "done"})).text)
    assert filtered == []
