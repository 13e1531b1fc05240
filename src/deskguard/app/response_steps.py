"""Runbook steps in action: one stored step executed, its outcome recorded, retried with back-off.

A step reaches ``run_claimed`` already claimed (status ``running`` under a lease, its attempt
counted): by the run that planned it (``app.respond``), by an approval (``app.response_approvals``)
or by the responder worker (``retry_due``). It acts through a port — the identity provider signs
the person out or suspends the account, the response notifier and the ticketing port tell people
(and post a request's approval message, ``app.approval_notices``, then rewrite it once decided,
``app.approval_updates``) —
or on deskguard's own state (watch list, manager validation, in the same transaction as its
outcome). Each outcome is a ``response.step`` event, hence a record in the evidence ledger.

A connector that times out, or answers 429/5xx (``ConnectorBusy``), leaves the outcome unknown or
deferred: the step is ``retrying`` with exponential
back-off and jitter (``backoff``), up to ``MAX_ATTEMPTS`` calls, always with the same idempotency
key (run and step), so a retry after a lost answer cannot act twice. A definite refusal
(``ConnectorError``) fails at once. Every write is a compare-and-set on (status, attempts): when two
hands reach one step, one moves it and the other's outcome is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import structlog

from deskguard.app import approval_notices, approval_updates, ticket_evidence
from deskguard.app.context import AppContext
from deskguard.app.outbox import emit
from deskguard.detection.runbooks import PERSON_STEPS
from deskguard.domain.actions import ActionKind, ResponseAction
from deskguard.domain.errors import ConnectorBusy, ConnectorError, ConnectorTimeout
from deskguard.domain.events import SYSTEM, Actor, EventType
from deskguard.domain.model import Person
from deskguard.domain.ports import Randomness, UnitOfWork
from deskguard.domain.response import ResponseStep, StepStatus

log = structlog.get_logger("deskguard.respond")

MAX_ATTEMPTS = 5
BACKOFF_BASE_S = 30.0
BACKOFF_CAP_S = 15 * 60.0
LEASE = timedelta(minutes=5)  # longer than any connector timeout: a running step's call has ended
STATE_STEPS = frozenset({"watchlist", "require_manager_validation"})  # deskguard's own state
_IDP_ACTIONS: dict[str, ActionKind | ResponseAction] = {
    "revoke_sessions": ActionKind.REVOKE_SESSIONS,
    "suspend_account": ResponseAction.SUSPEND_ACCOUNT,
}


@dataclass(frozen=True, slots=True)
class StepOutcome:
    run_id: str
    runbook_id: str
    alert_id: str
    step: int
    kind: str
    outcome: str  # done | failed | retrying | awaiting_approval | approved | refused | dry_run | skipped
    attempts: int
    detail: str


def backoff(attempts: int, random: Randomness) -> timedelta:
    """The wait after the ``attempts``-th timeout: 30 s doubling, capped at 15 min, "equal jitter"
    (half of it fixed, half random), so many steps timing out together do not retry together."""
    ceiling = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** (attempts - 1))
    half_ms = int(ceiling * 500)
    return timedelta(milliseconds=half_ms + random.randbelow(half_ms + 1))


def record(
    ctx: AppContext,
    uow: UnitOfWork,
    step: ResponseStep,
    *,
    outcome: str,
    actor: Actor = SYSTEM,
    **extra: Any,
) -> StepOutcome:
    """The step's outcome as a ``response.step`` event (and ledger record), in ``uow``."""
    if step.status == StepStatus.RETRYING and step.next_attempt_at is not None:
        extra["next_attempt_at"] = step.next_attempt_at.isoformat()
    emit(
        ctx,
        uow,
        type=EventType.RESPONSE_STEP,
        actor=actor,
        tenant_id=step.tenant_id,
        person_id=step.person_id,
        correlation_id=step.run_id,
        run_id=step.run_id,
        runbook=step.runbook_id,
        alert_id=step.alert_id,
        rule_id=step.rule_id,
        step=step.index,
        kind=step.kind,
        outcome=outcome,
        attempts=step.attempts,
        approval=step.approval,
        detail=step.detail,
        **extra,
    )
    return StepOutcome(
        step.run_id,
        step.runbook_id,
        step.alert_id,
        step.index,
        step.kind,
        outcome,
        step.attempts,
        step.detail,
    )


def claimed(step: ResponseStep, *, now: datetime, **changes: Any) -> ResponseStep:
    """``step`` claimed for one more attempt: running, under a lease."""
    return replace(
        step,
        status=StepStatus.RUNNING,
        attempts=step.attempts + 1,
        next_attempt_at=now + LEASE,
        updated_at=now,
        **changes,
    )


def run_claimed(ctx: AppContext, step: ResponseStep) -> StepOutcome | None:
    """Execute a claimed step and record its outcome; None if someone else moved it meanwhile."""
    person = _person(ctx, step)
    if step.kind in PERSON_STEPS and person is None:
        return _finish(ctx, step, StepStatus.FAILED, f"person {step.person_id} is not in the directory")
    if step.kind in STATE_STEPS:
        assert person is not None  # PERSON_STEPS include them
        return _change_state(ctx, step, person)
    try:
        detail = _call(ctx, step, person)
    except ConnectorTimeout as exc:
        return _unknown(ctx, step, f"did not answer: {exc}")
    except ConnectorBusy as exc:  # 429/5xx: the far end asks to come back later, with the same key
        return _unknown(ctx, step, f"not now: {exc}")
    except ConnectorError as exc:
        return _finish(ctx, step, StepStatus.FAILED, f"refused: {exc}")
    except Exception as exc:  # an unexpected error: as a timeout, the outcome is unknown
        log.error("response_step_error", run_id=step.run_id, step=step.index, error_type=type(exc).__name__)
        return _unknown(ctx, step, f"failed unexpectedly ({type(exc).__name__})")
    return _finish(ctx, step, StepStatus.DONE, detail)


