"""The month in figures: the dashboard's and the monthly report's key indicators, per tenant and provider.

``compute`` is pure: given a month's outbox events (and the three months before, for the operators'
baselines), the alerts first seen in it, when each alert was first answered (a verdict) and the runbook
steps, it returns ``MonthKpis``. ``month_kpis`` is the use case that reads them for one tenant.

The definitions (also in ``docs/console.md``):

- *sensitive action*: a helpdesk request opened in the month whose tier is high or critical;
  *with step-up*: one of its ``request.decided`` events carries at least one step-up reason;
- *verification failures*: ``proof.failed`` events in the month, against every ``proof.succeeded``
  and ``proof.failed`` (the failure rate);
- *time to detect* of an alert: from its first evidence event to the event that completed it
  (``last_seen - first_seen``; 0 for a single-event rule, which fires on the event itself);
- *time to respond*: from the alert's last evidence to its first answer: the earliest of its first
  runbook step that acted (``done``) and its verdict; alerts never answered are counted apart;
- *operators against their baseline*: the requests each operator opened in the month against the mean
  of the three months before (a ratio, ``None`` for a newcomer).

A provider narrows the helpdesk figures to its operators' requests and the alerts to those naming one of
its operators as the actor (alerts about persons only, such as an identity-provider chain, stay
tenant-wide figures: they are not the provider's doing).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from math import inf

from deskguard.app.access import require_operator
from deskguard.app.context import AppContext
from deskguard.app.triage import CASE_READERS
from deskguard.detection.alerts import SEVERITIES, Alert
from deskguard.domain.errors import ValidationFailed
from deskguard.domain.events import Actor, ActorKind, DomainEvent, EventType
from deskguard.domain.ports import AlertQuery, UnitOfWork
from deskguard.domain.response import ResponseStep, StepStatus

SENSITIVE_TIERS = frozenset({"high", "critical"})
BASELINE_MONTHS = 3
MAX_ALERTS = 100_000
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True, slots=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, value: str) -> Month:
        found = _MONTH.match(value.strip())
        if not found or not 1 <= int(found.group(2)) <= 12:
            raise ValidationFailed(f"month {value!r} is not a month written yyyy-mm", field="month")
        return cls(int(found.group(1)), int(found.group(2)))

    @classmethod
    def of(cls, moment: datetime) -> Month:
        return cls(moment.year, moment.month)

    def start(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=UTC)

    def shift(self, months: int) -> Month:
        index = self.year * 12 + self.month - 1 + months
        return Month(index // 12, index % 12 + 1)

    def end(self) -> datetime:
        return self.shift(1).start()

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@dataclass(frozen=True, slots=True)
class OperatorLoad:
    operator_id: str
    provider_id: str
    requests: int
    baseline: float  # mean requests per month over the BASELINE_MONTHS before
    ratio: float | None  # requests / baseline; None without a baseline


@dataclass(frozen=True, slots=True)
class MonthKpis:
    tenant_id: str
    month: str
    provider_id: str  # "" for every provider
    sensitive_actions: int
    with_step_up: int
    proofs: int
    verification_failures: int
    alerts: int
    alerts_by_severity: dict[str, int]
    mean_time_to_detect_s: float | None
    mean_time_to_respond_s: float | None
    unanswered_alerts: int
    operators: tuple[OperatorLoad, ...]
    providers: tuple[str, ...]  # every provider whose operators acted in the tenant (the filter's choices)

    @property
    def step_up_share(self) -> float | None:
        return self.with_step_up / self.sensitive_actions if self.sensitive_actions else None

    @property
    def failure_rate(self) -> float | None:
        return self.verification_failures / self.proofs if self.proofs else None


def _in(moment: datetime, start: datetime, end: datetime) -> bool:
    return start <= moment < end


def compute(
    *,
    tenant_id: str,
    month: Month,
    events: Iterable[DomainEvent],
    alerts: Iterable[Alert],
    verdict_at: Mapping[str, datetime],
    steps: Iterable[ResponseStep],
    provider_id: str = "",
) -> MonthKpis:
    """The month's figures from its evidence (events may reach back BASELINE_MONTHS for baselines)."""
    start, end, since = month.start(), month.end(), month.shift(-BASELINE_MONTHS).start()
    providers: dict[str, str] = {}  # operator -> provider, from the events they acted in
    opened: dict[str, DomainEvent] = {}
    stepped: set[str] = set()
    proved: list[DomainEvent] = []
    owner: dict[str, str] = {}  # request -> the provider of the operator who opened it
    earlier: Counter[str] = Counter()
    for event in events:
        actor = event.actor
        if actor.kind == ActorKind.OPERATOR and actor.provider_id:
            providers[actor.id] = actor.provider_id
        if event.type == EventType.REQUEST_OPENED and actor.kind == ActorKind.OPERATOR:
            owner[event.request_id or event.id] = actor.provider_id
            if provider_id and actor.provider_id != provider_id:
                continue
            if _in(event.occurred_at, start, end):
                opened[event.request_id or event.id] = event
            elif _in(event.occurred_at, since, start):
                earlier[actor.id] += 1
        elif event.type == EventType.REQUEST_DECIDED and (event.data.get("decision") or {}).get("step_ups"):
            stepped.add(event.request_id or "")
        elif event.type in (EventType.PROOF_SUCCEEDED, EventType.PROOF_FAILED) and _in(
            event.occurred_at, start, end
        ):
            proved.append(event)
    # a proof counts for the provider whose operator opened its request (the person may answer it)
    proved = [e for e in proved if not provider_id or owner.get(e.request_id or "") == provider_id]
    failures = sum(1 for e in proved if e.type == EventType.PROOF_FAILED)
    sensitive = [rid for rid, e in opened.items() if e.data.get("tier") in SENSITIVE_TIERS]
    loads = _loads(opened.values(), earlier, providers)
    month_alerts = [
        a
        for a in alerts
        if _in(datetime.fromtimestamp(a.first_seen, UTC), start, end)
        and (not provider_id or providers.get(a.entities.get("actor", "")) == provider_id)
    ]
    answered = _first_answers(month_alerts, verdict_at, steps)
    detect = [a.last_seen - a.first_seen for a in month_alerts]
    respond = [answered[a.id] - a.last_seen for a in month_alerts if a.id in answered]
    severities = Counter(a.severity for a in month_alerts)
    return MonthKpis(
        tenant_id=tenant_id,
        month=str(month),
        provider_id=provider_id,
        sensitive_actions=len(sensitive),
        with_step_up=sum(1 for rid in sensitive if rid in stepped),
        proofs=len(proved),
        verification_failures=failures,
        alerts=len(month_alerts),
        alerts_by_severity={s: severities.get(s, 0) for s in reversed(SEVERITIES)},
        mean_time_to_detect_s=sum(detect) / len(detect) if detect else None,
        mean_time_to_respond_s=max(0.0, sum(respond) / len(respond)) if respond else None,
        unanswered_alerts=len(month_alerts) - len(respond),
        operators=loads,
        providers=tuple(sorted(set(providers.values()))),
    )


