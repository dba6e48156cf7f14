"""The unlinkability audit: the operator's view after a wave has run.

Several members get tokens and answer. Then, with everything an insider could read —
every row of every table and every log line the process wrote — nothing may join an
account to a response, a spent token or a receipt; anonymous and issuance rows carry
no date or time and no sequential id; no log line carries an address or a user agent.
(DESIGN.md, anonymity invariants 1–4.)
"""

from __future__ import annotations

import logging
import uuid

from service.client import redeem
from tests.integration.wave_helpers import MEMBERS, answers_for, create_wave, token_for
from tests.support import cell_text, dump_tables, login, role_email

ANONYMOUS_TABLES = {"responses", "spent_tokens"}


async def test_nothing_links_an_account_to_what_it_wrote(client, db, caplog):
    caplog.set_level(logging.DEBUG)
    wave = await create_wave(client, db, instrument="servqual")
    emails = [role_email("member"), *MEMBERS[:5]]
    tokens = [await token_for(client, wave["id"], email) for email in emails]
    receipts = []
    for i, stored in enumerate(reversed(tokens)):
        answers = answers_for("servqual", 3 + i % 4)
        answers["comments"] = {"general": f"comment number {i}"}
        response = await redeem(client, stored, answers)
        assert response.status_code == 201
        receipts.append(response.json()["receipt"])

    dump = await dump_tables(db)
    accounts = dump["accounts"]
    account_values = {str(a["id"]) for a in accounts} | {a["email"] for a in accounts} | {
        a["display_name"] for a in accounts} | {cell_text(s["token_hash"]) for s in dump["sessions"]}
    responses = dump["responses"]
    spent = dump["spent_tokens"]
    anonymous_values = {str(r["id"]) for r in responses} | {r["receipt"] for r in responses} | {
        cell_text(s["nonce"]) for s in spent}
    assert len(responses) == len(spent) == len(emails)
    assert set(receipts) == {r["receipt"] for r in responses}

    # 1. No row anywhere holds both an account-side and an anonymous-side value, and the
    #    anonymous tables hold no account-side value at all.
    for table, rows in dump.items():
        for row in rows:
            text = " ".join(cell_text(v) for v in row.values())
            has_account = any(v in text for v in account_values)
            has_anonymous = any(v in text for v in anonymous_values)
            assert not (has_account and has_anonymous), f"{table} links an account to a submission: {row}"
            if table in ANONYMOUS_TABLES:
                assert not has_account, f"{table} names an account: {row}"

    # The issuance side says only who got a token (and whether the arrival-order pass has
    # rewritten the row yet), not when.
    issuance_columns = set(dump["token_issuances"][0])
    assert issuance_columns == {"campaign_id", "account_id", "scrubbed"}

    # 2. Foreign keys from anonymous tables point only at waves, never at accounts or sessions.
    references = await db.fetch(
        """
        select cl.relname as table_name, ref.relname as referenced
        from pg_constraint c join pg_class cl on cl.oid = c.conrelid join pg_class ref on ref.oid = c.confrelid
        where c.contype = 'f' and cl.relname = any($1::text[])
        """,
        list(ANONYMOUS_TABLES),
    )
    assert {r["referenced"] for r in references} == {"campaigns"}

    # 3. No date or time, no sequential or identity ids on anonymous rows.
    columns = await db.fetch(
        """
        select table_name, column_name, data_type, column_default, is_identity
        from information_schema.columns where table_schema = 'public' and table_name = any($1::text[])
        """,
        list(ANONYMOUS_TABLES),
    )
    for column in columns:
        assert not column["data_type"].startswith(("timestamp", "time", "interval", "date")), column
        assert column["is_identity"] == "NO", column
        assert "nextval" not in (column["column_default"] or ""), column
    for row in responses:
        assert row["id"].version == 4
    # No sequence exists that could number anonymous rows.
    # The one sequence orders the staff-side membership audit trail (who changed a group);
    # any other is new and must be reviewed before it is allowed here.
    sequences = await db.fetch("select sequencename from pg_sequences")
    assert [r["sequencename"] for r in sequences] == ["group_membership_audit_seq_seq"]

    # 4. The log: no line ties an account to a submission, and none names a client.
    lines = [record.getMessage() for record in caplog.records if not record.name.startswith(("httpx", "httpcore"))]
    for line in lines:
        has_account = any(v in line for v in account_values)
        assert not (has_account and any(v in line for v in anonymous_values)), line
        assert "testclient" not in line and "127.0.0.1" not in line, line
        for receipt in receipts:
            assert receipt not in line


async def test_receipts_are_not_derived_from_anything_about_the_person(client, db):
    """Two members sending identical answers get unrelated receipts and random ids."""
    wave = await create_wave(client, db)
    a = await token_for(client, wave["id"], role_email("member"))
    b = await token_for(client, wave["id"], MEMBERS[0])
    first = (await redeem(client, a, answers_for("pulse"))).json()
    second = (await redeem(client, b, answers_for("pulse"))).json()
    assert first["receipt"] != second["receipt"]
    assert uuid.UUID(first["response_id"]).version == uuid.UUID(second["response_id"]).version == 4


async def test_closing_a_wave_erases_the_order_of_arrival(client, db):
    """After close, issuance and anonymous rows share one transaction id and sit in a
    random physical order: neither xmin nor ctid tells who came first."""
    wave = await create_wave(client, db)
    emails = [role_email("member"), *MEMBERS[:5]]
    tokens = [await token_for(client, wave["id"], email) for email in emails]
    for stored in tokens:
        assert (await redeem(client, stored, answers_for("pulse"))).status_code == 201
    per_row = "select count(distinct xmin::text) from {} where campaign_id = $1"
    campaign_id = uuid.UUID(wave["id"])
    assert await db.fetchval(per_row.format("responses"), campaign_id) == len(emails)  # one per submission
    client.cookies.clear()

    await login(client, "manager")
    assert (await client.post(f"/api/campaigns/{wave['id']}/close")).status_code == 200
    for table in ("responses", "spent_tokens", "token_issuances"):
        assert await db.fetchval(per_row.format(table), campaign_id) == 1, table
    assert await db.fetchval("select count(*) from responses where campaign_id = $1", campaign_id) == len(emails)
    assert await db.fetchval("select count(*) from token_issuances where campaign_id = $1", campaign_id) == len(emails)
    # Receipts still check out after the rewrite.
    receipt = await db.fetchval("select receipt from responses limit 1")
    check = await client.get(f"/anon/campaigns/{wave['id']}/receipts/{receipt}")
    assert check.json()["verified"] is True


async def test_sessions_keep_only_a_coarse_activity_time(client, db):

    await login(client, "member")
    first = await db.fetchval("select last_seen_at from sessions")
    for _ in range(3):
        assert (await client.get("/api/auth/me")).status_code == 200
    assert await db.fetchval("select last_seen_at from sessions") == first
