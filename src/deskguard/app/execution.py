"""Executing an approved request through the identity provider: exactly once, fail closed.

1. Re-decide with fresh facts (risk may have moved since approval); only an allowed decision runs.
2. Claim: compare-and-set READY -> EXECUTING, committed with its event. Of N concurrent callers,
   one wins; the others get ``Conflict``. No claim, no connector call.
3. Call the connector with the request id as idempotency key, outside any transaction.
4. Record the outcome: EXECUTED (with the non-secret summary), FAILED (definite refusal), or back to
   READY on a timeout (outcome unknown; a retry reuses the same idempotency key).
Secrets the action produced go to the person's verified channel, never to the agent unless the
policy allows it and the agent asked; they are never stored or put in an event.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from deskguard.app.access import REQUESTERS, require_operator
from deskguard.app.context import AppContext
from deskguard.app.evaluation import decide, state_for
from deskguard.app.outbox import emit
from deskguard.app.requests import live_request, settle
from deskguard.app.self_service import require_delay_passed
from deskguard.app.ticket_evidence import queue as queue_evidence
from deskguard.domain.actions import CATALOGUE
from deskguard.domain.effects import apply_effect
from deskguard.domain.errors import Conflict, ConnectorError, ConnectorTimeout, InvalidTransition
from deskguard.domain.events import Actor, EventType
from deskguard.domain.model import FactorKind, Person
from deskguard.domain.ports import ExecutionResult
from deskguard.domain.requests import ActionRequest, RequestState


@dataclass(frozen=True, slots=True)
class Execution:
    request: ActionRequest
    secret_for_agent: str | None = None  # only when the policy allows it and the agent asked


def execute_request(ctx: AppContext, *, actor: Actor, tenant_id: str, request_id: str) -> Execution:
    require_operator(actor, tenant_id=tenant_id, roles=REQUESTERS)
    claimed, person = _claim(ctx, actor=actor, tenant_id=tenant_id, request_id=request_id)
    try:
        result = ctx.channels.idp.execute(
            tenant_id=tenant_id,
            person=person,
            kind=claimed.kind,
            params=claimed.params,
            idempotency_key=claimed.id,
        )
    except ConnectorError as exc:
        _unsuccessful(
            ctx,
            actor=actor,
            request=claimed,
            to=RequestState.FAILED,
            event=EventType.REQUEST_FAILED,
            reason=exc.message,
            failure_reason=exc.message,
        )
        raise
    except Exception as exc:  # a timeout, or a connector bug: either way the outcome is unknown
        reason = (
            exc.message if isinstance(exc, ConnectorTimeout) else f"{type(exc).__name__} in the connector"
        )
        _unsuccessful(
            ctx,
            actor=actor,
            request=claimed,
            to=RequestState.READY,
            event=EventType.REQUEST_EXECUTION_UNKNOWN,
            reason=reason,
            failure_reason=f"outcome unknown: {reason}",
            retry="execute again: the same idempotency key makes the connector apply it at most once",
        )
        raise
    return _record_success(
        ctx,
        actor=actor,
        request=claimed,
        person=person,
        result=result,
        secret_to_agent_allowed=bool(claimed.decision.get("secret_to_agent_allowed")),
    )


def _claim(ctx: AppContext, *, actor: Actor, tenant_id: str, request_id: str) -> tuple[ActionRequest, Person]:
    with ctx.uow() as uow:
        request = live_request(ctx, uow, tenant_id=tenant_id, request_id=request_id, actor=actor)
        if request.state == RequestState.EXECUTING:
            raise Conflict(f"request {request.id} is already being executed", code="conflict.executing")
        if request.state != RequestState.READY:
            raise InvalidTransition(
                f"request {request.id} is {request.state.value}, not ready: "
                "its proofs or approvals are incomplete",
                code=f"invalid_transition.{request.state.value}_to_executing",
            )
        require_delay_passed(ctx, request)  # a sensitive self-service change waits (app.self_service)
        now = ctx.clock.now()
        decision = decide(ctx, uow, request=request, now=now)
        if not decision.allowed:
            # The world moved since the request became ready (risk, expiry of an approval...).
            settled = settle(ctx, uow, request=request, actor=actor)
            uow.commit()
            raise InvalidTransition(
                f"request {request.id} is no longer allowed; it is now {settled.state.value}",
                code="invalid_transition.no_longer_allowed",
                details={"decision": decision.to_dict()},
            )
        assert state_for(decision) == RequestState.READY
        claimed = request.moved(RequestState.EXECUTING, at=now, decision=decision.to_dict())
        uow.requests.update(claimed)  # compare-and-set: losers of a race get Conflict here
        emit(
            ctx,
            uow,
            type=EventType.REQUEST_EXECUTION_STARTED,
            actor=actor,
            tenant_id=tenant_id,
            request_id=request.id,
            person_id=request.person_id,
            idempotency_key=request.id,
            connector=ctx.channels.idp.name,
        )
        if decision.requires_grant:
            _use_grant(ctx, uow, actor=actor, request=request)
        person = uow.persons.get(tenant_id=tenant_id, person_id=request.person_id)
        assert person is not None
        uow.commit()
    return claimed, person


def _use_grant(ctx: AppContext, uow, *, actor: Actor, request: ActionRequest) -> None:
    now = ctx.clock.now()
    for grant in uow.grants.list(tenant_id=request.tenant_id, operator_id=request.requester_id):
        if grant.live_for(request.kind, now=now):
            uow.grants.update(replace(grant, uses=grant.uses + 1))
            emit(
                ctx,
                uow,
                type=EventType.GRANT_USED,
                actor=actor,
                tenant_id=request.tenant_id,
                request_id=request.id,
                person_id=request.person_id,
                grant_id=grant.id,
            )
            return


def _record_success(
    ctx: AppContext,
    *,
    actor: Actor,
    request: ActionRequest,
    person: Person,
    result: ExecutionResult,
    secret_to_agent_allowed: bool,
) -> Execution:
    now = ctx.clock.now()
    secret_for_agent = None
    delivery: dict[str, str] = {}
    if result.secret is not None:
        wants_agent = request.params.get("deliver_to") == "agent"
        if wants_agent and secret_to_agent_allowed:
            secret_for_agent = result.secret
            delivery = {"delivered_to": "agent", "kind": result.secret_kind}
        else:
            delivery = _deliver(ctx, request=request, person=person, result=result)
    with ctx.uow() as uow:
        done = request.moved(
            RequestState.EXECUTED,
            at=now,
            result={**result.summary, **({"secret": delivery} if delivery else {})},
        )
        uow.requests.update(done)
        stored = uow.persons.get(tenant_id=request.tenant_id, person_id=request.person_id)
        if stored is not None:
            uow.persons.update(
                apply_effect(stored, kind=request.kind, params=request.params, result=result.summary, now=now)
            )
        executed = emit(
            ctx,
            uow,
            type=EventType.REQUEST_EXECUTED,
            actor=actor,
            tenant_id=request.tenant_id,
            request_id=request.id,
            person_id=request.person_id,
            kind=request.kind.value,
            tier=CATALOGUE[request.kind].tier.label,
            connector=ctx.channels.idp.name,
            result=result.summary,
        )
        queue_evidence(ctx, uow, request=done, event=executed)  # the evidence goes back to the ticket
        if delivery:
            emit(
                ctx,
                uow,
                type=EventType.SECRET_DELIVERY_FAILED if "failed" in delivery else EventType.SECRET_DELIVERED,
                actor=actor,
                tenant_id=request.tenant_id,
                request_id=request.id,
                person_id=request.person_id,
                **delivery,
            )
        uow.commit()
    return Execution(request=done, secret_for_agent=secret_for_agent)


def _deliver(
    ctx: AppContext, *, request: ActionRequest, person: Person, result: ExecutionResult
) -> dict[str, str]:
    """Send the produced secret to the person's verified channel. The action has run by now, so a
    failed delivery is recorded (and the secret dropped: a new request issues a new one), never
    allowed to hide that the identity provider changed the account."""
    channel = _verified_channel(person)
    try:
        ref = ctx.channels.notifier.deliver_secret(
            tenant_id=request.tenant_id,
            person=person,
            channel=channel,
            kind=result.secret_kind,
            secret=result.secret or "",
        )
    except Exception as exc:  # any notifier failure: the secret is not delivered, the rest stands
        return {"delivered_to": channel, "kind": result.secret_kind, "failed": type(exc).__name__}
    return {"delivered_to": channel, "kind": result.secret_kind, "reference": ref}


def _verified_channel(person: Person) -> str:
    """Where a produced secret goes: the enrolled recovery e-mail, else the registered phone by SMS."""
    if person.factor(FactorKind.RECOVERY_EMAIL) is not None:
        return "recovery_email"
    if person.registered_phone() is not None:
        return "sms"
    return "work_email"


def _unsuccessful(
    ctx: AppContext,
    *,
    actor: Actor,
    request: ActionRequest,
    to: RequestState,
    event: EventType,
    reason: str,
    failure_reason: str,
    **data: str,
) -> None:
    """Record a claimed execution that did not succeed: failed for good, or back to ready (unknown)."""
    with ctx.uow() as uow:
        moved = request.moved(to, at=ctx.clock.now(), failure_reason=failure_reason)
        uow.requests.update(moved)
        recorded = emit(
            ctx,
            uow,
            type=event,
            actor=actor,
            tenant_id=request.tenant_id,
            request_id=request.id,
            person_id=request.person_id,
            reason=reason,
            **data,
        )
        queue_evidence(ctx, uow, request=moved, event=recorded)  # a failure goes back to the ticket
        uow.commit()
