"""The ``otp_sms`` proof through the use cases, on SQLite and PostgreSQL: a code sent by the OTP
service to the registered phone, read back to the agent; a recently changed phone refuses it; a lost
answer leaves the proof pending and a retried check is not counted twice."""

from __future__ import annotations

from dataclasses import replace

import pytest

from deskguard.app import execution, requests, verification
from deskguard.app.requests import RequestDraft
from deskguard.domain.errors import ConnectorError, ConnectorTimeout, ProofRejected, ValidationFailed
from deskguard.domain.model import Phone, PhoneSource
from deskguard.domain.requests import Proof, ProofStatus, RequestState, Strength
from world import World

REGISTERED = "+33611111111"  # every person of the world has it


def _open(world: World, *, kind: str = "unlock_account", person: str = "plain") -> str:
    draft = RequestDraft(kind=kind, person_id=person)
    return requests.open_request(world.ctx, actor=world.operator("agent"), tenant_id="t_a", draft=draft).id


def _start(world: World, request_id: str) -> Proof:
    return verification.start_proof(
        world.ctx, actor=world.operator("agent"), tenant_id="t_a", request_id=request_id, method="otp_sms"
    )


def _submit(world: World, proof: Proof, code: str) -> Proof:
    return verification.submit_otp(
        world.ctx, actor=world.operator("agent"), tenant_id="t_a", proof_id=proof.id, code=code
    )


def _proof(world: World, proof_id: str) -> Proof:
    with world.ctx.reads() as uow:
        found = uow.proofs.get(tenant_id="t_a", proof_id=proof_id)
    assert found is not None
    return found


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_an_agent_completes_otp_sms_and_the_action_runs(world: World) -> None:
    request_id = _open(world)
    proof = _start(world, request_id)
    [sent] = world.otp.sent
    assert (sent.tenant_id, sent.to_number) == ("t_a", REGISTERED)  # the directory's number, always
    assert proof.status == ProofStatus.PENDING and proof.strength == Strength.LOW
    assert proof.challenge["registered_number_masked"] == "+33 \u2022\u2022\u2022\u2022\u2022\u2022\u2022 11"
    assert proof.challenge["delivery"] == "sent" and REGISTERED not in str(proof.challenge)
    done = _submit(world, proof, f" {sent.code[:3]} {sent.code[3:]} ")  # read back with spaces
    assert done.status == ProofStatus.SUCCEEDED and done.attempts == 1
    result = execution.execute_request(
        world.ctx, actor=world.operator("agent"), tenant_id="t_a", request_id=request_id
    )
    assert result.request.state == RequestState.EXECUTED


def test_a_recently_changed_phone_refuses_the_code_and_sends_nothing(world: World) -> None:
    request_id = _open(world, person="swapped")  # phone changed yesterday
    with pytest.raises(ProofRejected) as caught:
        _start(world, request_id)
    assert caught.value.code == "proof_rejected.disallowed"
    assert "SIM swap" in caught.value.message and "otp_sms" in caught.value.message
    assert world.otp.sent == []


def test_the_code_is_refused_for_a_privileged_reset(world: World) -> None:
    with pytest.raises(ProofRejected, match="too weak for a privileged account"):
        _start(world, _open(world, kind="reset_password", person="vip"))
    assert world.otp.sent == []


def test_the_code_alone_does_not_reset_a_password(world: World) -> None:
    request_id = _open(world, kind="reset_password")
    _submit(world, _start(world, request_id), world.otp.sent[-1].code)
    with world.ctx.reads() as uow:
        request = uow.requests.get(tenant_id="t_a", request_id=request_id)
    assert request is not None and request.state == RequestState.PENDING_VERIFICATION


def test_wrong_codes_lock_the_proof_after_three(world: World) -> None:
    proof = _start(world, _open(world))
    wrong = _wrong(world.otp.sent[-1].code)
    for attempt in (1, 2, 3):
        with pytest.raises(ProofRejected) as caught:
            _submit(world, proof, wrong)
        assert caught.value.details["attempts"] == attempt
    assert _proof(world, proof.id).status == ProofStatus.LOCKED
    assert len(world.otp.checks) == 3


def test_a_malformed_code_names_the_field_and_counts_nothing(world: World) -> None:
    proof = _start(world, _open(world))
    with pytest.raises(ValidationFailed) as caught:
        _submit(world, proof, "12a456")
    assert caught.value.field == "code"
    assert world.otp.checks == [] and _proof(world, proof.id).attempts == 0