def _loads(
    opened: Iterable[DomainEvent], earlier: Mapping[str, int], providers: Mapping[str, str]
) -> tuple[OperatorLoad, ...]:
    now: Counter[str] = Counter(event.actor.id for event in opened)
    loads = []
    for operator_id in sorted(set(now) | set(earlier)):
        baseline = earlier.get(operator_id, 0) / BASELINE_MONTHS
        ratio = now[operator_id] / baseline if baseline else None
        loads.append(
            OperatorLoad(operator_id, providers.get(operator_id, ""), now[operator_id], baseline, ratio)
        )
    return tuple(sorted(loads, key=lambda load: (-load.requests, load.operator_id)))


def _first_answers(
    alerts: Sequence[Alert], verdict_at: Mapping[str, datetime], steps: Iterable[ResponseStep]
) -> dict[str, float]:
    """Alert id -> epoch seconds of its first answer (a runbook step that acted, or its verdict)."""
    acted: dict[str, float] = defaultdict(lambda: inf)
    for step in steps:
        if step.status == StepStatus.DONE:
            acted[step.alert_id] = min(acted[step.alert_id], step.updated_at.timestamp())
    out: dict[str, float] = {}
    for alert in alerts:
        judged = verdict_at.get(alert.id)
        first = min(acted.get(alert.id, inf), judged.timestamp() if judged else inf)
        if first != inf:
            out[alert.id] = first
    return out


def month_kpis(
    ctx: AppContext, *, actor: Actor, tenant_id: str, month: str, provider_id: str = ""
) -> MonthKpis:
    """The tenant's figures for ``month`` (yyyy-mm), optionally for one provider's operators."""
    require_operator(actor, tenant_id=tenant_id, roles=CASE_READERS)
    wanted = Month.parse(month)
    since = wanted.shift(-BASELINE_MONTHS).start()
    with ctx.reads() as uow:
        events = [e for e in all_events(uow, tenant_id) if _in(e.occurred_at, since, wanted.end())]
        alerts = list(
            uow.alerts.list(
                AlertQuery(
                    tenant_id=tenant_id,
                    since=wanted.start().timestamp(),  # of last_seen: an alert of the month ends after it
                    limit=MAX_ALERTS,
                )
            )
        )
        case_ids = {uow.cases.case_of(tenant_id=tenant_id, alert_id=a.id) for a in alerts} - {None}
        verdicts = uow.verdicts.for_cases(tenant_id=tenant_id, case_ids=sorted(c for c in case_ids if c))
        steps = list(uow.response_steps.list(tenant_id=tenant_id, status=None, limit=MAX_ALERTS))
    return compute(
        tenant_id=tenant_id,
        month=wanted,
        events=events,
        alerts=alerts,
        verdict_at={v.alert_id: v.at for v in verdicts},
        steps=steps,
        provider_id=provider_id,
    )


def all_events(uow: UnitOfWork, tenant_id: str, page: int = 5000) -> Iterable[DomainEvent]:
    after = 0
    while True:
        batch = list(uow.outbox.list(tenant_id=tenant_id, after_seq=after, limit=page))
        yield from batch
        if len(batch) < page:
            return
        after = batch[-1].seq or after
