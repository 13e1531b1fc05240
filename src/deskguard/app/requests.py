"""Request use cases: preview a decision, open a request, read, cancel, and re-decide (``settle``).

Every state change is committed with its outbox event in one transaction. ``settle`` is the single
place where a request's state follows from its current decision; proofs and approvals call it.
Execution lives in ``app.execution``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from deskguard.app.access import REQUESTERS, require_operator, require_person
from deskguard.app.approval_notices import queue as queue_approval_notice
from deskguard.app.approval_updates import queue as queue_approval_update
from deskguard.app.context import AppContext
from deskguard.app.evaluation import build_facts, decide, snapshot, state_for
from deskguard.app.outbox import emit
from deskguard.app.self_service import hold_for, notify_held
from deskguard.app.ticket_evidence import queue as queue_evidence
from deskguard.domain.actions import spec_for, validate_params
from deskguard.domain.decision import Decision, Evidence
from deskguard.domain.errors import InvalidTransition, NotFound, ValidationFailed
from deskguard.domain.events import Actor, ActorKind, EventType
from deskguard.domain.model import Ticket
from deskguard.domain.ports import RequestFilter, UnitOfWork
from deskguard.domain.requests import (
    METHOD_CHANNEL,
    METHOD_STRENGTH,
    ActionRequest,
    Proof,
    ProofMethod,
    ProofStatus,
    RequestOrigin,
    RequestState,
    params_hash,
)
from deskguard.policy.evaluator import evaluate

MAX_JUSTIFICATION = 2000


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestDraft:
    """What an agent (or the person, from the portal) asks for."""

    kind: str
    person_id: str
    params: dict[str, Any] | None = None
    ticket_id: str | None = None
    justification: str = ""


def _load_ticket(uow: UnitOfWork, *, tenant_id: str, ticket_id: str | None) -> Ticket | None:
    if ticket_id is None:
        return None
    ticket = uow.tickets.get(tenant_id=tenant_id, ticket_id=ticket_id)
    if ticket is None:
        raise NotFound(f"ticket {ticket_id} not found", code="not_found.ticket", field="ticket_id")
    return ticket


def load_request(uow: UnitOfWork, *, tenant_id: str, request_id: str) -> ActionRequest:
    request = uow.requests.get(tenant_id=tenant_id, request_id=request_id)
    if request is None:
        raise NotFound(f"request {request_id} not found", code="not_found.request")
    return request


def _validated(draft: RequestDraft) -> tuple[Any, dict[str, Any]]:
    spec = spec_for(draft.kind)
    if len(draft.justification) > MAX_JUSTIFICATION:
        raise ValidationFailed(
            f"justification is longer than {MAX_JUSTIFICATION} characters", field="justification"
        )
    return spec, validate_params(spec.kind, draft.params)


NO_EVIDENCE = Evidence()


def preview(
    ctx: AppContext, *, actor: Actor, tenant_id: str, draft: RequestDraft, evidence: Evidence = NO_EVIDENCE
) -> Decision:
    """'What would it take?': the decision for a request that is not opened. Writes nothing."""
    require_operator(actor, tenant_id=tenant_id)
    spec, _ = _validated(draft)
    snap = snapshot(
        ctx.decisions,
        tenant_id=tenant_id,
        person_id=draft.person_id,
        operator_id=actor.id,
        kind=spec.kind,
        now=ctx.clock.now(),
    )
    ticket = None
    if draft.ticket_id is not None:
        with ctx.reads() as uow:
            ticket = _load_ticket(uow, tenant_id=tenant_id, ticket_id=draft.ticket_id)
    facts = build_facts(snap, now=ctx.clock.now(), kind=spec.kind, origin=RequestOrigin.AGENT, ticket=ticket)
    return evaluate(ctx.policy, facts=facts, evidence=evidence)


def open_request(ctx: AppContext, *, actor: Actor, tenant_id: str, draft: RequestDraft) -> ActionRequest:
    """Open a request: validate, decide, store it in the state the decision implies, emit events.

    Opened by an operator (origin agent), or by the person from the self-service portal (origin
    self_service, which is itself the ``self_service_initiated`` proof).
    """
    if actor.kind == ActorKind.PERSON:
        require_person(actor, tenant_id=tenant_id)
        if draft.person_id != actor.id:
            raise NotFound(f"person {draft.person_id} not found", code="not_found.person", field="person_id")
        origin = RequestOrigin.SELF_SERVICE
    else:
        require_operator(actor, tenant_id=tenant_id, roles=REQUESTERS)
        origin = RequestOrigin.AGENT
    spec, params = _validated(draft)
    now = ctx.clock.now()
    with ctx.uow() as uow:
        # An unknown person (or one of another tenant) fails the decision's read in settle() below,
        # before anything is committed.
        _load_ticket(uow, tenant_id=tenant_id, ticket_id=draft.ticket_id)
        request = ActionRequest(
            id=ctx.random.new_id("req"),
            tenant_id=tenant_id,
            kind=spec.kind,
            person_id=draft.person_id,
            requester_id=actor.id,
            origin=origin,
            ticket_id=draft.ticket_id,
            justification=draft.justification,
            params=params,
            params_hash=params_hash(
                tenant_id=tenant_id,
                kind=spec.kind,
                person_id=draft.person_id,
                params=params,
                ticket_id=draft.ticket_id,
            ),
            state=RequestState.DRAFT,
            created_at=now,
            updated_at=now,
            expires_at=now + ctx.timeouts.request + hold_for(ctx, kind=spec.kind, origin=origin),
        )
        uow.requests.add(request)
        emit(
            ctx,
            uow,
            type=EventType.REQUEST_OPENED,
            actor=actor,
            tenant_id=tenant_id,
            request_id=request.id,
            person_id=draft.person_id,
            kind=spec.kind.value,
            tier=spec.tier.label,
            origin=origin.value,
            ticket_id=draft.ticket_id,
            justification=draft.justification,
            params_hash=request.params_hash,
        )
        if origin == RequestOrigin.SELF_SERVICE:
            _record_self_service_proof(ctx, uow, request=request, actor=actor)
        request = settle(ctx, uow, request=request, actor=actor)
        person = (  # to notify of a held self-service change (app.self_service)
            uow.persons.get(tenant_id=tenant_id, person_id=draft.person_id)
            if origin == RequestOrigin.SELF_SERVICE
            else None
        )
        uow.commit()
    if person is not None:
        notify_held(ctx, request=request, person=person)  # a sensitive self-service change waits
    return request


def _record_self_service_proof(
    ctx: AppContext, uow: UnitOfWork, *, request: ActionRequest, actor: Actor
) -> None:
    now = ctx.clock.now()
    method = ProofMethod.SELF_SERVICE_INITIATED
    proof = Proof(
        id=ctx.random.new_id("prf"),
        tenant_id=request.tenant_id,
        request_id=request.id,
        method=method,
        channel=METHOD_CHANNEL[method],
        strength=METHOD_STRENGTH[method],
        status=ProofStatus.SUCCEEDED,
        created_at=now,
        expires_at=request.expires_at,
        completed_at=now,
        attested_by=actor.id,
        challenge={"session": "authenticated self-service portal session"},
    )
    uow.proofs.add(proof)
    emit(
        ctx,
        uow,
        type=EventType.PROOF_SUCCEEDED,
        actor=actor,
        tenant_id=request.tenant_id,
        request_id=request.id,
        person_id=request.person_id,
        proof_id=proof.id,
        method=method.value,
    )


def settle(ctx: AppContext, uow: UnitOfWork, *, request: ActionRequest, actor: Actor) -> ActionRequest:
    """Re-decide a live request and move it to the state its decision implies (in the caller's tx)."""
    now = ctx.clock.now()
    decision = decide(ctx, uow, request=request, now=now)
    target = state_for(decision)
    recorded = decision.to_dict()
    emit(
        ctx,
        uow,
        type=EventType.REQUEST_DECIDED,
        actor=actor,
        tenant_id=request.tenant_id,
        request_id=request.id,
        person_id=request.person_id,
        decision=recorded,
    )
    return move_request(ctx, uow, request=request, to=target, actor=actor, decision=recorded)


def move_request(
    ctx: AppContext,
    uow: UnitOfWork,
    *,
    request: ActionRequest,
    to: RequestState,
    actor: Actor,
    reason: str = "",
    **changes: Any,
) -> ActionRequest:
    """Move a request, store it (compare-and-set) and record the change, in the caller's tx."""
    moved = request.moved(to, at=ctx.clock.now(), **changes)
    uow.requests.update(moved)
    if to != request.state:
        event = emit(
            ctx,
            uow,
            type=EventType.REQUEST_STATE_CHANGED,
            actor=actor,
            tenant_id=request.tenant_id,
            request_id=request.id,
            person_id=request.person_id,
            **{"from": request.state.value, "to": to.value},
            **({"reason": reason} if reason else {}),
        )
        queue_evidence(ctx, uow, request=moved, event=event)  # a final state goes back to its ticket
        queue_approval_notice(ctx, uow, request=moved)  # the approvers' Slack / Teams channels, if any
        queue_approval_update(ctx, uow, request=moved, previous=request.state, actor=actor)  # its buttons go
    return moved


def live_request(
    ctx: AppContext, uow: UnitOfWork, *, tenant_id: str, request_id: str, actor: Actor
) -> ActionRequest:
    """Load a request that can still change; an overdue one is expired (and the expiry committed)."""
    request = load_request(uow, tenant_id=tenant_id, request_id=request_id)
    if request.terminal:
        raise InvalidTransition(
            f"request {request.id} is {request.state.value}; it can no longer change",
            code=f"invalid_transition.{request.state.value}",
        )
    if ctx.clock.now() >= request.expires_at and request.state != RequestState.EXECUTING:
        move_request(
            ctx, uow, request=request, to=RequestState.EXPIRED, actor=actor, reason="request expired"
        )
        uow.commit()
        raise InvalidTransition(
            f"request {request.id} expired at {request.expires_at.isoformat()}",
            code="invalid_transition.expired",
        )
    return request


def get_request(
    ctx: AppContext, *, actor: Actor, tenant_id: str, request_id: str
) -> tuple[ActionRequest, Sequence[Proof]]:
    require_operator(actor, tenant_id=tenant_id)
    with ctx.reads() as uow:
        request = load_request(uow, tenant_id=tenant_id, request_id=request_id)
        return request, uow.proofs.list_for_request(tenant_id=tenant_id, request_id=request_id)


def list_requests(
    ctx: AppContext, *, actor: Actor, tenant_id: str, where: RequestFilter
) -> Sequence[ActionRequest]:
    require_operator(actor, tenant_id=tenant_id)
    with ctx.reads() as uow:
        return uow.requests.list(tenant_id=tenant_id, where=where)


def cancel_request(
    ctx: AppContext, *, actor: Actor, tenant_id: str, request_id: str, reason: str
) -> ActionRequest:
    require_operator(actor, tenant_id=tenant_id, roles=REQUESTERS)
    with ctx.uow() as uow:
        request = live_request(ctx, uow, tenant_id=tenant_id, request_id=request_id, actor=actor)
        cancelled = move_request(
            ctx,
            uow,
            request=request,
            to=RequestState.CANCELLED,
            actor=actor,
            reason=reason,
            failure_reason=reason,
        )
        uow.commit()
    return cancelled
