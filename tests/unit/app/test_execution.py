"""Execution: exactly once under a race, fail closed, and honest about connector timeouts."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from deskguard.app import execution, grants, requests, verification
from deskguard.app.requests import RequestDraft
from deskguard.domain.errors import (
    Conflict,
    ConnectorError,
    ConnectorTimeout,
    Forbidden,
    InvalidTransition,
    SeparationOfDuties,
)
from deskguard.domain.events import EventType
from deskguard.domain.ports import UnitOfWork
from deskguard.domain.requests import RequestState
from world import World


def _ready(
    world: World, *, kind: str = "unlock_account", by: str = "agent", params: dict | None = None
) -> str:
    request = requests.open_request(
        world.ctx,
        actor=world.operator(by),
        tenant_id="t_a",
        draft=RequestDraft(kind=kind, person_id="plain", params=params),
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
        actor=world.person("plain"),
        tenant_id="t_a",
        proof_id=push.id,
        approve=True,
        number=push.challenge["number_to_read_out"],
    )
    return request.id


def _execute(world: World, rid: str, by: str = "agent") -> execution.Execution:
    return execution.execute_request(world.ctx, actor=world.operator(by), tenant_id="t_a", request_id=rid)


def test_two_hundred_concurrent_executes_make_exactly_one_execution(world: World) -> None:
    rid = _ready(world)
    outcomes: Counter[str] = Counter()
    barrier = threading.Barrier(200)
    lock = threading.Lock()

    def run() -> None:
        barrier.wait()
        try:
            _execute(world, rid)
            result = "executed"
        except (Conflict, InvalidTransition) as exc:
            result = type(exc).__name__
        with lock:
            outcomes[result] += 1

    threads = [threading.Thread(target=run) for _ in range(200)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes["executed"] == 1, outcomes
    assert sum(outcomes.values()) == 200
    assert len(world.idp.calls) == 1
    with world.ctx.uow() as uow:
        types = Counter(e.type for e in uow.outbox.list(tenant_id="t_a"))
        assert uow.requests.get(tenant_id="t_a", request_id=rid).state == RequestState.EXECUTED
    assert types[EventType.REQUEST_EXECUTION_STARTED] == 1 and types[EventType.REQUEST_EXECUTED] == 1


def test_a_definite_connector_failure_fails_the_request(world: World) -> None:
    rid = _ready(world)
    world.idp.fail_next = "account is disabled in the directory"
    with pytest.raises(ConnectorError):
        _execute(world, rid)
    with world.ctx.uow() as uow:
        stored = uow.requests.get(tenant_id="t_a", request_id=rid)
    assert stored.state == RequestState.FAILED and "disabled" in stored.failure_reason


def test_a_timeout_leaves_the_request_pending_and_the_retry_applies_once(world: World) -> None:
    rid = _ready(world, kind="reset_password")
    world.idp.timeout_next = True
    with pytest.raises(ConnectorTimeout):
        _execute(world, rid)
    with world.ctx.uow() as uow:
        stored = uow.requests.get(tenant_id="t_a", request_id=rid)
    assert stored.state == RequestState.READY and stored.failure_reason.startswith("outcome unknown")
    _execute(world, rid)
    assert [c[3] for c in world.idp.calls] == [rid, rid]  # same idempotency key both times
    assert world.idp.account(tenant_id="t_a", person_id="plain").password_generation == 1


@contextmanager
def failing(world: World, breaks: Callable[[UnitOfWork], None]) -> Iterator[None]:
    """Inside the block, every unit of work the use cases open is first broken by ``breaks``."""
    factory = world.ctx.uow

    class Broken:
        def __init__(self) -> None:
            self.real = factory()

        def __enter__(self) -> UnitOfWork:
            uow = self.real.__enter__()
            breaks(uow)
            return uow

        def __exit__(self, *exc: object) -> None:
            self.real.__exit__(*exc)

    object.__setattr__(world.ctx, "uow", Broken)
    try:
        yield
    finally:
        object.__setattr__(world.ctx, "uow", factory)


def test_no_event_no_execution(world: World) -> None:
    """Fail closed: if the claim and its event cannot be committed, the connector is never called."""
    rid = _ready(world)

    class BrokenOutbox:
        def __init__(self, real):
            self.real = real

        def add(self, event):
            if event.type == EventType.REQUEST_EXECUTION_STARTED:
                raise OSError("disk full")
            self.real.add(event)

        def __getattr__(self, name):
            return getattr(self.real, name)

    with failing(world, lambda uow: setattr(uow, "outbox", BrokenOutbox(uow.outbox))), pytest.raises(OSError):
        _execute(world, rid)
    assert world.idp.calls == []
    with world.ctx.uow() as uow:
        assert uow.requests.get(tenant_id="t_a", request_id=rid).state == RequestState.READY


def test_only_a_ready_request_executes(world: World) -> None:
    request = requests.open_request(
        world.ctx,
        actor=world.operator("agent"),
        tenant_id="t_a",
        draft=RequestDraft(kind="unlock_account", person_id="plain"),
    )
    with pytest.raises(InvalidTransition) as err:
        _execute(world, request.id)
    assert err.value.code == "invalid_transition.pending_verification_to_executing"
    assert world.idp.calls == []


def test_outsourced_privilege_grant_needs_a_live_jit_grant_and_records_its_use(world: World) -> None:
    request = requests.open_request(
        world.ctx,
        actor=world.operator("outsourced"),
        tenant_id="t_a",
        draft=RequestDraft(
            kind="grant_privilege", person_id="plain", params={"group": "sap-admins", "duration_minutes": 60}
        ),
    )
    assert request.decision["grant"] == {"required": True, "present": False}
    grant = grants.request_grant(
        world.ctx,
        actor=world.operator("outsourced"),
        tenant_id="t_a",
        action_kinds=["grant_privilege"],
        duration_minutes=30,
        justification="quarter close: SAP access for the finance team",
    )
    with pytest.raises(Forbidden):  # an agent approves nobody's elevation, least of all their own
        grants.decide_grant(
            world.ctx, actor=world.operator("outsourced"), tenant_id="t_a", grant_id=grant.id, approve=True
        )
    own = grants.request_grant(
        world.ctx,
        actor=world.operator("sup"),
        tenant_id="t_a",
        action_kinds=["reset_mfa"],
        duration_minutes=30,
        justification="covering the night shift tonight",
    )
    with pytest.raises(SeparationOfDuties):
        grants.decide_grant(
            world.ctx, actor=world.operator("sup"), tenant_id="t_a", grant_id=own.id, approve=True
        )
    active = grants.decide_grant(
        world.ctx, actor=world.operator("sup"), tenant_id="t_a", grant_id=grant.id, approve=True
    )
    assert active.expires_at is not None
    preview = requests.preview(
        world.ctx,
        actor=world.operator("outsourced"),
        tenant_id="t_a",
        draft=RequestDraft(
            kind="grant_privilege", person_id="plain", params={"group": "sap-admins", "duration_minutes": 60}
        ),
    )
    assert preview.grant_present
    world.clock.advance(minutes=31)
    late = requests.preview(
        world.ctx,
        actor=world.operator("outsourced"),
        tenant_id="t_a",
        draft=RequestDraft(
            kind="grant_privilege", person_id="plain", params={"group": "sap-admins", "duration_minutes": 60}
        ),
    )
    assert not late.grant_present  # time-boxed


def test_an_unexpected_connector_error_leaves_the_request_pending_not_executing(world: World) -> None:
    rid = _ready(world)

    def broken(**_: object) -> None:
        raise RuntimeError("bug in a connector")

    real = world.idp.execute
    world.idp.execute = broken  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        _execute(world, rid)
    world.idp.execute = real  # type: ignore[method-assign]
    with world.ctx.uow() as uow:
        stored = uow.requests.get(tenant_id="t_a", request_id=rid)
        types = [e.type for e in uow.outbox.list(tenant_id="t_a")]
    assert stored.state == RequestState.READY and types[-1] == EventType.REQUEST_EXECUTION_UNKNOWN
    assert _execute(world, rid).request.state == RequestState.EXECUTED


def test_a_failed_secret_delivery_is_recorded_and_the_execution_stands(world: World) -> None:
    rid = _ready(world, kind="reset_password")
    world.notifier.fail_next = True
    done = _execute(world, rid)
    assert done.request.state == RequestState.EXECUTED and done.secret_for_agent is None
    assert done.request.result["secret"] == {
        "delivered_to": "recovery_email",
        "kind": "temporary_password",
        "failed": "OSError",
    }
    with world.ctx.uow() as uow:
        assert [e.type for e in uow.outbox.list(tenant_id="t_a")][-1] == EventType.SECRET_DELIVERY_FAILED


def test_no_ledger_record_no_execution(world: World) -> None:
    """Fail closed: if the ledger cannot append the claim's record, the connector is never called."""
    rid = _ready(world)

    def refuse() -> None:
        raise OSError("ledger storage unavailable")

    with failing(world, lambda uow: setattr(uow.ledger, "flush", refuse)), pytest.raises(OSError):
        _execute(world, rid)
    assert world.idp.calls == []
    with world.ctx.uow() as uow:
        assert uow.requests.get(tenant_id="t_a", request_id=rid).state == RequestState.READY
        assert uow.ledger.size(tenant_id="t_a") == len(
            uow.outbox.list(tenant_id="t_a")
        )  # one record per event
