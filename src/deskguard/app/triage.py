"""Triage use cases: alerts filed into cases, the prioritised queue, verdicts that retrain the model.

Every stored alert is filed into a case (``file_alerts``, called by ``app.detection`` in the
transaction that saves the alerts) and its case ranked with the tenant's current model
(``detection.triage``). A verdict (analysts and admins) names one alert: it replaces any earlier
verdict on that alert, is an ``alert.verdict`` event (hence a ledger record), retrains the tenant's
model on its newest ``MAX_TRAINING`` verdicts and re-ranks the open cases, all in one transaction.
A case whose alerts all have a verdict closes (``case.closed``); an analyst may also close one.

Retraining on every verdict is affordable: fitting 1,000 verdicts takes ~5 ms; re-ranking costs
~0.15 ms per open case on SQLite (``bench/triage.py``), so a queue of thousands of open cases makes
a verdict take a few hundred milliseconds (the place to debounce, if queues grow that long).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from deskguard.app.access import require_operator
from deskguard.app.context import AppContext
from deskguard.app.outbox import emit
from deskguard.detection import triage
from deskguard.detection.alerts import Alert
from deskguard.detection.risk import assess
from deskguard.detection.triage import Case, CaseStatus, Rank, TriageModel, Verdict, VerdictRecord
from deskguard.domain.errors import Conflict, NotFound, ValidationFailed
from deskguard.domain.events import Actor, EventType
from deskguard.domain.model import OperatorRole
from deskguard.domain.ports import UnitOfWork

# Who reads the queue: those who read alerts. Who judges: those who investigate.
CASE_READERS = frozenset(
    {OperatorRole.ANALYST, OperatorRole.ADMIN, OperatorRole.SUPERVISOR, OperatorRole.AUDITOR}
)
JUDGES = frozenset({OperatorRole.ANALYST, OperatorRole.ADMIN})
MAX_TRAINING = 5000  # the newest verdicts the model learns from
MAX_RERANK = 10_000  # open cases re-ranked after a retraining
MAX_COMMENT = 2000


@dataclass(frozen=True, slots=True)
class AlertInCase:
    alert: Alert
    rank: Rank
    verdict: VerdictRecord | None


@dataclass(frozen=True, slots=True)
class CaseView:
    case: Case
    alerts: tuple[AlertInCase, ...]


@dataclass(frozen=True, slots=True)
class VerdictResult:
    verdict: VerdictRecord
    previous: VerdictRecord | None
    case: CaseView
    model: TriageModel


def parse_verdict(value: str) -> Verdict:
    try:
        return Verdict(value.strip().lower())
    except ValueError:
        allowed = ", ".join(v.value for v in Verdict)
        raise ValidationFailed(f"verdict {value!r} is not one of {allowed}", field="verdict") from None


def parse_status(value: str | None) -> CaseStatus | None:
    """``open`` (the default), ``closed``, or ``all`` (None)."""
    if value in (None, "", "open"):
        return CaseStatus.OPEN
    if value == "all":
        return None
    if value == "closed":
        return CaseStatus.CLOSED
    raise ValidationFailed(f"status {value!r} is not one of open, closed, all", field="status")


# -- filing (inside app.detection's transaction) ------------------------------------------------


def file_alerts(
    uow: UnitOfWork, alerts: Iterable[Alert], *, now: datetime, gap_s: float = triage.GAP_S
) -> list[Case]:
    """File each alert into its case (the one it already belongs to, an open one of its entity
    within the gap, or a new one), rank the cases it changed and store them; returns them.
    The caller commits."""
    cases: dict[tuple[str, str], Case] = {}  # (tenant, case id) -> the case as filing goes
    stored: set[tuple[str, str]] = set()  # those already in storage
    members: dict[tuple[str, str], dict[str, Alert]] = {}  # the batch's alerts of each changed case
    links: list[tuple[str, str, str]] = []
    open_cases: dict[tuple[str, str, str], list[str]] = {}  # (tenant, kind, entity) -> open case ids
    for alert in alerts:
        known = uow.cases.case_of(tenant_id=alert.tenant, alert_id=alert.id)
        case = None if known is None else cases.get((alert.tenant, known))
        if known is not None and case is None:
            case = uow.cases.get(tenant_id=alert.tenant, case_id=known)
            if case is not None:
                stored.add((alert.tenant, known))
        if case is not None:
            case = triage.touch(case, alert)
        else:
            entity = (alert.tenant, *triage.principal(alert))
            if entity not in open_cases:
                found = uow.cases.find_open(tenant_id=entity[0], entity_kind=entity[1], entity=entity[2])
                for each in found:
                    cases.setdefault((each.tenant, each.id), each)
                    stored.add((each.tenant, each.id))
                open_cases[entity] = [each.id for each in found]
            chosen = triage.choose([cases[(alert.tenant, i)] for i in open_cases[entity]], alert, gap_s=gap_s)
            case = triage.file(alert, chosen)
            if chosen is None:
                open_cases[entity].append(case.id)
            links.append((alert.tenant, alert.id, case.id))
        key = (alert.tenant, case.id)
        cases[key] = case
        members.setdefault(key, {})[alert.id] = alert
    ranked: list[Case] = []
    for tenant_id in dict.fromkeys(tenant for tenant, _ in members):
        keys = [key for key in members if key[0] == tenant_id]
        old = [case_id for t, case_id in keys if (t, case_id) in stored]
        before = uow.cases.alerts(tenant_id=tenant_id, case_ids=old)
        judged = {v.alert_id: v.verdict for v in uow.verdicts.for_cases(tenant_id=tenant_id, case_ids=old)}
        ranker = triage.Ranker(uow.triage_models.get(tenant_id=tenant_id))
        for key in keys:
            case = replace(cases[key], risk=_risk(uow, cases[key], now=now))
            inside = {a.id: a for a in before.get(case.id, [])} | members[key]
            rank = ranker.case(case, sorted(inside.values(), key=lambda a: (a.first_seen, a.id)), judged)
            case = replace(case, priority=rank.priority, explanation=rank.reasons)
            (uow.cases.update if key in stored else uow.cases.add)(case)
            ranked.append(case)
    for tenant_id, alert_id, case_id in links:  # after the cases they name
        uow.cases.link(tenant_id=tenant_id, alert_id=alert_id, case_id=case_id)
    return ranked


def _risk(uow: UnitOfWork, case: Case, *, now: datetime) -> float:
    """The risk score of the person the case is about (0 when it names no person of the directory)."""
    if case.entity_kind != "user" or "@" not in case.entity:
        return case.risk
    person = uow.persons.get_by_email(tenant_id=case.tenant, email=case.entity)
    if person is None:
        return 0.0
    return assess(uow.risk.get(tenant_id=case.tenant, person_id=person.id), now=now.timestamp()).score


def _rank(uow: UnitOfWork, tenant_id: str, cases: Sequence[Case], model: TriageModel | None) -> list[Case]:
    """The cases with their priority and explanation from the model (the prior without one)."""
    ids = [case.id for case in cases]
    alerts = uow.cases.alerts(tenant_id=tenant_id, case_ids=ids)
    verdicts = {v.alert_id: v.verdict for v in uow.verdicts.for_cases(tenant_id=tenant_id, case_ids=ids)}
    ranker, out = triage.Ranker(model), []
    for case in cases:
        rank = ranker.case(case, alerts.get(case.id, []), verdicts)
        out.append(replace(case, priority=rank.priority, explanation=rank.reasons))
    return out


# -- reads ---------------------------------------------------------------------------------------


def queue(
    ctx: AppContext,
    *,
    actor: Actor,
    tenant_id: str,
    status: CaseStatus | None = CaseStatus.OPEN,
    limit: int = 100,
) -> list[CaseView]:
    """The tenant's cases, highest priority first, each with its alerts, their ranks and verdicts."""
    require_operator(actor, tenant_id=tenant_id, roles=CASE_READERS)
    with ctx.reads() as uow:
        cases = uow.cases.list(tenant_id=tenant_id, status=status, limit=min(max(limit, 1), 1000))
        return _views(uow, tenant_id, cases)


