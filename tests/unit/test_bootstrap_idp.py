"""Choosing the identity-provider connector from settings: Okta, Entra, none, never two."""

from __future__ import annotations

import pytest

from deskguard.adapters.idp.entra import EntraIdentityProvider
from deskguard.adapters.idp.okta import OktaIdentityProvider
from deskguard.adapters.system import SystemClock, SystemRandomness
from deskguard.bootstrap_idp import identity_provider
from deskguard.domain.errors import ConfigurationError
from deskguard.settings import load_settings


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
