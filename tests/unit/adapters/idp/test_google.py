"""The Google Workspace adapter against respx fixtures built from the published Admin SDK Directory
API and OAuth 2.0 service-account references (not a live domain): the signed JWT assertion and
its exchange, each action's call, refusals in Google's words, retries only where safe."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import respx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from deskguard.adapters.connectors.retry import Backoff
from deskguard.adapters.idp.google import (
    DIRECTORY,
    JWT_BEARER,
    SCOPES,
    TOKEN_URL,
    GoogleClient,
    GoogleWorkspaceIdentityProvider,
)
from deskguard.adapters.system import SystemRandomness
from deskguard.domain.actions import ActionKind, ResponseAction
from deskguard.domain.errors import ConfigurationError, ConnectorError, ConnectorTimeout
from deskguard.domain.model import Person
from oauth_kit import ec_key, pem, verify

UID = "114872345678901234567"
USER = {"id": UID, "primaryEmail": "alice@acme.example", "suspended": False, "isEnrolledIn2Sv": True}
USER_URL = f"{DIRECTORY}/users/alice%40acme.example"
ALICE = Person(
    id="p-alice", tenant_id="t-a", employee_id="E1", email="alice@acme.example", display_name="Alice"
)
ADMIN = "helpdesk-bot@acme.example"


class Clock:
    def __init__(self) -> None:
        self.at = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def key_json(key: rsa.RSAPrivateKey, **extra: Any) -> str:
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return json.dumps(
        {
            "type": "service_account",
            "project_id": "acme-deskguard",
            "private_key_id": "kid-1",
            "private_key": pem,
            "client_email": "deskguard@acme-deskguard.iam.gserviceaccount.com",
            "token_uri": TOKEN_URL,
            **extra,
        }
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client(
    monkeypatch: pytest.MonkeyPatch, clock: Clock, rsa_key: rsa.RSAPrivateKey, tmp_path: Path
) -> GoogleClient:
    path = tmp_path / "sa.json"
    path.write_text(key_json(rsa_key))
    return GoogleClient(
        service_account_key=f"file://{path}",
        admin_subject=ADMIN,
        now=clock,
        backoff=Backoff(attempts=3),
        sleep=lambda _s: None,
    )


@pytest.fixture
def gw(client: GoogleClient) -> GoogleWorkspaceIdentityProvider:
    return GoogleWorkspaceIdentityProvider(google=client, randomness=SystemRandomness())


def token_route() -> respx.Route:
    return respx.post(TOKEN_URL).respond(
        json={"access_token": "ya29.at-1", "expires_in": 3599, "token_type": "Bearer"}
    )


def user_route(user: dict[str, Any] = USER) -> respx.Route:
    return respx.get(USER_URL).respond(json=user)


def run(
    gw: GoogleWorkspaceIdentityProvider, kind: ActionKind | ResponseAction, key: str = "k1", **params: Any
) -> Any:
    return gw.execute(tenant_id="t-a", person=ALICE, kind=kind, params=params, idempotency_key=key)


def unb64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def test_settings_and_key_are_checked(
    monkeypatch: pytest.MonkeyPatch, clock: Clock, rsa_key: rsa.RSAPrivateKey
) -> None:
    monkeypatch.setenv("GW_KEY", key_json(rsa_key))
    ok = {"service_account_key": "env://GW_KEY", "admin_subject": ADMIN, "now": clock}
    with pytest.raises(ConfigurationError, match="google_service_account_key"):
        GoogleClient(**{**ok, "service_account_key": "{inline}"})  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="google_admin_subject"):
        GoogleClient(**{**ok, "admin_subject": "nobody"})  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="google_customer"):
        GoogleClient(**ok, customer="C0/../x")  # type: ignore[arg-type]
    monkeypatch.setenv("GW_KEY", key_json(rsa_key, type="authorized_user"))
    with pytest.raises(ConfigurationError, match="not a service-account key"):
        GoogleClient(**ok)  # type: ignore[arg-type]
    body = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7"
    monkeypatch.setenv("GW_KEY", key_json(rsa_key, private_key=f"-----BEGIN PRIVATE KEY-----\n{body}"))
    with pytest.raises(ConfigurationError, match="google_service_account_key: not a PEM private key") as err:
        GoogleClient(**ok)  # type: ignore[arg-type]
    assert body not in str(err.value) and err.value.field == "google_service_account_key"  # never echoed
    monkeypatch.setenv("GW_KEY", key_json(rsa_key, private_key=pem(ec_key())))
    with pytest.raises(ConfigurationError, match="google_service_account_key: an EC P-256 key signs ES256"):
        GoogleClient(**ok)  # type: ignore[arg-type]
    monkeypatch.setenv("GW_KEY", key_json(rsa_key, client_email=""))
    with pytest.raises(ConfigurationError, match="client_email or private_key is missing"):
        GoogleClient(**ok)  # type: ignore[arg-type]


@respx.mock
def test_token_exchange_sends_a_signed_delegated_assertion_and_is_cached(
    client: GoogleClient, clock: Clock, rsa_key: rsa.RSAPrivateKey
) -> None:
    token = token_route()
    assert client.token() == "ya29.at-1" and client.token() == "ya29.at-1"
    assert token.call_count == 1
    form = parse_qs(token.calls.last.request.content.decode())
    assert form["grant_type"] == [JWT_BEARER]
    header_b64, claims_b64, signature_b64 = form["assertion"][0].split(".")
    header, claims = json.loads(unb64(header_b64)), json.loads(unb64(claims_b64))
    assert header == {"alg": "RS256", "typ": "JWT", "kid": "kid-1"}
    iat = int(clock.at.timestamp())
    assert claims == {
        "iss": "deskguard@acme-deskguard.iam.gserviceaccount.com",
        "sub": ADMIN,
        "scope": " ".join(SCOPES),
        "aud": TOKEN_URL,
        "iat": iat,
        "exp": iat + 3600,
    }
    rsa_key.public_key().verify(  # raises when the signature is wrong
        unb64(signature_b64), f"{header_b64}.{claims_b64}".encode(), padding.PKCS1v15(), hashes.SHA256()
    )
    assert verify(form["assertion"][0], rsa_key.public_key(), algs=("RS256",)) == (header, claims)
    with pytest.raises(ValueError, match="signature refused"):  # another key does not verify it
        verify(form["assertion"][0], rsa.generate_private_key(65537, 2048).public_key(), algs=("RS256",))
    clock.at += timedelta(seconds=3600)
    client.token()
    assert token.call_count == 2


@respx.mock
def test_token_refusal_carries_google_words(gw: GoogleWorkspaceIdentityProvider) -> None:
    respx.post(TOKEN_URL).respond(
        401,
        json={
            "error": "unauthorized_client",
            "error_description": "Client is unauthorized to retrieve access tokens using this method, "
            "or client not authorized for any of the scopes requested.",
        },
    )
    with pytest.raises(ConnectorError, match="Client is unauthorized to retrieve access tokens"):
        run(gw, ActionKind.REVOKE_SESSIONS)


@respx.mock
def test_reset_password_patches_a_generated_password_returned_as_the_secret(
    gw: GoogleWorkspaceIdentityProvider,
) -> None:
    token_route()
    user = user_route()
    patch = respx.patch(f"{DIRECTORY}/users/{UID}").respond(json=USER)
    result = run(
        gw, ActionKind.RESET_PASSWORD, force_change_at_next_sign_in=True, deliver_to="verified_channel"
    )
    sent = json.loads(patch.calls.last.request.read())
    assert sent == {"password": result.secret, "changePasswordAtNextLogin": True}
    assert result.secret_kind == "temporary_password" and len(result.secret) >= 20
    assert result.secret not in str(result.summary)
    assert patch.calls.last.request.headers["Authorization"] == "Bearer ya29.at-1"
    assert user.calls.last.request.url.params["fields"].startswith("id,")
    assert run(gw, ActionKind.RESET_PASSWORD, force_change_at_next_sign_in=True) == result
    assert patch.call_count == 1  # the same idempotency key acts once


@respx.mock
def test_reset_mfa_turns_off_2sv_invalidates_backup_codes_and_signs_out(
    gw: GoogleWorkspaceIdentityProvider,
) -> None:
    token_route()
    user_route()
    off = respx.post(f"{DIRECTORY}/users/{UID}/twoStepVerification/turnOff").respond(204)
    codes = respx.post(f"{DIRECTORY}/users/{UID}/verificationCodes/invalidate").respond(204)
    out = respx.post(f"{DIRECTORY}/users/{UID}/signOut").respond(204)
    result = run(gw, ActionKind.RESET_MFA)
    assert result.summary == {
        "two_step_verification_turned_off": True,
        "backup_codes_invalidated": True,
        "sessions_revoked": True,
    }
    assert (off.call_count, codes.call_count, out.call_count) == (1, 1, 1)


@respx.mock
def test_reset_mfa_skips_turn_off_when_not_enrolled_and_reports_enforced_refusal(
    gw: GoogleWorkspaceIdentityProvider,
) -> None:
    token_route()
    respx.get(USER_URL).mock(
        side_effect=[
            httpx.Response(200, json={**USER, "isEnrolledIn2Sv": False}),
            httpx.Response(200, json={**USER, "isEnforcedIn2Sv": True}),
        ]
    )
    off = respx.post(f"{DIRECTORY}/users/{UID}/twoStepVerification/turnOff").respond(
        400,
        json={"error": {"code": 400, "message": "Two-step verification is enforced", "errors": []}},
    )
    respx.post(f"{DIRECTORY}/users/{UID}/verificationCodes/invalidate").respond(204)
    respx.post(f"{DIRECTORY}/users/{UID}/signOut").respond(204)
    assert run(gw, ActionKind.RESET_MFA, "a").summary["two_step_verification_turned_off"] is False
    assert off.call_count == 0
    with pytest.raises(ConnectorError, match="Two-step verification is enforced"):
        run(gw, ActionKind.RESET_MFA, "b")
    assert off.call_count == 1


@respx.mock
def test_suspend_patches_suspended_then_signs_out(gw: GoogleWorkspaceIdentityProvider) -> None:
    token_route()
    user_route()
    patch = respx.patch(f"{DIRECTORY}/users/{UID}").respond(json={**USER, "suspended": True})
    out = respx.post(f"{DIRECTORY}/users/{UID}/signOut").respond(204)
    assert run(gw, ResponseAction.SUSPEND_ACCOUNT).summary == {"suspended": True, "sessions_revoked": True}
    assert json.loads(patch.calls.last.request.read()) == {"suspended": True}
    assert out.call_count == 1


@respx.mock
def test_403_refusal_carries_google_words_and_drops_the_token(gw: GoogleWorkspaceIdentityProvider) -> None:
    token = token_route()
    respx.get(USER_URL).mock(
        side_effect=[
            httpx.Response(
                403,
                json={
                    "error": {
                        "code": 403,
                        "message": "Not Authorized to access this resource/api",
                        "errors": [{"domain": "global", "reason": "forbidden"}],
                    }
                },
            ),
            httpx.Response(200, json=USER),
        ]
    )
    respx.post(f"{DIRECTORY}/users/{UID}/signOut").respond(204)
    with pytest.raises(ConnectorError, match="403.*Not Authorized to access this resource/api"):
        run(gw, ActionKind.REVOKE_SESSIONS, "a")
    run(gw, ActionKind.REVOKE_SESSIONS, "b")
    assert token.call_count == 2


@respx.mock
def test_401_refusal(gw: GoogleWorkspaceIdentityProvider) -> None:
    token_route()
    respx.get(USER_URL).respond(
        401, json={"error": {"code": 401, "message": "Login Required.", "status": "UNAUTHENTICATED"}}
    )
    with pytest.raises(ConnectorError, match="401.*Login Required"):
        run(gw, ActionKind.REVOKE_SESSIONS)


@respx.mock
def test_429_on_a_read_honours_retry_after_then_succeeds(
    monkeypatch: pytest.MonkeyPatch, clock: Clock, rsa_key: rsa.RSAPrivateKey
) -> None:
    monkeypatch.setenv("GW_KEY", key_json(rsa_key))
    waits: list[float] = []
    client = GoogleClient(
        service_account_key="env://GW_KEY", admin_subject=ADMIN, now=clock, sleep=waits.append
    )
    gw = GoogleWorkspaceIdentityProvider(google=client, randomness=SystemRandomness())
    token_route()
    users = respx.get(USER_URL).mock(
        side_effect=[
            httpx.Response(
                429, headers={"Retry-After": "5"}, json={"error": {"message": "Rate Limit Exceeded"}}
            ),
            httpx.Response(200, json=USER),
        ]
    )
    respx.post(f"{DIRECTORY}/users/{UID}/signOut").respond(204)
    assert run(gw, ActionKind.REVOKE_SESSIONS).summary == {"sessions_revoked": True}
    assert users.call_count == 2 and waits and waits[0] >= 5


@respx.mock
def test_5xx_is_retried_on_repeatable_calls_not_on_turn_off(gw: GoogleWorkspaceIdentityProvider) -> None:
    token_route()
    user_route()
    out = respx.post(f"{DIRECTORY}/users/{UID}/signOut").mock(
        side_effect=[httpx.Response(503, json={"error": {"message": "Backend Error"}}), httpx.Response(204)]
    )
    assert run(gw, ActionKind.REVOKE_SESSIONS, "a").summary == {"sessions_revoked": True}
    assert out.call_count == 2
    off = respx.post(f"{DIRECTORY}/users/{UID}/twoStepVerification/turnOff").respond(
        500, json={"error": {"message": "Internal error encountered."}}
    )
    with pytest.raises(ConnectorError, match="Internal error encountered"):
        run(gw, ActionKind.RESET_MFA, "b")
    assert off.call_count == 1


@respx.mock
def test_timeout_on_turn_off_is_a_timeout_not_retried_and_not_remembered(
    gw: GoogleWorkspaceIdentityProvider,
) -> None:
    token_route()
    user_route()
    off = respx.post(f"{DIRECTORY}/users/{UID}/twoStepVerification/turnOff").mock(
        side_effect=[httpx.ReadTimeout("slow"), httpx.Response(204)]
    )
    respx.post(f"{DIRECTORY}/users/{UID}/verificationCodes/invalidate").respond(204)
    respx.post(f"{DIRECTORY}/users/{UID}/signOut").respond(204)
    with pytest.raises(ConnectorTimeout):
        run(gw, ActionKind.RESET_MFA, "k")
    assert off.call_count == 1
    assert run(gw, ActionKind.RESET_MFA, "k").summary["sessions_revoked"] is True


@respx.mock
def test_malformed_bodies_are_connector_errors(gw: GoogleWorkspaceIdentityProvider) -> None:
    token_route()
    respx.get(USER_URL).mock(
        side_effect=[
            httpx.Response(200, text="<html>"),
            httpx.Response(200, json={"kind": "admin#directory#user"}),
        ]
    )
    with pytest.raises(ConnectorError, match="not JSON"):
        run(gw, ActionKind.REVOKE_SESSIONS, "a")
    with pytest.raises(ConnectorError, match="malformed"):
        run(gw, ActionKind.REVOKE_SESSIONS, "b")


@pytest.mark.parametrize(
    "kind",
    [
        ActionKind.REMOVE_FACTOR,
        ActionKind.UNLOCK_ACCOUNT,
        ActionKind.GRANT_PRIVILEGE,
        ActionKind.CHANGE_PHONE,
    ],
)
def test_unsupported_actions_name_the_action(gw: GoogleWorkspaceIdentityProvider, kind: ActionKind) -> None:
    with pytest.raises(ConnectorError, match=str(kind)):
        run(gw, kind)


@respx.mock
def test_health(gw: GoogleWorkspaceIdentityProvider) -> None:
    token_route()
    users = respx.get(f"{DIRECTORY}/users").mock(
        side_effect=[
            httpx.Response(200, json={"users": [{"id": UID}]}),
            httpx.Response(400, json={"error": {"code": 400, "message": "Bad Request"}}),
        ]
    )
    assert gw.health().ok
    assert users.calls[0].request.url.params["customer"] == "my_customer"
    bad = gw.health()
    assert not bad.ok and "Bad Request" in bad.detail
