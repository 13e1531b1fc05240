"""The request flow through the use cases, on SQLite and PostgreSQL: open, prove, approve, execute."""

from __future__ import annotations

import pytest

from deskguard.app import approvals, execution, requests, verification
from deskguard.app.requests import RequestDraft
from deskguard.domain.errors import InvalidTransition, NotFound, ProofRejected, ValidationFailed
from deskguard.domain.events import EventType
from deskguard.domain.requests import ProofStatus, RequestState
from world import World


def _open(world: World, kind: str = "unlock_account", person: str = "plain", by: str = "agent", **kw):
    return requests.open_request(
        world.ctx,
        actor=world.operator(by),
        tenant_id="t_a",
        draft=RequestDraft(kind=kind, person_id=person, **kw),
    )


def _start(world: World, request_id: str, method: str):
    return verification.start_proof(
        world.ctx, actor=world.operator("agent"), tenant_id="t_a", request_id=request_id, method=method
    )


def _push(world: World, request_id: str, *, person: str = "plain") -> None:
    proof = _start(world, request_id, "push_number_match")
    number = proof.challenge["number_to_read_out"]
    verification.respond_push(
        world.ctx, actor=world.person(person), tenant_id="t_a", proof_id=proof.id, approve=True, number=number
    )


def test_a_low_tier_action_runs_after_one_proof_and_leaves_an_event_per_step(world: World) -> None:
    request = _open(world, justification="locked out after holidays")
    assert request.state == RequestState.PENDING_VERIFICATION
    _push(world, request.id)
    done = execution.execute_request(
        world.ctx, actor=world.operator("agent"), tenant_id="t_a", request_id=request.id
    )
    assert done.request.state == RequestState.EXECUTED and done.secret_for_agent is None
    assert [c[2].value for c in world.idp.calls] == ["unlock_account"]
    with world.ctx.uow() as uow:
        types = [e.type for e in uow.outbox.list(tenant_id="t_a")]
    assert types == [
        EventType.REQUEST_OPENED,
        EventType.REQUEST_DECIDED,
        EventType.REQUEST_STATE_CHANGED,
        EventType.PROOF_STARTED,
        EventType.PROOF_SUCCEEDED,
        EventType.REQUEST_DECIDED,
        EventType.REQUEST_STATE_CHANGED,
        EventType.REQUEST_EXECUTION_STARTED,
        EventType.REQUEST_EXECUTED,
    ]


def test_a_produced_password_goes_to_the_verified_channel_not_the_agent(world: World) -> None:
    request = _open(world, kind="reset_password", params={"deliver_to": "agent"})
    _push(world, request.id)
    done = execution.execute_request(
        world.ctx, actor=world.operator("agent"), tenant_id="t_a", request_id=request.id
    )
    assert done.secret_for_agent is None  # the default policy never shows it to the agent
    [delivery] = world.notifier.deliveries
    assert delivery.channel == "recovery_email" and delivery.person_id == "plain"
    assert delivery.secret not in str(done.request.result)
    with world.ctx.uow() as uow:
        assert all(delivery.secret not in str(e.envelope()) for e in uow.outbox.list(tenant_id="t_a"))


def test_a_push_with_the_wrong_number_fails_and_locks_after_three_attempts(world: World) -> None:
    request = _open(world)
    proof = _start(world, request.id, "push_number_match")
    wrong = (proof.challenge["number_to_read_out"] + 1) % 100
    for attempt in range(3):
        with pytest.raises(ProofRejected) as err:
            verification.respond_push(
                world.ctx,
                actor=world.person("plain"),
                tenant_id="t_a",
                proof_id=proof.id,
                approve=True,
                number=wrong,
            )
        assert err.value.details["attempts"] == attempt + 1
    assert err.value.code == "proof_rejected.locked"
    with pytest.raises(ProofRejected) as again:
        verification.respond_push(
            world.ctx,
            actor=world.person("plain"),
            tenant_id="t_a",
            proof_id=proof.id,
            approve=True,
            number=proof.challenge["number_to_read_out"],
        )
    assert again.value.code == "proof_rejected.locked"


def test_another_person_cannot_answer_someone_elses_push(world: World) -> None:
    request = _open(world)
    proof = _start(world, request.id, "push_number_match")
    with pytest.raises(NotFound):
        verification.respond_push(
            world.ctx,
            actor=world.person("vip"),
            tenant_id="t_a",
            proof_id=proof.id,
            approve=True,
            number=proof.challenge["number_to_read_out"],
        )


def test_a_denied_push_fails_the_proof_at_once(world: World) -> None:
    request = _open(world)
    proof = _start(world, request.id, "push_number_match")
    with pytest.raises(ProofRejected) as err:
        verification.respond_push(
            world.ctx,
            actor=world.person("plain"),
            tenant_id="t_a",
            proof_id=proof.id,
            approve=False,
            number=None,
        )
    assert err.value.code == "proof_rejected.failed"


def test_totp_is_accepted_once_and_a_replayed_code_is_refused(world: World) -> None:
    first = _open(world)

    def start(rid: str):
        return _start(world, rid, "totp")

    code = world.code_now()
    proof = verification.submit_totp(
        world.ctx, actor=world.operator("agent"), tenant_id="t_a", proof_id=start(first.id).id, code=code
    )
    assert proof.status == ProofStatus.SUCCEEDED
    second = start(_open(world, person="plain").id)
    with pytest.raises(ProofRejected) as err:
        verification.submit_totp(
            world.ctx, actor=world.operator("agent"), tenant_id="t_a", proof_id=second.id, code=code
        )
    assert "already used" in err.value.message
    world.clock.advance(seconds=30)
    ok = verification.submit_totp(
        world.ctx, actor=world.operator("agent"), tenant_id="t_a", proof_id=second.id, code=world.code_now()
    )
    assert ok.status == ProofStatus.SUCCEEDED


