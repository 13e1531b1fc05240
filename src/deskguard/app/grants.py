"""Just-in-time grants: a scoped (action kinds x tenant), time-boxed elevation for one operator.

The operator asks with a justification; a supervisor (never the same operator) approves; the grant
is live until it expires or is revoked. Every use is recorded by the execution use case.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import timedelta

from deskguard.app.access import APPROVERS, REQUESTERS, require_operator
from deskguard.app.context import AppContext
from deskguard.app.outbox import emit
from deskguard.domain.actions import ActionKind
from deskguard.domain.errors import InvalidTransition, NotFound, SeparationOfDuties, ValidationFailed
from deskguard.domain.events import Actor, EventType
from deskguard.domain.ports import UnitOfWork
from deskguard.domain.requests import Grant, GrantState

MAX_GRANT_MINUTES = 480


def request_grant(
    ctx: AppContext,
    *,
    actor: Actor,
    tenant_id: str,
    action_kinds: Iterable[str],
    duration_minutes: int,
    justification: str,
) -> Grant:
    require_operator(actor, tenant_id=tenant_id, roles=REQUESTERS)
    try:
        kinds = frozenset(ActionKind(k) for k in action_kinds)
    except ValueError as exc:
        raise ValidationFailed(f"action_kinds: {exc}", field="action_kinds") from None
    if not kinds:
        raise ValidationFailed("action_kinds must name at least one action", field="action_kinds")
    if not 5 <= duration_minutes <= MAX_GRANT_MINUTES:
        raise ValidationFailed(
            f"duration_minutes must be between 5 and {MAX_GRANT_MINUTES}", field="duration_minutes"
        )
    if len(justification.strip()) < 10:
        raise ValidationFailed("justification must say why (10 characters at least)", field="justification")
    grant = Grant(
        id=ctx.random.new_id("grt"),
        tenant_id=tenant_id,
        operator_id=actor.id,
        action_kinds=kinds,
        justification=justification,
        duration_minutes=duration_minutes,
        state=GrantState.REQUESTED,
        requested_at=ctx.clock.now(),
    )
    with ctx.uow() as uow:
        uow.grants.add(grant)
        emit(
            ctx,
            uow,
            type=EventType.GRANT_REQUESTED,
            actor=actor,
            tenant_id=tenant_id,
            grant_id=grant.id,
            action_kinds=sorted(k.value for k in kinds),
            duration_minutes=duration_minutes,
            justification=justification,
        )
        uow.commit()
    return grant


def _load(uow: UnitOfWork, *, tenant_id: str, grant_id: str) -> Grant:
    grant = uow.grants.get(tenant_id=tenant_id, grant_id=grant_id)
    if grant is None:
        raise NotFound(f"grant {grant_id} not found", code="not_found.grant")
    return grant


def decide_grant(
    ctx: AppContext, *, actor: Actor, tenant_id: str, grant_id: str, approve: bool, comment: str = ""
) -> Grant:
    require_operator(actor, tenant_id=tenant_id, roles=APPROVERS)
    with ctx.uow() as uow:
        grant = _load(uow, tenant_id=tenant_id, grant_id=grant_id)
        if grant.operator_id == actor.id:
            raise SeparationOfDuties(
                "you cannot approve your own elevation", code="separation_of_duties.grant"
            )
        if grant.state != GrantState.REQUESTED:
            raise InvalidTransition(
                f"grant {grant.id} is {grant.state.value}; it was already decided",
                code=f"invalid_transition.grant_{grant.state.value}",
            )
        now = ctx.clock.now()
        if approve:
            decided = replace(
                grant,
                state=GrantState.ACTIVE,
                decided_by=actor.id,
                decided_at=now,
                starts_at=now,
                expires_at=now + timedelta(minutes=grant.duration_minutes),
            )
        else:
            decided = replace(grant, state=GrantState.DENIED, decided_by=actor.id, decided_at=now)
        uow.grants.update(decided)
        emit(
            ctx,
            uow,
            type=EventType.GRANT_APPROVED if approve else EventType.GRANT_DENIED,
            actor=actor,
            tenant_id=tenant_id,
            grant_id=grant.id,
            comment=comment,
            expires_at=decided.expires_at.isoformat() if decided.expires_at else None,
        )
        uow.commit()
    return decided


def revoke_grant(ctx: AppContext, *, actor: Actor, tenant_id: str, grant_id: str, reason: str) -> Grant:
    """The holder may give a grant up; a supervisor may take it away."""
    require_operator(actor, tenant_id=tenant_id)
    with ctx.uow() as uow:
        grant = _load(uow, tenant_id=tenant_id, grant_id=grant_id)
        if actor.id != grant.operator_id and actor.role not in {r.value for r in APPROVERS}:
            raise NotFound(f"grant {grant_id} not found", code="not_found.grant")
        if grant.state != GrantState.ACTIVE:
            raise InvalidTransition(
                f"grant {grant.id} is {grant.state.value}, not active",
                code=f"invalid_transition.grant_{grant.state.value}",
            )
        revoked = replace(grant, state=GrantState.REVOKED, expires_at=ctx.clock.now())
        uow.grants.update(revoked)
        emit(
            ctx,
            uow,
            type=EventType.GRANT_REVOKED,
            actor=actor,
            tenant_id=tenant_id,
            grant_id=grant.id,
            reason=reason,
        )
        uow.commit()
    return revoked


def list_grants(ctx: AppContext, *, actor: Actor, tenant_id: str) -> Sequence[Grant]:
    require_operator(actor, tenant_id=tenant_id)
    own = actor.role not in {r.value for r in APPROVERS}
    with ctx.reads() as uow:
        return uow.grants.list(tenant_id=tenant_id, operator_id=actor.id if own else None)
