"""The decision read model, in a unit of work and standalone, on both databases: one snapshot holds
exactly what the repositories hold, scoped to the tenant."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pytest
from samples import NOW, PARIS, A, B, grant, person, proof, request, seed

from deskguard.adapters.db.decision_reads import SqlDecisionReader
from deskguard.adapters.db.uow import SqlUnitOfWorkFactory
from deskguard.domain.actions import ActionKind
from deskguard.domain.ports import DecisionSnapshot
from deskguard.domain.requests import GrantState, ProofStatus, RequestState

HOUR = timedelta(hours=1)
Read = Callable[..., DecisionSnapshot | None]


@pytest.fixture(params=["in_unit_of_work", "standalone"])
def read(request: pytest.FixtureRequest, uow_factory: SqlUnitOfWorkFactory) -> Read:
    seed(uow_factory)
    standalone = SqlDecisionReader(uow_factory.engine)

    def snapshot(**kw: object) -> DecisionSnapshot | None:
        args = {
            "operator_id": None,
            "kind": ActionKind.RESET_MFA,
            "now": NOW,
            "failed_since": NOW - 24 * HOUR,
            **kw,
        }
        if request.param == "standalone":
            return standalone.snapshot(**args)  # type: ignore[arg-type]
        with uow_factory() as u:
            return u.decisions.snapshot(**args)  # type: ignore[arg-type]

    return snapshot


def test_the_person_and_tenant_come_back_exactly(read: Read) -> None:
    snap = read(tenant_id=A, person_id="p-alice")
    assert snap is not None and snap.person == person()
    assert (snap.tenant.id, snap.tenant.timezone) == (A, "Europe/Paris")
    assert snap.last_executed_at is None and snap.failed_verifications == 0
    assert snap.requester_role is None and not snap.grant_live


def test_another_tenants_person_is_none(read: Read) -> None:
    assert read(tenant_id=B, person_id="p-alice") is None
    assert read(tenant_id=A, person_id="p-zed") is None


def test_requester_role_and_provider(read: Read) -> None:
    snap = read(tenant_id=A, person_id="p-alice", operator_id="o-agent")
    assert snap is not None
    assert (snap.requester_role, snap.requester_provider_id, snap.requester_provider_kind) == (
        "agent",
        "pv-1",
        "outsourced",
    )
    assert read(tenant_id=A, person_id="p-alice", operator_id="nobody").requester_role is None  # type: ignore[union-attr]


def test_last_executed_and_failed_proofs(read: Read, uow_factory: SqlUnitOfWorkFactory) -> None:
    with uow_factory() as u:
        u.requests.add(request(id="r-done", state=RequestState.EXECUTED, updated_at=NOW.astimezone(PARIS)))
        u.requests.add(request(id="r-1"))
        u.requests.add(request(tenant_id=B, id="r-b", person_id="p-zed", state=RequestState.EXECUTED))
        u.proofs.add(proof(id="old", status=ProofStatus.FAILED, completed_at=NOW - 30 * HOUR))
        u.proofs.add(proof(id="failed", status=ProofStatus.FAILED, completed_at=NOW - HOUR))
        u.proofs.add(proof(id="locked", status=ProofStatus.LOCKED, completed_at=NOW))
        u.proofs.add(proof(id="ok", status=ProofStatus.SUCCEEDED, completed_at=NOW))
        u.commit()
    snap = read(tenant_id=A, person_id="p-alice")
    assert snap is not None and snap.last_executed_at == NOW and snap.failed_verifications == 2
    assert snap.last_executed_at.tzinfo is not None


def test_a_live_grant_counts_only_for_its_action_kinds_and_until_it_expires(
    read: Read, uow_factory: SqlUnitOfWorkFactory
) -> None:
    live = replace(grant(), state=GrantState.ACTIVE, starts_at=NOW - HOUR, expires_at=NOW + HOUR)
    with uow_factory() as u:
        u.grants.add(live)
        u.grants.add(
            replace(
                grant(id="g-2", action_kinds=frozenset({ActionKind.GRANT_PRIVILEGE})),
                state=GrantState.REQUESTED,
            )
        )
        u.commit()
    at = {"tenant_id": A, "person_id": "p-alice", "operator_id": "o-agent"}
    assert read(**at, kind=ActionKind.RESET_MFA).grant_live  # type: ignore[union-attr]
    assert not read(**at, kind=ActionKind.GRANT_PRIVILEGE).grant_live  # type: ignore[union-attr]
    assert not read(**at, kind=ActionKind.RESET_MFA, now=NOW + 2 * HOUR).grant_live  # type: ignore[union-attr]
