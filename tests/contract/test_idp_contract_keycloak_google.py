"""The IdentityProvider contract, run against the Google Workspace and Keycloak adapters over respx
fixtures built from the vendors' published API references (not a live domain or realm).

Keycloak diverges as Okta does: its reset is mailed by Keycloak to the user's verified address
(``execute-actions-email`` with ``UPDATE_PASSWORD``), so it returns no secret; the two
secret-producing contract cases are replaced by Keycloak's own equivalent below.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import respx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from idp_contract import (  # noqa: F401 - the imported tests run here
    RESET,
    IdpHarness,
    test_contract_a_replayed_key_returns_the_first_result_and_acts_once,
    test_contract_an_unknown_action_is_a_connector_error,
    test_contract_health_returns_health,
    test_contract_reset_returns_a_secret_never_in_the_summary,
)

from deskguard.adapters.connectors.retry import Backoff
from deskguard.adapters.idp.google import DIRECTORY, TOKEN_URL, GoogleClient, GoogleWorkspaceIdentityProvider
from deskguard.adapters.idp.keycloak import KeycloakClient, KeycloakIdentityProvider
from deskguard.adapters.system import SeededRandomness, SystemClock
from deskguard.domain.actions import ActionKind
from deskguard.domain.model import Person

PERSON = Person(id="p-1", tenant_id="t-1", employee_id="E1", email="ana@example.org", display_name="Ana")


def _service_account_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return json.dumps(
        {"type": "service_account", "client_email": "sa@p.iam.gserviceaccount.com", "private_key": pem}
    )


@pytest.fixture
def idp_harness(monkeypatch: pytest.MonkeyPatch) -> Iterator[IdpHarness]:
    """Google: the password set by the last PATCH is the secret returned, and it was set once."""
    monkeypatch.setenv("CONTRACT_GOOGLE_KEY", _service_account_key())
    with respx.mock(assert_all_called=False) as mock:
        mock.post(TOKEN_URL).respond(json={"access_token": "ya29.x", "expires_in": 3599})
        mock.get(f"{DIRECTORY}/users/ana%40example.org").respond(json={"id": "1001"})
        mock.get(f"{DIRECTORY}/users").respond(json={"users": [{"id": "1001"}]})
        patch = mock.patch(f"{DIRECTORY}/users/1001").respond(json={"id": "1001"})
        google = GoogleClient(
            service_account_key="env://CONTRACT_GOOGLE_KEY",
            admin_subject="admin@example.org",
            now=SystemClock().now,
            backoff=Backoff(attempts=2),
            sleep=lambda _s: None,
        )

        def current(result: Any) -> bool:
            sent = [json.loads(c.request.read())["password"] for c in patch.calls]
            return sent == [result.secret]

        yield IdpHarness(
            provider=GoogleWorkspaceIdentityProvider(google=google, randomness=SeededRandomness(7)),
            person=PERSON,
            secret_is_current=current,
        )


@pytest.fixture
def keycloak(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[KeycloakIdentityProvider, respx.Route]]:
    monkeypatch.setenv("CONTRACT_KC_SECRET", "s")
    base = "https://sso.example.org"
    admin = f"{base}/admin/realms/staff"
    user = {"id": "u-1", "email": "ana@example.org", "emailVerified": True, "enabled": True}
    with respx.mock(assert_all_called=False) as mock:
        mock.post(f"{base}/realms/staff/protocol/openid-connect/token").respond(
            json={"access_token": "at", "expires_in": 300}
        )
        mock.get(f"{admin}/users").respond(json=[user])
        mock.get(f"{admin}/users/count").respond(json=12)
        reset = mock.put(f"{admin}/users/u-1/execute-actions-email").respond(204)
        client = KeycloakClient(
            url=base,
            realm="staff",
            client_id="deskguard",
            client_secret="env://CONTRACT_KC_SECRET",
            now=SystemClock().now,
        )
        yield KeycloakIdentityProvider(keycloak=client), reset


def test_keycloak_contract_unknown_action_and_health(
    keycloak: tuple[KeycloakIdentityProvider, respx.Route],
) -> None:
    provider, _ = keycloak
    harness = IdpHarness(provider=provider, person=PERSON, secret_is_current=lambda _r: False)
    test_contract_an_unknown_action_is_a_connector_error(harness)
    test_contract_health_returns_health(harness)


def test_keycloak_reset_goes_to_the_verified_email_and_a_replayed_key_acts_once(
    keycloak: tuple[KeycloakIdentityProvider, respx.Route],
) -> None:
    provider, reset = keycloak
    run = lambda: provider.execute(  # noqa: E731
        tenant_id="t-1", person=PERSON, kind=ActionKind.RESET_PASSWORD, params=RESET, idempotency_key="same"
    )
    first = run()
    assert first.secret is None and first.summary["delivered_by"] == "keycloak_email_to_verified_address"
    assert run() == first and reset.call_count == 1
