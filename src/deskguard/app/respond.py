"""Response runbooks in action: the protective steps an alert triggers, planned, stored and run.

When an alert is stored, every runbook it triggers (``detection.runbooks``) runs once for it: the
run id is derived from the runbook and the alert, so a repeated alert (suppression) never runs the
steps again. A trigger may also ask about the person the alert names (their risk score now, read
through the risk repository and ``detection.risk.assess``; whether they are privileged) and about
the helpdesk request it concerns (its action kind).

The run stores every step (``ResponseStep``) in one transaction with the run's claim: steps that
cannot act are recorded as they are (``skipped`` without a person, ``dry_run``), destructive ones
wait for an analyst (``awaiting_approval``, decided through ``app.response_approvals``), and the
others are claimed and run at once (``app.response_steps``), in order, within the ingest call:
seconds count. Steps are independent: one waiting or failing never holds back the next.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime

from deskguard.app.context import AppContext
from deskguard.app.response_steps import LEASE, StepOutcome, record, run_claimed
from deskguard.detection.alerts import Alert
from deskguard.detection.risk import assess
from deskguard.detection.runbooks import (
    PERSON_STEPS,
    Runbook,
    Step,
    Subject,
    action_kind_of,
    placeholders_of,
    render,
)
from deskguard.domain.model import Person
from deskguard.domain.ports import UnitOfWork
from deskguard.domain.response import ResponseStep, StepStatus

__all__ = ["StepOutcome", "respond", "run_id_of"]


def respond(ctx: AppContext, runbooks: Iterable[Runbook], alerts: Iterable[Alert]) -> list[StepOutcome]:
    """Run what these alerts trigger; the outcomes, each already recorded."""
    outcomes: list[StepOutcome] = []
    books = tuple(runbooks)
    for alert in alerts:
        triggered = [runbook for runbook in books if runbook.triggered_by(alert)]
        if not triggered:
            continue
        person, subject, ticket = _subject(ctx, alert)
        for runbook in triggered:
            if runbook.admits(subject):
                outcomes.extend(_run(ctx, runbook, alert, person, ticket))
    return outcomes


def run_id_of(runbook: Runbook, alert: Alert) -> str:
    material = f"{runbook.id}\x1f{alert.tenant}\x1f{alert.id}".encode()
    return "rsp_" + hashlib.sha256(material).hexdigest()[:24]


def _subject(ctx: AppContext, alert: Alert) -> tuple[Person | None, Subject, str]:
    """The alert's person (by login), what triggers weigh (risk now, privilege, action kind), and
    the ITSM reference of the ticket it names ("" when none)."""
    login = alert.entities.get("user", "")
    with ctx.reads() as uow:
        person = uow.persons.get_by_email(tenant_id=alert.tenant, email=login) if "@" in login else None
        kind = action_kind_of(alert) or _request_kind(uow, alert)
        ticket = _ticket_ref(uow, alert)
        if person is None:
            return None, Subject(action_kind=kind), ticket
        signals = uow.risk.get(tenant_id=alert.tenant, person_id=person.id)
    # the same score the policy reads as target.risk_score: detection's, or the directory's if higher
    score = max(float(person.risk_score), assess(signals, now=ctx.clock.now().timestamp()).score)
    return person, Subject(risk=score, privileged=person.privileged, action_kind=kind), ticket


def _request_kind(uow: UnitOfWork, alert: Alert) -> str:
    """Alerts on proofs name the request, not its kind: the stored request says it."""
    request_id = alert.entities.get("request", "")
    if not request_id:
        return ""
    request = uow.requests.get(tenant_id=alert.tenant, request_id=request_id)
    return request.kind.value if request is not None else ""


def _ticket_ref(uow: UnitOfWork, alert: Alert) -> str:
    """Alerts on deskguard's events name deskguard's ticket id; the ITSM knows its external ref."""
    named = alert.entities.get("ticket", "")
    if not named:
        return ""
    ticket = uow.tickets.get(tenant_id=alert.tenant, ticket_id=named)
    return ticket.external_ref if ticket is not None else named


def _run(
    ctx: AppContext, runbook: Runbook, alert: Alert, person: Person | None, ticket: str
) -> list[StepOutcome]:
    run_id = run_id_of(runbook, alert)
    now = ctx.clock.now()
    steps = [
        _plan(runbook, alert, run_id, index, step, person, ticket, now)
        for index, step in enumerate(runbook.steps)
    ]
    recorded: dict[int, StepOutcome] = {}
    with ctx.uow() as uow:
        if not uow.responses.claim(
            run_id=run_id, tenant_id=alert.tenant, runbook_id=runbook.id, alert_id=alert.id, created_at=now
        ):
            return []  # this alert already ran this runbook
        for step in steps:
            uow.response_steps.add(step)
            if step.status != StepStatus.RUNNING:
                recorded[step.index] = record(ctx, uow, step, outcome=step.status.value)
        uow.commit()
    outcomes = []
    for step in steps:
        outcome = recorded.get(step.index) or run_claimed(ctx, step)
        if outcome is not None:
            outcomes.append(outcome)
    return outcomes


def _plan(
    runbook: Runbook,
    alert: Alert,
    run_id: str,
    index: int,
    step: Step,
    person: Person | None,
    ticket: str,
    now: datetime,
) -> ResponseStep:
    """The stored step: resolved parameters, and where it starts (running, waiting or recorded)."""
    status, attempts, due = StepStatus.RUNNING, 1, now + LEASE  # claimed by this run
    who = person.email if person else alert.entities.get("user", "") or "no user"
    if step.kind in PERSON_STEPS and person is None:
        status, detail = StepStatus.SKIPPED, f"the alert names no person of the directory ({who})"
    elif runbook.dry_run:
        status, detail = StepStatus.DRY_RUN, f"would {step.describe()} ({who})"
    elif step.approval:
        status, detail = StepStatus.AWAITING_APPROVAL, f"waits for an analyst's or admin's approval ({who})"
    else:
        detail = ""
    if status != StepStatus.RUNNING:
        attempts, due = 0, None
    return ResponseStep(
        tenant_id=alert.tenant,
        run_id=run_id,
        index=index,
        runbook_id=runbook.id,
        alert_id=alert.id,
        rule_id=alert.rule_id,
        person_id=person.id if person else None,
        kind=step.kind,
        params=_resolve(runbook, alert, step, ticket),
        approval=step.approval,
        status=status,
        attempts=attempts,
        next_attempt_at=due,
        detail=detail,
        created_at=now,
        updated_at=now,
    )


def _resolve(runbook: Runbook, alert: Alert, step: Step, ticket: str) -> dict[str, object]:
    """Everything the step's execution needs, fixed now: texts rendered, the ticket chosen."""
    p = step.params
    values = placeholders_of(alert, runbook)
    if step.kind == "notify":
        subject = f"deskguard {alert.severity}: {alert.title}"
        return {"channel": p["channel"], "to": p["to"], "subject": subject, "text": render(p["text"], values)}
    if step.kind == "ticket":
        text = render(p["text"], values)
        if p["action"] == "comment" and ticket:
            return {"action": "comment", "ticket_ref": ticket, "text": text}
        return {"action": "open", "title": f"deskguard: {alert.title}", "text": text}
    return dict(p)
