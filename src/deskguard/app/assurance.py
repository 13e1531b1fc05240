"""Provider assurance: each tenant's assessment of its outsourced providers, beside what deskguard measured.

- ``list_providers``: the outsourced providers whose operators serve the tenant, each with its counts;
- ``provider_assurance``: one provider's checklist (``content/assurance/checklist.yml``) by section,
  each item with its status, evidence and review date (overdue once past), and the month's figures
  deskguard measured about that provider's operators (``app.kpis``: step-up share, verification
  failures, mean time to detect) and its vishing exercise results per quarter (``app.exercise_trends``:
  the provider's desk-level trends, every quarter);
- ``assess_item`` (admins and auditors): status, note and next review date, recorded in the ledger;
- ``attach_evidence`` (admins and auditors): a file checked by ``domain.assurance.check_evidence``,
  stored with its SHA-256; ``evidence_file`` hands it back to the tenant's readers.

Readers: admins, auditors and supervisors of the tenant. Every change is a domain event written in the
same transaction as the change (``assurance.assessed``, ``assurance.evidence_attached``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from deskguard.app.access import require_operator
from deskguard.app.context import AppContext
from deskguard.app.exercise_trends import exercise_trends
from deskguard.app.kpis import Month, MonthKpis, month_kpis
from deskguard.app.outbox import emit
from deskguard.domain.assurance import (
    Assessment,
    Checklist,
    ChecklistItem,
    Evidence,
    ItemStatus,
    Section,
    check_evidence,
    evidence_name,
    next_review,
    parse_checklist,
)
from deskguard.domain.errors import NotFound, ValidationFailed
from deskguard.domain.events import Actor, EventType
from deskguard.domain.exercises import Trend
from deskguard.domain.model import OperatorRole, Provider, ProviderKind
from deskguard.domain.ports import UnitOfWork

CHECKLIST_PATH = Path(__file__).resolve().parents[3] / "content" / "assurance" / "checklist.yml"
ASSESSORS = frozenset({OperatorRole.ADMIN, OperatorRole.AUDITOR})
ASSURANCE_READERS = frozenset({OperatorRole.ADMIN, OperatorRole.AUDITOR, OperatorRole.SUPERVISOR})
MAX_NOTE = 2000


@cache
def checklist(path: Path = CHECKLIST_PATH) -> Checklist:
    return parse_checklist(path.read_text(encoding="utf-8"), source=str(path))


@dataclass(frozen=True, slots=True)
class ItemView:
    item: ChecklistItem
    status: ItemStatus
    assessment: Assessment | None
    evidence: tuple[Evidence, ...]
    overdue: bool


@dataclass(frozen=True, slots=True)
class SectionView:
    section: Section
    items: tuple[ItemView, ...]


@dataclass(frozen=True, slots=True)
class Measured:
    kpis: MonthKpis  # the month's figures for this provider's operators (app.kpis)
    exercises: tuple[Trend, ...]  # the provider's vishing exercise results per quarter; empty: none yet


@dataclass(frozen=True, slots=True)
class ProviderAssurance:
    tenant_id: str
    provider: Provider
    today: date
    sections: tuple[SectionView, ...]
    measured: Measured

    def items(self) -> list[ItemView]:
        return [view for section in self.sections for view in section.items]

    def counts(self) -> dict[str, int]:
        found = Counter(view.status.value for view in self.items())
        return {status.value: found.get(status.value, 0) for status in ItemStatus}

    def overdue(self) -> int:
        return sum(1 for view in self.items() if view.overdue)


@dataclass(frozen=True, slots=True)
class ProviderSummary:
    provider: Provider
    counts: dict[str, int]  # items by status
    overdue: int
    evidence: int


def _provider(uow: UnitOfWork, *, tenant_id: str, provider_id: str) -> Provider:
    """An outsourced provider with an operator serving the tenant; any other id is not found."""
    provider = uow.providers.get(provider_id)
    serving = {op.provider_id for op in uow.operators.list(tenant_id=tenant_id)}
    if provider is None or provider.kind != ProviderKind.OUTSOURCED or provider.id not in serving:
        raise NotFound(f"provider {provider_id} not found", code="not_found.provider", field="provider_id")
    return provider


def _views(
    listed: Checklist, assessments: dict[str, Assessment], evidence: list[Evidence], today: date
) -> tuple[SectionView, ...]:
    sections = []
    for section in listed.sections:
        items = []
        for item in section.items:
            found = assessments.get(item.id)
            items.append(
                ItemView(
                    item=item,
                    status=found.status if found else ItemStatus.NOT_ASSESSED,
                    assessment=found,
                    evidence=tuple(e for e in evidence if e.item_id == item.id),
                    overdue=found is not None and found.overdue(today),
                )
            )
        sections.append(SectionView(section=section, items=tuple(items)))
    return tuple(sections)


def list_providers(ctx: AppContext, *, actor: Actor, tenant_id: str) -> list[ProviderSummary]:
    """The tenant's outsourced providers, by name, with their items by status and overdue reviews."""
    require_operator(actor, tenant_id=tenant_id, roles=ASSURANCE_READERS)
    today = ctx.clock.now().date()
    out = []
    with ctx.reads() as uow:
        serving = {op.provider_id for op in uow.operators.list(tenant_id=tenant_id)}
        for provider in uow.providers.list():
            if provider.kind != ProviderKind.OUTSOURCED or provider.id not in serving:
                continue
            assessments = dict(uow.assurance.assessments(tenant_id=tenant_id, provider_id=provider.id))
            evidence = list(uow.assurance.evidence(tenant_id=tenant_id, provider_id=provider.id))
            views = [v for s in _views(checklist(), assessments, evidence, today) for v in s.items]
            found = Counter(v.status.value for v in views)
            out.append(
                ProviderSummary(
                    provider=provider,
                    counts={s.value: found.get(s.value, 0) for s in ItemStatus},
                    overdue=sum(1 for v in views if v.overdue),
                    evidence=len(evidence),
                )
            )
    return out


