"""Contract tests of the request-side repositories, on SQLite and PostgreSQL.

Action requests (round trip, filters, tenant scoping, compare-and-set under concurrency), proofs
(channel references, what awaits a person in the portal, failure counts), approvals (one decision per
approver, without poisoning the caller's transaction), grants, and the outbox (order, ``after_seq``).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta

import pytest
from samples import NOW, PARIS, A, B, approval, event, grant, person, proof, request, seed

from deskguard.adapters.db.uow import SqlUnitOfWorkFactory
from deskguard.domain.actions import ActionKind
from deskguard.domain.errors import Conflict, InvalidTransition, NotFound
from deskguard.domain.events import EventType
from deskguard.domain.model import Tenant
from deskguard.domain.ports import RequestFilter
from deskguard.domain.requests import ApprovalVerdict, GrantState, ProofMethod, ProofStatus, RequestState


@pytest.fixture
def uow(uow_factory: SqlUnitOfWorkFactory) -> SqlUnitOfWorkFactory:
    seed(uow_factory)
    with uow_factory() as u:
        u.requests.add(request())
        u.requests.add(request(tenant_id=B, id="r-b", person_id="p-zed"))
        u.commit()
    return uow_factory


def test_request_round_trips_exactly(uow: SqlUnitOfWorkFactory) -> None:
    with uow() as u:
        stored = u.requests.get(tenant_id=A, request_id="r-1")
    assert stored == request()
    assert (
        stored is not None
        and stored.kind is ActionKind.RESET_MFA
        and stored.state is RequestState.PENDING_VERIFICATION
    )


def test_requests_are_tenant_scoped(uow: SqlUnitOfWorkFactory) -> None:
    with uow() as u:
        assert u.requests.get(tenant_id=B, request_id="r-1") is None
        assert [r.id for r in u.requests.list(tenant_id=B, where=RequestFilter())] == ["r-b"]
        with pytest.raises(Conflict):  # another tenant's request cannot be moved either
            u.requests.update(replace(request(tenant_id=B), version=2))


def test_request_list_filters_newest_first(uow: SqlUnitOfWorkFactory) -> None:
    with uow() as u:
        for i in range(3):
            u.requests.add(
                request(
                    id=f"r-x{i}",
                    person_id="p-other",
                    requester_id="o-sup",
                    state=RequestState.READY,
                    created_at=NOW + timedelta(minutes=i),
                )
            )
        u.commit()
        assert [
            r.id for r in u.requests.list(tenant_id=A, where=RequestFilter(state=RequestState.READY))
        ] == ["r-x2", "r-x1", "r-x0"]
        assert [r.id for r in u.requests.list(tenant_id=A, where=RequestFilter(person_id="p-alice"))] == [
            "r-1"
        ]
        assert [r.id for r in u.requests.list(tenant_id=A, where=RequestFilter(requester_id="o-agent"))] == [
            "r-1"
        ]
        assert len(u.requests.list(tenant_id=A, where=RequestFilter(limit=2))) == 2


def test_request_update_is_a_compare_and_set(uow: SqlUnitOfWorkFactory) -> None:
    current = request()
    moved = current.moved(
        RequestState.READY, at=NOW + timedelta(minutes=1), decision={"allowed": True}, params={"changed": 1}
    )
    with uow() as u:
        u.requests.update(moved)
        with pytest.raises(Conflict) as stale:
            u.requests.update(current.moved(RequestState.DENIED, at=NOW))  # read at version 1, now 2
        assert stale.value.code == "conflict.stale_request"
        u.commit()  # the failed compare-and-set leaves the transaction usable
    with uow() as u:
        assert u.requests.get(tenant_id=A, request_id="r-1") == moved


def test_concurrent_updates_from_one_version_have_exactly_one_winner(uow: SqlUnitOfWorkFactory) -> None:
    with uow() as u:
        ready = request(id="r-race", state=RequestState.READY)
        u.requests.add(ready)
        u.commit()
    claimed = ready.moved(RequestState.EXECUTING, at=NOW)
    start = threading.Barrier(40)

    def claim(_: int) -> str:
        start.wait()
        with uow() as u:
            try:
                u.requests.update(claimed)
            except Conflict:
                return "conflict"
            u.commit()
            return "won"

    with ThreadPoolExecutor(max_workers=40) as pool:
        outcomes = list(pool.map(claim, range(40)))
    assert outcomes.count("won") == 1 and outcomes.count("conflict") == 39


def test_concurrent_read_modify_write_has_exactly_one_winner(uow: SqlUnitOfWorkFactory) -> None:
    with uow() as u:
        u.requests.add(request(id="r-rmw", state=RequestState.READY))
        u.commit()
    start = threading.Barrier(20)

    def execute(_: int) -> str:
        start.wait()
        with uow() as u:
            current = u.requests.get(tenant_id=A, request_id="r-rmw")
            assert current is not None
            try:
                u.requests.update(current.moved(RequestState.EXECUTING, at=NOW))
            except (Conflict, InvalidTransition):
                return "lost"
            u.commit()
            return "won"

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = list(pool.map(execute, range(20)))
    assert outcomes.count("won") == 1 and outcomes.count("lost") == 19


def test_proofs_round_trip_update_and_scope(uow: SqlUnitOfWorkFactory) -> None:
    first = proof()
    done = replace(
        first,
        status=ProofStatus.SUCCEEDED,
        completed_at=NOW.astimezone(PARIS),
        attempts=1,
        attested_by="p-alice",
    )
    with uow() as u:
        u.proofs.add(first, channel_ref="call-123")
        u.proofs.add(proof(id="pr-2", method=ProofMethod.TOTP, created_at=NOW + timedelta(seconds=1)))
        u.commit()
    with uow() as u:
        assert u.proofs.get(tenant_id=A, proof_id="pr-1") == first
        u.proofs.update(done)
        assert u.proofs.get(tenant_id=A, proof_id="pr-1") == done
        assert [p.id for p in u.proofs.list_for_request(tenant_id=A, request_id="r-1")] == ["pr-1", "pr-2"]
        assert u.proofs.get(tenant_id=B, proof_id="pr-1") is None
        assert u.proofs.list_for_request(tenant_id=B, request_id="r-1") == []
        with pytest.raises(NotFound):
            u.proofs.update(replace(done, tenant_id=B))


def test_find_by_channel_ref_is_global(uow: SqlUnitOfWorkFactory) -> None:
    with uow() as u:
        u.proofs.add(proof(tenant_id=B, id="pr-b", request_id="r-b"), channel_ref="idv-session-9")
        u.proofs.add(proof(id="pr-none"))
        found = u.proofs.find_by_channel_ref("idv-session-9")
        assert found is not None and (found.tenant_id, found.id) == (B, "pr-b")
        assert u.proofs.find_by_channel_ref("") is None
        assert u.proofs.find_by_channel_ref("unknown") is None


def test_pending_for_person_covers_push_to_target_and_confirmation_to_manager(
    uow: SqlUnitOfWorkFactory,
) -> None:
    with uow() as u:
        u.proofs.add(proof(id="push"))
        u.proofs.add(proof(id="manager", method=ProofMethod.MANAGER_CONFIRMATION))
        u.proofs.add(proof(id="done", status=ProofStatus.SUCCEEDED))
        u.proofs.add(proof(id="totp", method=ProofMethod.TOTP))
        assert [p.id for p in u.proofs.pending_for_person(tenant_id=A, person_id="p-alice")] == ["push"]
        assert [p.id for p in u.proofs.pending_for_person(tenant_id=A, person_id="p-bob")] == ["manager"]
        assert u.proofs.pending_for_person(tenant_id=B, person_id="p-alice") == []


def test_one_decision_per_approver(uow: SqlUnitOfWorkFactory) -> None:
    with uow() as u:
        u.approvals.add(approval())
        u.commit()
    with uow() as u:
        with pytest.raises(Conflict) as second:
            u.approvals.add(approval(id="ap-2", verdict=ApprovalVerdict.DENY))
        assert second.value.code == "conflict.already_decided"
        u.approvals.add(approval(id="ap-3", approver_id="o-other", decided_at=NOW + timedelta(seconds=1)))
        u.tenants.add(Tenant(id="t-after", slug="after", name="After"))  # the transaction survived
        u.commit()
    with uow() as u:
        assert [a.id for a in u.approvals.list_for_request(tenant_id=A, request_id="r-1")] == ["ap-1", "ap-3"]
        assert u.approvals.list_for_request(tenant_id=A, request_id="r-1")[0] == approval()
        assert u.approvals.list_for_request(tenant_id=B, request_id="r-1") == []
        assert u.tenants.get("t-after") is not None


def test_grants_round_trip_update_and_scope(uow: SqlUnitOfWorkFactory) -> None:
    requested = grant()
    active = replace(
        requested,
        state=GrantState.ACTIVE,
        decided_by="o-sup",
        decided_at=NOW,
        starts_at=NOW,
        expires_at=NOW + timedelta(hours=1),
        uses=2,
    )
    with uow() as u:
        u.grants.add(requested)
        u.grants.add(grant(id="g-2", operator_id="o-sup", requested_at=NOW + timedelta(seconds=1)))
        u.commit()
    with uow() as u:
        assert u.grants.get(tenant_id=A, grant_id="g-1") == requested
        u.grants.update(active)
        stored = u.grants.get(tenant_id=A, grant_id="g-1")
        assert stored == active and stored is not None and stored.live_for(ActionKind.RESET_MFA, now=NOW)
        assert [g.id for g in u.grants.list(tenant_id=A)] == ["g-1", "g-2"]
        assert [g.id for g in u.grants.list(tenant_id=A, operator_id="o-sup")] == ["g-2"]
        assert u.grants.get(tenant_id=B, grant_id="g-1") is None and u.grants.list(tenant_id=B) == []
        with pytest.raises(NotFound):
            u.grants.update(replace(active, tenant_id=B))


def test_outbox_orders_by_seq_and_resumes_after_seq(uow: SqlUnitOfWorkFactory) -> None:
    events = [
        event(id="ev-1"),
        event(tenant_id=B, id="ev-2", type=EventType.PROOF_STARTED, request_id=None),
        event(id="ev-3", occurred_at=NOW.astimezone(PARIS), correlation_id=None),
    ]
    with uow() as u:
        for e in events:
            u.outbox.add(e)
        u.commit()
    with uow() as u:
        stored = u.outbox.list()
        seqs = [e.seq for e in stored]
        assert [e.id for e in stored] == ["ev-1", "ev-2", "ev-3"]
        assert all(s is not None for s in seqs) and seqs == sorted(seqs) and len(set(seqs)) == 3
        assert [replace(e, seq=None) for e in stored] == events
        assert [e.envelope() for e in stored] == [e.envelope() for e in events]
        first = seqs[0]
        assert first is not None
        assert [e.id for e in u.outbox.list(after_seq=first)] == ["ev-2", "ev-3"]
        assert [e.id for e in u.outbox.list(tenant_id=A)] == ["ev-1", "ev-3"]
        assert [e.id for e in u.outbox.list(limit=1)] == ["ev-1"]
        assert u.outbox.list(after_seq=max(s for s in seqs if s is not None)) == []


def test_outbox_rolls_back_with_the_state_change(uow: SqlUnitOfWorkFactory) -> None:
    with uow() as u:
        u.persons.add(person(id="p-new", phones=(), factors=()))
        u.outbox.add(event(id="ev-lost"))
    with uow() as u:
        assert u.outbox.list() == [] and u.persons.get(tenant_id=A, person_id="p-new") is None
