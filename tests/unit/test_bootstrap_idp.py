"""Choosing the identity-provider connector from settings: Okta, Entra, none, never two; each with
exactly one credential (Okta: API token or service app; Entra: client secret or certificate)."""

from __future__ import annotations

from pathlib import Path

import pytest

from deskguard.adapters.idp.entra import EntraIdentityProvider
from deskguard.adapters.idp.okta import OktaIdentityProvider
from deskguard.adapters.system import SystemClock, SystemRandomness
from deskguard.bootstrap_idp import identity_provider
from deskguard.domain.errors import ConfigurationError
from deskguard.settings import load_settings
from oauth_kit import cert_pem, certificate, pem, rsa_key, secret_file


def choose(**settings: object):  # noqa: ANN201
    return identity_provider(
        load_settings(demo=True, **settings), clock=SystemClock(), randomness=SystemRandomness()
    )


def test_none_configured_keeps_the_fake() -> None:
    assert choose() is None


def test_okta_with_log_polling(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OKTA_T", "tok")
    chosen = choose(
        okta_org_url="https://acme.okta.com", okta_api_token="env://OKTA_T", idp_logs_tenant="t_a"
    )
    assert isinstance(chosen.idp, OktaIdentityProvider)
    assert [(t, s.stream) for t, s in chosen.log_sources] == [("t_a", "okta.system_log")]
    assert choose(okta_org_url="https://acme.okta.com", okta_api_token="env://OKTA_T").log_sources == ()


def test_entra_polls_audits_and_sign_ins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENTRA_S", "s")
    chosen = choose(
        entra_tenant_id="contoso.onmicrosoft.com",
        entra_client_id="app",
        entra_client_secret="env://ENTRA_S",
        idp_logs_tenant="t_a",
    )
    assert isinstance(chosen.idp, EntraIdentityProvider)
    assert [s.stream for _, s in chosen.log_sources] == ["entra.directory_audits", "entra.sign_ins"]


def test_two_providers_or_bad_values_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="one identity provider"):
        choose(okta_org_url="https://acme.okta.com", entra_tenant_id="contoso.onmicrosoft.com")
    with pytest.raises(ConfigurationError, match="https"):
        choose(okta_org_url="http://acme.okta.com")
    with pytest.raises(ConfigurationError, match="(?i)okta_api_token"):
        choose(okta_org_url="https://acme.okta.com")
    with pytest.raises(ConfigurationError, match="(?i)okta_api_token"):
        choose(okta_org_url="https://acme.okta.com", okta_api_token="pasted-token")


def test_okta_service_app_and_entra_certificate_from_the_deployment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    key = secret_file(tmp_path, "k.pem", pem(rsa_key()))
    chosen = choose(
        okta_org_url="https://acme.okta.com",
        okta_client_id="0oa1",
        okta_private_key=key,
        okta_key_id="k1",
        okta_scopes="okta.users.read okta.users.manage",
        okta_dpop=True,
    )
    assert chosen.idp.oauth is not None and chosen.idp.oauth.scopes == (
        "okta.users.read",
        "okta.users.manage",
    )
    assert chosen.idp.oauth.dpop is not None
    cert = certificate(rsa_key())
    bundle = secret_file(tmp_path, "graph.pem", pem(rsa_key()) + cert_pem(cert))
    entra = choose(
        entra_tenant_id="contoso.onmicrosoft.com", entra_client_id="app", entra_client_certificate_key=bundle
    )
    assert entra.idp.graph.certificate is not None and entra.idp.graph.certificate.certificate == cert


def test_credential_mistakes_name_the_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OKTA_T", "tok")
    key = secret_file(tmp_path, "k.pem", pem(rsa_key()))
    org = {"okta_org_url": "https://acme.okta.com"}
    with pytest.raises(ConfigurationError, match="DESKGUARD_OKTA_PRIVATE_KEY is required"):
        choose(**org, okta_client_id="0oa1")
    with pytest.raises(ConfigurationError, match="exactly one Okta credential"):
        choose(**org, okta_client_id="0oa1", okta_private_key=key, okta_api_token="env://OKTA_T")
    with pytest.raises(ConfigurationError, match="DESKGUARD_OKTA_SCOPES: not Okta API scopes"):
        choose(**org, okta_client_id="0oa1", okta_private_key=key, okta_scopes="openid")
    with pytest.raises(ConfigurationError, match="DESKGUARD_OKTA_PRIVATE_KEY: a secret is given as"):
        choose(**org, okta_client_id="0oa1", okta_private_key="-----BEGIN PRIVATE KEY-----")
    entra = {"entra_tenant_id": "contoso.onmicrosoft.com", "entra_client_id": "app"}
    with pytest.raises(ConfigurationError, match="exactly one Entra credential"):
        choose(**entra)
    with pytest.raises(ConfigurationError, match="DESKGUARD_ENTRA_CLIENT_CERTIFICATE_KEY is required"):
        choose(**entra, entra_client_certificate_thumbprint="AA" * 20)
    with pytest.raises(ConfigurationError, match="_ENTRA_CLIENT_CERTIFICATE: certificate or thumbprint"):
        choose(
            **entra,
            entra_client_certificate_key=key,
            entra_client_certificate=key,
            entra_client_certificate_thumbprint="AA" * 20,
        )
