"""Integration tests share the root conftest's fixtures (database, app, live server)."""

from tests.conftest import TEST_SETTINGS  # noqa: F401 - kept importable from here
