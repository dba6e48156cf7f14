"""The privacy page states the arrival-order window (from the setting) and what the
rewrite cannot reach: WAL, backups and freed page space."""

from __future__ import annotations

from dataclasses import replace

from litestar.testing import AsyncTestClient

from service.app import create_app


async def test_privacy_page_states_the_window_and_what_wal_and_backups_keep(settings):
    for minutes in (60, 15):
        app = create_app(replace(settings, scrub_window_minutes=minutes))
        async with AsyncTestClient(app, base_url="http://127.0.0.1:8000") as client:
            page = (await client.get("/privacy")).text
        assert f"erased every {minutes} minutes" in page
        assert f"the order of the last {minutes} minutes is still in the database" in page
        for words in ("write-ahead log (WAL)", "until the database recycles them", "Backups.",
                      "until that backup expires", "Freed disk space.", "until they are overwritten"):
            assert words in page, words
        assert "the day only, no time of day" not in page


async def test_privacy_page_says_what_reminders_mean_and_how_long_mail_is_kept(client):
    from service.mail import RETENTION_DAYS

    page = (await client.get("/privacy")).text
    assert "Reminders go only to people whose browser has not yet fetched the wave&#39;s token" in page \
        or "Reminders go only to people whose browser has not yet fetched the wave's token" in page
    assert f"deleted from the outbox after {RETENTION_DAYS} days" in page
    german = (await client.get("/privacy", headers={"accept-language": "de"})).text
    assert f"nach {RETENTION_DAYS} Tagen aus dem Postausgang gelöscht" in german
