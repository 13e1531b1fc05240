"""Self-service guardrails (a sensitive change waits, and the person is told), the portal's recent
actions, "this wasn't me" raising an alert, and the manager's confirmations list."""

from __future__ import annotations

import pytest

from deskguard.app import detection, execution, portal, requests, verification
from deskguard.app.requests import RequestDraft
from deskguard.domain.errors import InvalidTransition, NotFound, ValidationFailed
from deskguard.domain.ports import AlertQuery
from deskguard.domain.requests import RequestOrigin, RequestState
from world import World

DISPUTED = "Deskguard.Person.ActionDisputed"


def _self_service(world: World, kind: str, person: str = "plain") -> str:
    request = requests.open_request(
        world.ctx,
        actor=world.person(person),
        tenant_id="t_a",
        draft=RequestDraft(kind=kind, person_id=person),
    )
    assert request.origin == RequestOrigin.SELF_SERVICE
    return request.id


def test_a_sensitive_self_service_change_waits_the_delay_and_the_person_is_told(world: World) -> None:
    rid = _self_service(world, "reset_password")
    (notice,) = world.response_notifier.sent
    assert notice.channel == "email" and notice.to == "plain@t_a.example"
    assert "takes effect at 2026-12-02T09:00" in notice.text and "wasn't you" in notice.text
    with pytest.raises(InvalidTransition) as held:
        execution.execute_request(world.ctx, actor=world.operator("agent"), tenant_id="t_a", request_id=rid)
    assert held.value.code == "invalid_transition.self_service_delay"
    world.clock.advance(hours=23, minutes=59)
    with pytest.raises(InvalidTransition):
        execution.execute_request(world.ctx, actor=world.operator("agent"), tenant_id="t_a", request_id=rid)
    world.clock.advance(minutes=1)  # the delay has passed, and the request has not expired meanwhile
    done = execution.execute_request(
        world.ctx, actor=world.operator("agent"), tenant_id="t_a", request_id=rid
    )
    assert done.request.state == RequestState.EXECUTED


def test_a_low_risk_self_service_request_and_an_agents_request_are_not_held(world: World) -> None:
    low = _self_service(world, "unlock_account")
    assert world.response_notifier.sent == []
    ran = execution.execute_request(world.ctx, actor=world.operator("agent"), tenant_id="t_a", request_id=low)
    assert ran.request.state == RequestState.EXECUTED
    (item,) = portal.recent_actions(world.ctx, actor=world.person("plain"), tenant_id="t_a")
    assert item.not_before is None and not item.by_helpdesk


def test_recent_actions_are_the_persons_own_of_the_last_30_days(world: World) -> None:
    agent = world.operator("agent")
    old = requests.open_request(
        world.ctx, actor=agent, tenant_id="t_a", draft=RequestDraft(kind="unlock_account", person_id="plain")
    )
    world.clock.advance(days=20)
    new = requests.open_request(
        world.ctx, actor=agent, tenant_id="t_a", draft=RequestDraft(kind="reset_password", person_id="plain")
    )
    requests.open_request(
        world.ctx,
        actor=agent,
        tenant_id="t_a",
        draft=RequestDraft(kind="reset_password", person_id="swapped"),
    )
    seen = portal.recent_actions(world.ctx, actor=world.person("plain"), tenant_id="t_a")
    assert [a.request.id for a in seen] == [new.id, old.id] and all(a.by_helpdesk for a in seen)
    world.clock.advance(days=11)
    assert [
        a.request.id for a in portal.recent_actions(world.ctx, actor=world.person("plain"), tenant_id="t_a")
    ] == [new.id]
    with pytest.raises(NotFound):
        portal.recent_actions(world.ctx, actor=agent, tenant_id="t_a")  # the portal is the person's own


def test_this_wasnt_me_raises_an_alert_through_the_detection_path(world: World) -> None:
    request = requests.open_request(
        world.ctx,
        actor=world.operator("outsourced"),
        tenant_id="t_a",
        draft=RequestDraft(kind="reset_mfa", person_id="plain"),
    )
    with pytest.raises(NotFound):  # another person's request does not exist for this one
        portal.dispute_action(
            world.ctx, actor=world.person("swapped"), tenant_id="t_a", request_id=request.id
        )
    with pytest.raises(ValidationFailed):
        portal.dispute_action(
            world.ctx, actor=world.person("plain"), tenant_id="t_a", request_id=request.id, note="x" * 501
        )
    assert not detection.list_alerts(
        world.ctx, actor=world.operator("analyst"), query=AlertQuery(tenant_id="t_a", rule_id=DISPUTED)
    )
    portal.dispute_action(
        world.ctx, actor=world.person("plain"), tenant_id="t_a", request_id=request.id, note="I never called"
    )
    (alert,) = detection.list_alerts(
        world.ctx, actor=world.operator("analyst"), query=AlertQuery(tenant_id="t_a", rule_id=DISPUTED)
    )
    assert alert.severity == "high" and alert.entities["user"] == "plain@t_a.example"
    assert "reset_mfa" in alert.explanation
    assert "outsourced" in alert.explanation  # who opened it, for the analyst


def test_a_manager_sees_the_confirmations_of_their_reports_only(world: World) -> None:
    request = requests.open_request(
        world.ctx,
        actor=world.operator("agent"),
        tenant_id="t_a",
        draft=RequestDraft(kind="unlock_account", person_id="plain", justification="locked out"),
    )
    proof = verification.start_proof(
        world.ctx,
        actor=world.operator("agent"),
        tenant_id="t_a",
        request_id=request.id,
        method="manager_confirmation",
    )
    (waiting,) = portal.manager_confirmations(world.ctx, actor=world.person("boss"), tenant_id="t_a")
    assert waiting.proof.id == proof.id and waiting.report.id == "plain" and waiting.request.id == request.id
    assert portal.manager_confirmations(world.ctx, actor=world.person("plain"), tenant_id="t_a") == []
