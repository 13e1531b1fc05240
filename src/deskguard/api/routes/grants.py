"""Just-in-time grants: ask, list, approve or deny, revoke."""

from __future__ import annotations

from fastapi import APIRouter

from deskguard.api.deps import Ctx, CurrentActor
from deskguard.api.schemas import GrantDecisionIn, GrantIn, GrantOut
from deskguard.app import grants

router = APIRouter(prefix="/api/v1", tags=["grants"])


@router.post("/tenants/{tenant_id}/grants", status_code=201, summary="Ask for a just-in-time elevation")
def ask_grant(tenant_id: str, body: GrantIn, ctx: Ctx, actor: CurrentActor) -> GrantOut:
    return GrantOut.of(
        grants.request_grant(
            ctx,
            actor=actor,
            tenant_id=tenant_id,
            action_kinds=body.action_kinds,
            duration_minutes=body.duration_minutes,
            justification=body.justification,
        )
    )


@router.get("/tenants/{tenant_id}/grants", summary="Grants (one's own; all of them for supervisors)")
def list_grants(tenant_id: str, ctx: Ctx, actor: CurrentActor) -> list[GrantOut]:
    return [GrantOut.of(g) for g in grants.list_grants(ctx, actor=actor, tenant_id=tenant_id)]


@router.post("/tenants/{tenant_id}/grants/{grant_id}/decision", summary="Approve or deny a grant")
def decide_grant(
    tenant_id: str, grant_id: str, body: GrantDecisionIn, ctx: Ctx, actor: CurrentActor
) -> GrantOut:
    return GrantOut.of(
        grants.decide_grant(
            ctx,
            actor=actor,
            tenant_id=tenant_id,
            grant_id=grant_id,
            approve=body.approve,
            comment=body.comment,
        )
    )


@router.post("/tenants/{tenant_id}/grants/{grant_id}/revoke", summary="End a grant now")
def revoke_grant(tenant_id: str, grant_id: str, ctx: Ctx, actor: CurrentActor) -> GrantOut:
    return GrantOut.of(
        grants.revoke_grant(
            ctx, actor=actor, tenant_id=tenant_id, grant_id=grant_id, reason="revoked through the API"
        )
    )
