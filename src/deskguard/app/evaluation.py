"""Facts, evidence and the policy decision for one request, and the state the decision implies.

This is the only place that turns the world (request, person, operator, ticket, history, risk) into
the policy's facts, so every decision — preview, open, after a proof, at execution — sees the same.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from deskguard.app.access import ROLE_RANK
from deskguard.app.context import AppContext
from deskguard.domain.actions import CATALOGUE, ActionKind
from deskguard.domain.decision import Decision, Evidence
from deskguard.domain.model import FactorKind, Operator, Person, ProviderKind, Tenant, Ticket
from deskguard.domain.ports import UnitOfWork
from deskguard.domain.requests import ActionRequest, RequestOrigin, RequestState
from deskguard.policy.evaluator import evaluate

NEVER_DAYS = 36500.0
NEVER_MINUTES = 1e9


def build_facts(uow: UnitOfWork, *, now: datetime, tenant: Tenant, kind: ActionKind, person: Person,
                requester: Operator | None, origin: RequestOrigin, ticket: Ticket | None) -> dict[str, Any]:
    local = now.astimezone(ZoneInfo(tenant.timezone))
    changed = person.phone_last_changed()
    last = uow.requests.last_executed_at(tenant_id=tenant.id, person_id=person.id)
    outsourced = False
    live_grant = False
    if requester is not None:
        provider = uow.providers.get(requester.provider_id)
        outsourced = provider is not None and provider.kind == ProviderKind.OUTSOURCED
        live_grant = any(g.live_for(kind, now=now)
                         for g in uow.grants.list(tenant_id=tenant.id, operator_id=requester.id))
    return {
        "action.kind": kind.value,
        "action.tier": int(CATALOGUE[kind].tier),
        "target.privileged": person.privileged,
        "target.watchlisted": person.watchlisted,
        "target.risk_score": float(person.risk_score),
        "target.phone_changed_days": (now - changed) / timedelta(days=1) if changed else NEVER_DAYS,
        "target.has_phone": bool(person.phones),
        "target.has_push_device": person.factor(FactorKind.PORTAL_PUSH) is not None,
        "target.has_totp": person.factor(FactorKind.TOTP) is not None,
        "target.has_manager": person.manager_id is not None,
        "target.department": person.department,
        "target.groups": sorted(person.groups),
        "operator.role": requester.role.value if requester else "person",
        "operator.outsourced": outsourced,
        "operator.provider": requester.provider_id if requester else "",
        "operator.has_live_grant": live_grant,
        "request.origin": origin.value,
        "request.channel": ticket.channel.value if ticket else "",
        "request.has_ticket": ticket is not None,
        "context.local_hour": local.hour,
        "context.weekday": local.weekday(),
        "context.failed_verifications_24h": uow.proofs.count_failed_for_person(
            tenant_id=tenant.id, person_id=person.id, since=now - timedelta(hours=24)),
        "context.minutes_since_last_sensitive": (now - last) / timedelta(minutes=1) if last else NEVER_MINUTES,
    }


def gather_evidence(uow: UnitOfWork, *, request: ActionRequest, now: datetime) -> Evidence:
    proofs = frozenset(p.method for p in uow.proofs.list_for_request(tenant_id=request.tenant_id,
                                                                     request_id=request.id)
                       if p.counts and p.completed_at is not None)
    roles: dict[str, str] = {}
    for approval in uow.approvals.list_for_request(tenant_id=request.tenant_id, request_id=request.id):
        if approval.valid_for(request, now=now):
            roles[approval.approver_id] = approval.approver_role
    return Evidence(proofs=proofs, approvals=tuple(roles.values()))


def decide(ctx: AppContext, uow: UnitOfWork, *, request: ActionRequest, now: datetime
           ) -> tuple[Decision, dict[str, Any]]:
    """The decision for a stored request, with the facts it saw."""
    tenant = uow.tenants.get(request.tenant_id)
    person = uow.persons.get(tenant_id=request.tenant_id, person_id=request.person_id)
    assert tenant is not None and person is not None  # both are foreign keys of the request
    requester = uow.operators.get(request.requester_id) if request.origin == RequestOrigin.AGENT else None
    ticket = (uow.tickets.get(tenant_id=request.tenant_id, ticket_id=request.ticket_id)
              if request.ticket_id else None)
    facts = build_facts(uow, now=now, tenant=tenant, kind=request.kind, person=person,
                        requester=requester, origin=request.origin, ticket=ticket)
    return evaluate(ctx.policy, facts=facts, evidence=gather_evidence(uow, request=request, now=now)), facts


def state_for(decision: Decision) -> RequestState:
    if decision.blocked:
        return RequestState.DENIED
    if not decision.proofs_satisfied:
        return RequestState.PENDING_VERIFICATION
    if decision.approvals_missing or (decision.requires_grant and not decision.grant_present):
        return RequestState.PENDING_APPROVAL
    return RequestState.READY


def role_satisfies(role: str, required: str) -> bool:
    """Whether an approver of ``role`` may give an approval that requires ``required``."""
    rank = {r.value: n for r, n in ROLE_RANK.items()}
    return rank.get(role, 0) >= rank.get(required, 99)
