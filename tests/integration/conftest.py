"""Fixtures of the integration tests; the helpers that arrange waves and threads are
plain functions in wave_helpers.py and thread_helpers.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.settings import Settings
from tests.integration.thread_helpers import FAILURES_PER_MINUTE, TOKENS_PER_MONTH


@pytest.fixture
def thread_settings(settings: Settings) -> Settings:
    return replace(settings, thread_tokens_per_month=TOKENS_PER_MONTH,
                   thread_secret_failures_per_minute=FAILURES_PER_MINUTE)


@pytest.fixture
async def tclient(thread_settings: Settings) -> AsyncIterator[AsyncTestClient]:
    """The app with a small allowance and throttle, and no background webhook worker
    (tests drive deliveries themselves, with their own clock)."""
    app = create_app(replace(thread_settings, disabled_jobs=frozenset({"webhook_worker"})))
    async with AsyncTestClient(app, base_url="http://127.0.0.1:8000") as c:
        yield c
