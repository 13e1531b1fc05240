"""Triage over HTTP: the prioritised case queue, one case, verdicts on alerts, closing a case.

- ``GET /api/v1/tenants/{tenant}/cases?status=open|closed|all``: cases, highest priority first,
  each with its explanation and its alerts (their own priority, explanation and verdict).
- ``GET /api/v1/tenants/{tenant}/cases/{case_id}``: one case.
- ``POST /api/v1/tenants/{tenant}/alerts/{alert_id}/verdict`` ``{"verdict": "true_positive" |
  "false_positive" | "benign", "comment": "…"}``: analysts and admins; retrains the tenant's model.
- ``POST /api/v1/tenants/{tenant}/cases/{case_id}/close`` ``{"comment": "…"}``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from pydantic import Field

from deskguard.api.deps import Ctx, CurrentActor
from deskguard.api.schemas import Body
from deskguard.app import triage
from deskguard.app.triage import CaseView
from deskguard.detection.alerts import iso
from deskguard.detection.triage import VerdictRecord

router = APIRouter(prefix="/api/v1", tags=["triage"])


class VerdictIn(Body):
    verdict: str = Field(description="true_positive, false_positive or benign", max_length=40)
    comment: str = Field(default="", max_length=triage.MAX_COMMENT)


class CloseIn(Body):
    comment: str = Field(default="", max_length=triage.MAX_COMMENT)


def _verdict(record: VerdictRecord | None) -> dict[str, Any] | None:
    if record is None:
        return None
    return {
        "alert_id": record.alert_id,
        "case_id": record.case_id,
        "verdict": record.verdict.value,
        "operator_id": record.operator_id,
        "comment": record.comment,
        "at": record.at.isoformat(),
    }


def _case(view: CaseView) -> dict[str, Any]:
    case = view.case
    return {
        "id": case.id,
        "tenant": case.tenant,
        "entity_kind": case.entity_kind,
        "entity": case.entity,
        "status": case.status.value,
        "priority": case.priority,
        "explanation": list(case.explanation),
        "first_seen": iso(case.first_seen),
        "last_seen": iso(case.last_seen),
        "alert_count": case.alert_count,
        "rule_ids": list(case.rule_ids),
        "risk": case.risk,
        "closed_at": case.closed_at.isoformat() if case.closed_at else None,
        "closed_reason": case.closed_reason,
        "alerts": [
            {
                **item.alert.to_dict(),
                "priority": item.rank.priority,
                "priority_explanation": list(item.rank.reasons),
                "verdict": _verdict(item.verdict),
            }
            for item in view.alerts
        ],
    }


@router.get("/tenants/{tenant_id}/cases", summary="The triage queue: cases, highest priority first")
def cases(
    tenant_id: str,
    ctx: Ctx,
    actor: CurrentActor,
    status: str = Query(default="open", pattern="^(open|closed|all)$"),
    limit: int = Query(default=100, ge=1, le=1000),
) -> list[dict[str, Any]]:
    views = triage.queue(
        ctx, actor=actor, tenant_id=tenant_id, status=triage.parse_status(status), limit=limit
    )
    return [{"rank": index, **_case(view)} for index, view in enumerate(views, start=1)]


@router.get("/tenants/{tenant_id}/cases/{case_id}", summary="One case, with its alerts and verdicts")
def case(tenant_id: str, case_id: str, ctx: Ctx, actor: CurrentActor) -> dict[str, Any]:
    return _case(triage.get_case(ctx, actor=actor, tenant_id=tenant_id, case_id=case_id))


@router.post(
    "/tenants/{tenant_id}/alerts/{alert_id}/verdict",
    summary="Judge an alert (true_positive, false_positive, benign); retrains the priority model",
)
def verdict(tenant_id: str, alert_id: str, body: VerdictIn, ctx: Ctx, actor: CurrentActor) -> dict[str, Any]:
    result = triage.record_verdict(
        ctx, actor=actor, tenant_id=tenant_id, alert_id=alert_id, verdict=body.verdict, comment=body.comment
    )
    model = result.model
    return {
        "verdict": _verdict(result.verdict),
        "previous": _verdict(result.previous),
        "case": _case(result.case),
        "model": {
            "verdicts": model.verdicts,
            "true_positives": model.positives,
            "fitted": model.fitted,
            "weight": round(model.weight, 3),
        },
    }


@router.post("/tenants/{tenant_id}/cases/{case_id}/close", summary="Close a case by hand")
def close(tenant_id: str, case_id: str, body: CloseIn, ctx: Ctx, actor: CurrentActor) -> dict[str, Any]:
    return _case(
        triage.close_case(ctx, actor=actor, tenant_id=tenant_id, case_id=case_id, comment=body.comment)
    )
