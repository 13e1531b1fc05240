"""Response runbooks in action: the protective steps an alert triggers, run at once, on the record.

When an alert is stored, every runbook it triggers (``detection.runbooks``) runs once for it: the
run id is derived from the runbook and the alert, so a repeated alert (suppression) never runs the
steps again. Each step acts through a port - the identity provider signs the person out; the watch
list is deskguard's own state, read by every decision - and each outcome (done, failed, dry run,
skipped) is a ``response.step`` event, hence a record in the evidence ledger.

Signing out is idempotent (the connector's idempotency key is the run and step), so a step whose
connector timed out is tried again, up to ``MAX_ATTEMPTS`` times; a definite refusal is not.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from deskguard.app.context import AppContext
from deskguard.app.outbox import emit
from deskguard.detection.alerts import Alert
from deskguard.detection.runbooks import Runbook, Step
from deskguard.domain.actions import ActionKind
from deskguard.domain.errors import ConnectorError, ConnectorTimeout
from deskguard.domain.events import SYSTEM, EventType
from deskguard.domain.model import Person

MAX_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class StepOutcome:
    run_id: str
    runbook_id: str
    alert_id: str
    step: int
    kind: str
    outcome: str  # done | failed | dry_run | skipped
    attempts: int
    detail: str


def respond(ctx: AppContext, runbooks: Iterable[Runbook], alerts: Iterable[Alert]) -> list[StepOutcome]:
    """Run what these alerts trigger; the outcomes, each already recorded."""
    outcomes: list[StepOutcome] = []
    for alert in alerts:
        for runbook in runbooks:
            if runbook.triggered_by(alert):
                outcomes.extend(_run(ctx, runbook, alert))
    return outcomes


def run_id_of(runbook: Runbook, alert: Alert) -> str:
    material = f"{runbook.id}\x1f{alert.tenant}\x1f{alert.id}".encode()
    return "rsp_" + hashlib.sha256(material).hexdigest()[:24]


def _run(ctx: AppContext, runbook: Runbook, alert: Alert) -> list[StepOutcome]:
    run_id = run_id_of(runbook, alert)
    login = alert.entities.get("user", "")
    with ctx.uow() as uow:
        if not uow.responses.claim(
            run_id=run_id,
            tenant_id=alert.tenant,
            runbook_id=runbook.id,
            alert_id=alert.id,
            created_at=ctx.clock.now(),
        ):
            return []  # this alert already ran this runbook
        person = uow.persons.get_by_email(tenant_id=alert.tenant, email=login) if "@" in login else None
        uow.commit()
    outcomes = []
    for index, step in enumerate(runbook.steps):
        if person is None:
            outcome = ("skipped", 0, f"the alert names no person of the directory ({login or 'no user'})")
        elif runbook.dry_run:
            outcome = ("dry_run", 0, f"would {step.describe()} ({person.email})")
        else:
            outcome = _act(ctx, step, person=person, key=f"{run_id}:{index}")
        outcomes.append(_record(ctx, runbook, alert, run_id, index, step, person, *outcome))
    return outcomes


def _act(ctx: AppContext, step: Step, *, person: Person, key: str) -> tuple[str, int, str]:
    if step.kind == "watchlist":
        until = ctx.clock.now() + timedelta(hours=step.params["hours"])
        with ctx.uow() as uow:
            uow.risk.watch(
                tenant_id=person.tenant_id, person_id=person.id, until=until, updated_at=ctx.clock.now()
            )
            uow.commit()
        return "done", 1, f"watch-listed until {until.isoformat()}"
    for attempt in range(1, MAX_ATTEMPTS + 1):  # revoke_sessions: idempotent by its key
        try:
            result = ctx.channels.idp.execute(
                tenant_id=person.tenant_id,
                person=person,
                kind=ActionKind.REVOKE_SESSIONS,
                params={},
                idempotency_key=key,
            )
        except ConnectorTimeout as exc:
            if attempt == MAX_ATTEMPTS:
                return "failed", attempt, f"{ctx.channels.idp.name} did not answer: {exc}"
            continue
        except ConnectorError as exc:
            return "failed", attempt, f"{ctx.channels.idp.name} refused: {exc}"
        return "done", attempt, f"signed out everywhere by {ctx.channels.idp.name} {dict(result.summary)}"
    raise AssertionError("unreachable")  # pragma: no cover


def _record(
    ctx: AppContext,
    runbook: Runbook,
    alert: Alert,
    run_id: str,
    index: int,
    step: Step,
    person: Person | None,
    outcome: str,
    attempts: int,
    detail: str,
) -> StepOutcome:
    with ctx.uow() as uow:
        emit(
            ctx,
            uow,
            type=EventType.RESPONSE_STEP,
            actor=SYSTEM,
            tenant_id=alert.tenant,
            person_id=person.id if person else None,
            correlation_id=run_id,
            run_id=run_id,
            runbook=runbook.id,
            alert_id=alert.id,
            rule_id=alert.rule_id,
            step=index,
            kind=step.kind,
            outcome=outcome,
            attempts=attempts,
            detail=detail,
        )
        uow.commit()
    return StepOutcome(run_id, runbook.id, alert.id, index, step.kind, outcome, attempts, detail)
