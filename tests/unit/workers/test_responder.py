"""The responder retries timed-out runbook steps with back-off, at the right times (a fixed clock),
acting once thanks to the idempotency key, and gives up after the last attempt."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from deskguard.app.respond import respond
from deskguard.app.response_approvals import approve_step
from deskguard.app.response_steps import BACKOFF_CAP_S, LEASE, MAX_ATTEMPTS, backoff
from deskguard.domain.response import ResponseStep, StepStatus
from deskguard.workers.responder import Responder
from runbook_kit import alert, book, events, stored
from world import World, build_world

REVOKE = "id: Respond.Test.Revoke\ntrigger: {rules: [Some.Rule.Id]}\nsteps: [revoke_sessions]\n"


class _Seeded:
    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)

    def randbelow(self, n: int) -> int:
        return self._rng.randrange(n)


@pytest.mark.parametrize("attempts", range(1, 10))
def test_the_back_off_doubles_with_jitter_and_is_capped(attempts: int) -> None:
    ceiling = min(BACKOFF_CAP_S, 30.0 * 2 ** (attempts - 1))
    waits = [backoff(attempts, _Seeded(seed)).total_seconds() for seed in range(50)]  # type: ignore[arg-type]
    assert all(ceiling / 2 <= w <= ceiling for w in waits)
    assert len(set(waits)) > 1  # jittered: steps that timed out together do not retry together


def _due(world: World) -> datetime:
    (step,) = stored(world)
    assert step.next_attempt_at is not None
    return step.next_attempt_at


def _advance_to(world: World, when: datetime) -> None:
    world.clock.set(when)


def test_a_step_that_times_out_twice_is_retried_at_its_due_times_and_acts_once(
    uow_factory, tmp_path: Path
) -> None:
    world = build_world(uow_factory)
    worker = Responder(world.ctx)
    world.idp.timeouts = 2
    start = world.clock.now()
    (first,) = respond(world.ctx, [book(tmp_path, REVOKE)], [alert()])
    assert (first.outcome, first.attempts) == ("retrying", 1)
    due = _due(world)
    assert start + timedelta(seconds=15) <= due <= start + timedelta(seconds=30)
    assert worker.tick() == 0  # not yet due
    _advance_to(world, due - timedelta(milliseconds=1))
    assert worker.tick() == 0
    _advance_to(world, due)
    assert worker.tick() == 1
    (step,) = stored(world)
    assert (step.status, step.attempts) == (StepStatus.RETRYING, 2)
    assert due + timedelta(seconds=30) <= step.next_attempt_at <= due + timedelta(seconds=60)
    _advance_to(world, step.next_attempt_at)
    assert worker.tick() == 1
    (step,) = stored(world)
    assert (step.status, step.attempts, step.next_attempt_at) == (StepStatus.DONE, 3, None)
    assert worker.tick() == 0  # done is never due again
    assert len(world.idp.calls) == 3 and len({c[3] for c in world.idp.calls}) == 1  # one key throughout
    assert world.idp.account(tenant_id="t_a", person_id="plain").sessions_revoked == 1
    assert [(e["data"]["outcome"], e["data"]["attempts"]) for e in events(world)] == [
        ("retrying", 1),
        ("retrying", 2),
        ("done", 3),
    ]


def test_a_lost_answer_is_retried_without_acting_twice(uow_factory, tmp_path: Path) -> None:
    world = build_world(uow_factory)
    world.idp.lost_answers = 1  # the identity provider signs her out, then its answer is lost
    respond(world.ctx, [book(tmp_path, REVOKE)], [alert()])
    assert world.idp.account(tenant_id="t_a", person_id="plain").sessions_revoked == 1
    _advance_to(world, _due(world))
    assert Responder(world.ctx).tick() == 1
    (step,) = stored(world)
    assert step.status == StepStatus.DONE and step.attempts == 2
    assert world.idp.account(tenant_id="t_a", person_id="plain").sessions_revoked == 1  # exactly one effect


def test_it_gives_up_after_the_last_attempt(uow_factory, tmp_path: Path) -> None:
    world = build_world(uow_factory)
    worker = Responder(world.ctx)
    world.idp.timeouts = 100
    respond(world.ctx, [book(tmp_path, REVOKE)], [alert()])
    for _ in range(MAX_ATTEMPTS - 1):
        _advance_to(world, _due(world))
        assert worker.tick() == 1
    (step,) = stored(world)
    assert (step.status, step.attempts, step.next_attempt_at) == (StepStatus.FAILED, MAX_ATTEMPTS, None)
    assert f"gave up after {MAX_ATTEMPTS} attempts" in step.detail
    world.clock.advance(days=1)
    assert worker.tick() == 0 and len(world.idp.calls) == MAX_ATTEMPTS
    outcomes = [e["data"]["outcome"] for e in events(world)]
    assert outcomes == ["retrying"] * (MAX_ATTEMPTS - 1) + ["failed"]


def test_a_definite_refusal_on_a_retry_fails_at_once(uow_factory, tmp_path: Path) -> None:
    world = build_world(uow_factory)
    world.idp.timeout_next = True
    respond(world.ctx, [book(tmp_path, REVOKE)], [alert()])
    world.idp.fail_next = "user is deactivated"
    _advance_to(world, _due(world))
    assert Responder(world.ctx).tick() == 1
    (step,) = stored(world)
    assert step.status == StepStatus.FAILED and "user is deactivated" in step.detail
    world.clock.advance(days=1)
    assert Responder(world.ctx).tick() == 0


def test_notifications_and_tickets_are_retried_too(uow_factory, tmp_path: Path) -> None:
    world = build_world(uow_factory)
    text = (
        "id: Respond.Test.Tell\ntrigger: {rules: [Some.Rule.Id]}\n"
        "steps: [{notify: {channel: webhook, to: 'https://soc.example.org/in'}}, {ticket: {action: open}}]\n"
    )
    world.response_notifier.timeouts = 1
    world.ticketing.timeouts = 1
    outcomes = respond(world.ctx, [book(tmp_path, text)], [alert()])
    assert [o.outcome for o in outcomes] == ["retrying", "retrying"]
    world.clock.advance(minutes=1)
    assert Responder(world.ctx).tick() == 2
    assert len(world.response_notifier.sent) == 1 and len(world.ticketing.tickets) == 1
    assert {s.status for s in stored(world)} == {StepStatus.DONE}


def _store_revoke(
    world: World, *, run_id: str, person_id: str, status: StepStatus, attempts: int, due: datetime
) -> None:
    """A revoke_sessions step stored as a worker would find it (no runbook run behind it)."""
    now = world.clock.now()
    step = ResponseStep(
        tenant_id="t_a",
        run_id=run_id,
        index=0,
        runbook_id="Respond.Test.Revoke",
        alert_id="alr_1",
        rule_id="Some.Rule.Id",
        person_id=person_id,
        kind="revoke_sessions",
        status=status,
        attempts=attempts,
        next_attempt_at=due,
        created_at=now,
        updated_at=now,
    )
    with world.ctx.uow() as uow:
        uow.response_steps.add(step)
        uow.commit()


def test_a_step_whose_process_died_mid_call_is_taken_over_after_its_lease(uow_factory) -> None:
    world = build_world(uow_factory)
    due = world.clock.now() + LEASE
    _store_revoke(
        world, run_id="rsp_orphan", person_id="plain", status=StepStatus.RUNNING, attempts=1, due=due
    )
    worker = Responder(world.ctx)
    assert worker.tick() == 0  # its process may still be calling
    world.clock.advance(seconds=LEASE.total_seconds())
    assert worker.tick() == 1
    (step,) = stored(world)
    assert (step.status, step.attempts) == (StepStatus.DONE, 2)
    assert world.idp.calls[0][3] == "rsp_orphan:0"


def test_an_orphan_at_its_last_attempt_fails_instead_of_acting_again(uow_factory) -> None:
    world = build_world(uow_factory)
    now = world.clock.now()
    _store_revoke(
        world,
        run_id="rsp_orphan",
        person_id="plain",
        status=StepStatus.RUNNING,
        attempts=MAX_ATTEMPTS,
        due=now,
    )
    assert Responder(world.ctx).tick() == 1
    (step,) = stored(world)
    assert step.status == StepStatus.FAILED and world.idp.calls == []


def test_a_step_approved_after_a_timeout_retries_from_the_worker(uow_factory, tmp_path: Path) -> None:
    world = build_world(uow_factory)
    suspend = "id: Respond.Test.Suspend\ntrigger: {rules: [Some.Rule.Id]}\nsteps: [suspend_account]\n"
    (waiting,) = respond(world.ctx, [book(tmp_path, suspend)], [alert("vip@t_a.example")])
    world.idp.timeouts = 1
    approve_step(
        world.ctx,
        actor=world.operator("analyst"),
        tenant_id="t_a",
        run_id=waiting.run_id,
        index=0,
        comment="go",
    )
    _advance_to(world, _due(world))
    assert Responder(world.ctx).tick() == 1
    (step,) = stored(world)
    assert step.status == StepStatus.DONE and step.approver_id == "analyst"
    assert world.idp.account(tenant_id="t_a", person_id="vip").suspensions == 1


def test_a_person_gone_from_the_directory_before_the_retry_fails_the_step(uow_factory) -> None:
    world = build_world(uow_factory)
    now = world.clock.now()
    _store_revoke(
        world, run_id="rsp_gone", person_id="ghost", status=StepStatus.RETRYING, attempts=1, due=now
    )
    assert Responder(world.ctx).tick() == 1
    (step,) = stored(world)
    assert step.status == StepStatus.FAILED and "person ghost is not in the directory" in step.detail
    assert world.idp.calls == []
