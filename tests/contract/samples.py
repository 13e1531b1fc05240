"""Builders of valid domain objects for the repository contract tests.

Each builder fills every field with a realistic value, so a test overrides only what it is about.
Timestamps deliberately use a non-UTC offset in places: storage must return the same instant, aware.
``seed`` writes the reference world (two tenants, a provider, an operator, a person per tenant) that
most contract tests start from.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from deskguard.domain.actions import ActionKind
from deskguard.domain.events import Actor, ActorKind, DomainEvent, EventType
from deskguard.domain.model import (
    Factor,
    FactorKind,
    Operator,
    OperatorRole,
    Person,
    Phone,
    PhoneSource,
    Provider,
    ProviderKind,
    Tenant,
)
from deskguard.domain.ports import UnitOfWorkFactory
from deskguard.domain.requests import (
    ActionRequest,
    Approval,
    ApprovalVerdict,
    Grant,
    GrantState,
    Proof,
    ProofMethod,
    ProofStatus,
    RequestOrigin,
    RequestState,
    Strength,
)

NOW = datetime(2026, 3, 2, 9, 30, 15, 123456, tzinfo=UTC)
PARIS = timezone(timedelta(hours=1))
A, B = "t-acme", "t-globex"


def person(*, tenant_id: str = A, id: str = "p-alice", **changes: Any) -> Person:
    values: dict[str, Any] = {
        "employee_id": "E-1001",
        "email": "Alice.Martin@acme.example",
        "display_name": "Alice Martin",
        "department": "Finance",
        "manager_id": "p-bob",
        "privileged": True,
        "groups": frozenset({"finance", "vpn-users"}),
        "phones": (
            Phone(
                number="+33612345678",
                kind="mobile",
                source=PhoneSource.HR,
                changed_at=datetime(2025, 1, 5, 10, 0, tzinfo=PARIS),
            ),
            Phone(number="+33140000000", kind="office", source=PhoneSource.DIRECTORY, changed_at=NOW),
        ),
        "factors": (
            Factor(id="f-totp-1", kind=FactorKind.TOTP, label="Authenticator", enrolled_at=NOW),
            Factor(
                id="f-push-1", kind=FactorKind.PORTAL_PUSH, label="Phone", enrolled_at=NOW, address="Pixel 8"
            ),
        ),
        "watchlisted": False,
        "risk_score": 12.5,
        "locked": False,
    }
    values.update(changes)
    return Person(id=id, tenant_id=tenant_id, **values)


def request(
    *, tenant_id: str = A, id: str = "r-1", person_id: str = "p-alice", **changes: Any
) -> ActionRequest:
    values: dict[str, Any] = {
        "kind": ActionKind.RESET_MFA,
        "requester_id": "o-agent",
        "origin": RequestOrigin.AGENT,
        "ticket_id": "k-1",
        "justification": "Lost phone, called from the HR-registered number",
        "params": {"nested": {"list": [1, 2, "três"]}, "flag": True},
        "params_hash": "ab" * 32,
        "state": RequestState.PENDING_VERIFICATION,
        "created_at": NOW,
        "updated_at": NOW,
        "expires_at": NOW + timedelta(hours=4),
        "decision": {"allowed": False, "reasons": [{"code": "x"}]},
    }
    values.update(changes)
    return ActionRequest(id=id, tenant_id=tenant_id, person_id=person_id, **values)


def proof(*, tenant_id: str = A, id: str = "pr-1", request_id: str = "r-1", **changes: Any) -> Proof:
    values: dict[str, Any] = {
        "method": ProofMethod.PUSH_NUMBER_MATCH,
        "channel": "portal",
        "strength": Strength.HIGH,
        "status": ProofStatus.PENDING,
        "created_at": NOW,
        "expires_at": NOW + timedelta(minutes=5),
        "challenge": {"number": 42},
        "secret_hash": "cd" * 32,
        "attested_by": "",
    }
    values.update(changes)
    return Proof(id=id, tenant_id=tenant_id, request_id=request_id, **values)


def approval(
    *,
    tenant_id: str = A,
    id: str = "ap-1",
    request_id: str = "r-1",
    approver_id: str = "o-sup",
    **changes: Any,
) -> Approval:
    values: dict[str, Any] = {
        "approver_role": "supervisor",
        "verdict": ApprovalVerdict.APPROVE,
        "params_hash": "ab" * 32,
        "comment": "checked the ticket",
        "decided_at": NOW,
        "expires_at": NOW + timedelta(hours=1),
    }
    values.update(changes)
    return Approval(id=id, tenant_id=tenant_id, request_id=request_id, approver_id=approver_id, **values)


def grant(*, tenant_id: str = A, id: str = "g-1", operator_id: str = "o-agent", **changes: Any) -> Grant:
    values: dict[str, Any] = {
        "action_kinds": frozenset({ActionKind.RESET_MFA, ActionKind.REMOVE_FACTOR}),
        "justification": "incident INC-7",
        "duration_minutes": 60,
        "state": GrantState.REQUESTED,
        "requested_at": NOW,
    }
    values.update(changes)
    return Grant(id=id, tenant_id=tenant_id, operator_id=operator_id, **values)


def event(*, tenant_id: str = A, id: str = "ev-1", **changes: Any) -> DomainEvent:
    values: dict[str, Any] = {
        "type": EventType.REQUEST_OPENED,
        "occurred_at": NOW,
        "actor": Actor(
            kind=ActorKind.OPERATOR,
            id="o-agent",
            role="agent",
            provider_id="pv-1",
            provider_kind="outsourced",
            client_ip="192.0.2.7",
            user_agent="pytest",
            workstation="WS-12",
        ),
        "request_id": "r-1",
        "person_id": "p-alice",
        "data": {"kind": "reset_mfa", "n": [1, 2]},
        "correlation_id": "c-1",
    }
    values.update(changes)
    return DomainEvent(id=id, tenant_id=tenant_id, **values)


def seed(uow_factory: UnitOfWorkFactory) -> None:
    """Two tenants with one person each, a provider and an agent serving tenant A only."""
    with uow_factory() as uow:
        uow.tenants.add(Tenant(id=A, slug="acme", name="ACME", timezone="Europe/Paris"))
        uow.tenants.add(Tenant(id=B, slug="globex", name="Globex"))
        uow.providers.add(Provider(id="pv-1", name="Outsourcing Ltd", kind=ProviderKind.OUTSOURCED))
        uow.operators.add(
            Operator(
                id="o-agent",
                username="agent1",
                display_name="Agent One",
                role=OperatorRole.AGENT,
                provider_id="pv-1",
                tenant_ids=frozenset({A}),
                workstation="WS-12",
            )
        )
        uow.persons.add(person())
        uow.persons.add(
            person(
                tenant_id=B,
                id="p-zed",
                employee_id="E-9",
                email="zed@globex.example",
                display_name="Zed Globex",
                phones=(),
                factors=(),
            )
        )
        uow.commit()