def retry_due(ctx: AppContext, *, limit: int = 100) -> list[StepOutcome]:
    """The responder worker's pass: claim and run every step whose retry (or lost lease) is due."""
    now = ctx.clock.now()
    with ctx.reads() as uow:
        due = list(uow.response_steps.due(now=now, limit=limit))
    outcomes: list[StepOutcome] = []
    for step in due:
        if step.status == StepStatus.RUNNING and step.attempts >= MAX_ATTEMPTS:
            # the lease of the last allowed attempt ran out: its process stopped mid-call
            ended = _finish(ctx, step, StepStatus.FAILED, f"no outcome after {step.attempts} attempts")
        else:
            ended = _claim_and_run(ctx, step, now=now)
        if ended is not None:
            outcomes.append(ended)
    return outcomes


def _claim_and_run(ctx: AppContext, step: ResponseStep, *, now: datetime) -> StepOutcome | None:
    mine = claimed(step, now=now)
    with ctx.uow() as uow:
        if not uow.response_steps.update(mine, expect_status=step.status, expect_attempts=step.attempts):
            return None  # another worker or an approval took it first
        uow.commit()
    return run_claimed(ctx, mine)


def _person(ctx: AppContext, step: ResponseStep) -> Person | None:
    if step.person_id is None:
        return None
    with ctx.reads() as uow:
        return uow.persons.get(tenant_id=step.tenant_id, person_id=step.person_id)


def _call(ctx: AppContext, step: ResponseStep, person: Person | None) -> str:
    """Act through the step's port; returns what it did, in words. Raises the port's errors."""
    p, key, channels = step.params, step.idempotency_key, ctx.channels
    if step.kind in _IDP_ACTIONS:
        assert person is not None  # PERSON_STEPS include them
        result = channels.idp.execute(
            tenant_id=step.tenant_id,
            person=person,
            kind=_IDP_ACTIONS[step.kind],
            params={},
            idempotency_key=key,
        )
        did = "signed out everywhere" if step.kind == "revoke_sessions" else "account suspended"
        return f"{did} by {channels.idp.name} {dict(result.summary)}"
    if step.kind == "notify":
        ref = channels.response_notifier.send(
            tenant_id=step.tenant_id,
            channel=p["channel"],
            to=p["to"],
            subject=p["subject"],
            text=p["text"],
            idempotency_key=key,
        )
        return f"notified {p['to']} by {p['channel']} ({ref})"
    if step.kind == ticket_evidence.KIND:
        return ticket_evidence.deliver(channels, step)
    if step.kind == approval_notices.KIND:
        return approval_notices.deliver(ctx, step)
    if step.kind == approval_updates.KIND:
        return approval_updates.deliver(ctx, step)
    if step.kind == "ticket" and p["action"] == "comment":
        ref = channels.ticketing.comment(
            tenant_id=step.tenant_id, ticket_ref=p["ticket_ref"], text=p["text"], idempotency_key=key
        )
        return f"commented ticket {p['ticket_ref']} ({ref})"
    if step.kind == "ticket":
        ref = channels.ticketing.open(
            tenant_id=step.tenant_id, title=p["title"], text=p["text"], idempotency_key=key
        )
        return f"opened ticket {ref}"
    raise ConnectorError(f"no connector for step {step.kind}")  # pragma: no cover - loader refuses it


def _change_state(ctx: AppContext, step: ResponseStep, person: Person) -> StepOutcome | None:
    """A step on deskguard's own state: the change and its outcome in one transaction."""
    now = ctx.clock.now()
    until = now + timedelta(hours=step.params["hours"])
    with ctx.uow() as uow:
        if step.kind == "watchlist":
            uow.risk.watch(tenant_id=person.tenant_id, person_id=person.id, until=until, updated_at=now)
            detail = f"watch-listed until {until.isoformat()}"
        else:
            uow.risk.require_manager_validation(
                tenant_id=person.tenant_id, person_id=person.id, until=until, updated_at=now
            )
            detail = f"sensitive requests need the manager's confirmation until {until.isoformat()}"
        return _store(ctx, uow, step, StepStatus.DONE, detail)


def _unknown(ctx: AppContext, step: ResponseStep, detail: str) -> StepOutcome | None:
    if step.attempts >= MAX_ATTEMPTS:
        return _finish(ctx, step, StepStatus.FAILED, f"{detail}; gave up after {step.attempts} attempts")
    return _finish(ctx, step, StepStatus.RETRYING, detail)


def _finish(ctx: AppContext, step: ResponseStep, status: StepStatus, detail: str) -> StepOutcome | None:
    with ctx.uow() as uow:
        return _store(ctx, uow, step, status, detail)


def _store(
    ctx: AppContext, uow: UnitOfWork, step: ResponseStep, status: StepStatus, detail: str
) -> StepOutcome | None:
    now = ctx.clock.now()
    due = now + backoff(step.attempts, ctx.random) if status == StepStatus.RETRYING else None
    ended = replace(step, status=status, detail=detail, next_attempt_at=due, updated_at=now)
    if not uow.response_steps.update(ended, expect_status=step.status, expect_attempts=step.attempts):
        return None  # someone else moved the step (a worker took over a lost lease): theirs counts
    outcome = record(ctx, uow, ended, outcome=status.value)
    uow.commit()
    return outcome
