"""The IdentityProvider contract, run against the Okta and Entra adapters over respx fixtures built
from the vendors' published API references (not live tenants), in each credential mode: Okta with
an API token, an OAuth service app (``private_key_jwt``) and a DPoP-bound one; Entra with a client
secret and a certificate (``oauth_kit``'s token servers check every assertion and proof).

Okta deliberately diverges on one point: its reset is mailed by Okta to the user's verified
address (``reset_password?sendEmail=true``), so it returns no secret; the two secret-producing
contract cases are replaced by Okta's own equivalents below.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
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
from deskguard.adapters.idp.entra import GRAPH, EntraIdentityProvider
from deskguard.adapters.idp.okta import OktaIdentityProvider
from deskguard.adapters.system import SeededRandomness, SystemClock
from deskguard.domain.actions import ActionKind
from deskguard.domain.model import Person
from oauth_kit import ENTRA_MODES, OKTA_MODES, answer, entra_graph_for, okta_for

PERSON = Person(id="p-1", tenant_id="t-1", employee_id="E1", email="ana@example.org", display_name="Ana")
UID = "11111111-2222-3333-4444-555555555555"


@pytest.fixture(params=ENTRA_MODES)
def idp_harness(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[IdpHarness]:
    """Entra, with a client secret or a certificate credential (each assertion checked by the token
    server): the password set by the last PATCH is the secret returned, and it was set once."""
    with respx.mock(assert_all_called=False) as mock:
        graph, server = entra_graph_for(
            request.param,
            mock=mock,
            tmp_path=tmp_path,
            monkeypatch=monkeypatch,
            now=SystemClock().now,
            backoff=Backoff(attempts=2),
            sleep=lambda _s: None,
        )
        answer(mock.get(f"{GRAPH}/users/ana%40example.org"), server, json={"id": UID})
        answer(
            mock.get(f"{GRAPH}/organization"), server, json={"value": [{"id": "o", "displayName": "Contoso"}]}
        )
        patch = answer(mock.patch(f"{GRAPH}/users/{UID}"), server, 204)

        def current(result: Any) -> bool:
            sent = [json.loads(c.request.read())["passwordProfile"]["password"] for c in patch.calls]
            return sent == [result.secret]

        yield IdpHarness(
            provider=EntraIdentityProvider(graph=graph, randomness=SeededRandomness(7)),
            person=PERSON,
            secret_is_current=current,
        )
        assert len(server.issued) <= 1  # one token for every call of the case


@pytest.fixture(params=OKTA_MODES)
def okta(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[tuple[OktaIdentityProvider, respx.Route]]:
    """Okta with an API token, an OAuth service app, or one whose tokens are DPoP-bound."""
    org = "https://acme.okta.com"
    with respx.mock(assert_all_called=False) as mock:
        provider, server = okta_for(
            request.param,
            mock=mock,
            tmp_path=tmp_path,
            monkeypatch=monkeypatch,
            now=SystemClock().now,
            org=org,
        )
        answer(
            mock.get(f"{org}/api/v1/users/ana%40example.org"), server, json={"id": "00u1", "status": "ACTIVE"}
        )
        answer(
            mock.get(f"{org}/api/v1/users/me"), server, json={"id": "00uS", "profile": {"login": "svc@acme"}}
        )
        answer(mock.get(f"{org}/api/v1/users"), server, json=[{"id": "00u1"}])  # a service app's health
        reset = answer(mock.post(f"{org}/api/v1/users/00u1/lifecycle/reset_password"), server, json={})
        yield provider, reset
        assert server is None or len(server.issued) <= 1


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