def test_an_expired_proof_cannot_be_answered(world: World) -> None:
    request = _open(world)
    proof = _start(world, request.id, "push_number_match")
    world.clock.advance(minutes=4)
    with pytest.raises(ProofRejected) as err:
        verification.respond_push(
            world.ctx,
            actor=world.person("plain"),
            tenant_id="t_a",
            proof_id=proof.id,
            approve=True,
            number=proof.challenge["number_to_read_out"],
        )
    assert err.value.code == "proof_rejected.expired"


def test_an_expired_request_is_expired_on_next_touch(world: World) -> None:
    request = _open(world)
    world.clock.advance(hours=5)
    with pytest.raises(InvalidTransition) as err:
        _start(world, request.id, "push_number_match")
    assert err.value.code == "invalid_transition.expired"
    stored, _ = requests.get_request(
        world.ctx, actor=world.operator("agent"), tenant_id="t_a", request_id=request.id
    )
    assert stored.state == RequestState.EXPIRED


def test_knowledge_is_recorded_but_never_moves_the_request(world: World) -> None:
    request = _open(world)
    proof = verification.record_knowledge(
        world.ctx,
        actor=world.operator("agent"),
        tenant_id="t_a",
        request_id=request.id,
        topic="date of birth",
        matched=True,
    )
    assert not proof.counts
    stored, _ = requests.get_request(
        world.ctx, actor=world.operator("agent"), tenant_id="t_a", request_id=request.id
    )
    assert stored.state == RequestState.PENDING_VERIFICATION
    with pytest.raises(ProofRejected):
        _start(world, request.id, "knowledge")


def test_a_disallowed_proof_cannot_even_be_started(world: World) -> None:
    request = _open(world, kind="reset_mfa", person="swapped")  # phone changed yesterday
    with pytest.raises(ProofRejected) as err:
        _start(world, request.id, "callback_automated")
    assert err.value.code == "proof_rejected.disallowed"
    assert world.telephony.calls == []  # nobody was rung


def test_bad_input_is_named_and_writes_nothing(world: World) -> None:
    with pytest.raises(NotFound) as unknown:
        _open(world, kind="format_disk")
    assert unknown.value.code == "unknown_action"
    with pytest.raises(ValidationFailed) as bad:
        _open(world, kind="change_phone", params={"new_number": "0612"})
    assert bad.value.field == "params.new_number"
    with pytest.raises(ValidationFailed) as extra:
        _open(world, kind="unlock_account", params={"sneaky": True})
    assert extra.value.field == "params.sneaky"
    with pytest.raises(NotFound):
        _open(world, person="other")  # a t_b person asked for under t_a
    with world.ctx.uow() as uow:
        assert list(uow.outbox.list(tenant_id="t_a")) == []


def test_an_analyst_can_read_but_not_open(world: World) -> None:
    from deskguard.domain.errors import Forbidden

    with pytest.raises(Forbidden):
        _open(world, by="analyst")


def test_cancelled_is_final(world: World) -> None:
    request = _open(world)
    requests.cancel_request(
        world.ctx,
        actor=world.operator("agent"),
        tenant_id="t_a",
        request_id=request.id,
        reason="caller hung up",
    )
    with pytest.raises(InvalidTransition):
        approvals.decide_approval(
            world.ctx,
            actor=world.operator("sup"),
            tenant_id="t_a",
            request_id=request.id,
            verdict="approve",
            comment="",
        )


def test_guessing_is_bounded_per_request(world: World) -> None:
    """3 answers per proof, 3 proofs per method and request: at most 9 TOTP guesses per request."""
    request = _open(world)

    def start():
        return _start(world, request.id, "totp")

    first = start()
    with pytest.raises(ProofRejected) as pending:
        start()
    assert pending.value.code == "proof_rejected.already_pending"
    proof = first
    for round_ in range(3):
        for _ in range(3):
            with pytest.raises(ProofRejected):
                verification.submit_totp(
                    world.ctx,
                    actor=world.operator("agent"),
                    tenant_id="t_a",
                    proof_id=proof.id,
                    code="000000",
                )
        if round_ < 2:
            proof = start()
    with pytest.raises(ProofRejected) as capped:
        start()
    assert capped.value.code == "proof_rejected.too_many_attempts"
    decision = requests.preview(
        world.ctx,
        actor=world.operator("agent"),
        tenant_id="t_a",
        draft=RequestDraft(kind="reset_mfa", person_id="plain"),
    )
    fired = {t.rule for t in decision.trace if t.matched}
    assert "repeated-failed-verifications" in fired  # the failures raise the bar for the next request


def test_the_portal_never_shows_the_number_to_read_out(world: World) -> None:
    request = _open(world)
    proof = _start(world, request.id, "push_number_match")
    assert "number_to_read_out" in proof.challenge  # the agent's screen shows it
    [waiting] = verification.pending_for_person(world.ctx, actor=world.person("plain"), tenant_id="t_a")
    assert waiting.id == proof.id and "number_to_read_out" not in waiting.challenge
