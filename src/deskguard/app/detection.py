"""Detection use cases: ingest records, feed the outbox to the engine, list alerts and quarantine.

One ``Detector`` per process holds the live pipeline (normalisation, engine, correlation state);
calls into it are serialised by its lock, and what they produce (alerts, quarantined records) is
written in one transaction per call. A record that cannot be normalised is quarantined with its
reason and reported back; the valid records of the same batch are processed.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from deskguard.app.access import require_operator
from deskguard.app.context import AppContext
from deskguard.app.export import enqueue_alerts
from deskguard.app.respond import StepOutcome, respond
from deskguard.app.stir import StirVerifier
from deskguard.app.triage import file_alerts
from deskguard.detection.alerts import Alert
from deskguard.detection.content import Content
from deskguard.detection.event import Event
from deskguard.detection.parsing import Quarantined
from deskguard.detection.phones import registered
from deskguard.detection.pipeline import Pipeline
from deskguard.detection.reading import Unreadable, read_batch
from deskguard.detection.risk import RiskSignal, merge, signal_of
from deskguard.detection.runbooks import Runbook
from deskguard.domain.errors import NotFound, ValidationFailed
from deskguard.domain.events import Actor, ActorKind
from deskguard.domain.model import OperatorRole
from deskguard.domain.ports import AlertQuery, QuarantineEntry, UnitOfWork
from deskguard.domain.ports_export import ExportPlan

INGESTERS = frozenset({OperatorRole.ANALYST, OperatorRole.ADMIN})
# Alerts are for the people who investigate and answer for them, not for the agents they watch.
ALERT_READERS = frozenset(
    {OperatorRole.ANALYST, OperatorRole.ADMIN, OperatorRole.SUPERVISOR, OperatorRole.AUDITOR}
)
MAX_BATCH = 10_000


class Detector:
    """The live detection pipeline of this process, and the runbooks its alerts trigger."""

    def __init__(
        self,
        content: Content,
        *,
        lateness_s: float = 300.0,
        monitor: frozenset[str] = frozenset(),
        runbooks: Sequence[Runbook] = (),
        stir: StirVerifier | None = None,
    ) -> None:
        unknown = sorted(monitor - set(content.ids()))
        if unknown:
            raise ValidationFailed(f"monitor mode for unknown rule(s): {', '.join(unknown)}", field="monitor")
        self.content = content
        self.runbooks = tuple(runbooks)
        self.stir = stir  # verifies SIP Identity headers at ingest when trust anchors are configured
        self.pipeline = Pipeline(content, lateness_s=lateness_s, monitor=monitor, keep_alerts=False)
        self.lock = threading.Lock()
        self.persisted_at_events = 0  # the engine's event count when its baselines were last written


@dataclass(slots=True)
class RecordError:
    index: int
    reason: str
    detail: str


@dataclass(slots=True)
class IngestResult:
    received: int
    accepted: int  # records normalised and run through the engine
    events: int
    errors: list[RecordError] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    responses: list[StepOutcome] = field(default_factory=list)  # runbook steps the alerts triggered


def require_ingester(actor: Actor, *, tenant_id: str) -> None:
    """An analyst or admin of the tenant, or a webhook whose signature named this tenant."""
    if actor.kind == ActorKind.SYSTEM and tenant_id in actor.tenant_ids:
        return
    require_operator(actor, tenant_id=tenant_id, roles=INGESTERS)


def _detector(ctx: AppContext) -> Detector:
    if ctx.detector is None:
        raise ValidationFailed("detection is not configured in this process", field="detection")
    return ctx.detector


def ingest(ctx: AppContext, *, actor: Actor, tenant_id: str, source: str | None, body: bytes) -> IngestResult:
    """A batch (NDJSON, a JSON array or one object): every record normalised and run, or quarantined."""
    require_ingester(actor, tenant_id=tenant_id)
    if not body.strip():
        raise ValidationFailed("the body is empty: send NDJSON, a JSON array or a JSON object", field="body")
    batch = read_batch(body)
    if len(batch) > MAX_BATCH:
        raise ValidationFailed(f"a batch holds at most {MAX_BATCH} records, not {len(batch)}", field="body")
    detector = _detector(ctx)
    result = IngestResult(received=len(batch), accepted=0, events=0)
    quarantined: list[QuarantineEntry] = []
    raised: dict[str, Alert] = {}
    now = ctx.clock.now()

    def refuse(index: int, reason: str, detail: str, text: str) -> None:
        result.errors.append(RecordError(index, reason, detail))
        quarantined.append(
            QuarantineEntry(
                id=0,
                tenant_id=tenant_id,
                source=source or "auto",
                reason=reason,
                detail=detail,
                record=text,
                received_at=now,
            )
        )

    events: list[Event] = []
    for index, (record, _) in enumerate(batch):
        if isinstance(record, Unreadable):
            refuse(index, "invalid_json", record.detail, record.text)
            continue
        try:
            parsed = detector.pipeline.normalize(record, source=source, tenant=tenant_id)
        except Quarantined as exc:
            refuse(index, exc.reason, exc.detail, json.dumps(record, ensure_ascii=False, default=str))
            continue
        result.accepted += 1
        events.extend(parsed)  # each in the caller's tenant, whatever the record claims
    if detector.stir is not None:
        detector.stir.check(events)
    _enrich_callers(ctx, tenant_id, events)
    result.events = len(events)
    with ctx.reads() as uow:
        modes = rule_modes_of(uow, tenant_id=tenant_id)
    with detector.lock:
        detector.pipeline.engine.set_modes(tenant_id, modes)
        for event in events:
            for alert in detector.pipeline.process(event):
                raised[alert.id] = alert
    with ctx.uow() as uow:
        for entry in quarantined:
            uow.quarantine.add(entry)
        _save(uow, raised.values(), now=now, exports=ctx.exports)
        uow.commit()
    result.alerts = list(raised.values())
    result.responses = respond(ctx, detector.runbooks, result.alerts)  # at once: seconds count
    return result


def rule_modes_of(uow: UnitOfWork, *, tenant_id: str) -> dict[str, str]:
    """The tenant's rule-mode overrides (``app.rule_modes``), read afresh for every batch so that
    every process running a Detector honours a change made in another."""
    return {rule_id: o.mode.value for rule_id, o in uow.rule_modes.list(tenant_id=tenant_id).items()}


def _enrich_callers(ctx: AppContext, tenant_id: str, events: list[Event]) -> None:
    """Calls and tickets naming who the caller claimed to be: is the number theirs?

    The directory answers (``extra["number_registered"]``: True, False, or absent when the claimed
    person is not in the directory); rules such as the risky-call analytic read it.
    """
    wanted = [e for e in events if e.claimed_identity and e.caller_number]
    if not wanted:
        return
    numbers: dict[str, frozenset[str] | None] = {}
    with ctx.reads() as uow:
        for event in wanted:
            claimed = event.claimed_identity
            if claimed not in numbers:
                person = uow.persons.get_by_email(tenant_id=tenant_id, email=claimed)
                numbers[claimed] = None if person is None else frozenset(ph.number for ph in person.phones)
            known = numbers[claimed]
            if known is not None:
                event.extra["number_registered"] = registered(event.caller_number, known)


def consume_outbox(ctx: AppContext, *, tenant_id: str, limit: int = 1000) -> int:
    """Feed the tenant's new outbox events to the engine; returns how many it read.

    Each event is enriched with the person's login (their e-mail), so that rules can join it with
    identity-provider events about the same person, and whether the person is privileged.
    """
    detector = _detector(ctx)
    with ctx.uow() as uow:
        after = uow.detection_cursor.get(tenant_id=tenant_id)
        events = list(uow.outbox.list(tenant_id=tenant_id, after_seq=after, limit=limit))
        if not events:
            return 0
        people: dict[str, tuple[str, bool]] = {}
        raised: dict[str, Alert] = {}
        with detector.lock:
            detector.pipeline.engine.set_modes(tenant_id, rule_modes_of(uow, tenant_id=tenant_id))
            for event in events:
                envelope = event.envelope()
                if event.person_id:
                    if event.person_id not in people:
                        person = uow.persons.get(tenant_id=tenant_id, person_id=event.person_id)
                        people[event.person_id] = (
                            (person.email.lower(), person.privileged) if person else ("", False)
                        )
                    login, privileged = people[event.person_id]
                    envelope["subject"]["person_login"] = login
                    envelope["subject"]["person_privileged"] = privileged
                for alert in detector.pipeline.feed(envelope, source="deskguard", tenant=tenant_id):
                    raised[alert.id] = alert
        _save(uow, raised.values(), now=ctx.clock.now(), exports=ctx.exports)
        uow.detection_cursor.set(tenant_id=tenant_id, outbox_seq=max(e.seq or 0 for e in events))
        uow.commit()
    respond(ctx, detector.runbooks, raised.values())
    return len(events)


def _save(
    uow: UnitOfWork, alerts: Iterable[Alert], *, now: datetime, exports: ExportPlan | None = None
) -> None:
    """Store the alerts, and add each one to the risk of the person it names (detection.risk), and
    to the risk of the operator it names as the actor (an operator far above their baseline).

    A batch often holds several alerts about one person: their signals are merged in memory and
    the person's risk is read and written once. Then each alert is filed into its triage case."""
    alerts = list(alerts)
    people: dict[tuple[str, str], tuple[RiskSignal, ...]] = {}
    operators: dict[tuple[str, str], tuple[RiskSignal, ...]] = {}
    for alert in alerts:
        uow.alerts.save(alert)
        signal = signal_of(alert)
        if signal is None:
            continue
        login = alert.entities.get("user", "")
        person = uow.persons.get_by_email(tenant_id=alert.tenant, email=login) if "@" in login else None
        if person is not None:
            key = (alert.tenant, person.id)
            if key not in people:
                people[key] = uow.risk.get(tenant_id=alert.tenant, person_id=person.id)
            people[key] = merge(people[key], signal)
        operator = uow.operators.get(alert.entities.get("actor", "")) if "actor" in alert.entities else None
        if operator is not None and alert.tenant in operator.tenant_ids:
            key = (alert.tenant, operator.id)
            if key not in operators:
                operators[key] = uow.operator_risk.get(tenant_id=alert.tenant, operator_id=operator.id)
            operators[key] = merge(operators[key], signal)
    for (tenant_id, person_id), signals in people.items():
        uow.risk.put(tenant_id=tenant_id, person_id=person_id, signals=signals, updated_at=now)
    for (tenant_id, operator_id), signals in operators.items():
        uow.operator_risk.put(tenant_id=tenant_id, operator_id=operator_id, signals=signals, updated_at=now)
    file_alerts(uow, alerts, now=now)  # app.triage: cases, ranked with the person's new risk
    if exports is not None:
        enqueue_alerts(uow, alerts, plan=exports, now=now)  # app.export: queued, sent by the worker


def list_alerts(ctx: AppContext, *, actor: Actor, query: AlertQuery) -> list[Alert]:
    require_operator(actor, tenant_id=query.tenant_id, roles=ALERT_READERS)
    with ctx.reads() as uow:
        return list(uow.alerts.list(query))


def get_alert(ctx: AppContext, *, actor: Actor, tenant_id: str, alert_id: str) -> Alert:
    require_operator(actor, tenant_id=tenant_id, roles=ALERT_READERS)
    with ctx.reads() as uow:
        alert = uow.alerts.get(tenant_id=tenant_id, alert_id=alert_id)
    if alert is None:
        raise NotFound(f"alert {alert_id} not found", code="not_found.alert")
    return alert


def list_quarantine(
    ctx: AppContext, *, actor: Actor, tenant_id: str, limit: int = 100
) -> list[QuarantineEntry]:
    require_operator(actor, tenant_id=tenant_id, roles=INGESTERS)
    with ctx.reads() as uow:
        return list(uow.quarantine.list(tenant_id=tenant_id, limit=min(limit, 1000)))