def provider_assurance(
    ctx: AppContext, *, actor: Actor, tenant_id: str, provider_id: str, month: str = ""
) -> ProviderAssurance:
    """One provider's checklist with its evidence, beside the figures of ``month`` (default: this one)."""
    require_operator(actor, tenant_id=tenant_id, roles=ASSURANCE_READERS)
    today = ctx.clock.now().date()
    with ctx.reads() as uow:
        provider = _provider(uow, tenant_id=tenant_id, provider_id=provider_id)
        assessments = dict(uow.assurance.assessments(tenant_id=tenant_id, provider_id=provider.id))
        evidence = list(uow.assurance.evidence(tenant_id=tenant_id, provider_id=provider.id))
    chosen = month or str(Month.of(ctx.clock.now()))
    kpis = month_kpis(ctx, actor=actor, tenant_id=tenant_id, month=chosen, provider_id=provider.id)
    trends = exercise_trends(ctx, actor=actor, tenant_id=tenant_id).trends
    exercises = tuple(t for t in trends if t.scope == "provider" and t.key == provider.id)
    return ProviderAssurance(
        tenant_id=tenant_id,
        provider=provider,
        today=today,
        sections=_views(checklist(), assessments, evidence, today),
        measured=Measured(kpis=kpis, exercises=exercises),
    )


def _due(value: str | date | None, *, item: ChecklistItem, today: date) -> date:
    if value is None or value == "":
        return next_review(today, item.review_months)
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            raise ValidationFailed(
                f"review date {value!r} is not a date written yyyy-mm-dd", field="review_due"
            ) from None
    if value < today:
        raise ValidationFailed(
            f"review date {value.isoformat()} is in the past; the next review is today or later",
            field="review_due",
        )
    return value


def assess_item(
    ctx: AppContext,
    *,
    actor: Actor,
    tenant_id: str,
    provider_id: str,
    item_id: str,
    status: str,
    note: str = "",
    review_due: str | date | None = None,
) -> Assessment:
    """Record the item's status, note and next review (default: its review cadence from today)."""
    require_operator(actor, tenant_id=tenant_id, roles=ASSESSORS)
    item = checklist().item(item_id)
    try:
        chosen = ItemStatus(status)
    except ValueError:
        raise ValidationFailed(
            f"status {status!r} is one of {', '.join(s.value for s in ItemStatus)}", field="status"
        ) from None
    if len(note) > MAX_NOTE:
        raise ValidationFailed(f"the note is {len(note)} characters; the limit is {MAX_NOTE}", field="note")
    now = ctx.clock.now()
    assessment = Assessment(
        tenant_id=tenant_id,
        provider_id=provider_id,
        item_id=item.id,
        status=chosen,
        note=note.strip(),
        reviewer_id=actor.id,
        reviewed_at=now,
        review_due=_due(review_due, item=item, today=now.date()),
    )
    with ctx.uow() as uow:
        _provider(uow, tenant_id=tenant_id, provider_id=provider_id)
        uow.assurance.put_assessment(assessment)
        emit(
            ctx,
            uow,
            type=EventType.ASSURANCE_ASSESSED,
            actor=actor,
            tenant_id=tenant_id,
            provider_id=provider_id,
            item_id=item.id,
            status=chosen.value,
            note=assessment.note,
            review_due=assessment.review_due.isoformat(),
        )
        uow.commit()
    return assessment


def attach_evidence(
    ctx: AppContext,
    *,
    actor: Actor,
    tenant_id: str,
    provider_id: str,
    item_id: str,
    name: str,
    content: bytes,
) -> Evidence:
    """Keep a file as evidence of one item, with its SHA-256; refused when empty, too large or mistyped."""
    require_operator(actor, tenant_id=tenant_id, roles=ASSESSORS)
    item = checklist().item(item_id)
    media_type, digest = check_evidence(name, content)
    evidence = Evidence(
        id=ctx.random.new_id("evd"),
        tenant_id=tenant_id,
        provider_id=provider_id,
        item_id=item.id,
        name=evidence_name(name),
        media_type=media_type,
        size=len(content),
        sha256=digest,
        attached_by=actor.id,
        attached_at=ctx.clock.now(),
    )
    with ctx.uow() as uow:
        _provider(uow, tenant_id=tenant_id, provider_id=provider_id)
        uow.assurance.add_evidence(evidence, content)
        emit(
            ctx,
            uow,
            type=EventType.ASSURANCE_EVIDENCE_ATTACHED,
            actor=actor,
            tenant_id=tenant_id,
            provider_id=provider_id,
            item_id=item.id,
            evidence_id=evidence.id,
            name=evidence.name,
            media_type=media_type,
            size=evidence.size,
            sha256=digest,
        )
        uow.commit()
    return evidence


def evidence_file(
    ctx: AppContext, *, actor: Actor, tenant_id: str, provider_id: str, evidence_id: str
) -> tuple[Evidence, bytes]:
    """An evidence file and its content, for the tenant's readers."""
    require_operator(actor, tenant_id=tenant_id, roles=ASSURANCE_READERS)
    with ctx.reads() as uow:
        _provider(uow, tenant_id=tenant_id, provider_id=provider_id)
        found = uow.assurance.evidence_content(tenant_id=tenant_id, evidence_id=evidence_id)
    if found is None or found[0].provider_id != provider_id:
        raise NotFound(f"evidence {evidence_id} not found", code="not_found.evidence", field="evidence_id")
    return found
