"""Settings come from the environment, frozen, and a broken environment names every problem."""

from __future__ import annotations

import base64
import dataclasses

import pytest

from service.settings import Settings, SettingsError

KEY = base64.b64encode(b"k" * 32).decode()


def test_defaults_for_development():
    settings = Settings.from_env({})
    assert settings.environment == "development"
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.database_url is None
    assert settings.secure_cookies is None  # follows the public origin's scheme


def test_frozen():
    settings = Settings.from_env({})
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.port = 1  # type: ignore[misc]


def test_production_lists_every_missing_secret():
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"CANDOR_ENV": "production"})
    assert caught.value.missing == ["DATABASE_URL", "CANDOR_SECRET_KEY", "CANDOR_KEY_ENCRYPTION_KEY",
                                    "CANDOR_PUBLIC_URL"]
    message = str(caught.value)
    for name in caught.value.missing:
        assert name in message


def test_production_with_secrets():
    settings = Settings.from_env({
        "CANDOR_ENV": "production",
        "DATABASE_URL": "postgresql://db/candor",
        "CANDOR_SECRET_KEY": KEY,
        "CANDOR_KEY_ENCRYPTION_KEY": KEY,
        "CANDOR_PUBLIC_URL": "https://feedback.example.org/",
        "CANDOR_PORT": "9000",
        "CANDOR_MAX_BODY_BYTES": "2048",
    })
    assert settings.secure_cookies is True
    # Links and origin checks use the public origin, not where the app listens.
    assert settings.origin == "https://feedback.example.org"
    assert settings.port == 9000 and settings.max_body_bytes == 2048
    assert settings.key_encryption_key == b"k" * 32
    assert "k" * 32 not in repr(settings)


def test_invalid_values_are_all_reported():
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({
            "CANDOR_ENV": "staging",
            "CANDOR_PORT": "eighty",
            "CANDOR_SECRET_KEY": "!!notbase64!!",
            "CANDOR_KEY_ENCRYPTION_KEY": base64.b64encode(b"short").decode(),
            "CANDOR_SECURE_COOKIES": "sometimes",
        })
    joined = " ".join(caught.value.invalid)
    for name in ("CANDOR_ENV", "CANDOR_PORT", "CANDOR_SECRET_KEY", "CANDOR_KEY_ENCRYPTION_KEY", "CANDOR_SECURE_COOKIES"):
        assert name in joined


def test_runtime_secrets_required_to_build_the_app():
    from service.app import create_app

    with pytest.raises(SettingsError) as caught:
        create_app(Settings.from_env({}))
    assert set(caught.value.missing) == {"DATABASE_URL", "CANDOR_SECRET_KEY", "CANDOR_KEY_ENCRYPTION_KEY"}