def get_case(ctx: AppContext, *, actor: Actor, tenant_id: str, case_id: str) -> CaseView:
    require_operator(actor, tenant_id=tenant_id, roles=CASE_READERS)
    with ctx.reads() as uow:
        return _view(uow, tenant_id, case_id)


def _view(uow: UnitOfWork, tenant_id: str, case_id: str) -> CaseView:
    case = uow.cases.get(tenant_id=tenant_id, case_id=case_id)
    if case is None:
        raise NotFound(f"case {case_id} not found", code="not_found.case")
    return _views(uow, tenant_id, [case])[0]


def _views(uow: UnitOfWork, tenant_id: str, cases: Sequence[Case]) -> list[CaseView]:
    ids = [case.id for case in cases]
    alerts = uow.cases.alerts(tenant_id=tenant_id, case_ids=ids)
    verdicts = {v.alert_id: v for v in uow.verdicts.for_cases(tenant_id=tenant_id, case_ids=ids)}
    model = uow.triage_models.get(tenant_id=tenant_id)
    views = []
    for case in cases:
        inside = [
            AlertInCase(alert, triage.rank_alert(alert, case, model), verdicts.get(alert.id))
            for alert in alerts.get(case.id, [])
        ]
        inside.sort(key=lambda a: (a.verdict is not None, -a.rank.priority, a.alert.id))
        views.append(CaseView(case, tuple(inside)))
    return views


