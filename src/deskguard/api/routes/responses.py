"""Runbook responses over HTTP: the steps of the tenant's runs, and the approval of destructive ones.

- ``GET /api/v1/tenants/{tenant}/responses?status=awaiting_approval``: the steps, newest first
  (analysts, admins, supervisors, auditors).
- ``POST /api/v1/tenants/{tenant}/responses/{run_id}/steps/{index}/approve`` ``{"comment": ...}``:
  an analyst or admin approves a waiting step, which then runs in this call.
- ``POST …/refuse`` ``{"comment": ...}``: it never runs. Both decisions are ledger records.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from pydantic import Field

from deskguard.api.deps import Ctx, CurrentActor
from deskguard.api.schemas import Body
from deskguard.app import response_approvals
from deskguard.domain.response import ResponseStep

router = APIRouter(prefix="/api/v1", tags=["responses"])


class DecisionIn(Body):
    comment: str = Field(min_length=1, max_length=2000, description="why: kept in the evidence ledger")


def _out(step: ResponseStep) -> dict[str, Any]:
    def iso(value: Any) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "run_id": step.run_id,
        "step": step.index,
        "runbook": step.runbook_id,
        "alert_id": step.alert_id,
        "rule_id": step.rule_id,
        "person_id": step.person_id,
        "kind": step.kind,
        "params": step.params,
        "approval": step.approval,
        "status": step.status.value,
        "attempts": step.attempts,
        "next_attempt_at": iso(step.next_attempt_at),
        "approver_id": step.approver_id,
        "comment": step.comment,
        "detail": step.detail,
        "created_at": iso(step.created_at),
        "updated_at": iso(step.updated_at),
        "decided_at": iso(step.decided_at),
    }


@router.get("/tenants/{tenant_id}/responses", summary="Runbook steps, newest first (filter by status)")
def responses(
    tenant_id: str,
    ctx: Ctx,
    actor: CurrentActor,
    status: str | None = Query(default=None, description="e.g. awaiting_approval, retrying, failed"),
    limit: int = Query(default=100, ge=1, le=1000),
) -> list[dict[str, Any]]:
    steps = response_approvals.list_responses(
        ctx, actor=actor, tenant_id=tenant_id, status=status, limit=limit
    )
    return [_out(step) for step in steps]


@router.post(
    "/tenants/{tenant_id}/responses/{run_id}/steps/{index}/approve",
    summary="Approve a step that waits (it runs at once)",
)
def approve(
    tenant_id: str, run_id: str, index: int, body: DecisionIn, ctx: Ctx, actor: CurrentActor
) -> dict[str, Any]:
    step = response_approvals.approve_step(
        ctx, actor=actor, tenant_id=tenant_id, run_id=run_id, index=index, comment=body.comment
    )
    return _out(step)


@router.post(
    "/tenants/{tenant_id}/responses/{run_id}/steps/{index}/refuse", summary="Refuse a step that waits"
)
def refuse(
    tenant_id: str, run_id: str, index: int, body: DecisionIn, ctx: Ctx, actor: CurrentActor
) -> dict[str, Any]:
    step = response_approvals.refuse_step(
        ctx, actor=actor, tenant_id=tenant_id, run_id=run_id, index=index, comment=body.comment
    )
    return _out(step)
