"""The gap report is typed end to end: the OpenAPI document describes the report the
route returns (rows, candidates with their reasons, suppressed markers, comments)."""

from __future__ import annotations


def _resolve(doc: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _variants(doc: dict, schema: dict) -> list[dict]:
    """The object schemas a (possibly nullable, possibly union) schema allows."""
    schema = _resolve(doc, schema)
    out = []
    for key in ("oneOf", "anyOf"):
        for sub in schema.get(key, []):
            out += _variants(doc, sub)
    if schema.get("type") == "array":
        out += _variants(doc, schema["items"])
    if "properties" in schema:
        out.append(schema)
    return out


async def test_openapi_describes_the_report(client):
    doc = (await client.get("/schema/openapi.json")).json()
    op = doc["paths"]["/api/campaigns/{campaign_id}/report"]["get"]
    report = _resolve(doc, op["responses"]["200"]["content"]["application/json"]["schema"])
    props = report.get("properties", {})
    for field in ("n", "suppressed", "items", "dimensions", "overall", "importance", "ipa", "candidates",
                  "missing_data", "notes", "comments", "gap_definition", "k_scores"):
        assert field in props, field
    candidates = _variants(doc, props["candidates"])
    assert any({"rank", "target", "priority", "ci_high", "reason"} <= set(c["properties"]) for c in candidates)
    rows = _variants(doc, props["items"])
    # an item row with its numbers, and the suppressed row that carries none
    assert any({"mean_gap", "ci_low", "ci_high", "p_bh", "mean_perception"} <= set(r["properties"]) for r in rows)
    assert any(set(r["properties"]) >= {"key", "suppressed", "reason"} and "mean_gap" not in r["properties"]
               for r in rows)
    dims = _variants(doc, props["dimensions"])
    assert any({"reliability", "alpha_gap", "importance_weight"} <= set(d["properties"]) for d in dims)
