"""Approval of destructive runbook steps: list what waits, approve (then run) or refuse, on the record.

A step that locks a person out (``detection.runbooks.DESTRUCTIVE``, or any step a runbook marks
``approval: required``) is stored ``awaiting_approval``. An analyst or admin of the tenant approves
or refuses it with a comment; the decision is a ``response.step`` event whose actor is that operator
(outcome ``approved`` or ``refused``), in the same transaction as the step's new state. An approved
step runs at once, in the approver's call; a refused one never runs. Whoever the step acts on may not
decide it (an attacker in that person's analyst account would refuse their own suspension).
"""

from __future__ import annotations

from dataclasses import replace

from deskguard.app.access import require_operator, same_human
from deskguard.app.context import AppContext
from deskguard.app.detection import ALERT_READERS
from deskguard.app.response_steps import claimed, record, run_claimed
from deskguard.domain.errors import (
    Conflict,
    InvalidTransition,
    NotFound,
    SeparationOfDuties,
    ValidationFailed,
)
from deskguard.domain.events import Actor
from deskguard.domain.model import OperatorRole
from deskguard.domain.ports import UnitOfWork
from deskguard.domain.response import ResponseStep, StepStatus

DECIDERS = frozenset({OperatorRole.ANALYST, OperatorRole.ADMIN})
MAX_LIST = 1000


def list_responses(
    ctx: AppContext, *, actor: Actor, tenant_id: str, status: str | None = None, limit: int = 100
) -> list[ResponseStep]:
    """The tenant's runbook steps, newest first; ``status=awaiting_approval`` is the analyst's queue."""
    require_operator(actor, tenant_id=tenant_id, roles=ALERT_READERS)
    try:
        wanted = StepStatus(status) if status else None
    except ValueError:
        known = ", ".join(s.value for s in StepStatus)
        raise ValidationFailed(f"status must be one of {known}", field="status") from None
    with ctx.reads() as uow:
        return list(uow.response_steps.list(tenant_id=tenant_id, status=wanted, limit=min(limit, MAX_LIST)))


def approve_step(
    ctx: AppContext, *, actor: Actor, tenant_id: str, run_id: str, index: int, comment: str
) -> ResponseStep:
    """Approve a waiting step and run it now; the step as it stands afterwards."""
    decided = _decide(
        ctx, actor=actor, tenant_id=tenant_id, run_id=run_id, index=index, comment=comment, approve=True
    )
    run_claimed(ctx, decided)
    with ctx.reads() as uow:
        return uow.response_steps.get(tenant_id=tenant_id, run_id=run_id, index=index) or decided


def refuse_step(
    ctx: AppContext, *, actor: Actor, tenant_id: str, run_id: str, index: int, comment: str
) -> ResponseStep:
    """Refuse a waiting step: it never runs."""
    return _decide(
        ctx, actor=actor, tenant_id=tenant_id, run_id=run_id, index=index, comment=comment, approve=False
    )


def _decide(
    ctx: AppContext, *, actor: Actor, tenant_id: str, run_id: str, index: int, comment: str, approve: bool
) -> ResponseStep:
    require_operator(actor, tenant_id=tenant_id, roles=DECIDERS)
    if not comment.strip():
        raise ValidationFailed("comment must say why", field="comment")
    with ctx.uow() as uow:
        step = uow.response_steps.get(tenant_id=tenant_id, run_id=run_id, index=index)
        if step is None:
            raise NotFound(f"step {index} of response {run_id} not found", code="not_found.response_step")
        if step.status != StepStatus.AWAITING_APPROVAL:
            raise InvalidTransition(
                f"step {index} of response {run_id} is {step.status.value}, not awaiting approval",
                code=f"invalid_transition.step_{step.status.value}",
            )
        _not_the_target(uow, actor, step)
        now = ctx.clock.now()
        verdict = "approved" if approve else "refused"
        decision = {"approver_id": actor.id, "comment": comment, "decided_at": now}
        detail = f"{verdict} by {actor.id}: {comment}"
        if approve:
            decided = claimed(step, now=now, detail=detail, **decision)
        else:
            decided = replace(step, status=StepStatus.REFUSED, detail=detail, updated_at=now, **decision)
        if not uow.response_steps.update(decided, expect_status=step.status, expect_attempts=step.attempts):
            raise Conflict(
                f"step {index} of response {run_id} was decided meanwhile", code="conflict.step_decided"
            )
        record(
            ctx,
            uow,
            decided,
            outcome=verdict,
            actor=actor,
            approver_id=actor.id,
            approver_role=actor.role,
            comment=comment,
        )
        uow.commit()
    return decided


def _not_the_target(uow: UnitOfWork, actor: Actor, step: ResponseStep) -> None:
    if step.person_id is None:
        return
    person = uow.persons.get(tenant_id=step.tenant_id, person_id=step.person_id)
    operator = uow.operators.get(actor.id)
    if (
        person is not None
        and operator is not None
        and same_human(actor, person, operator_username=operator.username)
    ):
        raise SeparationOfDuties(
            "you cannot decide a response step about yourself", code="separation_of_duties.response_target"
        )
