"""Time-boxed privilege really ends (app.privilege_expiry), on SQLite and PostgreSQL, with a fixed
clock and the fake identity provider: nothing before the end, one revocation after it (however many
ticks or workers), a refusal retried with back-off, a timeout left pending."""

from __future__ import annotations

import threading
from datetime import timedelta

from deskguard.app.privilege_expiry import expire_due
from deskguard.domain.actions import ActionKind, ResponseAction
from deskguard.domain.events import EventType
from deskguard.domain.privilege import ExpiryStatus
from deskguard.domain.requests import ActionRequest, RequestOrigin, RequestState
from deskguard.workers.privilege_expiry import PrivilegeExpirer
from world import World

GROUP = "sap-admins"


def _executed_grant(world: World, rid: str = "req_grant", *, minutes: int = 60, **result: object) -> str:
    """An executed grant_privilege request as execution leaves it (app.execution), and its effect on
    the fake directory."""
    now = world.clock.now()
    params = {"group": GROUP, "duration_minutes": minutes}
    world.idp.execute(
        tenant_id="t_a",
        person=_plain(world),
        kind=ActionKind.GRANT_PRIVILEGE,
        params=params,
        idempotency_key=rid,
    )
    with world.ctx.uow() as uow:
        uow.requests.add(
            ActionRequest(
                id=rid,
                tenant_id="t_a",
                kind=ActionKind.GRANT_PRIVILEGE,
                person_id="plain",
                requester_id="agent",
                origin=RequestOrigin.AGENT,
                ticket_id=None,
                justification="quarter close",
                params=params,
                params_hash="0" * 64,
                state=RequestState.EXECUTED,
                created_at=now,
                updated_at=now,
                expires_at=now + timedelta(hours=1),
                result={"group_added": GROUP, **result},
            )
        )
        uow.commit()
    return rid


def _plain(world: World):
    with world.ctx.reads() as uow:
        person = uow.persons.get(tenant_id="t_a", person_id="plain")
    assert person is not None
    return person


def _groups(world: World) -> set[str]:
    return world.idp.account(tenant_id="t_a", person_id="plain").groups


def _revocations(world: World) -> list[str]:
    return [key for _, _, kind, key in world.idp.calls if kind == ResponseAction.REVOKE_PRIVILEGE]


def _events(world: World, type_: EventType) -> list[dict]:
    with world.ctx.reads() as uow:
        events = uow.outbox.list(tenant_id="t_a", after_seq=0, limit=5000)
    return [e.data for e in events if e.type == type_]


def test_nothing_happens_before_the_end_and_one_revocation_after(world: World) -> None:
    rid = _executed_grant(world, minutes=60)
    assert GROUP in _groups(world)
    world.clock.advance(minutes=59)
    assert expire_due(world.ctx) == []
    assert _revocations(world) == [] and GROUP in _groups(world)

    world.clock.advance(minutes=1)
    [outcome] = expire_due(world.ctx)
    assert (outcome.request_id, outcome.outcome, outcome.attempts) == (rid, "done", 1)
    assert GROUP not in _groups(world)
    assert expire_due(world.ctx) == []  # ticked twice: still one revocation
    world.clock.advance(hours=2)
    assert expire_due(world.ctx) == []
    assert _revocations(world) == [f"{rid}:revoke_privilege"]
    [event] = _events(world, EventType.PRIVILEGE_EXPIRED)
    assert event["group"] == GROUP and event["connector"] == "fake"
    assert event["result"] == {"group_removed": GROUP, "was_member": True}
    assert event["due_at"] == (world.clock.now() - timedelta(hours=2)).isoformat()


def test_two_workers_at_once_revoke_exactly_once(world: World) -> None:
    rids = [_executed_grant(world, f"req_{i}", minutes=15) for i in range(5)]
    world.clock.advance(minutes=16)
    workers = [PrivilegeExpirer(world.ctx) for _ in range(2)]
    barrier = threading.Barrier(len(workers))
    counts: list[int] = []

    def run(worker: PrivilegeExpirer) -> None:
        barrier.wait()
        counts.append(worker.tick())

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(counts) == 5
    assert sorted(_revocations(world)) == sorted(f"{r}:revoke_privilege" for r in rids)
    assert len(_events(world, EventType.PRIVILEGE_EXPIRED)) == 5


def test_a_refusal_is_recorded_and_retried_after_back_off(world: World) -> None:
    rid = _executed_grant(world, minutes=15)
    world.clock.advance(minutes=15)
    world.idp.fail_next = "directory refused the change"
    [outcome] = expire_due(world.ctx)
    assert outcome.outcome == "retrying" and "directory refused" in outcome.detail
    [failed] = _events(world, EventType.PRIVILEGE_EXPIRY_FAILED)
    assert failed["group"] == GROUP and failed["attempts"] == 1 and "next_attempt_at" in failed
    assert GROUP in _groups(world)
    assert expire_due(world.ctx) == []  # the back-off (15 s at least) has not passed
    world.clock.advance(minutes=1)
    [again] = expire_due(world.ctx)
    assert (again.outcome, again.attempts) == ("done", 2)
    assert GROUP not in _groups(world)
    assert _revocations(world) == [f"{rid}:revoke_privilege"] * 2  # the same key each time


def test_a_timeout_stays_pending_never_probably_done(world: World) -> None:
    rid = _executed_grant(world, minutes=15)
    world.clock.advance(minutes=15)
    world.idp.lost_answers = 1  # the directory acted, but the answer was lost
    [outcome] = expire_due(world.ctx)
    assert outcome.outcome == "pending" and "outcome unknown" in outcome.detail
    assert _events(world, EventType.PRIVILEGE_EXPIRED) == []
    with world.ctx.reads() as uow:
        stored = uow.privilege_expiries.get(tenant_id="t_a", request_id=rid)
    assert stored is not None and stored.status == ExpiryStatus.PENDING
    world.clock.advance(minutes=1)
    [done] = expire_due(world.ctx)
    assert done.outcome == "done"
    # the retry carried the same key, so the fake answered its first result and acted once
    assert _revocations(world) == [f"{rid}:revoke_privilege"] * 2
    assert len(_events(world, EventType.PRIVILEGE_EXPIRED)) == 1


def test_a_standing_membership_is_kept_at_expiry(world: World) -> None:
    _executed_grant(world, minutes=15, already_member=True)
    world.clock.advance(minutes=15)
    [outcome] = expire_due(world.ctx)
    assert outcome.outcome == "done" and outcome.detail.startswith("kept")
    assert _revocations(world) == [] and GROUP in _groups(world)
    [event] = _events(world, EventType.PRIVILEGE_EXPIRED)
    assert event["kept"] is True