# -- gestures ------------------------------------------------------------------------------------


def record_verdict(
    ctx: AppContext, *, actor: Actor, tenant_id: str, alert_id: str, verdict: str, comment: str = ""
) -> VerdictResult:
    """Judge one alert; retrain the tenant's model, re-rank its queue, close the case if all judged."""
    require_operator(actor, tenant_id=tenant_id, roles=JUDGES)
    value = parse_verdict(verdict)
    comment = _comment(comment)
    now = ctx.clock.now()
    with ctx.uow() as uow:
        alert = uow.alerts.get(tenant_id=tenant_id, alert_id=alert_id)
        if alert is None:
            raise NotFound(f"alert {alert_id} not found", code="not_found.alert")
        case_id = uow.cases.case_of(tenant_id=tenant_id, alert_id=alert_id)
        if case_id is None:  # stored before triage was: file it now
            file_alerts(uow, [alert], now=now)
            case_id = uow.cases.case_of(tenant_id=tenant_id, alert_id=alert_id)
        assert case_id is not None
        record = VerdictRecord(
            tenant=tenant_id,
            alert_id=alert_id,
            case_id=case_id,
            verdict=value,
            operator_id=actor.id,
            comment=comment,
            at=now,
        )
        previous = uow.verdicts.put(record)
        login = alert.entities.get("user", "")
        person = uow.persons.get_by_email(tenant_id=tenant_id, email=login) if "@" in login else None
        emit(
            ctx,
            uow,
            type=EventType.ALERT_VERDICT,
            actor=actor,
            tenant_id=tenant_id,
            person_id=person.id if person else None,
            correlation_id=case_id,
            alert_id=alert_id,
            rule_id=alert.rule_id,
            case_id=case_id,
            verdict=value.value,
            previous=previous.verdict.value if previous else None,
            comment=comment,
        )
        model = retrain(uow, tenant_id=tenant_id, now=now)
        _close_when_judged(ctx, uow, tenant_id=tenant_id, case_id=case_id, actor=actor, now=now)
        rerank(uow, tenant_id=tenant_id, model=model)
        judged = uow.cases.get(tenant_id=tenant_id, case_id=case_id)
        if judged is not None and judged.status == CaseStatus.CLOSED:  # rerank saw open cases only
            uow.cases.update(_rank(uow, tenant_id, [judged], model)[0])
        view = _view(uow, tenant_id, case_id)
        uow.commit()
    return VerdictResult(record, previous, view, model)


