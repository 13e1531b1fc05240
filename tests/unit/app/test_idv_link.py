"""The ``external_idv`` link reaches the person only (``app.verification_idv``): the agent's proof,
the outbox, the ledger and every stored row hold no link in clear; the person's portal view and
their registered e-mail get it; a failed e-mail or a lapsed link is handled; the webhook's verdict
still settles the proof."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest
from structlog.testing import capture_logs

from deskguard.app import requests, verification, verification_idv
from deskguard.domain.errors import ConnectorTimeout, NotFound
from deskguard.domain.events import EventType
from deskguard.domain.model import Factor, FactorKind, Person
from deskguard.domain.ports_idv import masked_email
from deskguard.domain.requests import ProofStatus, RequestState
from idv_kit import rows_holding
from world import TUESDAY_10_PARIS, World

pytestmark = pytest.mark.db


def _start(world: World, person_id: str = "plain"):  # noqa: ANN202 - (request, proof)
    request = requests.open_request(
        world.ctx,
        actor=world.operator("agent"),
        tenant_id="t_a",
        draft=requests.RequestDraft(kind="reset_password", person_id=person_id, justification="locked out"),
    )
    proof = verification.start_proof(
        world.ctx,
        actor=world.operator("agent"),
        tenant_id="t_a",
        request_id=request.id,
        method="external_idv",
    )
    return request, proof


def _checks(world: World, person_id: str = "plain") -> list[verification_idv.IdentityCheck]:
    return verification_idv.identity_checks(world.ctx, actor=world.person(person_id), tenant_id="t_a")


def _events(world: World) -> list:
    with world.ctx.reads() as uow:
        return list(uow.outbox.list(tenant_id="t_a"))


def test_the_link_goes_to_the_persons_portal_and_registered_email_never_to_the_agent(world: World) -> None:
    request, proof = _start(world)
    (check,) = _checks(world)
    url = check.url
    ((sid, _, _),) = world.idv.sessions
    assert url.startswith(f"/demo/idv/{sid}?t=") and len(url) > len(f"/demo/idv/{sid}?t=") + 16
    # the agent's proof: the session and where the link went, never the link
    assert proof.challenge == {
        "session_id": sid,
        "link_sent_to": "portal+email",
        "email": "sent",
        "email_to": "p•••@home.example",
        "link_expires_at": proof.expires_at.isoformat(),
    }
    assert url not in json.dumps(proof.challenge)
    # the person's registered (recovery) address got it, through the e-mail channel
    (mail,) = world.response_notifier.sent
    assert (mail.channel, mail.to) == ("email", "plain@home.example")
    assert (
        url in mail.text
        and "agent of the IT helpdesk" in mail.text
        and "Never read this link out" in mail.text
    )
    # the portal's view: the request, who opened it, until when
    assert (check.request.id, check.opened_by, check.expires_at) == (request.id, "agent", proof.expires_at)
    assert url not in repr(check)
    # nothing stored holds the link in clear: not the proof, not the outbox, not the ledger
    engine = world.ctx.uow.engine  # type: ignore[attr-defined]
    assert any(r.startswith("proofs:") for r in rows_holding(engine, sid))  # the scan does see text
    assert rows_holding(engine, url) == [] and rows_holding(engine, url.partition("?t=")[2]) == []
    delivered = [e for e in _events(world) if e.type == EventType.SECRET_DELIVERED]
    assert [(e.data["kind"], e.data["delivered_to"], e.data["proof_id"]) for e in delivered] == [
        ("identity_check_link", "recovery_email", proof.id)
    ]
    with world.ctx.reads() as uow:
        stored = uow.proofs.get(tenant_id="t_a", proof_id=proof.id)
    assert stored is not None and stored.challenge["email"] == "sent"


def test_only_the_target_sees_the_link_and_an_operator_has_no_portal_view(world: World) -> None:
    _start(world)
    assert len(_checks(world)) == 1
    assert _checks(world, "vip") == [] and _checks(world, "boss") == []
    with pytest.raises(NotFound):
        verification_idv.identity_checks(world.ctx, actor=world.operator("agent"), tenant_id="t_a")
    with pytest.raises(NotFound):  # the person of another tenant
        verification_idv.identity_checks(world.ctx, actor=world.person("plain", "t_b"), tenant_id="t_a")


def test_the_verdict_settles_the_proof_and_the_check_leaves_the_portal(world: World) -> None:
    request, proof = _start(world)
    done = verification.idv_result(world.ctx, session_id=proof.challenge["session_id"], verified=True)
    assert done.status == ProofStatus.SUCCEEDED
    assert _checks(world) == []
    with world.ctx.reads() as uow:
        after = uow.requests.get(tenant_id="t_a", request_id=request.id)
    assert after is not None and after.state != RequestState.PENDING_VERIFICATION


def test_a_decline_fails_the_proof_and_the_check_leaves_the_portal(world: World) -> None:
    _, proof = _start(world)
    with pytest.raises(Exception, match="external identity verification failed"):
        verification.idv_result(world.ctx, session_id=proof.challenge["session_id"], verified=False)
    assert _checks(world) == []


def test_the_vendors_expiry_bounds_the_link(world: World) -> None:
    world.idv.expires_at = world.clock.now() + timedelta(minutes=10)
    _, proof = _start(world)
    assert proof.challenge["link_expires_at"] == world.idv.expires_at.isoformat()
    assert proof.expires_at > world.idv.expires_at  # the proof lives longer (1 h)
    assert "2026-12-01 09:10 UTC" in world.response_notifier.sent[0].text
    (check,) = _checks(world)
    assert check.expires_at == world.idv.expires_at
    world.clock.advance(seconds=10 * 60)
    assert _checks(world) == []


def test_a_vendor_expiry_after_the_proofs_is_cut_to_the_proofs(world: World) -> None:
    world.idv.expires_at = world.clock.now() + timedelta(days=7)
    _, proof = _start(world)
    assert proof.challenge["link_expires_at"] == proof.expires_at.isoformat()
    world.clock.advance(seconds=3600)
    assert _checks(world) == []


def test_a_failed_email_leaves_the_link_in_the_portal_and_is_recorded_without_it(world: World) -> None:
    world.response_notifier.fail_next = "relay refused the message"
    with capture_logs() as logs:
        _, proof = _start(world)
    assert proof.status == ProofStatus.PENDING and proof.challenge["email"] == "failed"
    (check,) = _checks(world)
    assert world.response_notifier.sent == []
    (failed,) = [e for e in _events(world) if e.type == EventType.SECRET_DELIVERY_FAILED]
    assert failed.data == {
        "proof_id": proof.id,
        "delivered_to": "recovery_email",
        "kind": "identity_check_link",
        "failed": "ConnectorError",
    }
    assert [entry["event"] for entry in logs] == ["idv_link_email_failed"]
    assert check.url not in json.dumps(logs, default=str)


def test_a_session_that_timed_out_stores_nothing_and_sends_nothing(world: World) -> None:
    world.idv.timeouts = 1
    with pytest.raises(ConnectorTimeout):
        _start(world)
    assert _checks(world) == [] and world.response_notifier.sent == []
    assert [e for e in _events(world) if e.type == EventType.PROOF_STARTED] == []


def test_the_registered_email_comes_from_the_directory_recovery_first() -> None:
    base = Person(
        id="p-1", tenant_id="t_a", employee_id="E-1", email="p1@t_a.example", display_name="Person One"
    )
    assert verification_idv.registered_email(base) == ("p1@t_a.example", "work_email")
    recovery = Factor(
        id="f-mail",
        kind=FactorKind.RECOVERY_EMAIL,
        label="home",
        enrolled_at=TUESDAY_10_PARIS,
        address="me@home.example",
    )
    assert verification_idv.registered_email(replace(base, factors=(recovery,))) == (
        "me@home.example",
        "recovery_email",
    )
    assert verification_idv.registered_email(replace(base, email="")) == ("", "")


def test_masked_email() -> None:
    assert masked_email("jean.martin@acme.example") == "j•••@acme.example"
    assert masked_email("not-an-address") == "•••"
    assert masked_email("@acme.example") == "•••"
