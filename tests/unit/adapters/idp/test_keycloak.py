"""The Keycloak adapter against respx fixtures built from the published Admin REST API reference
(not a live realm): token caching, each action's call, refusals in Keycloak's words, retries only
where safe, idempotency."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import respx

from deskguard.adapters.connectors.retry import Backoff
from deskguard.adapters.idp.keycloak import KeycloakClient, KeycloakIdentityProvider
from deskguard.domain.actions import ActionKind, ResponseAction
from deskguard.domain.errors import ConfigurationError, ConnectorError, ConnectorTimeout
from deskguard.domain.model import Person

BASE = "https://sso.acme.example"
TOKEN_URL = f"{BASE}/realms/acme/protocol/openid-connect/token"
ADMIN = f"{BASE}/admin/realms/acme"
UID = "0b5e4a9c-8a36-4a8e-9d6b-6f0a0d7c1e11"
USER = {"id": UID, "username": "alice", "email": "alice@acme.example", "emailVerified": True, "enabled": True}
ALICE = Person(
    id="p-alice", tenant_id="t-a", employee_id="E1", email="alice@acme.example", display_name="Alice"
)


class Clock:
    def __init__(self) -> None:
        self.at = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch, clock: Clock) -> KeycloakClient:
    monkeypatch.setenv("KC_SECRET", "kc-s3cret")
    return KeycloakClient(
        url=BASE + "/",
        realm="acme",
        client_id="deskguard",
        client_secret="env://KC_SECRET",
        now=clock,
        backoff=Backoff(attempts=3),
        sleep=lambda _s: None,
    )


@pytest.fixture
def kc(client: KeycloakClient) -> KeycloakIdentityProvider:
    return KeycloakIdentityProvider(keycloak=client)


def token_route() -> respx.Route:
    return respx.post(TOKEN_URL).respond(
        json={"access_token": "at-1", "expires_in": 300, "token_type": "Bearer", "scope": "profile email"}
    )


def user_route(user: dict[str, Any] = USER) -> respx.Route:
    return respx.get(f"{ADMIN}/users", params={"email": "alice@acme.example", "exact": "true"}).respond(
        json=[user]
    )


def run(
    kc: KeycloakIdentityProvider, kind: ActionKind | ResponseAction, key: str = "k1", **params: Any
) -> Any:
    return kc.execute(tenant_id="t-a", person=ALICE, kind=kind, params=params, idempotency_key=key)


def test_settings_are_checked(monkeypatch: pytest.MonkeyPatch, clock: Clock) -> None:
    monkeypatch.setenv("KC_SECRET", "s")
    ok = {"realm": "acme", "client_id": "c", "client_secret": "env://KC_SECRET", "now": clock}
    with pytest.raises(ConfigurationError, match="keycloak_url"):
        KeycloakClient(url="http://sso.acme.example", **ok)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="keycloak_realm"):
        KeycloakClient(url=BASE, **{**ok, "realm": "a/b"})  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="keycloak_client_secret"):
        KeycloakClient(url=BASE, **{**ok, "client_secret": "inline"})  # type: ignore[arg-type]
    legacy = KeycloakClient(url="https://sso.acme.example/auth/", **ok)  # type: ignore[arg-type]
    assert legacy.admin == "https://sso.acme.example/auth/admin/realms/acme"


@respx.mock
def test_token_by_client_credentials_is_cached_until_expiry(client: KeycloakClient, clock: Clock) -> None:
    token = token_route()
    assert client.token() == "at-1" and client.token() == "at-1"
    assert token.call_count == 1
    form = token.calls.last.request.content.decode()
    assert "grant_type=client_credentials" in form and "client_id=deskguard" in form
    assert "client_secret=kc-s3cret" in form
    clock.at += timedelta(seconds=300)
    client.token()
    assert token.call_count == 2


@respx.mock
def test_reset_password_mails_update_password_and_holds_no_secret(kc: KeycloakIdentityProvider) -> None:
    token_route()
    user_route()
    put = respx.put(f"{ADMIN}/users/{UID}/execute-actions-email").respond(204)
    result = run(kc, ActionKind.RESET_PASSWORD, deliver_to="verified_channel")
    assert result.secret is None and result.summary["delivered_by"] == "keycloak_email_to_verified_address"
    request = put.calls.last.request
    assert json.loads(request.read()) == ["UPDATE_PASSWORD"]
    assert request.headers["Authorization"] == "Bearer at-1"
    assert run(kc, ActionKind.RESET_PASSWORD, deliver_to="verified_channel") == result
    assert put.call_count == 1  # same idempotency key: one mail


@respx.mock
def test_reset_password_refuses_an_agent_delivery_and_an_unverified_email(
    kc: KeycloakIdentityProvider,
) -> None:
    token_route()
    user_route({**USER, "emailVerified": False})
    put = respx.put(f"{ADMIN}/users/{UID}/execute-actions-email").respond(204)
    with pytest.raises(ConnectorError, match="never holds"):
        run(kc, ActionKind.RESET_PASSWORD, "a", deliver_to="agent")
    with pytest.raises(ConnectorError, match="not verified"):
        run(kc, ActionKind.RESET_PASSWORD, "b")
    assert put.call_count == 0


@respx.mock
def test_user_must_match_exactly_once(kc: KeycloakIdentityProvider) -> None:
    token_route()
    respx.get(f"{ADMIN}/users").respond(json=[])
    with pytest.raises(ConnectorError, match="0 users"):
        run(kc, ActionKind.REVOKE_SESSIONS)


@respx.mock
def test_reset_mfa_deletes_every_credential_but_the_password_then_logs_out(
    kc: KeycloakIdentityProvider,
) -> None:
    token_route()
    user_route()
    respx.get(f"{ADMIN}/users/{UID}/credentials").respond(
        json=[
            {"id": "c-pw", "type": "password", "createdDate": 1},
            {"id": "c-otp", "type": "otp", "userLabel": "phone"},
            {"id": "c-wa", "type": "webauthn", "userLabel": "key"},
        ]
    )
    otp = respx.delete(f"{ADMIN}/users/{UID}/credentials/c-otp").respond(204)
    wa = respx.delete(f"{ADMIN}/users/{UID}/credentials/c-wa").respond(204)
    pw = respx.delete(f"{ADMIN}/users/{UID}/credentials/c-pw").respond(204)
    logout = respx.post(f"{ADMIN}/users/{UID}/logout").respond(204)
    result = run(kc, ActionKind.RESET_MFA)
    assert result.summary == {
        "factors_removed": 2,
        "credential_types": ["otp", "webauthn"],
        "sessions_revoked": True,
    }
    assert (otp.call_count, wa.call_count, pw.call_count, logout.call_count) == (1, 1, 0, 1)


@respx.mock
def test_remove_factor_deletes_one_credential_never_the_password(kc: KeycloakIdentityProvider) -> None:
    token_route()
    user_route()
    respx.get(f"{ADMIN}/users/{UID}/credentials").respond(
        json=[{"id": "c-pw", "type": "password"}, {"id": "c-otp", "type": "otp"}]
    )
    delete = respx.delete(f"{ADMIN}/users/{UID}/credentials/c-otp").respond(204)
    assert run(kc, ActionKind.REMOVE_FACTOR, "a", factor_id="c-otp").summary["factor_removed"] == "c-otp"
    with pytest.raises(ConnectorError, match="is the password"):
        run(kc, ActionKind.REMOVE_FACTOR, "b", factor_id="c-pw")
    with pytest.raises(ConnectorError, match="not registered"):
        run(kc, ActionKind.REMOVE_FACTOR, "c", factor_id="c-nope")
    assert delete.call_count == 1


@respx.mock
def test_unlock_clears_brute_force_detection_and_keeps_a_disabled_account_disabled(
    kc: KeycloakIdentityProvider,
) -> None:
    token_route()
    user_route({**USER, "enabled": False})
    path = f"{ADMIN}/attack-detection/brute-force/users/{UID}"
    respx.get(path).respond(json={"numFailures": 5, "disabled": True, "lastIPFailure": "203.0.113.9"})
    clear = respx.delete(path).respond(204)
    put = respx.put(f"{ADMIN}/users/{UID}").respond(204)
    result = run(kc, ActionKind.UNLOCK_ACCOUNT)
    assert result.summary == {"unlocked": True, "was_locked": True, "account_enabled": False}
    assert clear.call_count == 1 and put.call_count == 0


@respx.mock
def test_suspend_disables_then_logs_out(kc: KeycloakIdentityProvider) -> None:
    token_route()
    user_route()
    put = respx.put(f"{ADMIN}/users/{UID}").respond(204)
    logout = respx.post(f"{ADMIN}/users/{UID}/logout").respond(204)
    assert run(kc, ResponseAction.SUSPEND_ACCOUNT).summary == {"suspended": True, "sessions_revoked": True}
    assert json.loads(put.calls.last.request.read()) == {"enabled": False}
    assert logout.call_count == 1


@respx.mock
def test_grant_privilege_by_exact_group_name_including_subgroups(kc: KeycloakIdentityProvider) -> None:
    token_route()
    user_route()
    gid = "9d1c1f0e-1111-2222-3333-444444444444"
    respx.get(f"{ADMIN}/groups", params={"search": "helpdesk-admins", "exact": "true"}).respond(
        json=[
            {
                "id": "aaaaaaaa-0000-0000-0000-000000000000",
                "name": "it",
                "path": "/it",
                "subGroups": [{"id": gid, "name": "helpdesk-admins", "path": "/it/helpdesk-admins"}],
            }
        ]
    )
    join = respx.put(f"{ADMIN}/users/{UID}/groups/{gid}").respond(204)
    result = run(kc, ActionKind.GRANT_PRIVILEGE, group="helpdesk-admins", duration_minutes=60)
    assert result.summary["keycloak_group_id"] == gid and join.call_count == 1


@respx.mock
def test_401_refusal_carries_keycloak_words_and_drops_the_token(kc: KeycloakIdentityProvider) -> None:
    token = token_route()
    respx.get(f"{ADMIN}/users").mock(
        side_effect=[
            httpx.Response(401, json={"error": "HTTP 401 Unauthorized"}),
            httpx.Response(200, json=[USER]),
        ]
    )
    logout = respx.post(f"{ADMIN}/users/{UID}/logout").respond(204)
    with pytest.raises(ConnectorError, match="refused \\(401\\): HTTP 401 Unauthorized"):
        run(kc, ActionKind.REVOKE_SESSIONS, "a")
    run(kc, ActionKind.REVOKE_SESSIONS, "b")
    assert token.call_count == 2 and logout.call_count == 1


@respx.mock
def test_403_and_token_refusals_carry_keycloak_words(kc: KeycloakIdentityProvider) -> None:
    respx.post(TOKEN_URL).mock(
        side_effect=[
            httpx.Response(
                401,
                json={
                    "error": "unauthorized_client",
                    "error_description": "Invalid client or Invalid client credentials",
                },
            ),
            httpx.Response(200, json={"access_token": "at-1", "expires_in": 300}),
        ]
    )
    with pytest.raises(ConnectorError, match="Invalid client or Invalid client credentials"):
        run(kc, ActionKind.REVOKE_SESSIONS, "a")
    user_route()
    respx.post(f"{ADMIN}/users/{UID}/logout").respond(403, json={"error": "HTTP 403 Forbidden"})
    with pytest.raises(ConnectorError, match="403.*HTTP 403 Forbidden"):
        run(kc, ActionKind.REVOKE_SESSIONS, "b")


@respx.mock
def test_error_message_field_is_quoted(kc: KeycloakIdentityProvider) -> None:
    token_route()
    user_route()
    respx.put(f"{ADMIN}/users/{UID}/execute-actions-email").respond(
        400, json={"errorMessage": "Failed to send execute actions email"}
    )
    with pytest.raises(ConnectorError, match="Failed to send execute actions email"):
        run(kc, ActionKind.RESET_PASSWORD)


@respx.mock
def test_429_on_a_read_honours_retry_after_then_succeeds(
    monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    monkeypatch.setenv("KC_SECRET", "s")
    waits: list[float] = []
    client = KeycloakClient(
        url=BASE, realm="acme", client_id="c", client_secret="env://KC_SECRET", now=clock, sleep=waits.append
    )
    kc = KeycloakIdentityProvider(keycloak=client)
    token_route()
    users = respx.get(f"{ADMIN}/users").mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200, json=[USER])]
    )
    respx.post(f"{ADMIN}/users/{UID}/logout").respond(204)
    assert run(kc, ActionKind.REVOKE_SESSIONS).summary == {"sessions_revoked": True}
    assert users.call_count == 2 and waits and waits[0] >= 7


@respx.mock
def test_5xx_on_a_non_idempotent_call_is_not_retried(kc: KeycloakIdentityProvider) -> None:
    token_route()
    user_route()
    put = respx.put(f"{ADMIN}/users/{UID}/execute-actions-email").respond(503, text="Service Unavailable")
    with pytest.raises(ConnectorError, match="503"):
        run(kc, ActionKind.RESET_PASSWORD)
    assert put.call_count == 1


@respx.mock
def test_5xx_on_a_repeatable_call_is_retried(kc: KeycloakIdentityProvider) -> None:
    token_route()
    user_route()
    logout = respx.post(f"{ADMIN}/users/{UID}/logout").mock(
        side_effect=[httpx.Response(502), httpx.Response(204)]
    )
    assert run(kc, ActionKind.REVOKE_SESSIONS).summary == {"sessions_revoked": True}
    assert logout.call_count == 2


@respx.mock
def test_timeout_is_a_timeout_not_retried_and_not_remembered(kc: KeycloakIdentityProvider) -> None:
    token_route()
    user_route()
    put = respx.put(f"{ADMIN}/users/{UID}/execute-actions-email").mock(
        side_effect=[httpx.ReadTimeout("slow"), httpx.Response(204)]
    )
    with pytest.raises(ConnectorTimeout):
        run(kc, ActionKind.RESET_PASSWORD, "k")
    assert put.call_count == 1
    assert run(kc, ActionKind.RESET_PASSWORD, "k").summary["password_reset"] is True
    assert put.call_count == 2


@respx.mock
def test_malformed_bodies_are_connector_errors(kc: KeycloakIdentityProvider) -> None:
    token_route()
    respx.get(f"{ADMIN}/users").mock(
        side_effect=[httpx.Response(200, text="<html>login</html>"), httpx.Response(200, json={"id": UID})]
    )
    with pytest.raises(ConnectorError, match="not JSON"):
        run(kc, ActionKind.REVOKE_SESSIONS, "a")
    with pytest.raises(ConnectorError, match="malformed"):
        run(kc, ActionKind.REVOKE_SESSIONS, "b")


@respx.mock
def test_token_answer_without_access_token_is_malformed(kc: KeycloakIdentityProvider) -> None:
    respx.post(TOKEN_URL).respond(json={"token_type": "Bearer"})
    with pytest.raises(ConnectorError, match="malformed"):
        run(kc, ActionKind.REVOKE_SESSIONS)


def test_unsupported_actions_name_the_action(kc: KeycloakIdentityProvider) -> None:
    with pytest.raises(ConnectorError, match="issue_temporary_access_pass"):
        run(kc, ActionKind.ISSUE_TEMPORARY_ACCESS_PASS, lifetime_minutes=60, one_time=True)


@respx.mock
def test_health(kc: KeycloakIdentityProvider) -> None:
    token_route()
    respx.get(f"{ADMIN}/users/count").mock(
        side_effect=[httpx.Response(200, json=42), httpx.Response(403, json={"error": "HTTP 403 Forbidden"})]
    )
    assert kc.health().ok
    bad = kc.health()
    assert not bad.ok and "HTTP 403 Forbidden" in bad.detail


@respx.mock
def test_revoke_privilege_leaves_the_group_and_404_is_already_gone(kc: KeycloakIdentityProvider) -> None:
    token_route()
    user_route()
    gid = "9d1c1f0e-1111-2222-3333-444444444444"
    route = respx.delete(f"{ADMIN}/users/{UID}/groups/{gid}")
    route.side_effect = [httpx.Response(204), httpx.Response(404, json={"error": "Group not found"})]
    first = run(kc, ResponseAction.REVOKE_PRIVILEGE, "r1", group=gid)
    assert first.summary == {"group_removed": gid, "keycloak_group_id": gid, "was_member": True}
    again = run(kc, ResponseAction.REVOKE_PRIVILEGE, "r2", group=gid)
    assert again.summary["was_member"] is False
    assert run(kc, ResponseAction.REVOKE_PRIVILEGE, "r1", group=gid) == first  # same key: no call
    assert route.call_count == 2
