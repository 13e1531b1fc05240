"""A triage case as the analyst reads it: its alerts, a timeline of related events, its runbook steps.

The timeline merges, in time order:

- the helpdesk's own actions from the outbox (the same events as the ledger): every event about the
  person the case is about, or correlated to the case, within ``MARGIN`` of the case's first and last
  evidence (requests, proofs, approvals, executions, runbook steps, verdicts);
- the detections: each alert of the case at its first evidence, with its source (the identity
  provider's sign-ins and changes, tickets, calls, helpdesk actions: the first part of the rule id),
  its explanation and the ids of the events it saw.

Raw identity-provider, ticket and telephony records are not stored by deskguard (only the alerts they
raised, with their evidence ids), so those appear through their alerts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from deskguard.app.context import AppContext
from deskguard.app.kpis import all_events
from deskguard.app.triage import CaseView, get_case
from deskguard.domain.events import Actor
from deskguard.domain.response import ResponseStep

MARGIN = timedelta(hours=24)
MAX_STEPS = 1000


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    at: datetime
    source: str  # helpdesk, or the alert's source (okta, entra, itsm, telephony, identity…)
    kind: str  # the event type, or "alert"
    title: str
    detail: str
    actor: str
    ref: str  # the event or alert id


@dataclass(frozen=True, slots=True)
class CaseFile:
    view: CaseView
    person_id: str | None
    timeline: tuple[TimelineEntry, ...]
    steps: tuple[ResponseStep, ...]


def _describe(data: dict[str, object]) -> str:
    keys = (
        "kind",
        "tier",
        "method",
        "status",
        "reason",
        "verdict",
        "outcome",
        "step",
        "comment",
        "ticket_id",
    )
    return ", ".join(f"{key}: {data[key]}" for key in keys if data.get(key) not in (None, ""))


def case_file(ctx: AppContext, *, actor: Actor, tenant_id: str, case_id: str) -> CaseFile:
    """One case with its timeline and its runbook steps (an analyst's, admin's, supervisor's, auditor's)."""
    view = get_case(ctx, actor=actor, tenant_id=tenant_id, case_id=case_id)  # checks role and tenant
    case = view.case
    with ctx.reads() as uow:
        person = (
            uow.persons.get_by_email(tenant_id=tenant_id, email=case.entity)
            if case.entity_kind == "user"
            else None
        )
        start = datetime.fromtimestamp(case.first_seen, UTC) - MARGIN
        end = datetime.fromtimestamp(case.last_seen, UTC) + MARGIN
        alert_ids = {item.alert.id for item in view.alerts}
        entries = [
            TimelineEntry(
                at=event.occurred_at,
                source="helpdesk",
                kind=event.type.value,
                title=event.type.value,
                detail=_describe(event.data),
                actor=event.actor.id,
                ref=event.id,
            )
            for event in all_events(uow, tenant_id)
            if start <= event.occurred_at <= end
            and (
                (person is not None and event.person_id == person.id)
                or event.correlation_id == case.id
                or event.data.get("alert_id") in alert_ids
            )
        ]
        steps = tuple(
            step
            for step in uow.response_steps.list(tenant_id=tenant_id, status=None, limit=MAX_STEPS)
            if step.alert_id in alert_ids
        )
    for item in view.alerts:
        alert = item.alert
        entries.append(
            TimelineEntry(
                at=datetime.fromtimestamp(alert.first_seen, UTC),
                source=alert.rule_id.split(".", 1)[0].lower(),
                kind="alert",
                title=f"{alert.title} ({alert.severity})",
                detail=alert.explanation,
                actor=alert.entities.get("actor", ""),
                ref=alert.id,
            )
        )
    entries.sort(key=lambda entry: (entry.at, entry.ref))
    return CaseFile(view, person.id if person else None, tuple(entries), steps)
