"""The auditor API: search a tenant's evidence records, its signed checkpoints and keys, proofs.

Readable by auditors, admins and analysts of the tenant; everything here is read-only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query

from deskguard.api.deps import Ctx, CurrentActor
from deskguard.app import ledger
from deskguard.domain.ports import RecordQuery

router = APIRouter(prefix="/api/v1/tenants/{tenant_id}/audit", tags=["audit"])


@router.get("/records", summary="Search evidence records (log order; page with after=<last index>)")
def records(
    tenant_id: str,
    ctx: Ctx,
    actor: CurrentActor,
    person_id: str | None = Query(default=None, max_length=64),
    actor_id: str | None = Query(default=None, max_length=64, description="the operator or person who acted"),
    request_id: str | None = Query(default=None, max_length=64),
    ticket_id: str | None = Query(default=None, max_length=64, description="the ticket and its requests"),
    type: str | None = Query(default=None, max_length=64, description="an event type, e.g. request.executed"),
    since: datetime | None = None,
    until: datetime | None = None,
    after: int = Query(default=-1, ge=-1),
    limit: int = Query(default=100, ge=1, le=1000),
) -> list[dict[str, Any]]:
    query = RecordQuery(
        person_id=person_id,
        actor_id=actor_id,
        request_id=request_id,
        ticket_id=ticket_id,
        type=type,
        since=since,
        until=until,
        after=after,
        limit=limit,
    )
    return ledger.search_records(ctx, actor=actor, tenant_id=tenant_id, query=query)


@router.get("/checkpoints", summary="Signed checkpoints of the tenant's log and the keys that signed them")
def checkpoints(tenant_id: str, ctx: Ctx, actor: CurrentActor) -> dict[str, Any]:
    return ledger.tenant_checkpoints(ctx, actor=actor, tenant_id=tenant_id)


@router.get(
    "/records/{event_id}/proof", summary="Inclusion proof of one record against the latest checkpoint"
)
def proof(tenant_id: str, event_id: str, ctx: Ctx, actor: CurrentActor) -> dict[str, Any]:
    return ledger.prove_for(ctx, actor=actor, tenant_id=tenant_id, event_id=event_id)
