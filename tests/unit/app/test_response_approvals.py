"""Destructive runbook steps wait for an analyst: approved then executed, or refused and never run,
both decisions on the record with who took them."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from deskguard.app.respond import respond
from deskguard.app.response_approvals import approve_step, list_responses, refuse_step
from deskguard.domain.actions import ResponseAction
from deskguard.domain.errors import (
    Forbidden,
    InvalidTransition,
    NotFound,
    SeparationOfDuties,
    ValidationFailed,
)
from deskguard.domain.response import StepStatus
from runbook_kit import alert, book, events
from world import World, build_world

SUSPEND = """
id: Respond.Test.Suspend
trigger: {rules: [Some.Rule.Id]}
steps:
  - suspend_account
  - notify: {channel: slack, to: "#soc", approval: required}
"""
VIP = "vip@t_a.example"


def _waiting(world: World, tmp_path: Path, user: str = VIP) -> str:
    outcomes = respond(world.ctx, [book(tmp_path, SUSPEND)], [alert(user)])
    assert [(o.kind, o.outcome) for o in outcomes] == [
        ("suspend_account", "awaiting_approval"),
        ("notify", "awaiting_approval"),  # any step may ask for an approval
    ]
    return outcomes[0].run_id


def test_a_destructive_step_waits_then_runs_once_approved(uow_factory, tmp_path: Path) -> None:
    world = build_world(uow_factory)
    run_id = _waiting(world, tmp_path)
    assert world.idp.calls == []  # nothing acted yet
    analyst = world.operator("analyst")
    queue = list_responses(world.ctx, actor=analyst, tenant_id="t_a", status="awaiting_approval")
    assert {(s.run_id, s.index) for s in queue} == {(run_id, 0), (run_id, 1)}
    done = approve_step(
        world.ctx, actor=analyst, tenant_id="t_a", run_id=run_id, index=0, comment="chain confirmed"
    )
    assert (
        done.status == StepStatus.DONE and done.approver_id == "analyst" and done.comment == "chain confirmed"
    )
    assert "account suspended by fake" in done.detail
    assert world.idp.account(tenant_id="t_a", person_id="vip").suspended
    assert [(c[2], c[3]) for c in world.idp.calls] == [(ResponseAction.SUSPEND_ACCOUNT, f"{run_id}:0")]
    suspend = [e for e in events(world) if e["data"]["step"] == 0]
    assert [(e["data"]["outcome"], e["actor"]["id"]) for e in suspend] == [
        ("awaiting_approval", "deskguard"),
        ("approved", "analyst"),
        ("done", "deskguard"),
    ]
    approved = suspend[1]["data"]
    assert (approved["approver_id"], approved["approver_role"], approved["comment"]) == (
        "analyst",
        "analyst",
        "chain confirmed",
    )
    with world.ctx.reads() as uow:
        assert all(uow.ledger.find(event_id=e["id"]) is not None for e in suspend)
    still = list_responses(world.ctx, actor=analyst, tenant_id="t_a", status="awaiting_approval")
    assert [(s.index, s.kind) for s in still] == [(1, "notify")]
    with pytest.raises(InvalidTransition) as again:
        approve_step(world.ctx, actor=analyst, tenant_id="t_a", run_id=run_id, index=0, comment="twice")
    assert again.value.code == "invalid_transition.step_done"
    assert len(world.idp.calls) == 1


def test_a_refused_step_never_runs(uow_factory, tmp_path: Path) -> None:
    world = build_world(uow_factory)
    run_id = _waiting(world, tmp_path)
    admin = world.operator("admin")
    refused = refuse_step(
        world.ctx, actor=admin, tenant_id="t_a", run_id=run_id, index=0, comment="she is on a plane, it's her"
    )
    assert refused.status == StepStatus.REFUSED and refused.approver_id == "admin"
    assert refused.next_attempt_at is None and refused.decided_at == world.clock.now()
    assert world.idp.calls == []
    assert not world.idp.account(tenant_id="t_a", person_id="vip").suspended
    (decision,) = [e for e in events(world) if e["data"]["outcome"] == "refused"]
    assert decision["actor"]["id"] == "admin" and decision["data"]["comment"] == "she is on a plane, it's her"
    with pytest.raises(InvalidTransition):
        approve_step(
            world.ctx, actor=admin, tenant_id="t_a", run_id=run_id, index=0, comment="changed my mind"
        )
    assert world.idp.calls == []


def test_only_analysts_and_admins_of_the_tenant_decide_and_say_why(uow_factory, tmp_path: Path) -> None:
    world = build_world(uow_factory)
    run_id = _waiting(world, tmp_path)
    for who in ("agent", "sup"):
        with pytest.raises(Forbidden):
            approve_step(
                world.ctx, actor=world.operator(who), tenant_id="t_a", run_id=run_id, index=0, comment="ok"
            )
    with pytest.raises(ValidationFailed) as blank:
        approve_step(
            world.ctx, actor=world.operator("analyst"), tenant_id="t_a", run_id=run_id, index=0, comment=" "
        )
    assert blank.value.field == "comment"
    with pytest.raises(NotFound):  # the step exists in t_a only
        approve_step(
            world.ctx, actor=world.operator("admin"), tenant_id="t_b", run_id=run_id, index=0, comment="ok"
        )
    with pytest.raises(NotFound):
        approve_step(
            world.ctx, actor=world.operator("admin"), tenant_id="t_a", run_id=run_id, index=7, comment="ok"
        )
    with pytest.raises(ValidationFailed):
        list_responses(world.ctx, actor=world.operator("analyst"), tenant_id="t_a", status="approved-ish")
    assert world.idp.calls == []


def test_nobody_decides_a_step_about_themselves(uow_factory, tmp_path: Path) -> None:
    world = build_world(uow_factory)
    with world.ctx.uow() as uow:  # the analyst is also an employee of t_a
        plain = uow.persons.get(tenant_id="t_a", person_id="plain")
        uow.persons.add(replace(plain, id="anna", email="analyst@desk.example", employee_id="E-anna"))
        uow.commit()
    run_id = _waiting(world, tmp_path, user="analyst@desk.example")
    with pytest.raises(SeparationOfDuties):
        refuse_step(
            world.ctx, actor=world.operator("analyst"), tenant_id="t_a", run_id=run_id, index=0, comment="no"
        )
    done = approve_step(
        world.ctx, actor=world.operator("admin"), tenant_id="t_a", run_id=run_id, index=0, comment="ok"
    )
    assert done.status == StepStatus.DONE


def test_an_approved_step_whose_connector_times_out_is_retried_later(uow_factory, tmp_path: Path) -> None:
    world = build_world(uow_factory)
    run_id = _waiting(world, tmp_path)
    world.idp.timeout_next = True
    step = approve_step(
        world.ctx, actor=world.operator("analyst"), tenant_id="t_a", run_id=run_id, index=0, comment="go"
    )
    assert step.status == StepStatus.RETRYING and step.attempts == 1 and step.approver_id == "analyst"
    assert not world.idp.account(tenant_id="t_a", person_id="vip").suspended
