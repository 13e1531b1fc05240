"""The Entra adapter against respx fixtures built from Microsoft Graph's published v1.0 reference
(not a live tenant): token caching, each action's call, TAP as the secret, retries only where safe."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import respx

from deskguard.adapters.connectors.retry import Backoff
from deskguard.adapters.idp.entra import GRAPH, EntraIdentityProvider, GraphClient
from deskguard.adapters.system import SystemRandomness
from deskguard.domain.actions import ActionKind, ResponseAction
from deskguard.domain.errors import ConfigurationError, ConnectorError, ConnectorTimeout
from deskguard.domain.model import Person

TENANT = "contoso.onmicrosoft.com"
TOKEN_URL = f"https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token"
UID = "6e7b768e-07e2-4810-8459-485f84f8f204"
ALICE = Person(
    id="p-alice", tenant_id="t-a", employee_id="E1", email="alice@contoso.com", display_name="Alice"
)
USER_URL = f"{GRAPH}/users/alice%40contoso.com"


class Clock:
    def __init__(self) -> None:
        self.at = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def graph(monkeypatch: pytest.MonkeyPatch, clock: Clock) -> GraphClient:
    monkeypatch.setenv("ENTRA_SECRET", "s3cret")
    return GraphClient(
        tenant_id=TENANT,
        client_id="app-1",
        client_secret="env://ENTRA_SECRET",
        now=clock,
        backoff=Backoff(attempts=3),
        sleep=lambda _s: None,
    )


@pytest.fixture
def entra(graph: GraphClient) -> EntraIdentityProvider:
    return EntraIdentityProvider(graph=graph, randomness=SystemRandomness())


def token_route() -> respx.Route:
    return respx.post(TOKEN_URL).respond(
        json={"token_type": "Bearer", "expires_in": 3599, "access_token": "at-1"}
    )


def user_route() -> respx.Route:
    return respx.get(USER_URL).respond(json={"id": UID})


def run(
    entra: EntraIdentityProvider, kind: ActionKind | ResponseAction, key: str = "k1", **params: Any
) -> Any:
    return entra.execute(tenant_id="t-a", person=ALICE, kind=kind, params=params, idempotency_key=key)


def test_settings_are_checked(monkeypatch: pytest.MonkeyPatch, clock: Clock) -> None:
    monkeypatch.setenv("ENTRA_SECRET", "s")
    with pytest.raises(ConfigurationError, match="entra_tenant_id"):
        GraphClient(tenant_id="a/b", client_id="x", client_secret="env://ENTRA_SECRET", now=clock)
    with pytest.raises(ConfigurationError, match="entra_client_secret"):
        GraphClient(tenant_id=TENANT, client_id="x", client_secret="inline-secret", now=clock)


@respx.mock
def test_token_is_cached_until_expiry(graph: GraphClient, clock: Clock) -> None:
    token = token_route()
    assert graph.token() == "at-1" and graph.token() == "at-1"
    assert token.call_count == 1
    form = token.calls.last.request.content.decode()
    assert "grant_type=client_credentials" in form and "client_secret=s3cret" in form
    assert "scope=https%3A%2F%2Fgraph.microsoft.com%2F.default" in form
    clock.at += timedelta(seconds=3600)
    graph.token()
    assert token.call_count == 2


@respx.mock
def test_tap_is_returned_as_the_secret_and_not_retried(entra: EntraIdentityProvider) -> None:
    token_route()
    user_route()
    tap = respx.post(f"{GRAPH}/users/{UID}/authentication/temporaryAccessPassMethods").respond(
        201,
        json={
            "id": "tap-1",
            "temporaryAccessPass": "TAPRMNVH",
            "lifetimeInMinutes": 60,
            "isUsableOnce": True,
            "isUsable": True,
            "methodUsabilityReason": "EnabledByPolicy",
        },
    )
    result = run(entra, ActionKind.ISSUE_TEMPORARY_ACCESS_PASS, lifetime_minutes=60, one_time=True)
    assert (result.secret, result.secret_kind) == ("TAPRMNVH", "temporary_access_pass")
    assert "TAPRMNVH" not in str(result.summary)
    assert tap.calls.last.request.headers["Authorization"] == "Bearer at-1"
    assert run(entra, ActionKind.ISSUE_TEMPORARY_ACCESS_PASS, lifetime_minutes=60, one_time=True) == result
    assert tap.call_count == 1  # same idempotency key: not a second pass


@respx.mock
def test_tap_timeout_is_a_timeout_not_retried(entra: EntraIdentityProvider) -> None:
    token_route()
    user_route()
    tap = respx.post(f"{GRAPH}/users/{UID}/authentication/temporaryAccessPassMethods").mock(
        side_effect=httpx.ReadTimeout("slow")
    )
    with pytest.raises(ConnectorTimeout):
        run(entra, ActionKind.ISSUE_TEMPORARY_ACCESS_PASS, lifetime_minutes=60, one_time=True)
    assert tap.call_count == 1


@respx.mock
def test_reset_password_sets_a_generated_password_returned_as_secret(entra: EntraIdentityProvider) -> None:
    token_route()
    user_route()
    patch = respx.patch(f"{GRAPH}/users/{UID}").respond(204)
    result = run(
        entra, ActionKind.RESET_PASSWORD, force_change_at_next_sign_in=True, deliver_to="verified_channel"
    )
    sent = patch.calls.last.request.read()
    assert result.secret and result.secret.encode() in sent and result.secret_kind == "temporary_password"
    assert b'"forceChangePasswordNextSignIn":true' in sent.replace(b" ", b"")
    assert result.secret not in str(result.summary)


@respx.mock
def test_reset_mfa_deletes_methods_but_password_and_email_then_revokes(entra: EntraIdentityProvider) -> None:
    token_route()
    user_route()
    respx.get(f"{GRAPH}/users/{UID}/authentication/methods").respond(
        json={
            "value": [
                {"@odata.type": "#microsoft.graph.passwordAuthenticationMethod", "id": "pw"},
                {"@odata.type": "#microsoft.graph.emailAuthenticationMethod", "id": "em"},
                {"@odata.type": "#microsoft.graph.phoneAuthenticationMethod", "id": "ph1"},
                {"@odata.type": "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod", "id": "ma1"},
            ]
        }
    )
    phone = respx.delete(f"{GRAPH}/users/{UID}/authentication/phoneMethods/ph1").respond(204)
    app = respx.delete(f"{GRAPH}/users/{UID}/authentication/microsoftAuthenticatorMethods/ma1").respond(204)
    revoke = respx.post(f"{GRAPH}/users/{UID}/revokeSignInSessions").respond(json={"value": True})
    result = run(entra, ActionKind.RESET_MFA)
    assert phone.called and app.called and revoke.called
    assert result.summary["factors_removed"] == 2


@respx.mock
def test_remove_factor_finds_the_method_type(entra: EntraIdentityProvider) -> None:
    token_route()
    user_route()
    respx.get(f"{GRAPH}/users/{UID}/authentication/methods").respond(
        json={"value": [{"@odata.type": "#microsoft.graph.fido2AuthenticationMethod", "id": "fk/1"}]}
    )
    delete = respx.delete(f"{GRAPH}/users/{UID}/authentication/fido2Methods/fk%2F1").respond(204)
    assert run(entra, ActionKind.REMOVE_FACTOR, factor_id="fk/1").summary == {"factor_removed": "fk/1"}
    assert delete.called
    with pytest.raises(ConnectorError, match="not registered"):
        run(entra, ActionKind.REMOVE_FACTOR, "k2", factor_id="nope")


@respx.mock
def test_revoke_sessions_retries_after_429_retry_after(entra: EntraIdentityProvider) -> None:
    token_route()
    user_route()
    revoke = respx.post(f"{GRAPH}/users/{UID}/revokeSignInSessions").mock(
        side_effect=[
            httpx.Response(
                429,
                headers={"Retry-After": "2"},
                json={"error": {"code": "TooManyRequests", "message": "Throttled"}},
            ),
            httpx.Response(200, json={"value": True}),
        ]
    )
    assert run(entra, ActionKind.REVOKE_SESSIONS).summary == {"sessions_revoked": True}
    assert revoke.call_count == 2


@respx.mock
def test_grant_assigns_the_role_by_name(entra: EntraIdentityProvider) -> None:
    token_route()
    user_route()
    role = "62e90394-69f5-4237-9190-012177145e10"
    respx.get(f"{GRAPH}/roleManagement/directory/roleDefinitions").respond(
        json={"value": [{"id": role, "displayName": "Helpdesk Administrator"}]}
    )
    assign = respx.post(f"{GRAPH}/roleManagement/directory/roleAssignments").respond(201, json={"id": "ra-1"})
    result = run(entra, ActionKind.GRANT_PRIVILEGE, group="Helpdesk Administrator", duration_minutes=60)
    assert result.summary["role_definition_id"] == role and result.summary["assignment_id"] == "ra-1"
    assert f'"principalId":"{UID}"'.encode() in assign.calls.last.request.read().replace(b" ", b"")


@respx.mock
def test_suspend_disables_and_revokes(entra: EntraIdentityProvider) -> None:
    token_route()
    user_route()
    patch = respx.patch(f"{GRAPH}/users/{UID}").respond(204)
    revoke = respx.post(f"{GRAPH}/users/{UID}/revokeSignInSessions").respond(json={"value": True})
    assert run(entra, ResponseAction.SUSPEND_ACCOUNT).summary["suspended"] is True
    assert b'"accountEnabled":false' in patch.calls.last.request.read().replace(b" ", b"") and revoke.called


@respx.mock
def test_unsupported_and_errors(entra: EntraIdentityProvider) -> None:
    with pytest.raises(ConnectorError, match="unlock_account"):
        run(entra, ActionKind.UNLOCK_ACCOUNT)
    token_route()
    respx.get(USER_URL).respond(
        404,
        json={"error": {"code": "Request_ResourceNotFound", "message": "Resource 'alice' does not exist"}},
    )
    with pytest.raises(ConnectorError, match="does not exist"):
        run(entra, ActionKind.REVOKE_SESSIONS)


@respx.mock
def test_token_refusal_is_reported_and_health(entra: EntraIdentityProvider) -> None:
    respx.post(TOKEN_URL).mock(
        side_effect=[
            httpx.Response(
                401,
                json={"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret"},
            ),
            httpx.Response(200, json={"expires_in": 3599, "access_token": "at-2"}),
        ]
    )
    bad = entra.health()
    assert not bad.ok and "AADSTS7000215" in bad.detail
    respx.get(f"{GRAPH}/organization").respond(json={"value": [{"id": "o", "displayName": "Contoso"}]})
    assert entra.health().ok


@respx.mock
def test_revoke_privilege_deletes_the_tenant_wide_assignment_and_404_is_already_gone(
    entra: EntraIdentityProvider,
) -> None:
    token_route()
    user_route()
    role = "62e90394-69f5-4237-9190-012177145e10"
    listing = respx.get(f"{GRAPH}/roleManagement/directory/roleAssignments").respond(
        json={
            "value": [
                {"id": "ra-1", "principalId": UID, "roleDefinitionId": role, "directoryScopeId": "/"},
                {"id": "ra-au", "principalId": UID, "roleDefinitionId": role, "directoryScopeId": "/au/1"},
            ]
        }
    )
    delete = respx.delete(f"{GRAPH}/roleManagement/directory/roleAssignments/ra-1")
    delete.side_effect = [httpx.Response(204), httpx.Response(404, json={"error": {"message": "gone"}})]
    first = run(entra, ResponseAction.REVOKE_PRIVILEGE, "r1", group=role)
    assert first.summary["assignments_removed"] == ["ra-1"] and first.summary["was_member"] is True
    query = listing.calls.last.request.url.params["$filter"]
    assert query == f"principalId eq '{UID}' and roleDefinitionId eq '{role}'"
    again = run(entra, ResponseAction.REVOKE_PRIVILEGE, "r2", group=role)  # deleted meanwhile: 404
    assert again.summary["was_member"] is True and delete.call_count == 2
    listing.respond(json={"value": []})
    none_left = run(entra, ResponseAction.REVOKE_PRIVILEGE, "r3", group=role)
    assert none_left.summary["was_member"] is False and delete.call_count == 2
