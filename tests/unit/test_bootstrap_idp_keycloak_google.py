"""Choosing Keycloak or Google Workspace as the identity provider, and never two providers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from deskguard.adapters.idp.google import GoogleWorkspaceIdentityProvider
from deskguard.adapters.idp.keycloak import KeycloakIdentityProvider
from deskguard.adapters.system import SystemClock, SystemRandomness
from deskguard.bootstrap_idp import identity_provider
from deskguard.domain.errors import ConfigurationError
from deskguard.settings import load_settings

KEYCLOAK = {
    "keycloak_url": "https://sso.acme.example",
    "keycloak_realm": "acme",
    "keycloak_client_id": "deskguard",
    "keycloak_client_secret": "env://KC_S",
}


def choose(**settings: object):  # noqa: ANN201
    return identity_provider(
        load_settings(demo=True, **settings), clock=SystemClock(), randomness=SystemRandomness()
    )


@pytest.fixture
def key_file(tmp_path: Path) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    path = tmp_path / "sa.json"
    path.write_text(json.dumps({"type": "service_account", "client_email": "sa@x.iam", "private_key": pem}))
    return f"file://{path}"


def test_keycloak_is_chosen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KC_S", "s")
    chosen = choose(**KEYCLOAK)
    assert isinstance(chosen.idp, KeycloakIdentityProvider) and chosen.log_sources == ()


def test_keycloak_settings_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KC_S", "s")
    with pytest.raises(ConfigurationError, match="KEYCLOAK_REALM"):
        choose(**{**KEYCLOAK, "keycloak_realm": ""})
    with pytest.raises(ConfigurationError, match="keycloak_client_secret"):
        choose(**{**KEYCLOAK, "keycloak_client_secret": "pasted-secret"})
    with pytest.raises(ConfigurationError, match="https"):
        choose(**{**KEYCLOAK, "keycloak_url": "http://sso.acme.example"})


def test_google_is_chosen(key_file: str) -> None:
    chosen = choose(google_service_account_key=key_file, google_admin_subject="admin@acme.example")
    assert isinstance(chosen.idp, GoogleWorkspaceIdentityProvider)
    with pytest.raises(ConfigurationError, match="GOOGLE_ADMIN_SUBJECT"):
        choose(google_service_account_key=key_file)


def test_only_one_identity_provider(monkeypatch: pytest.MonkeyPatch, key_file: str) -> None:
    monkeypatch.setenv("KC_S", "s")
    google = {"google_service_account_key": key_file, "google_admin_subject": "admin@acme.example"}
    for other in (
        google,
        {"okta_org_url": "https://acme.okta.com"},
        {"entra_tenant_id": "contoso.onmicrosoft.com"},
        {"ldap_url": "ldap://ldap:389"},
    ):
        with pytest.raises(ConfigurationError, match="one identity provider"):
            choose(**KEYCLOAK, **other)
    with pytest.raises(ConfigurationError, match="one identity provider"):
        choose(**google, okta_org_url="https://acme.okta.com")
