"""Okta as an OAuth 2.0 service app (private_key_jwt, optionally DPoP-bound), against ``oauth_kit``'s
token server built from Okta's published contract (respx, no network): the assertion is verified
with the public key, tokens are cached, refreshed, re-fetched once on 401, refusals are named and
never quote the key or the assertion, and a timeout is never "probably done"."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from pydantic import ValidationError

from deskguard.adapters.connectors.retry import Backoff
from deskguard.adapters.idp.okta import OktaIdentityProvider
from deskguard.adapters.idp.okta_logs import OktaSystemLog
from deskguard.adapters.idp.okta_oauth import DEFAULT_SCOPES, OktaOAuth, OktaSettings
from deskguard.domain.actions import ActionKind
from deskguard.domain.errors import ConfigurationError, ConnectorError, ConnectorTimeout
from deskguard.domain.model import Person
from oauth_kit import Clock, OktaAuthServer, answer, ec_key, pem, rsa_key, secret_file

ORG = "https://acme.okta.com"
UID = "00u1abcd"
ALICE = Person(id="p-alice", tenant_id="t-a", employee_id="E1", email="alice@acme.test", display_name="Alice")
USER_URL = f"{ORG}/api/v1/users/alice%40acme.test"
USER = {"id": UID, "status": "ACTIVE"}


@pytest.fixture
def clock() -> Clock:
    return Clock()


def server_for(clock: Clock, **kw: Any) -> OktaAuthServer:
    key = kw.pop("key", None) or rsa_key()
    server = OktaAuthServer(now=clock, org=ORG, public_key=key.public_key(), **kw)
    respx.post(server.token_url).mock(side_effect=server)
    return server


def provider(tmp_path: Path, clock: Clock, server: OktaAuthServer, key: Any = None, **oauth: Any) -> Any:
    settings = {
        "client_id": server.client_id,
        "private_key": secret_file(tmp_path, "app.pem", pem(key or rsa_key())),
        "key_id": server.kid,
        "dpop": server.dpop,
        **oauth,
    }
    return OktaIdentityProvider(
        org_url=ORG,
        oauth=OktaOAuth(**settings),
        now=clock,
        backoff=Backoff(attempts=3),
        sleep=lambda _s: None,
    )


def run(okta: OktaIdentityProvider, kind: ActionKind, key: str = "k1", **params: Any) -> Any:
    return okta.execute(tenant_id="t-a", person=ALICE, kind=kind, params=params, idempotency_key=key)


@respx.mock
def test_the_assertion_verifies_with_the_registered_key_and_one_token_serves_many_calls(
    tmp_path: Path, clock: Clock
) -> None:
    server = server_for(clock)
    okta = provider(tmp_path, clock, server)
    lookup = answer(respx.get(USER_URL), server, json=USER)
    sessions = answer(respx.delete(f"{ORG}/api/v1/users/{UID}/sessions"), server, 204)
    for n in range(3):
        run(okta, ActionKind.REVOKE_SESSIONS, f"k{n}")
    assert len(server.issued) == 1 and lookup.call_count == 3 and sessions.call_count == 3
    header, claims = server.assertions[0]  # the server verified the RS256 signature with the public key
    assert header == {"alg": "RS256", "typ": "JWT", "kid": "key-1"}
    assert claims["iss"] == claims["sub"] == "0oa1serviceapp"
    assert claims["aud"] == f"{ORG}/oauth2/v1/token"
    assert claims["exp"] - claims["iat"] == 300 and claims["iat"] == int(clock.at.timestamp())
    form = respx.calls[0].request.content.decode()
    assert "scope=" + "+".join(DEFAULT_SCOPES) in form
    assert sessions.calls.last.request.headers["Authorization"] == f"Bearer {server.issued[0]}"


@respx.mock
def test_an_ec_key_signs_es256_and_each_assertion_has_a_new_jti(tmp_path: Path, clock: Clock) -> None:
    key = ec_key()
    server = server_for(clock, key=key, expires_in=120)
    okta = provider(tmp_path, clock, server, key=key)
    answer(respx.get(USER_URL), server, json=USER)
    answer(respx.delete(f"{ORG}/api/v1/users/{UID}/sessions"), server, 204)
    run(okta, ActionKind.REVOKE_SESSIONS, "a")
    clock.at += timedelta(seconds=61)  # within a minute of the token's expiry: a new one
    run(okta, ActionKind.REVOKE_SESSIONS, "b")
    assert len(server.issued) == 2
    assert [h["alg"] for h, _ in server.assertions] == ["ES256", "ES256"]
    assert len({c["jti"] for _, c in server.assertions}) == 2


@respx.mock
def test_a_401_forgets_the_token_and_sends_once_more_even_a_lifecycle_post(
    tmp_path: Path, clock: Clock
) -> None:
    server = server_for(clock)
    okta = provider(tmp_path, clock, server)
    answer(respx.get(USER_URL), server, json=USER)
    guarded = server.protect(lambda _r: httpx.Response(200, json={}))
    revoke = [False]

    def reset_answer(request: httpx.Request) -> httpx.Response:
        if revoke[0]:  # an admin revoked the token: Okta answers 401, having done nothing
            revoke[0] = False
            server.revoked.add(server.issued[-1])
        return guarded(request)

    reset = respx.post(f"{ORG}/api/v1/users/{UID}/lifecycle/reset_factors").mock(side_effect=reset_answer)
    run(okta, ActionKind.RESET_MFA, "a")
    revoke[0] = True
    run(okta, ActionKind.RESET_MFA, "b")
    assert len(server.issued) == 2
    assert [c.response.status_code for c in reset.calls] == [200, 401, 200]


@respx.mock
def test_a_second_401_is_the_error_and_asks_once(tmp_path: Path, clock: Clock) -> None:
    server = server_for(clock)
    okta = provider(tmp_path, clock, server)
    respx.get(USER_URL).respond(401, json={"errorSummary": "Invalid token provided"})
    with pytest.raises(ConnectorError, match=r"Okta refused \(401\): Invalid token provided"):
        run(okta, ActionKind.REVOKE_SESSIONS)
    assert len(server.issued) == 2  # the first, then one re-fetch; no loop


@respx.mock
@pytest.mark.parametrize(
    ("change", "error", "words"),
    [
        ({"kid": "another"}, "invalid_client", "kid does not match"),
        ({"client_id": "0oaOther"}, "invalid_client", "iss and sub"),
        ({"granted": ("okta.users.read",)}, "invalid_scope", "not allowed: okta.users.manage"),
        ({"dpop": True}, "invalid_dpop_proof", "DPoP proof JWT header is missing"),
    ],
)
def test_token_refusals_name_the_cause_and_never_quote_the_key_or_assertion(
    tmp_path: Path, clock: Clock, change: dict[str, Any], error: str, words: str
) -> None:
    key = rsa_key()
    server = server_for(clock, key=key)
    okta = provider(tmp_path, clock, server, key=key)  # configured for the server as it was
    for name, value in change.items():
        setattr(server, name, value)
    lookup = respx.get(USER_URL).respond(json=USER)
    with pytest.raises(ConnectorError) as caught:
        run(okta, ActionKind.REVOKE_SESSIONS)
    message = caught.value.message
    assert "Okta token endpoint refused" in message and error in message and words in message
    assert caught.value.details == {"oauth_error": error}
    assert not lookup.called
    sent = respx.calls.last.request.content.decode()
    assertion = sent.split("client_assertion=")[1].split("&")[0]
    assert assertion not in message and "PRIVATE KEY" not in message
    assert okta.health().ok is False and error in okta.health().detail


@respx.mock
def test_an_echoed_assertion_is_redacted(tmp_path: Path, clock: Clock) -> None:
    def echo(request: httpx.Request) -> httpx.Response:
        sent = request.content.decode().split("client_assertion=")[1].split("&")[0]
        return httpx.Response(401, json={"error": "invalid_client", "error_description": f"bad {sent}"})

    okta = provider(tmp_path, clock, OktaAuthServer(now=clock, org=ORG))
    respx.post(f"{ORG}/oauth2/v1/token").mock(side_effect=echo)
    with pytest.raises(ConnectorError, match=r"bad \[redacted\]"):
        run(okta, ActionKind.REVOKE_SESSIONS)


@respx.mock
def test_timeouts_are_never_probably_done(tmp_path: Path, clock: Clock) -> None:
    server = server_for(clock)
    okta = provider(tmp_path, clock, server)
    respx.post(server.token_url).mock(side_effect=httpx.ConnectTimeout("slow"))
    lookup = respx.get(USER_URL).respond(json=USER)
    with pytest.raises(ConnectorTimeout, match="Okta token endpoint did not answer"):
        run(okta, ActionKind.RESET_MFA, "a")
    assert not lookup.called  # no token, no call
    respx.post(server.token_url).mock(side_effect=server)
    answer(respx.get(USER_URL), server, json=USER)
    reset = respx.post(f"{ORG}/api/v1/users/{UID}/lifecycle/reset_factors").mock(
        side_effect=httpx.ReadTimeout("lost")
    )
    with pytest.raises(ConnectorTimeout):
        run(okta, ActionKind.RESET_MFA, "b")
    assert reset.call_count == 1  # the answer was lost: not tried again, the request stays pending


@respx.mock
def test_dpop_bound_tokens_with_the_nonce_dance(tmp_path: Path, clock: Clock) -> None:
    server = server_for(clock, dpop=True, resource_nonce="rs-nonce-1")
    okta = provider(tmp_path, clock, server)
    lookup = answer(respx.get(USER_URL), server, json=USER)
    sessions = answer(respx.delete(f"{ORG}/api/v1/users/{UID}/sessions"), server, 204)
    run(okta, ActionKind.REVOKE_SESSIONS, "a")
    run(okta, ActionKind.REVOKE_SESSIONS, "b")
    token_calls = [c for c in respx.calls if c.request.url.path == "/oauth2/v1/token"]
    assert [c.response.json().get("error") for c in token_calls] == ["use_dpop_nonce", None]
    assert len(server.issued) == 1 and len(server.assertions) == 2  # a fresh assertion on the retry
    assert len({c["jti"] for _, c in server.assertions}) == 2
    request = sessions.calls.last.request
    assert request.headers["Authorization"] == f"DPoP {server.issued[0]}"
    header, claims = server.dpop_proofs[-1]
    assert (
        header["typ"] == "dpop+jwt"
        and header["alg"] == "ES256"
        and set(header["jwk"]) == {"kty", "crv", "x", "y"}
    )
    assert claims["htm"] == "DELETE" and claims["htu"] == f"{ORG}/api/v1/users/{UID}/sessions"
    assert claims["nonce"] == "rs-nonce-1" and "ath" in claims
    # the resource asked for its nonce once (401 use_dpop_nonce); afterwards proofs carry it
    assert [c.response.status_code for c in lookup.calls] == [401, 200, 200]
    assert len({c["jti"] for _, c in server.dpop_proofs}) == len(server.dpop_proofs)


@respx.mock
def test_the_system_log_poller_uses_the_same_token(tmp_path: Path, clock: Clock) -> None:
    server = server_for(clock, dpop=True)
    okta = provider(tmp_path, clock, server)
    logs = answer(
        respx.get(f"{ORG}/api/v1/logs"),
        server,
        json=[{"uuid": "u1", "published": "2026-12-01T09:59:00.000Z"}],
        headers={"Link": f'<{ORG}/api/v1/logs?after=c1>; rel="next"'},
    )
    page = OktaSystemLog(okta, now=clock).fetch(tenant_id="t-a", cursor=None)
    assert [r["uuid"] for r in page.records] == ["u1"] and page.after.next_url.endswith("after=c1")
    assert logs.calls.last.request.headers["Authorization"].startswith("DPoP ")
    assert server.dpop_proofs[-1][1]["htu"] == f"{ORG}/api/v1/logs"  # no query in htu


@respx.mock
def test_health_of_a_service_app_reads_one_user(tmp_path: Path, clock: Clock) -> None:
    server = server_for(clock)
    okta = provider(tmp_path, clock, server)
    users = answer(respx.get(f"{ORG}/api/v1/users"), server, json=[USER])
    health = okta.health()
    assert health.ok and "OAuth service app 0oa1serviceapp (bearer token" in health.detail
    assert users.calls.last.request.url.params["limit"] == "1"


def test_settings_take_exactly_one_credential_and_secrets_as_references(tmp_path: Path) -> None:
    key = secret_file(tmp_path, "k.pem", pem(rsa_key()))
    oauth = {"client_id": "0oa1", "private_key": key}
    assert OktaSettings(org_url=ORG, oauth=oauth).oauth.scopes == DEFAULT_SCOPES
    assert OktaSettings(org_url=ORG, api_token="env://T").api_token == "env://T"
    for bad, words in [
        ({}, "exactly one"),
        ({"api_token": "env://T", "oauth": oauth}, "exactly one"),
        ({"oauth": {**oauth, "private_key": "-----BEGIN PRIVATE KEY-----"}}, "oauth.private_key"),
        ({"oauth": {**oauth, "scopes": "okta.users.read users:write"}}, "users:write"),
        ({"oauth": {**oauth, "secret": "x"}}, "oauth.secret"),
    ]:
        with pytest.raises(ValidationError, match=words):
            OktaSettings(org_url=ORG, **bad)
    assert OktaOAuth(**oauth, scopes="okta.users.read, okta.logs.read").scopes == (
        "okta.users.read",
        "okta.logs.read",
    )


def test_a_bad_private_key_is_a_configuration_error_naming_the_field(tmp_path: Path, clock: Clock) -> None:
    for text, words in [
        ("not a key", "not a PEM private key"),
        (pem(rsa_key()).replace("PRIVATE KEY", "PUBLIC KEY"), "not a PEM private key"),
    ]:
        ref = secret_file(tmp_path, "bad.pem", text)
        with pytest.raises(ConfigurationError, match=f"okta_private_key: {words}"):
            OktaIdentityProvider(org_url=ORG, oauth=OktaOAuth(client_id="0oa1", private_key=ref), now=clock)
    with pytest.raises(ConfigurationError, match="exactly one"):
        OktaIdentityProvider(org_url=ORG, now=clock)
