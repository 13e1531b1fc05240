"""Entra with a certificate credential instead of a client secret, against ``oauth_kit``'s token
server built from Microsoft's published contract (respx, no network): the assertion verifies with
the certificate's key (RS256, ``x5t#S256`` / ``x5t``, aud, iss = sub, jti, nbf, exp), exactly one
credential, the certificate must be the key's, and health reports its validity."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from pydantic import ValidationError

from deskguard.adapters.connectors.retry import Backoff
from deskguard.adapters.idp.entra import GRAPH, EntraIdentityProvider, GraphClient
from deskguard.adapters.idp.entra_auth import EntraCertificate, EntraSettings
from deskguard.adapters.system import SystemRandomness
from deskguard.domain.errors import ConfigurationError, ConnectorError, ConnectorTimeout
from oauth_kit import (
    Clock,
    EntraAuthServer,
    answer,
    b64url,
    cert_pem,
    certificate,
    ec_key,
    pem,
    rsa_key,
    secret_file,
    thumbprints,
)

TENANT = "contoso.onmicrosoft.com"


@pytest.fixture
def clock() -> Clock:
    return Clock()


def serve(clock: Clock, cert: Any) -> EntraAuthServer:
    server = EntraAuthServer(now=clock, tenant=TENANT, cert=cert)
    respx.post(server.token_url).mock(side_effect=server)
    return server


def graph(server: EntraAuthServer, clock: Clock, **certificate_fields: str) -> GraphClient:
    return GraphClient(
        tenant_id=TENANT,
        client_id=server.client_id,
        client_certificate=EntraCertificate(**certificate_fields),
        now=clock,
        backoff=Backoff(attempts=2),
        sleep=lambda _s: None,
    )


@respx.mock
def test_the_assertion_names_the_certificate_and_verifies_with_its_key(tmp_path: Path, clock: Clock) -> None:
    key = rsa_key(1)
    cert = certificate(key)
    server = serve(clock, cert)
    client = graph(
        server,
        clock,
        private_key=secret_file(tmp_path, "k.pem", pem(key)),
        certificate=secret_file(tmp_path, "c.pem", cert_pem(cert)),
    )
    users = answer(respx.get(f"{GRAPH}/users/a%40contoso.com"), server, json={"id": "u"})
    for _ in range(3):
        client.call("GET", "/users/a%40contoso.com", idempotent=True)
    assert len(server.issued) == 1 and users.call_count == 3
    header, claims = server.assertions[0]
    sha1, sha256 = thumbprints(cert)
    assert header == {
        "alg": "RS256",
        "typ": "JWT",
        "x5t#S256": b64url(bytes.fromhex(sha256)),
        "x5t": b64url(bytes.fromhex(sha1)),
    }
    assert claims["iss"] == claims["sub"] == server.client_id
    assert claims["aud"] == f"https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token"
    assert (
        claims["nbf"] == claims["iat"] == int(clock.at.timestamp()) and claims["exp"] - claims["nbf"] == 300
    )
    form = respx.calls[0].request.content.decode()
    assert "client_secret" not in form and "client_assertion_type=urn" in form
    clock.at += timedelta(seconds=3600)
    client.call("GET", "/users/a%40contoso.com", idempotent=True)
    assert len(server.issued) == 2 and server.assertions[0][1]["jti"] != server.assertions[1][1]["jti"]


@respx.mock
@pytest.mark.parametrize("which", ["sha1", "sha256", "bundle"])
def test_a_thumbprint_or_a_key_file_holding_the_certificate_is_enough(
    tmp_path: Path, clock: Clock, which: str
) -> None:
    key = rsa_key(1)
    cert = certificate(key)
    server = serve(clock, cert)
    sha1, sha256 = thumbprints(cert)
    fields: dict[str, str] = {
        "sha1": {"thumbprint": ":".join(sha1[i : i + 2] for i in range(0, 40, 2))},  # as some tools print it
        "sha256": {"thumbprint": sha256.lower()},
        "bundle": {},
    }[which]
    text = pem(key) + (cert_pem(cert) if which == "bundle" else "")
    client = graph(server, clock, private_key=secret_file(tmp_path, "k.pem", text), **fields)
    assert client.token() == server.issued[0]
    header = server.assertions[0][0]
    assert ("x5t" in header) == (which != "sha256") and ("x5t#S256" in header) == (which != "sha1")


@respx.mock
def test_a_refused_certificate_is_named_and_a_401_refetches_once(tmp_path: Path, clock: Clock) -> None:
    key = rsa_key(1)
    mine = certificate(key)
    server = serve(clock, certificate(rsa_key(2)))  # Entra holds another certificate
    client = graph(server, clock, private_key=secret_file(tmp_path, "k.pem", pem(key) + cert_pem(mine)))
    entra = EntraIdentityProvider(graph=client, randomness=SystemRandomness())
    health = entra.health()
    assert not health.ok and "invalid_client" in health.detail and "AADSTS700027" in health.detail
    assert "certificate CN=deskguard-graph, valid until 2027-01-01" in health.detail
    server.cert = mine  # uploaded
    org = answer(respx.get(f"{GRAPH}/organization"), server, json={"value": [{"displayName": "Contoso"}]})
    assert entra.health().ok
    server.revoked.add(server.issued[-1])
    assert entra.health().ok and len(server.issued) == 2
    assert [c.response.status_code for c in org.calls] == [200, 401, 200]


@respx.mock
def test_an_expired_certificate_fails_health_and_a_token_timeout_is_a_timeout(
    tmp_path: Path, clock: Clock
) -> None:
    key = rsa_key(1)
    cert = certificate(key, days=30)
    server = serve(clock, cert)
    client = graph(server, clock, private_key=secret_file(tmp_path, "k.pem", pem(key) + cert_pem(cert)))
    health = EntraIdentityProvider(graph=client, randomness=SystemRandomness()).health()
    assert not health.ok and "expired on 2026-01-31: upload a new one" in health.detail
    respx.post(server.token_url).mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(ConnectorTimeout, match="Entra token endpoint did not answer"):
        client.token()


def test_exactly_one_credential_and_a_certificate_of_the_key(tmp_path: Path, clock: Clock) -> None:
    key_ref = secret_file(tmp_path, "k.pem", pem(rsa_key(1)))
    other = secret_file(tmp_path, "c.pem", cert_pem(certificate(rsa_key(2))))
    cert = {"private_key": key_ref, "thumbprint": "AA" * 20}
    for bad, words in [
        ({}, "exactly one"),
        ({"client_secret": "env://S", "client_certificate": cert}, "exactly one"),
        ({"client_certificate": {**cert, "certificate": other}}, "not both"),
        ({"client_certificate": {"private_key": "-----BEGIN"}}, "client_certificate.private_key"),
    ]:
        with pytest.raises(ValidationError, match=words):
            EntraSettings(tenant_id=TENANT, client_id="app", **bad)
    cases: list[tuple[dict[str, str], str]] = [
        ({"private_key": key_ref, "certificate": other}, "not the private key's"),
        ({"private_key": key_ref}, "give the certificate"),
        ({"private_key": key_ref, "thumbprint": "zz"}, "not a hexadecimal thumbprint"),
        ({"private_key": key_ref, "thumbprint": "AB" * 10}, "40 hex digits"),
        ({"private_key": secret_file(tmp_path, "ec.pem", pem(ec_key())), "thumbprint": "AA" * 20}, "RS256"),
        (
            {"private_key": key_ref, "certificate": secret_file(tmp_path, "x.pem", "junk")},
            "no PEM certificate",
        ),
    ]
    for fields, words in cases:
        with pytest.raises(ConfigurationError, match=words):
            GraphClient(
                tenant_id=TENANT, client_id="app", client_certificate=EntraCertificate(**fields), now=clock
            )
    with pytest.raises(ConfigurationError, match="exactly one"):
        GraphClient(tenant_id=TENANT, client_id="app", now=clock)


@respx.mock
def test_a_secret_token_refusal_is_mapped_and_the_secret_never_quoted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ENTRA_S", "the-wrong-secret")
    server = EntraAuthServer(now=Clock(), tenant=TENANT, secret="right")
    respx.post(server.token_url).mock(side_effect=server)
    client = GraphClient(
        tenant_id=TENANT, client_id=server.client_id, client_secret="env://ENTRA_S", now=Clock()
    )
    with pytest.raises(ConnectorError) as caught:
        client.token()
    assert "refused (401 invalid_client): AADSTS7000215" in caught.value.message
    assert "the-wrong-secret" not in caught.value.message
