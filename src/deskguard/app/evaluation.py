"""Facts, evidence and the policy decision for one request, and the state the decision implies.

This is the only place that turns the world (request, person, operator, ticket, history, risk) into
the policy's facts, so every decision — preview, open, after a proof, at execution — sees the same.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from deskguard.app.context import AppContext
from deskguard.detection.risk import assess
from deskguard.domain.actions import CATALOGUE, ActionKind
from deskguard.domain.decision import Decision, Evidence
from deskguard.domain.errors import NotFound
from deskguard.domain.model import FactorKind, ProviderKind, Ticket
from deskguard.domain.ports import DecisionReads, DecisionSnapshot, UnitOfWork
from deskguard.domain.requests import ActionRequest, RequestOrigin, RequestState
from deskguard.policy.evaluator import evaluate

NEVER_DAYS = 36500.0
NEVER_MINUTES = 1e9
FAILED_WINDOW = timedelta(hours=24)


def build_facts(
    snap: DecisionSnapshot, *, now: datetime, kind: ActionKind, origin: RequestOrigin, ticket: Ticket | None
) -> dict[str, Any]:
    person = snap.person
    local = now.astimezone(ZoneInfo(snap.tenant.timezone))
    risk = assess(snap.risk, now=now.timestamp())
    operator_risk = assess(snap.operator_risk, now=now.timestamp())
    target_score = max(float(person.risk_score), risk.score)
    changed = person.phone_last_changed()
    last = snap.last_executed_at
    return {
        "action.kind": kind.value,
        "action.tier": int(CATALOGUE[kind].tier),
        "target.privileged": person.privileged,
        "target.watchlisted": person.watchlisted or (snap.watch_until is not None and snap.watch_until > now),
        # the directory's own score (set by an analyst or an import) is a floor under detection's
        "target.risk_score": target_score,
        "target.risk_reasons": risk.summary,
        # a response runbook's step (require_manager_validation): the manager confirms, for a while
        "target.manager_validation_required": snap.manager_validation_until is not None
        and snap.manager_validation_until > now,
        "target.phone_changed_days": (now - changed) / timedelta(days=1) if changed else NEVER_DAYS,
        "target.has_phone": bool(person.phones),
        "target.has_push_device": person.factor(FactorKind.PORTAL_PUSH) is not None,
        "target.has_totp": person.factor(FactorKind.TOTP) is not None,
        "target.has_manager": person.manager_id is not None,
        "target.department": person.department,
        "target.groups": sorted(person.groups),
        "operator.role": snap.requester_role or "person",
        "operator.outsourced": snap.requester_provider_kind == ProviderKind.OUTSOURCED.value,
        "operator.provider": snap.requester_provider_id,
        "operator.has_live_grant": snap.grant_live,
        "operator.risk_score": operator_risk.score,
        "operator.risk_reasons": operator_risk.summary,
        # the request: the person's risk and the operator's, as independent evidence (a noisy-or)
        "request.risk_score": round(100.0 - (100.0 - target_score) * (100.0 - operator_risk.score) / 100, 1),
        "request.risk_reasons": _request_reasons(risk.summary, operator_risk.summary),
        "request.origin": origin.value,
        "request.channel": ticket.channel.value if ticket else "",
        "request.has_ticket": ticket is not None,
        "context.local_hour": local.hour,
        "context.weekday": local.weekday(),
        "context.failed_verifications_24h": snap.failed_verifications,
        "context.minutes_since_last_sensitive": (now - last) / timedelta(minutes=1)
        if last
        else NEVER_MINUTES,
    }


def _request_reasons(person: str, operator: str) -> str:
    parts = [f"person: {person}" if person else "", f"operator: {operator}" if operator else ""]
    return "; ".join(part for part in parts if part)


def snapshot(
    reads: DecisionReads,
    *,
    tenant_id: str,
    person_id: str,
    operator_id: str | None,
    kind: ActionKind,
    now: datetime,
) -> DecisionSnapshot:
    snap = reads.snapshot(
        tenant_id=tenant_id,
        person_id=person_id,
        operator_id=operator_id,
        kind=kind,
        now=now,
        failed_since=now - FAILED_WINDOW,
    )
    if snap is None:
        raise NotFound(f"person {person_id} not found", code="not_found.person", field="person_id")
    return snap


def gather_evidence(uow: UnitOfWork, *, request: ActionRequest, now: datetime) -> Evidence:
    proofs = frozenset(
        p.method
        for p in uow.proofs.list_for_request(tenant_id=request.tenant_id, request_id=request.id)
        if p.counts and p.completed_at is not None
    )
    roles: dict[str, str] = {}
    for approval in uow.approvals.list_for_request(tenant_id=request.tenant_id, request_id=request.id):
        if approval.valid_for(request, now=now):
            roles[approval.approver_id] = approval.approver_role
    return Evidence(proofs=proofs, approvals=tuple(roles.values()))


def request_facts(
    uow: UnitOfWork, *, request: ActionRequest, ticket: Ticket | None, now: datetime
) -> dict[str, Any]:
    """The policy's facts for a stored request as they are now (its person's, its agent's, its ticket's)."""
    operator_id = request.requester_id if request.origin == RequestOrigin.AGENT else None
    snap = snapshot(
        uow.decisions,
        tenant_id=request.tenant_id,
        person_id=request.person_id,
        operator_id=operator_id,
        kind=request.kind,
        now=now,
    )
    return build_facts(snap, now=now, kind=request.kind, origin=request.origin, ticket=ticket)


def decide(ctx: AppContext, uow: UnitOfWork, *, request: ActionRequest, now: datetime) -> Decision:
    """The decision for a stored request, from the facts as they are now."""
    ticket = (
        uow.tickets.get(tenant_id=request.tenant_id, ticket_id=request.ticket_id)
        if request.ticket_id
        else None
    )
    facts = request_facts(uow, request=request, ticket=ticket, now=now)
    return evaluate(ctx.policy, facts=facts, evidence=gather_evidence(uow, request=request, now=now))


def state_for(decision: Decision) -> RequestState:
    if decision.blocked:
        return RequestState.DENIED
    if not decision.proofs_satisfied:
        return RequestState.PENDING_VERIFICATION
    if decision.approvals_missing or (decision.requires_grant and not decision.grant_present):
        return RequestState.PENDING_APPROVAL
    return RequestState.READY
