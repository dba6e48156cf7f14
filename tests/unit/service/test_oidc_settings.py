"""OpenID Connect settings and the flow's pure helpers (no database, no provider)."""

from __future__ import annotations

import pytest

from service.oidc import code_challenge
from service.settings import Settings, SettingsError


def test_code_challenge_matches_rfc_7636_appendix_b():
    assert code_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


# Settings ------------------------------------------------------------------------------------

GOOD = {"CANDOR_OIDC_ISSUER": "https://login.example.org/realms/staff", "CANDOR_OIDC_CLIENT_ID": "candor",
        "CANDOR_OIDC_CLIENT_SECRET": "s3cret"}


@pytest.mark.parametrize(("env", "message"), [
    ({**GOOD, "CANDOR_OIDC_ISSUER": "http://login.example.org"}, "CANDOR_OIDC_ISSUER must use https"),
    ({**GOOD, "CANDOR_OIDC_ISSUER": "http://127.0.0.1:5000", "CANDOR_ENV": "production"},
     "CANDOR_OIDC_ISSUER must use https"),
    ({**GOOD, "CANDOR_OIDC_CLIENT_SECRET": ""}, "CANDOR_OIDC_CLIENT_SECRET is required"),
    ({"CANDOR_PASSWORD_LOGIN": "false"}, "CANDOR_PASSWORD_LOGIN=false needs CANDOR_OIDC_ISSUER"),
    ({**GOOD, "CANDOR_OIDC_ROLE_MAP": "staff=superuser"}, "CANDOR_OIDC_ROLE_MAP entry 'staff=superuser'"),
    ({**GOOD, "CANDOR_OIDC_SCOPES": "email profile"}, "CANDOR_OIDC_SCOPES must include openid"),
])
def test_settings_refuse_unsafe_or_incomplete_configuration(env, message):
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env)
    assert message in str(caught.value)


def test_settings_read_a_complete_configuration():
    s = Settings.from_env({**GOOD, "CANDOR_PASSWORD_LOGIN": "false", "CANDOR_OIDC_PROVIDER_NAME": "Keycloak",
                           "CANDOR_OIDC_ROLE_MAP": "candor-admins=admin, it-managers=manager",
                           "CANDOR_OIDC_GROUPS_CLAIM": ""})
    assert s.oidc_enabled and not s.password_login and s.oidc_provider_name == "Keycloak"
    assert s.oidc_role_map == (("candor-admins", "admin"), ("it-managers", "manager"))
    assert s.oidc_groups_claim == "" and s.oidc_scopes == "openid email profile"
    assert "s3cret" not in repr(s)
    loopback = Settings.from_env({**GOOD, "CANDOR_OIDC_ISSUER": "http://127.0.0.1:5000/", "CANDOR_ENV": "test"})
    assert loopback.oidc_issuer == "http://127.0.0.1:5000"
