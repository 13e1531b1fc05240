"""Per-tenant ``idp`` connectors in the credential modes without shared secrets: an Okta service
app and an Entra certificate are accepted as references only, refused naming the field otherwise,
built into adapters whose health ``deskguard connectors check`` reports (token servers of
``oauth_kit``, respx, no network)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import respx
from typer.testing import CliRunner

from deskguard.adapters.idp.entra import GRAPH
from deskguard.adapters.system import SystemRandomness
from deskguard.bootstrap_connectors import Deps, build, validate
from deskguard.cli import connectors
from deskguard.cli.main import app
from deskguard.domain.connectors import TenantConnector
from deskguard.domain.errors import ValidationFailed
from oauth_kit import (
    Clock,
    EntraAuthServer,
    OktaAuthServer,
    answer,
    cert_pem,
    certificate,
    pem,
    rsa_key,
    secret_file,
)

ORG = "https://acme.okta.com"


class _Clock:
    def __init__(self, clock: Clock) -> None:
        self.now = clock


def flat(table: str) -> str:
    """The table's text without borders or wrapping (cells wrap at the console's width)."""
    return re.sub(r"[\s│┃]+", " ", table)


def row(kind: str, settings: dict) -> TenantConnector:
    stored = validate(name="idp", kind=kind, settings=settings)
    return TenantConnector(
        tenant_id="t_a", name="idp", kind=kind, settings=stored, updated_at=Clock()(), updated_by="admin"
    )


def test_the_new_modes_are_validated_as_references(tmp_path: Path) -> None:
    key = secret_file(tmp_path, "k.pem", pem(rsa_key()))
    oauth = {"org_url": ORG, "oauth": {"client_id": "0oa1", "private_key": key, "dpop": True}}
    assert validate(name="idp", kind="okta", settings=oauth) == oauth  # defaults are not stored
    assert validate(name="idp", kind="okta", settings={"org_url": ORG, "api_token": "env://T"})
    cert = {
        "tenant_id": "contoso.onmicrosoft.com",
        "client_id": "app",
        "client_certificate": {"private_key": key},
    }
    assert validate(name="idp", kind="entra", settings=cert) == cert
    for kind, settings, field in [
        (
            "okta",
            {"org_url": ORG, "oauth": {"client_id": "0oa1", "private_key": "inline"}},
            "settings.oauth.private_key",
        ),
        ("okta", {"org_url": ORG}, "settings"),
        ("okta", {"org_url": ORG, "oauth": {"client_id": "0oa1"}}, "settings.oauth.private_key"),
        ("entra", {**cert, "client_secret": "env://S"}, "settings"),
        (
            "entra",
            {**cert, "client_certificate": {"private_key": key, "pfx": "x"}},
            "settings.client_certificate.pfx",
        ),
    ]:
        with pytest.raises(ValidationFailed) as caught:
            validate(name="idp", kind=kind, settings=settings)
        assert caught.value.field == field, caught.value.message


@respx.mock
def test_connectors_check_reports_the_health_of_both(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    deps = Deps(clock=_Clock(clock), randomness=SystemRandomness())  # type: ignore[arg-type]
    okta_key, graph_key = rsa_key(), rsa_key(1)
    okta_server = OktaAuthServer(now=clock, org=ORG, public_key=okta_key.public_key(), dpop=True)
    respx.post(okta_server.token_url).mock(side_effect=okta_server)
    answer(respx.get(f"{ORG}/api/v1/users"), okta_server, json=[{"id": "00u1"}])
    cert = certificate(graph_key)
    entra_server = EntraAuthServer(now=clock, cert=cert)
    respx.post(entra_server.token_url).mock(side_effect=entra_server)
    answer(respx.get(f"{GRAPH}/organization"), entra_server, json={"value": [{"displayName": "Contoso"}]})
    okta = build(
        row("okta", {"org_url": ORG, "oauth": {"client_id": okta_server.client_id, "key_id": okta_server.kid,
                                               "private_key": secret_file(tmp_path, "o.pem", pem(okta_key)),
                                               "dpop": True}}),
        deps=deps,
    )  # fmt: skip
    bundle = secret_file(tmp_path, "g.pem", pem(graph_key) + cert_pem(cert))
    entra = build(
        row("entra", {"tenant_id": entra_server.tenant, "client_id": entra_server.client_id,
                      "client_certificate": {"private_key": bundle}}),
        deps=deps,
    )  # fmt: skip
    monkeypatch.setattr(connectors, "_adapters", lambda: [("idp", okta), ("idp_entra", entra)])
    result = CliRunner().invoke(app, ["connectors", "check"], terminal_width=400)
    assert result.exit_code == 0, result.output
    shown = flat(result.output)
    assert "DPoP-bound token" in shown and "reads users" in shown
    assert "certificate CN=deskguard-graph, valid until 2027-01-01" in shown
    okta_server.kid = "rotated-away"
    okta.oauth._forget()  # noqa: SLF001 - the next check asks for a token again
    result = CliRunner().invoke(app, ["connectors", "check"], terminal_width=400)
    assert result.exit_code == 1 and "invalid_client" in flat(result.output)
