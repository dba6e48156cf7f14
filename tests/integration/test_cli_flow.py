"""A scripted member: `candor token` then `candor submit` against a running server."""

from __future__ import annotations

import json
from datetime import date, timedelta

import httpx

from service.cli import main
from tests.integration.wave_helpers import answers_for, make_audience, make_service
from tests.support import PASSWORD, role_email


async def test_token_then_submit_from_the_command_line(live_server, db, tmp_path, monkeypatch, capsys):
    group_id = await make_audience(db)
    service_id = await make_service(db)
    async with httpx.AsyncClient(base_url=live_server) as http:
        csrf = (await http.post("/api/auth/login", json={"email": role_email("manager"), "password": PASSWORD})
                ).json()["csrf_token"]
        headers = {"x-csrf-token": csrf}
        wave = (await http.post("/api/campaigns", headers=headers, json={
            "title": "CLI wave", "service_id": service_id, "instrument_id": "pulse", "audience_group_id": group_id,
            "opens_on": str(date.today()), "closes_on": str(date.today() + timedelta(days=7)),
        })).json()
        assert (await http.post(f"/api/campaigns/{wave['id']}/open", headers=headers)).status_code == 200

    monkeypatch.setenv("CANDOR_PASSWORD", PASSWORD)
    token_file = tmp_path / "token.json"
    answers_file = tmp_path / "answers.json"
    answers_file.write_text(json.dumps(answers_for("pulse", 6)))
    args = ["--url", live_server]
    # The CLI runs its own event loop, so it runs in a worker thread here.
    import asyncio

    code = await asyncio.to_thread(main, ["token", *args, "--campaign", wave["id"], "--email", role_email("member"),
                                          "--out", str(token_file)])
    assert code == 0
    saved = json.loads(token_file.read_text())
    assert saved["token_key_id"] == (await db.fetchval("select encode(token_key_id, 'hex') from campaigns"))
    assert "member" not in token_file.read_text()
    capsys.readouterr()
    assert await asyncio.to_thread(main, ["submit", *args, "--token", str(token_file),
                                          "--answers", str(answers_file)]) == 0
    receipt = json.loads(capsys.readouterr().out)["receipt"]
    assert await db.fetchval("select receipt from responses") == receipt
    # The same token twice: refused, and the command says so with a failing exit code.
    assert await asyncio.to_thread(main, ["submit", *args, "--token", str(token_file),
                                          "--answers", str(answers_file)]) == 1
    assert "token-spent" in capsys.readouterr().out
