"""Per-tenant connectors, end to end: Acme's directory is a real OpenLDAP, configured through the API.

The demo runs with no ``DESKGUARD_LDAP_*``: every tenant starts on the deployment's adapter (the
fake). Adrien (admin) points tnt_acme's ``idp`` at a private slapd; an approved reset for Inès
(Acme) then really changes her LDAP password, while Globex still executes through the fake. The
change is recorded with the secret's reference only. With slapd stopped, ``connectors test idp``
(API and CLI) reports failing health with the reason.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from demo_desk import ALICE, BRUNO, Desk, T
from test_ldap_reset import INES, OLD_PASSWORD, _binds, slapd  # noqa: F401 - the fixture is used
from typer.testing import CliRunner

from deskguard.cli.main import app as cli
from deskguard.domain.actions import ActionKind
from slapd_server import ADMIN_DN, ADMIN_PW, PEOPLE, Slapd, running_slapd

ADRIEN = "adrien.admin@desk.example"


def _configure_ldap(desk: Desk, url: str, tmp_path: Path) -> dict:
    secret = tmp_path / "acme-bind.secret"
    secret.write_text(ADMIN_PW + "\n")
    body = {
        "kind": "ldap",
        "settings": {"url": url, "bind_dn": ADMIN_DN, "bind_password": f"file://{secret}", "base_dn": PEOPLE},
    }
    r = desk.client.put(f"{T}/connectors/idp", json=body, headers=desk._auth(ADRIEN))
    assert r.status_code == 200, r.text
    return r.json()


def test_acme_resets_in_its_ldap_while_globex_keeps_the_fallback(
    desk: Desk,
    slapd: Slapd,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
) -> None:
    stored = _configure_ldap(desk, slapd.url, tmp_path)
    assert stored["settings"]["bind_password"].startswith("file://") and ADMIN_PW not in json.dumps(stored)
    listed = {c["name"]: c for c in desk.get(f"{T}/connectors", ADRIEN)}
    assert (listed["idp"]["kind"], listed["idp"]["source"], listed["idp"]["fake"]) == (
        "ldap",
        "tenant",
        False,
    )
    assert listed["idp"]["health"]["ok"] is True, listed["idp"]["health"]
    assert listed["ticketing"]["source"] == "deployment" and listed["ticketing"]["fake"] is True
    globex = {c["name"]: c for c in desk.get("/api/v1/tenants/tnt_globex/connectors", ADRIEN)}
    assert globex["idp"]["source"] == "deployment" and globex["idp"]["fake"] is True

    ines = desk.creds["persons"][INES]["id"]
    opened = desk.post(f"{T}/requests", ALICE, {"kind": "reset_password", "person_id": ines}, status=201)
    push = desk.post(
        f"{T}/requests/{opened['id']}/proofs", ALICE, {"method": "push_number_match"}, status=201
    )
    number = push["challenge"]["number_to_read_out"]
    desk.post(f"/api/v1/portal/pushes/{push['id']}", INES, {"approve": True, "number": number})
    if desk.get(f"{T}/requests/{opened['id']}", ALICE)["state"] == "pending_approval":
        body = {"verdict": "approve", "comment": "checked", "params_hash": opened["params_hash"]}
        desk.post(f"{T}/requests/{opened['id']}/approvals", BRUNO, body)
    executed = desk.post(f"{T}/requests/{opened['id']}/execute", ALICE)
    assert executed["request"]["state"] == "executed"
    (delivery,) = [d for d in desk.runtime.notifier.deliveries if d.person_id == ines]
    assert _binds(slapd, delivery.secret) and not _binds(slapd, OLD_PASSWORD)
    assert not [c for c in desk.runtime.idp.calls if c[0] == "tnt_acme"]  # the fake never saw Acme

    ctx = desk.runtime.ctx
    with ctx.reads() as uow:
        person = uow.persons.list(tenant_id="tnt_globex", limit=1)[0]
    ctx.channels.idp.execute(
        tenant_id="tnt_globex",
        person=person,
        kind=ActionKind.RESET_PASSWORD,
        params={"force_change_at_next_sign_in": True},
        idempotency_key="g1",
    )
    assert desk.runtime.idp.calls[-1][:2] == ("tnt_globex", person.id)  # Globex: the fallback

    events = desk.get(f"{T}/events", ADRIEN)
    (configured,) = [e for e in events if e["type"] == "connector.configured"]
    assert configured["data"]["kind"] == "ldap" and ADMIN_PW not in json.dumps(configured)


def test_a_stopped_directory_fails_its_test_with_the_reason(
    desk: Desk, tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with running_slapd(tmp_path / "slapd") as server:
        _configure_ldap(desk, server.url, tmp_path)
        r = desk.client.post(f"{T}/connectors/idp/test", headers=desk._auth(ADRIEN))
        assert r.status_code == 200 and r.json()["ok"] is True, r.text
    r = desk.client.post(f"{T}/connectors/idp/test", headers=desk._auth(ADRIEN))
    probe = r.json()
    assert probe["ok"] is False and server.url.removeprefix("ldap://") in probe["detail"], probe

    monkeypatch.setenv("DESKGUARD_DEMO", "true")
    monkeypatch.setenv("DESKGUARD_DATABASE_URL", db_url)
    monkeypatch.setenv("DESKGUARD_WITNESS_DIR", str(tmp_path / "witness"))
    result = CliRunner().invoke(
        cli, ["connectors", "test", "idp", "--tenant", "tnt_acme"], terminal_width=200
    )
    assert result.exit_code == 1, result.output
    assert "tnt_acme idp: FAILING" in result.output


def test_bad_settings_are_refused_naming_the_field_and_nothing_is_written(desk: Desk) -> None:
    cases = [
        (
            {
                "kind": "ldap",
                "settings": {
                    "url": "ldap://h",
                    "bind_dn": "cn=a",
                    "bind_password": "hunter2",
                    "base_dn": "dc=x",
                },
            },
            "settings.bind_password",
        ),
        ({"kind": "ldap", "settings": {"url": "ldap://h", "bind_dn": "cn=a"}}, "settings.bind_password"),
        (
            {
                "kind": "ldap",
                "settings": {
                    "url": "ldap://h",
                    "bind_dn": "cn=a",
                    "bind_password": "env://P",
                    "base_dn": "dc=x",
                    "colour": "red",
                },
            },
            "settings.colour",
        ),
        ({"kind": "servicenow", "settings": {}}, "kind"),
    ]
    for body, field in cases:
        r = desk.client.put(f"{T}/connectors/idp", json=body, headers=desk._auth(ADRIEN))
        assert r.status_code == 422, r.text
        assert field in r.text and "hunter2" not in r.text
    r = desk.client.put(f"{T}/connectors/nope", json={"kind": "ldap"}, headers=desk._auth(ADRIEN))
    assert r.status_code == 422 and "unknown connector" in r.text
    listed = desk.get(f"{T}/connectors", ADRIEN)
    assert all(c["configured"] is None for c in listed)
    r = desk.client.get(f"{T}/connectors", headers=desk._auth(ALICE))
    assert r.status_code == 403  # admins only
