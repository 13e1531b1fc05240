"""The demo pointed at a real OpenLDAP: an approved password reset really changes the password.

A private slapd holds Inès's entry (her e-mail, her current password). The demo runs with
``DESKGUARD_LDAP_*`` set, so the identity provider is the LDAP connector. Alice opens the reset,
Inès approves the push in her portal, Bruno approves, Alice executes: the temporary password goes
to Inès's verified channel (never to Alice), it binds, and the old one no longer does. Before the
approval nothing has changed in the directory.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from demo_desk import ALICE, BRUNO, Desk, T
from fastapi.testclient import TestClient
from ldap3 import Connection, Server

from deskguard.adapters.system import FixedClock, SeededRandomness
from deskguard.api.app import create_app
from deskguard.bootstrap import build
from deskguard.settings import load_settings
from deskguard.sim.demo import seed_demo
from slapd_server import ADMIN_DN, ADMIN_PW, PEOPLE, Slapd, running_slapd

INES = "ines.martin2@acme.example"
INES_DN, OLD_PASSWORD = f"uid=ines,{PEOPLE}", "ines-before-the-call"
TUESDAY_10_PARIS = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def slapd(tmp_path: Path) -> Iterator[Slapd]:
    with running_slapd(tmp_path / "slapd") as server:
        admin = Connection(Server(server.url), user=ADMIN_DN, password=ADMIN_PW, auto_bind=True)
        admin.add(
            INES_DN,
            ["inetOrgPerson"],
            {"cn": "Inès Martin", "sn": "Martin", "mail": INES, "userPassword": OLD_PASSWORD},
        )
        assert admin.result["result"] == 0, admin.result
        admin.unbind()
        yield server


@pytest.fixture
def ldap_desk(db_url: str, tmp_path: Path, slapd: Slapd) -> Iterator[Desk]:
    secret = tmp_path / "ldap-bind.secret"
    secret.write_text(ADMIN_PW + "\n")
    settings = load_settings(
        database_url=db_url,
        demo=True,
        witness_dir=tmp_path / "witness",
        ldap_url=slapd.url,
        ldap_bind_dn=ADMIN_DN,
        ldap_bind_password=f"file://{secret}",
        ldap_base_dn=PEOPLE,
    )
    runtime = build(settings, clock=FixedClock(TUESDAY_10_PARIS), randomness=SeededRandomness(3))
    creds = seed_demo(runtime.ctx).to_json()
    app = create_app(runtime.ctx, webhook_key=runtime.settings.webhook_key())
    with TestClient(app) as client:
        yield Desk(runtime, client, creds)
    runtime.engine.dispose()


def _binds(slapd: Slapd, password: str) -> bool:
    connection = Connection(Server(slapd.url, connect_timeout=2), user=INES_DN, password=password)
    try:
        return bool(connection.bind())
    finally:
        connection.unbind()


def test_an_approved_reset_changes_the_ldap_password(ldap_desk: Desk, slapd: Slapd) -> None:
    desk = ldap_desk
    assert type(desk.runtime.ctx.channels.idp.fallback).__name__ == "LdapIdentityProvider"  # type: ignore[attr-defined]
    ines = desk.creds["persons"][INES]["id"]
    opened = desk.post(f"{T}/requests", ALICE, {"kind": "reset_password", "person_id": ines}, status=201)
    proof = {"method": "push_number_match"}
    push = desk.post(f"{T}/requests/{opened['id']}/proofs", ALICE, proof, status=201)
    number = push["challenge"]["number_to_read_out"]
    desk.post(f"/api/v1/portal/pushes/{push['id']}", INES, {"approve": True, "number": number})
    request = desk.get(f"{T}/requests/{opened['id']}", ALICE)
    if request["state"] == "pending_approval":
        body = {"verdict": "approve", "comment": "checked", "params_hash": opened["params_hash"]}
        desk.post(f"{T}/requests/{opened['id']}/approvals", BRUNO, body)
    assert _binds(slapd, OLD_PASSWORD)  # nothing changed in the directory before execution

    executed = desk.post(f"{T}/requests/{opened['id']}/execute", ALICE)
    assert executed["request"]["state"] == "executed"
    assert executed["secret"] is None  # the agent never sees it
    (delivery,) = [d for d in desk.runtime.notifier.deliveries if d.person_id == ines]
    assert _binds(slapd, delivery.secret)
    assert not _binds(slapd, OLD_PASSWORD)
    assert delivery.secret not in str(executed)
