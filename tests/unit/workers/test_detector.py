"""The outbox reaches the detection engine: once, per tenant, with the person's login joined in."""

from __future__ import annotations

import pytest

from deskguard.app import directory
from deskguard.app.detection import Detector
from deskguard.app.requests import RequestDraft, open_request
from deskguard.domain.errors import ValidationFailed
from deskguard.domain.ports import AlertQuery
from deskguard.workers.detector import OutboxDetector
from world import World, build_world, detection_content


def _caller_claims_plain_then_agent_asks_for_boss(world: World, tenant: str) -> None:
    agent = world.operator("agent")
    ticket = directory.open_ticket(
        world.ctx,
        actor=agent,
        tenant_id=tenant,
        external_ref="INC-7",
        channel="phone",
        claimed_identity="plain@t_a.example",
        caller_number="+447700900123",
    )
    person = "boss" if tenant == "t_a" else "other"
    open_request(
        world.ctx,
        actor=agent,
        tenant_id=tenant,
        draft=RequestDraft(kind="unlock_account", person_id=person, ticket_id=ticket.id),
    )


def test_each_outbox_event_is_read_once_and_alerts_stay_in_their_tenant(uow_factory) -> None:
    world = build_world(uow_factory)
    _caller_claims_plain_then_agent_asks_for_boss(world, "t_a")
    worker = OutboxDetector(world.ctx)
    read = worker.tick()
    assert read >= 3  # ticket.opened, request.opened, request.decided...
    assert worker.tick() == 0  # the cursor moved
    with world.ctx.reads() as uow:
        alerts = uow.alerts.list(AlertQuery(tenant_id="t_a"))
        assert uow.alerts.list(AlertQuery(tenant_id="t_b")) == []
    mismatch = [a for a in alerts if a.rule_id == "Deskguard.Ticket.RequestForAnotherPerson"]
    assert len(mismatch) == 1
    assert mismatch[0].entities["user"] == "boss@t_a.example"  # person_id joined to the login
    assert "plain@t_a.example" in mismatch[0].explanation
    _caller_claims_plain_then_agent_asks_for_boss(world, "t_b")
    assert worker.tick() >= 3  # t_b's events, read after t_b's own cursor


def test_monitor_mode_is_set_by_rule_id_and_an_unknown_id_is_refused() -> None:
    with pytest.raises(ValidationFailed, match="Okta.Nope.Nope"):
        Detector(detection_content(), monitor=frozenset({"Okta.Nope.Nope"}))
    Detector(detection_content(), monitor=frozenset({"Okta.Chain.ResetMfaNewFactor"}))
