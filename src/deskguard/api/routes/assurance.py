"""Provider assurance: the checklist per outsourced provider, its assessments and evidence (app.assurance).

Evidence is uploaded as the raw request body (``Content-Type`` any, the file's name in ``?name=``); the
file's type is read from its content and must match the name (``domain.assurance.check_evidence``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from deskguard.api.deps import Ctx, CurrentActor
from deskguard.app import assurance
from deskguard.domain.assurance import Assessment, Evidence

router = APIRouter(prefix="/api/v1", tags=["assurance"])
ITEM = "/tenants/{tenant_id}/providers/{provider_id}/assurance/items/{item_id}"


class AssessIn(BaseModel):
    status: str = Field(description="met, partial, not_met or not_assessed")
    note: str = ""
    review_due: date | None = Field(default=None, description="the next review; default: the item's cadence")


class AssessmentOut(BaseModel):
    item_id: str
    status: str
    note: str
    reviewer_id: str
    reviewed_at: datetime
    review_due: date

    @classmethod
    def of(cls, a: Assessment) -> AssessmentOut:
        return cls(
            item_id=a.item_id,
            status=a.status.value,
            note=a.note,
            reviewer_id=a.reviewer_id,
            reviewed_at=a.reviewed_at,
            review_due=a.review_due,
        )


class EvidenceOut(BaseModel):
    id: str
    item_id: str
    name: str
    media_type: str
    size: int
    sha256: str
    attached_by: str
    attached_at: datetime

    @classmethod
    def of(cls, e: Evidence) -> EvidenceOut:
        return cls(
            id=e.id,
            item_id=e.item_id,
            name=e.name,
            media_type=e.media_type,
            size=e.size,
            sha256=e.sha256,
            attached_by=e.attached_by,
            attached_at=e.attached_at,
        )


@router.get("/tenants/{tenant_id}/providers", summary="Outsourced providers with their assurance counts")
def list_providers(tenant_id: str, ctx: Ctx, actor: CurrentActor) -> list[dict[str, Any]]:
    return [
        {
            "id": s.provider.id,
            "name": s.provider.name,
            "items_by_status": s.counts,
            "overdue": s.overdue,
            "evidence": s.evidence,
        }
        for s in assurance.list_providers(ctx, actor=actor, tenant_id=tenant_id)
    ]


@router.get(
    "/tenants/{tenant_id}/providers/{provider_id}/assurance",
    summary="A provider's checklist, evidence and review dates, beside what deskguard measured",
)
def provider_assurance(
    tenant_id: str, provider_id: str, ctx: Ctx, actor: CurrentActor, month: str = ""
) -> dict[str, Any]:
    found = assurance.provider_assurance(
        ctx, actor=actor, tenant_id=tenant_id, provider_id=provider_id, month=month
    )
    kpis = found.measured.kpis
    return {
        "provider": {"id": found.provider.id, "name": found.provider.name},
        "sections": [
            {
                "id": s.section.id,
                "title": dict(s.section.title),
                "items": [
                    {
                        "id": v.item.id,
                        "title": dict(v.item.title),
                        "status": v.status.value,
                        "overdue": v.overdue,
                        "assessment": AssessmentOut.of(v.assessment).model_dump(mode="json")
                        if v.assessment
                        else None,
                        "evidence": [EvidenceOut.of(e).model_dump(mode="json") for e in v.evidence],
                    }
                    for v in s.items
                ],
            }
            for s in found.sections
        ],
        "measured": {
            "month": kpis.month,
            "sensitive_actions": kpis.sensitive_actions,
            "with_step_up": kpis.with_step_up,
            "step_up_share": kpis.step_up_share,
            "proofs": kpis.proofs,
            "verification_failures": kpis.verification_failures,
            "mean_time_to_detect_s": kpis.mean_time_to_detect_s,
            "exercises": [
                {"quarter": t.quarter, "calls": t.calls, "counts": {str(k): n for k, n in t.counts.items()}}
                for t in found.measured.exercises
            ],
        },
    }


@router.put(ITEM, summary="Assess one checklist item (admins and auditors)")
def assess_item(
    tenant_id: str, provider_id: str, item_id: str, body: AssessIn, ctx: Ctx, actor: CurrentActor
) -> AssessmentOut:
    return AssessmentOut.of(
        assurance.assess_item(
            ctx,
            actor=actor,
            tenant_id=tenant_id,
            provider_id=provider_id,
            item_id=item_id,
            status=body.status,
            note=body.note,
            review_due=body.review_due,
        )
    )


@router.post(ITEM + "/evidence", status_code=201, summary="Attach an evidence file (raw body; ?name=)")
async def attach_evidence(
    tenant_id: str,
    provider_id: str,
    item_id: str,
    request: Request,
    ctx: Ctx,
    actor: CurrentActor,
    name: str = Query(description="the file's name, e.g. iso27001.pdf"),
) -> EvidenceOut:
    content = await request.body()
    evidence = await run_in_threadpool(
        assurance.attach_evidence,
        ctx,
        actor=actor,
        tenant_id=tenant_id,
        provider_id=provider_id,
        item_id=item_id,
        name=name,
        content=content,
    )
    return EvidenceOut.of(evidence)


@router.get(
    "/tenants/{tenant_id}/providers/{provider_id}/assurance/evidence/{evidence_id}",
    summary="Download an evidence file",
)
def evidence_file(
    tenant_id: str, provider_id: str, evidence_id: str, ctx: Ctx, actor: CurrentActor
) -> Response:
    evidence, content = assurance.evidence_file(
        ctx, actor=actor, tenant_id=tenant_id, provider_id=provider_id, evidence_id=evidence_id
    )
    return Response(
        content,
        media_type=evidence.media_type,
        headers={
            "content-disposition": f'attachment; filename="{evidence.name}"',
            "x-content-sha256": evidence.sha256,
        },
    )
