"""4-eyes approvals with separation of duties built in.

An approver is never the requester, never the target person, holds the role the decision requires
for that tenant, and approves the hash of the exact parameters (a change voids the approval). A
denial is final. Approvals expire.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from deskguard.app.access import APPROVERS, require_operator, same_human
from deskguard.app.context import AppContext
from deskguard.app.outbox import emit
from deskguard.app.requests import live_request, move_request, settle
from deskguard.domain.errors import Forbidden, InvalidTransition, SeparationOfDuties, ValidationFailed
from deskguard.domain.events import Actor, EventType
from deskguard.domain.model import Operator, Person, Provider, Ticket
from deskguard.domain.ports import RequestFilter
from deskguard.domain.requests import ActionRequest, Approval, ApprovalVerdict, Proof, RequestState

MAX_COMMENT = 2000


def decide_approval(
    ctx: AppContext,
    *,
    actor: Actor,
    tenant_id: str,
    request_id: str,
    verdict: str,
    comment: str,
    params_hash: str | None = None,
) -> ActionRequest:
    """Approve or deny. ``params_hash``, when the approver's screen sends it, must match the request's:
    the approver approves what they saw, not what it became."""
    require_operator(actor, tenant_id=tenant_id, roles=APPROVERS)
    try:
        chosen = ApprovalVerdict(verdict)
    except ValueError:
        raise ValidationFailed("verdict must be approve or deny", field="verdict") from None
    if chosen == ApprovalVerdict.DENY and not comment.strip():
        raise ValidationFailed("a denial needs a comment saying why", field="comment")
    if len(comment) > MAX_COMMENT:
        raise ValidationFailed(f"comment is longer than {MAX_COMMENT} characters", field="comment")
    with ctx.uow() as uow:
        request = live_request(ctx, uow, tenant_id=tenant_id, request_id=request_id, actor=actor)
        if request.state != RequestState.PENDING_APPROVAL:
            raise InvalidTransition(
                f"request {request.id} is {request.state.value}, not pending approval",
                code=f"invalid_transition.{request.state.value}_approval",
            )
        if params_hash is not None and params_hash != request.params_hash:
            raise InvalidTransition(
                "the request changed since you looked at it; review it again",
                code="invalid_transition.params_changed",
            )
        if actor.id == request.requester_id:
            raise SeparationOfDuties(
                "you opened this request; someone else must approve it", code="separation_of_duties.requester"
            )
        person = uow.persons.get(tenant_id=tenant_id, person_id=request.person_id)
        operator = uow.operators.get(actor.id)
        assert person is not None and operator is not None
        if same_human(actor, person, operator_username=operator.username):
            raise SeparationOfDuties(
                "you are the person this request is about; you cannot approve it",
                code="separation_of_duties.target",
            )
        required = str(request.decision.get("approvals", {}).get("role", "supervisor"))
        ranks = ctx.policy.approval_roles  # the same ranking the policy counts approvals with
        if ranks.get(actor.role, 0) < ranks.get(required, 1 << 30):
            raise Forbidden(f"this approval needs the {required} role", code="forbidden.approval_role")
        now = ctx.clock.now()
        uow.approvals.add(
            Approval(
                id=ctx.random.new_id("apv"),
                tenant_id=tenant_id,
                request_id=request.id,
                approver_id=actor.id,
                approver_role=actor.role,
                verdict=chosen,
                params_hash=request.params_hash,
                comment=comment,
                decided_at=now,
                expires_at=now + ctx.timeouts.approval,
            )
        )
        emit(
            ctx,
            uow,
            type=EventType.APPROVAL_GRANTED
            if chosen == ApprovalVerdict.APPROVE
            else EventType.APPROVAL_DENIED,
            actor=actor,
            tenant_id=tenant_id,
            request_id=request.id,
            person_id=request.person_id,
            params_hash=request.params_hash,
            requester_id=request.requester_id,
            comment=comment,
        )
        if chosen == ApprovalVerdict.DENY:
            result = move_request(
                ctx,
                uow,
                request=request,
                to=RequestState.DENIED,
                actor=actor,
                reason=comment,
                failure_reason=f"denied: {comment}",
            )
        else:
            result = settle(ctx, uow, request=request, actor=actor)
        uow.commit()
    return result


def approval_inbox(ctx: AppContext, *, actor: Actor, tenant_id: str) -> Sequence[ActionRequest]:
    """Requests waiting for an approval the actor may give (not their own)."""
    require_operator(actor, tenant_id=tenant_id, roles=APPROVERS)
    with ctx.reads() as uow:
        waiting = uow.requests.list(
            tenant_id=tenant_id, where=RequestFilter(state=RequestState.PENDING_APPROVAL)
        )
    return [r for r in waiting if r.requester_id != actor.id]


RISK_FACTS = ("request.risk_score", "target.risk_score", "target.risk_reasons", "operator.risk_score")


@dataclass(frozen=True, slots=True)
class Dossier:
    """Everything an approver weighs for one request: who asks (operator, provider, workstation),
    about whom, the proofs and their outcomes, the risk the policy saw and why, the ticket, and the
    decision's reasons. ``own`` is a request the viewer opened: shown, never approvable by them."""

    request: ActionRequest
    requester: Operator | None  # None for a self-service request (the person asked)
    provider: Provider | None
    person: Person
    proofs: Sequence[Proof]
    ticket: Ticket | None
    risk: dict[str, Any]
    own: bool


def _risk_seen(decision: dict[str, Any]) -> dict[str, Any]:
    """The risk values the policy's rules saw (their trace), by fact name."""
    seen: dict[str, Any] = {}
    for entry in decision.get("trace", []):
        for name, value in entry.get("values", {}).items():
            if name in RISK_FACTS:
                seen.setdefault(name, value)
    return seen


def approval_dossiers(ctx: AppContext, *, actor: Actor, tenant_id: str) -> Sequence[Dossier]:
    """Every request of the tenant waiting for approval, oldest first, each with its evidence; the
    viewer's own requests are included and marked (4-eyes: someone else decides them)."""
    require_operator(actor, tenant_id=tenant_id, roles=APPROVERS)
    dossiers: list[Dossier] = []
    with ctx.reads() as uow:
        waiting = uow.requests.list(
            tenant_id=tenant_id, where=RequestFilter(state=RequestState.PENDING_APPROVAL)
        )
        for request in sorted(waiting, key=lambda r: r.created_at):
            person = uow.persons.get(tenant_id=tenant_id, person_id=request.person_id)
            if person is None:
                continue
            requester = uow.operators.get(request.requester_id)
            provider = uow.providers.get(requester.provider_id) if requester else None
            ticket = (
                uow.tickets.get(tenant_id=tenant_id, ticket_id=request.ticket_id)
                if request.ticket_id
                else None
            )
            proofs = uow.proofs.list_for_request(tenant_id=tenant_id, request_id=request.id)
            dossiers.append(
                Dossier(
                    request=request,
                    requester=requester,
                    provider=provider,
                    person=person,
                    proofs=proofs,
                    ticket=ticket,
                    risk=_risk_seen(request.decision),
                    own=request.requester_id == actor.id,
                )
            )
    return dossiers