def test_a_lost_check_answer_leaves_the_proof_pending_and_is_counted_once(world: World) -> None:
    proof = _start(world, _open(world))
    code = world.otp.sent[-1].code
    world.otp.timeouts = 1  # the check never reached the service
    with pytest.raises(ConnectorTimeout, match="not counted twice"):
        _submit(world, proof, code)
    waiting = _proof(world, proof.id)
    assert waiting.status == ProofStatus.PENDING and waiting.attempts == 1
    done = _submit(world, proof, code)  # the agent tries the same code again
    assert done.status == ProofStatus.SUCCEEDED and done.attempts == 1


def test_a_retried_wrong_code_is_not_counted_twice(world: World) -> None:
    proof = _start(world, _open(world))
    code = world.otp.sent[-1].code
    world.otp.lose_next_answer = True  # the service counted the wrong code; its answer was lost
    with pytest.raises(ConnectorTimeout):
        _submit(world, proof, _wrong(code))
    with pytest.raises(ProofRejected) as caught:
        _submit(world, proof, _wrong(code))
    assert caught.value.details == {"attempts": 1, "status": "pending"}
    assert _submit(world, proof, code).attempts == 2


def test_a_retry_after_a_lost_approval_fails_closed(world: World) -> None:
    proof = _start(world, _open(world))
    code = world.otp.sent[-1].code
    world.otp.lose_next_answer = True  # the service approved, and the answer was lost
    with pytest.raises(ConnectorTimeout):
        _submit(world, proof, code)
    with pytest.raises(ProofRejected) as caught:
        _submit(world, proof, code)
    failed = _proof(world, proof.id)
    assert failed.status == ProofStatus.FAILED and failed.attempts == 1  # never "probably approved"
    assert "send a new code" in failed.failure_reason and "answer was lost" in failed.failure_reason
    assert caught.value.code == "proof_rejected.failed"


def test_a_lost_send_leaves_the_proof_pending_and_a_new_send_supersedes_it(world: World) -> None:
    request_id = _open(world)
    world.otp.lose_next_answer = True
    unconfirmed = _start(world, request_id)
    assert unconfirmed.status == ProofStatus.PENDING and unconfirmed.challenge["delivery"] == "unconfirmed"
    assert "verification_id" not in unconfirmed.challenge and len(world.otp.sent) == 1
    again = _start(world, request_id)  # the person says no code came: send again
    assert _proof(world, unconfirmed.id).status == ProofStatus.EXPIRED
    assert len(world.otp.sent) == 2 and world.otp.sent[0].code == world.otp.sent[1].code
    assert _submit(world, again, world.otp.sent[-1].code).status == ProofStatus.SUCCEEDED


def test_an_unconfirmed_send_can_still_be_checked_by_number(world: World) -> None:
    world.otp.lose_next_answer = True
    proof = _start(world, _open(world))
    assert _submit(world, proof, world.otp.sent[-1].code).status == ProofStatus.SUCCEEDED
    assert world.otp.checks == [(REGISTERED, world.otp.sent[-1].code)]


def test_one_code_at_a_time(world: World) -> None:
    request_id = _open(world)
    _start(world, request_id)
    with pytest.raises(ProofRejected) as caught:
        _start(world, request_id)
    assert caught.value.code == "proof_rejected.already_pending" and len(world.otp.sent) == 1


def test_a_refused_send_records_no_proof(world: World) -> None:
    request_id = _open(world)
    world.otp.fail_next = "Invalid parameter `To`"
    with pytest.raises(ConnectorError):
        _start(world, request_id)
    with world.ctx.reads() as uow:
        assert list(uow.proofs.list_for_request(tenant_id="t_a", request_id=request_id)) == []


def test_a_phone_changed_after_the_send_fails_the_check(world: World) -> None:
    proof = _start(world, _open(world))
    with world.ctx.uow() as uow:
        person = uow.persons.get(tenant_id="t_a", person_id="plain")
        assert person is not None
        moved = Phone(number="+33622222222", source=PhoneSource.HR, changed_at=world.clock.now())
        uow.persons.update(replace(person, phones=(moved,)))
        uow.commit()
    with pytest.raises(ProofRejected, match="registered phone changed since the code was sent"):
        _submit(world, proof, world.otp.sent[-1].code)
    assert world.otp.checks == []
