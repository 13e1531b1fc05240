"""Contract tests of the runbook storage, on SQLite and PostgreSQL: response steps round-trip, are
tenant-scoped, come due on time and move by compare-and-set; manager validation is stored, never
shortened, and read by the decision snapshot."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta
from threading import Barrier

import pytest
from samples import NOW, PARIS, A, B, seed

from deskguard.adapters.db.decision_reads import SqlDecisionReader
from deskguard.adapters.db.uow import SqlUnitOfWorkFactory
from deskguard.domain.actions import ActionKind
from deskguard.domain.response import ResponseStep, StepStatus

HOUR = timedelta(hours=1)


@pytest.fixture
def uow(uow_factory: SqlUnitOfWorkFactory) -> SqlUnitOfWorkFactory:
    seed(uow_factory)
    return uow_factory


def step(**changes: object) -> ResponseStep:
    values: dict[str, object] = {
        "tenant_id": A,
        "run_id": "rsp_1",
        "index": 0,
        "runbook_id": "Respond.Test.Everything",
        "alert_id": "alr_1",
        "rule_id": "Okta.Chain.ResetMfaNewFactor",
        "person_id": "p-alice",
        "kind": "notify",
        "params": {"channel": "slack", "to": "#soc", "subject": "s", "text": "é ✓", "nested": {"n": [1, 2]}},
        "approval": True,
        "status": StepStatus.AWAITING_APPROVAL,
        "attempts": 0,
        "next_attempt_at": None,
        "approver_id": None,
        "comment": "",
        "detail": "waits",
        "created_at": NOW.astimezone(PARIS),
        "updated_at": NOW,
        "decided_at": None,
    }
    values.update(changes)
    return ResponseStep(**values)  # type: ignore[arg-type]


def test_a_step_round_trips_exactly_and_is_tenant_scoped(uow: SqlUnitOfWorkFactory) -> None:
    decided = step(
        index=1,
        status=StepStatus.RETRYING,
        attempts=2,
        next_attempt_at=NOW + HOUR,
        approver_id="o-analyst",
        comment="go",
        decided_at=NOW.astimezone(PARIS),
        person_id=None,
        approval=False,
    )
    with uow() as u:
        u.response_steps.add(step())
        u.response_steps.add(decided)
        u.commit()
    with uow() as u:
        assert u.response_steps.get(tenant_id=A, run_id="rsp_1", index=0) == step()
        assert u.response_steps.get(tenant_id=A, run_id="rsp_1", index=1) == decided
        assert u.response_steps.get(tenant_id=B, run_id="rsp_1", index=0) is None
        assert u.response_steps.get(tenant_id=A, run_id="rsp_1", index=2) is None
        assert u.response_steps.list(tenant_id=B) == []


def test_the_list_filters_by_status_newest_first(uow: SqlUnitOfWorkFactory) -> None:
    with uow() as u:
        u.response_steps.add(step(run_id="rsp_old", created_at=NOW - HOUR))
        u.response_steps.add(step(run_id="rsp_new", created_at=NOW))
        u.response_steps.add(step(run_id="rsp_new", index=1, status=StepStatus.DONE))
        u.response_steps.add(step(tenant_id=B, run_id="rsp_b"))
        u.commit()
    with uow() as u:
        waiting = u.response_steps.list(tenant_id=A, status=StepStatus.AWAITING_APPROVAL)
        assert [(s.run_id, s.index) for s in waiting] == [("rsp_new", 0), ("rsp_old", 0)]
        assert len(u.response_steps.list(tenant_id=A)) == 3
        assert len(u.response_steps.list(tenant_id=A, limit=1)) == 1


def test_only_running_and_retrying_steps_past_their_time_are_due(uow: SqlUnitOfWorkFactory) -> None:
    with uow() as u:
        u.response_steps.add(step(run_id="r1", status=StepStatus.RETRYING, next_attempt_at=NOW + HOUR))
        u.response_steps.add(step(run_id="r2", status=StepStatus.RETRYING, next_attempt_at=NOW - HOUR))
        u.response_steps.add(step(tenant_id=B, run_id="r3", status=StepStatus.RUNNING, next_attempt_at=NOW))
        u.response_steps.add(step(run_id="r4", status=StepStatus.AWAITING_APPROVAL, next_attempt_at=None))
        u.response_steps.add(step(run_id="r5", status=StepStatus.DONE, next_attempt_at=NOW - HOUR))
        u.commit()
    with uow() as u:
        assert [s.run_id for s in u.response_steps.due(now=NOW)] == ["r2", "r3"]  # both tenants, oldest first
        assert [s.run_id for s in u.response_steps.due(now=NOW + HOUR)] == ["r2", "r3", "r1"]
        assert [s.run_id for s in u.response_steps.due(now=NOW, limit=1)] == ["r2"]


def test_an_update_is_a_compare_and_set(uow: SqlUnitOfWorkFactory) -> None:
    with uow() as u:
        u.response_steps.add(step())
        u.commit()
    running = step(status=StepStatus.RUNNING, attempts=1, approver_id="o-a", comment="ok", decided_at=NOW)
    with uow() as u:
        assert not u.response_steps.update(running, expect_status=StepStatus.RETRYING, expect_attempts=0)
        assert not u.response_steps.update(
            running, expect_status=StepStatus.AWAITING_APPROVAL, expect_attempts=1
        )
        assert not u.response_steps.update(
            replace(running, tenant_id=B), expect_status=StepStatus.AWAITING_APPROVAL, expect_attempts=0
        )
        assert u.response_steps.update(running, expect_status=StepStatus.AWAITING_APPROVAL, expect_attempts=0)
        u.commit()
    with uow() as u:
        assert u.response_steps.get(tenant_id=A, run_id="rsp_1", index=0) == running


def test_two_hands_on_one_step_one_wins(uow: SqlUnitOfWorkFactory) -> None:
    with uow() as u:
        u.response_steps.add(step(status=StepStatus.RETRYING, attempts=1, next_attempt_at=NOW))
        u.commit()
    barrier = Barrier(8)

    def claim(n: int) -> bool:
        mine = step(status=StepStatus.RUNNING, attempts=2, next_attempt_at=NOW + HOUR, detail=f"worker {n}")
        barrier.wait()
        with uow() as u:
            won = u.response_steps.update(mine, expect_status=StepStatus.RETRYING, expect_attempts=1)
            u.commit()
            return won

    with ThreadPoolExecutor(8) as pool:
        assert sum(pool.map(claim, range(8))) == 1


def test_manager_validation_is_stored_never_shortened_and_read_by_decisions(
    uow: SqlUnitOfWorkFactory,
) -> None:
    reader = SqlDecisionReader(uow.engine)

    def until() -> object:
        snap = reader.snapshot(
            tenant_id=A,
            person_id="p-alice",
            operator_id=None,
            kind=ActionKind.RESET_MFA,
            now=NOW,
            failed_since=NOW,
        )
        assert snap is not None
        return snap.manager_validation_until

    assert until() is None
    with uow() as u:
        u.risk.require_manager_validation(
            tenant_id=A, person_id="p-alice", until=NOW + 24 * HOUR, updated_at=NOW
        )
        u.commit()
    with uow() as u:  # an earlier end never shortens it; the watch list is another matter
        u.risk.require_manager_validation(tenant_id=A, person_id="p-alice", until=NOW + HOUR, updated_at=NOW)
        u.risk.watch(tenant_id=A, person_id="p-alice", until=NOW + 2 * HOUR, updated_at=NOW)
        u.commit()
    assert until() == NOW + 24 * HOUR
    with uow() as u:
        snap = u.decisions.snapshot(
            tenant_id=A,
            person_id="p-alice",
            operator_id=None,
            kind=ActionKind.RESET_MFA,
            now=NOW,
            failed_since=NOW,
        )
        assert snap is not None and snap.watch_until == NOW + 2 * HOUR
        assert snap.manager_validation_until == NOW + 24 * HOUR
        assert u.risk.get(tenant_id=A, person_id="p-alice") == ()  # no signal was invented
    with uow() as u:
        u.risk.require_manager_validation(
            tenant_id=A, person_id="p-alice", until=NOW + 48 * HOUR, updated_at=NOW
        )
        u.commit()
    assert until() == NOW + 48 * HOUR
    other = reader.snapshot(
        tenant_id=B, person_id="p-zed", operator_id=None, kind=ActionKind.RESET_MFA, now=NOW, failed_since=NOW
    )
    assert other is not None and other.manager_validation_until is None


def test_a_run_is_claimed_once(uow: SqlUnitOfWorkFactory) -> None:
    args = {
        "run_id": "rsp_1",
        "tenant_id": A,
        "runbook_id": "Respond.X.Y",
        "alert_id": "alr_1",
        "created_at": NOW,
    }
    with uow() as u:
        assert u.responses.claim(**args)
        u.commit()
    with uow() as u:
        assert not u.responses.claim(**args)