def close_case(ctx: AppContext, *, actor: Actor, tenant_id: str, case_id: str, comment: str = "") -> CaseView:
    """Close a case by hand (its alerts need no verdict); new evidence on its alerts reopens it."""
    require_operator(actor, tenant_id=tenant_id, roles=JUDGES)
    comment = _comment(comment)
    with ctx.uow() as uow:
        case = uow.cases.get(tenant_id=tenant_id, case_id=case_id)
        if case is None:
            raise NotFound(f"case {case_id} not found", code="not_found.case")
        if case.status == CaseStatus.CLOSED:
            raise Conflict(f"case {case_id} is already closed", code="conflict.case_closed")
        reason = f"closed by {actor.id}" + (f": {comment}" if comment else "")
        _close(ctx, uow, case, actor=actor, now=ctx.clock.now(), reason=reason)
        view = _view(uow, tenant_id, case_id)
        uow.commit()
    return view


def retrain(uow: UnitOfWork, *, tenant_id: str, now: datetime) -> TriageModel:
    """Fit the tenant's model on its newest verdicts and store it (JSON state)."""
    samples = [
        triage.Sample(features=triage.features(alert, case), verdict=verdict.verdict, rule_id=alert.rule_id)
        for verdict, alert, case in uow.verdicts.training(tenant_id=tenant_id, limit=MAX_TRAINING)
    ]
    model = triage.train(samples)
    uow.triage_models.put(tenant_id=tenant_id, model=model, updated_at=now)
    return model


def rerank(uow: UnitOfWork, *, tenant_id: str, model: TriageModel) -> int:
    """Re-rank the tenant's open cases with ``model``; returns how many changed."""
    cases = uow.cases.list(tenant_id=tenant_id, status=CaseStatus.OPEN, limit=MAX_RERANK)
    ranks = [
        (after.id, after.priority, after.explanation)
        for before, after in zip(cases, _rank(uow, tenant_id, cases, model), strict=True)
        if (after.priority, after.explanation) != (before.priority, before.explanation)
    ]
    uow.cases.update_priorities(tenant_id=tenant_id, ranks=ranks)
    return len(ranks)


def _close_when_judged(
    ctx: AppContext, uow: UnitOfWork, *, tenant_id: str, case_id: str, actor: Actor, now: datetime
) -> None:
    case = uow.cases.get(tenant_id=tenant_id, case_id=case_id)
    if case is None or case.status == CaseStatus.CLOSED:
        return
    alerts = uow.cases.alerts(tenant_id=tenant_id, case_ids=[case_id])[case_id]
    verdicts = {
        v.alert_id: v.verdict for v in uow.verdicts.for_cases(tenant_id=tenant_id, case_ids=[case_id])
    }
    if any(alert.id not in verdicts for alert in alerts):
        return
    counts = Counter(verdicts[alert.id].value for alert in alerts)
    summary = ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in sorted(counts.items()))
    _close(ctx, uow, case, actor=actor, now=now, reason=f"every alert judged ({summary})")


def _close(ctx: AppContext, uow: UnitOfWork, case: Case, *, actor: Actor, now: datetime, reason: str) -> None:
    closed = triage.close(case, at=now, reason=reason)
    uow.cases.update(closed)
    person = (
        uow.persons.get_by_email(tenant_id=case.tenant, email=case.entity)
        if case.entity_kind == "user"
        else None
    )
    emit(
        ctx,
        uow,
        type=EventType.CASE_CLOSED,
        actor=actor,
        tenant_id=case.tenant,
        person_id=person.id if person else None,
        correlation_id=case.id,
        case_id=case.id,
        entity_kind=case.entity_kind,
        alerts=case.alert_count,
        reason=reason,
    )


def _comment(comment: str) -> str:
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise ValidationFailed(f"comment is limited to {MAX_COMMENT} characters", field="comment")
    return comment
