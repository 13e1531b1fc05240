"""4-eyes: the approver is never the requester nor the target, holds the role, approves exact params."""

from __future__ import annotations

import pytest

from deskguard.app import approvals, requests, verification
from deskguard.app.requests import RequestDraft
from deskguard.domain.errors import Conflict, Forbidden, InvalidTransition, NotFound, SeparationOfDuties
from deskguard.domain.requests import RequestState
from world import World


def _critical_ready_for_approval(world: World, *, by: str = "agent", person: str = "vip") -> str:
    """A reset_mfa with call-back + push done: waiting for a supervisor."""
    request = requests.open_request(
        world.ctx,
        actor=world.operator(by),
        tenant_id="t_a",
        draft=RequestDraft(kind="reset_mfa", person_id=person),
    )
    push = verification.start_proof(
        world.ctx,
        actor=world.operator(by),
        tenant_id="t_a",
        request_id=request.id,
        method="push_number_match",
    )
    verification.respond_push(
        world.ctx,
        actor=world.person(person),
        tenant_id="t_a",
        proof_id=push.id,
        approve=True,
        number=push.challenge["number_to_read_out"],
    )
    call = verification.start_proof(
        world.ctx,
        actor=world.operator(by),
        tenant_id="t_a",
        request_id=request.id,
        method="callback_automated",
    )
    verification.callback_result(world.ctx, call_id=call.challenge["call_id"], confirmed=True)
    stored, _ = requests.get_request(
        world.ctx, actor=world.operator(by), tenant_id="t_a", request_id=request.id
    )
    assert stored.state == RequestState.PENDING_APPROVAL
    return request.id


def _approve(world: World, rid: str, by: str, **kw):
    return approvals.decide_approval(
        world.ctx,
        actor=world.operator(by),
        tenant_id="t_a",
        request_id=rid,
        verdict=kw.pop("verdict", "approve"),
        comment=kw.pop("comment", "ok"),
        **kw,
    )


def test_the_requester_cannot_approve_their_own_request(world: World) -> None:
    rid = _critical_ready_for_approval(world, by="sup")
    with pytest.raises(SeparationOfDuties) as err:
        _approve(world, rid, "sup")
    assert err.value.code == "separation_of_duties.requester"
    assert _approve(world, rid, "sup2").state == RequestState.READY


def test_the_target_cannot_approve_a_request_about_themselves(world: World) -> None:
    rid = _critical_ready_for_approval(world, person="supself")
    with pytest.raises(SeparationOfDuties) as err:
        _approve(world, rid, "sup")
    assert err.value.code == "separation_of_duties.target"


def test_an_agent_cannot_approve_and_a_supervisor_of_another_tenant_sees_nothing(world: World) -> None:
    rid = _critical_ready_for_approval(world)
    with pytest.raises(Forbidden):
        _approve(world, rid, "agent2")
    with pytest.raises(NotFound):
        _approve(world, rid, "sup_b_only")


def test_an_approval_binds_the_parameters_the_approver_saw(world: World) -> None:
    rid = _critical_ready_for_approval(world)
    with pytest.raises(InvalidTransition) as err:
        _approve(world, rid, "sup", params_hash="0" * 64)
    assert err.value.code == "invalid_transition.params_changed"


def test_a_denial_is_final_and_needs_a_reason(world: World) -> None:
    from deskguard.domain.errors import ValidationFailed

    rid = _critical_ready_for_approval(world)
    with pytest.raises(ValidationFailed):
        _approve(world, rid, "sup", verdict="deny", comment="  ")
    assert (
        _approve(world, rid, "sup", verdict="deny", comment="caller could not explain").state
        == RequestState.DENIED
    )
    with pytest.raises(InvalidTransition):
        _approve(world, rid, "sup2")


def test_the_same_approver_counts_once(world: World) -> None:
    """A watch-listed person's MFA reset needs two approvers: one supervisor twice is still one."""
    rid = _critical_ready_for_approval(world, person="watched")
    first = _approve(world, rid, "sup")
    assert first.state == RequestState.PENDING_APPROVAL
    assert first.decision["approvals"] == {"required": 2, "role": "supervisor", "present": 1, "missing": 1}
    with pytest.raises(Conflict) as again:
        _approve(world, rid, "sup")
    assert again.value.code == "conflict.already_decided"
    stored, _ = requests.get_request(
        world.ctx, actor=world.operator("agent"), tenant_id="t_a", request_id=rid
    )
    assert stored.state == RequestState.PENDING_APPROVAL
    assert _approve(world, rid, "sup2").state == RequestState.READY


def test_an_approval_expires(world: World) -> None:
    from deskguard.app import execution

    rid = _critical_ready_for_approval(world)
    _approve(world, rid, "sup")
    world.clock.advance(minutes=61)
    with pytest.raises(InvalidTransition) as err:
        execution.execute_request(world.ctx, actor=world.operator("agent"), tenant_id="t_a", request_id=rid)
    assert err.value.code == "invalid_transition.no_longer_allowed"
    stored, _ = requests.get_request(
        world.ctx, actor=world.operator("agent"), tenant_id="t_a", request_id=rid
    )
    assert stored.state == RequestState.PENDING_APPROVAL
    assert world.idp.calls == []
