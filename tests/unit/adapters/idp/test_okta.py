"""The Okta adapter against respx fixtures built from Okta's published management API reference
(not a live tenant): lookup by login, each action's call, retries only where safe, idempotency."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx

from deskguard.adapters.connectors.retry import Backoff
from deskguard.adapters.idp.okta import OktaIdentityProvider, org_base
from deskguard.domain.actions import ActionKind, ResponseAction
from deskguard.domain.errors import ConfigurationError, ConnectorError, ConnectorTimeout
from deskguard.domain.model import Person

ORG = "https://acme.okta.com"
UID = "00u1abcd"
USER = {"id": UID, "status": "ACTIVE", "profile": {"login": "alice@acme.test"}}
ALICE = Person(id="p-alice", tenant_id="t-a", employee_id="E1", email="alice@acme.test", display_name="Alice")
USER_URL = f"{ORG}/api/v1/users/alice%40acme.test"


@pytest.fixture
def okta(monkeypatch: pytest.MonkeyPatch) -> OktaIdentityProvider:
    monkeypatch.setenv("OKTA_TOKEN", "tok-123")
    return OktaIdentityProvider(
        org_url=ORG, api_token="env://OKTA_TOKEN", backoff=Backoff(attempts=3), sleep=lambda _s: None
    )


def run(okta: OktaIdentityProvider, kind: ActionKind | ResponseAction, key: str = "k1", **params: Any) -> Any:
    return okta.execute(tenant_id="t-a", person=ALICE, kind=kind, params=params, idempotency_key=key)


def test_org_url_must_be_https_origin() -> None:
    assert org_base("https://acme.okta.com/") == ORG
    for bad in ("http://acme.okta.com", "https://acme.okta.com/api", "acme.okta.com", "https://x?y=1"):
        with pytest.raises(ConfigurationError):
            org_base(bad)


def test_token_is_a_reference_never_inline() -> None:
    with pytest.raises(ConfigurationError):
        OktaIdentityProvider(org_url=ORG, api_token="env://DESKGUARD_TEST_UNSET_TOKEN")
    with pytest.raises(ConfigurationError):
        OktaIdentityProvider(org_url=ORG, api_token="tok-inline")


@respx.mock
def test_reset_password_mails_the_verified_address_and_returns_no_secret(okta: OktaIdentityProvider) -> None:
    lookup = respx.get(USER_URL).respond(json=USER)
    reset = respx.post(f"{ORG}/api/v1/users/{UID}/lifecycle/reset_password").respond(json={})
    result = run(
        okta, ActionKind.RESET_PASSWORD, force_change_at_next_sign_in=True, deliver_to="verified_channel"
    )
    assert result.secret is None
    assert result.summary["delivered_by"] == "okta_email_to_verified_address"
    assert result.summary["deskguard_received_link"] is False
    assert reset.calls.last.request.url.params["sendEmail"] == "true"
    assert lookup.calls.last.request.headers["Authorization"] == "SSWS tok-123"


@respx.mock
def test_reset_password_for_the_agent_is_refused(okta: OktaIdentityProvider) -> None:
    with pytest.raises(ConnectorError, match="verified e-mail"):
        run(okta, ActionKind.RESET_PASSWORD, force_change_at_next_sign_in=True, deliver_to="agent")


@respx.mock
def test_each_action_calls_its_endpoint(okta: OktaIdentityProvider) -> None:
    respx.get(USER_URL).respond(json={**USER, "status": "LOCKED_OUT"})
    routes = {
        ActionKind.RESET_MFA: respx.post(f"{ORG}/api/v1/users/{UID}/lifecycle/reset_factors").respond(
            200, json={}
        ),
        ActionKind.REMOVE_FACTOR: respx.delete(f"{ORG}/api/v1/users/{UID}/factors/opf%2F1").respond(204),
        ActionKind.REVOKE_SESSIONS: respx.delete(f"{ORG}/api/v1/users/{UID}/sessions").respond(204),
        ActionKind.UNLOCK_ACCOUNT: respx.post(f"{ORG}/api/v1/users/{UID}/lifecycle/unlock").respond(
            200, json={}
        ),
        ResponseAction.SUSPEND_ACCOUNT: respx.post(f"{ORG}/api/v1/users/{UID}/lifecycle/suspend").respond(
            200, json={}
        ),
        ActionKind.GRANT_PRIVILEGE: respx.put(f"{ORG}/api/v1/groups/00gADMINS/users/{UID}").respond(204),
    }
    params: dict[Any, dict[str, Any]] = {
        ActionKind.REMOVE_FACTOR: {"factor_id": "opf/1"},  # escaped: never another path
        ActionKind.GRANT_PRIVILEGE: {"group": "00gADMINS", "duration_minutes": 60},
    }
    for i, (kind, route) in enumerate(routes.items()):
        result = run(okta, kind, f"k{i}", **params.get(kind, {}))
        assert route.call_count == 1, kind
        assert result.secret is None
    assert routes[ActionKind.REVOKE_SESSIONS].calls.last.request.url.params["oauthTokens"] == "true"


@respx.mock
def test_grant_by_group_name_finds_the_one_exact_match(okta: OktaIdentityProvider) -> None:
    respx.get(USER_URL).respond(json=USER)
    respx.get(f"{ORG}/api/v1/groups").respond(
        json=[{"id": "00gA", "profile": {"name": "Admins-EU"}}, {"id": "00gB", "profile": {"name": "Admins"}}]
    )
    put = respx.put(f"{ORG}/api/v1/groups/00gB/users/{UID}").respond(204)
    result = run(okta, ActionKind.GRANT_PRIVILEGE, group="Admins", duration_minutes=30)
    assert put.called and result.summary["okta_group_id"] == "00gB"


@respx.mock
def test_unlock_of_an_unlocked_user_and_suspend_of_a_suspended_one_do_nothing(
    okta: OktaIdentityProvider,
) -> None:
    respx.get(USER_URL).mock(
        side_effect=[
            httpx.Response(200, json=USER),
            httpx.Response(200, json={**USER, "status": "SUSPENDED"}),
        ]
    )
    assert run(okta, ActionKind.UNLOCK_ACCOUNT, "k1").summary["was_locked"] is False
    assert run(okta, ResponseAction.SUSPEND_ACCOUNT, "k2").summary["already_suspended"] is True


@respx.mock
def test_unsupported_action_names_itself(okta: OktaIdentityProvider) -> None:
    with pytest.raises(ConnectorError, match="issue_temporary_access_pass"):
        run(okta, ActionKind.ISSUE_TEMPORARY_ACCESS_PASS, lifetime_minutes=60)


@respx.mock
def test_idempotency_key_acts_once(okta: OktaIdentityProvider) -> None:
    respx.get(USER_URL).respond(json=USER)
    reset = respx.post(f"{ORG}/api/v1/users/{UID}/lifecycle/reset_factors").respond(json={})
    first = run(okta, ActionKind.RESET_MFA, "same")
    assert run(okta, ActionKind.RESET_MFA, "same") == first
    assert reset.call_count == 1
    run(okta, ActionKind.RESET_MFA, "other")
    assert reset.call_count == 2


@respx.mock
def test_429_on_a_read_is_retried_after_rate_limit_reset(okta: OktaIdentityProvider) -> None:
    reset_at = str(int(datetime.now(UTC).timestamp()) + 2)
    respx.get(USER_URL).mock(
        side_effect=[
            httpx.Response(429, headers={"X-Rate-Limit-Reset": reset_at}, json={"errorSummary": "Too many"}),
            httpx.Response(200, json=USER),
        ]
    )
    sessions = respx.delete(f"{ORG}/api/v1/users/{UID}/sessions").respond(204)
    assert run(okta, ActionKind.REVOKE_SESSIONS).summary["sessions_revoked"] is True
    assert sessions.call_count == 1


@respx.mock
def test_429_on_a_lifecycle_post_is_a_definite_failure_not_retried(okta: OktaIdentityProvider) -> None:
    respx.get(USER_URL).respond(json=USER)
    post = respx.post(f"{ORG}/api/v1/users/{UID}/lifecycle/reset_factors").respond(
        429, headers={"Retry-After": "1"}, json={"errorSummary": "API call exceeded rate limit"}
    )
    with pytest.raises(ConnectorError, match="rate limit"):
        run(okta, ActionKind.RESET_MFA)
    assert post.call_count == 1


@respx.mock
def test_timeout_on_a_non_idempotent_call_is_a_timeout_and_is_not_remembered(
    okta: OktaIdentityProvider,
) -> None:
    respx.get(USER_URL).respond(json=USER)
    post = respx.post(f"{ORG}/api/v1/users/{UID}/lifecycle/reset_factors").mock(
        side_effect=[httpx.ReadTimeout("slow"), httpx.Response(200, json={})]
    )
    with pytest.raises(ConnectorTimeout):
        run(okta, ActionKind.RESET_MFA, "k")
    assert post.call_count == 1  # not retried: the broker keeps the request pending
    assert run(okta, ActionKind.RESET_MFA, "k").summary == {"factors_reset": True}


@respx.mock
def test_errors_carry_okta_error_summary(okta: OktaIdentityProvider) -> None:
    respx.get(USER_URL).respond(
        404, json={"errorCode": "E0000007", "errorSummary": "Not found: Resource not found"}
    )
    with pytest.raises(ConnectorError, match="Not found: Resource not found"):
        run(okta, ActionKind.REVOKE_SESSIONS)


@respx.mock
def test_health(okta: OktaIdentityProvider) -> None:
    respx.get(f"{ORG}/api/v1/users/me").mock(
        side_effect=[
            httpx.Response(200, json=USER),
            httpx.Response(401, json={"errorSummary": "Invalid token"}),
        ]
    )
    assert okta.health().ok
    bad = okta.health()
    assert not bad.ok and "Invalid token" in bad.detail


def test_token_never_goes_to_another_host(okta: OktaIdentityProvider) -> None:
    with pytest.raises(ConnectorError, match="refusing"):
        okta.call("GET", "https://evil.example/api/v1/logs", idempotent=True)
    with pytest.raises(ConnectorError, match="refusing"):
        okta.call("GET", "https://acme.okta.com.evil.example/api/v1/logs", idempotent=True)


@respx.mock
def test_revoke_privilege_deletes_the_membership_and_404_is_already_gone(okta: OktaIdentityProvider) -> None:
    respx.get(USER_URL).respond(json=USER)
    route = respx.delete(f"{ORG}/api/v1/groups/00gB/users/{UID}")
    route.side_effect = [httpx.Response(503), httpx.Response(204), httpx.Response(404, json={})]
    first = run(okta, ResponseAction.REVOKE_PRIVILEGE, "r1", group="00gB")  # a DELETE is retried
    assert route.call_count == 2 and first.summary["was_member"] is True
    again = run(okta, ResponseAction.REVOKE_PRIVILEGE, "r2", group="00gB")
    assert again.summary == {"group_removed": "00gB", "okta_group_id": "00gB", "was_member": False}
    respx.delete(f"{ORG}/api/v1/groups/00gC/users/{UID}").respond(
        403, json={"errorSummary": "You do not have permission to perform the requested action"}
    )
    with pytest.raises(ConnectorError, match="permission"):
        run(okta, ResponseAction.REVOKE_PRIVILEGE, "r3", group="00gC")
