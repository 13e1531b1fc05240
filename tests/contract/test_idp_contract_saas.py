"""The IdentityProvider contract, run against the Okta and Entra adapters over respx fixtures built
from the vendors' published API references (not live tenants).

Okta deliberately diverges on one point: its reset is mailed by Okta to the user's verified
address (``reset_password?sendEmail=true``), so it returns no secret; the two secret-producing
contract cases are replaced by Okta's own equivalents below.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx
from idp_contract import (  # noqa: F401 - the imported tests run here
    RESET,
    IdpHarness,
    test_contract_a_replayed_key_returns_the_first_result_and_acts_once,
    test_contract_an_unknown_action_is_a_connector_error,
    test_contract_health_returns_health,
    test_contract_reset_returns_a_secret_never_in_the_summary,
)

from deskguard.adapters.connectors.retry import Backoff
from deskguard.adapters.idp.entra import GRAPH, EntraIdentityProvider, GraphClient
from deskguard.adapters.idp.okta import OktaIdentityProvider
from deskguard.adapters.system import SeededRandomness, SystemClock
from deskguard.domain.actions import ActionKind
from deskguard.domain.model import Person

PERSON = Person(id="p-1", tenant_id="t-1", employee_id="E1", email="ana@example.org", display_name="Ana")
UID = "11111111-2222-3333-4444-555555555555"


@pytest.fixture
def idp_harness(monkeypatch: pytest.MonkeyPatch) -> Iterator[IdpHarness]:
    """Entra: the password set by the last PATCH is the secret returned, and it was set once."""
    monkeypatch.setenv("CONTRACT_ENTRA_SECRET", "s")
    with respx.mock(assert_all_called=False) as mock:
        mock.post("https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token").respond(
            json={"expires_in": 3599, "access_token": "at"}
        )
        mock.get(f"{GRAPH}/users/ana%40example.org").respond(json={"id": UID})
        mock.get(f"{GRAPH}/organization").respond(json={"value": [{"id": "o", "displayName": "Contoso"}]})
        patch = mock.patch(f"{GRAPH}/users/{UID}").respond(204)
        graph = GraphClient(
            tenant_id="contoso.onmicrosoft.com",
            client_id="app",
            client_secret="env://CONTRACT_ENTRA_SECRET",
            now=SystemClock().now,
            backoff=Backoff(attempts=2),
            sleep=lambda _s: None,
        )

        def current(result: Any) -> bool:
            sent = [json.loads(c.request.read())["passwordProfile"]["password"] for c in patch.calls]
            return sent == [result.secret]

        yield IdpHarness(
            provider=EntraIdentityProvider(graph=graph, randomness=SeededRandomness(7)),
            person=PERSON,
            secret_is_current=current,
        )


@pytest.fixture
def okta(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[OktaIdentityProvider, respx.Route]]:
    monkeypatch.setenv("CONTRACT_OKTA_TOKEN", "t")
    org = "https://acme.okta.com"
    with respx.mock(assert_all_called=False) as mock:
        mock.get(f"{org}/api/v1/users/ana%40example.org").respond(json={"id": "00u1", "status": "ACTIVE"})
        mock.get(f"{org}/api/v1/users/me").respond(json={"id": "00uS", "profile": {"login": "svc@acme"}})
        reset = mock.post(f"{org}/api/v1/users/00u1/lifecycle/reset_password").respond(json={})
        yield OktaIdentityProvider(org_url=org, api_token="env://CONTRACT_OKTA_TOKEN"), reset


def test_okta_contract_unknown_action_and_health(okta: tuple[OktaIdentityProvider, respx.Route]) -> None:
    provider, _ = okta
    harness = IdpHarness(provider=provider, person=PERSON, secret_is_current=lambda _r: False)
    test_contract_an_unknown_action_is_a_connector_error(harness)
    test_contract_health_returns_health(harness)


def test_okta_reset_goes_to_the_verified_email_and_a_replayed_key_acts_once(
    okta: tuple[OktaIdentityProvider, respx.Route],
) -> None:
    provider, reset = okta
    run = lambda: provider.execute(  # noqa: E731
        tenant_id="t-1", person=PERSON, kind=ActionKind.RESET_PASSWORD, params=RESET, idempotency_key="same"
    )
    first = run()
    assert first.secret is None and first.summary["delivered_by"] == "okta_email_to_verified_address"
    assert run() == first and reset.call_count == 1
    assert isinstance(reset.calls.last.response, httpx.Response)
