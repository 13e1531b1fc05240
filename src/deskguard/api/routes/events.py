"""The tenant's domain events (the outbox), in order, for staff and consumers."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from deskguard.api.deps import Ctx, CurrentActor
from deskguard.app.outbox import list_events

router = APIRouter(prefix="/api/v1", tags=["events"])


@router.get("/tenants/{tenant_id}/events", summary="The tenant's domain events, in order (the outbox)")
def events(
    tenant_id: str,
    ctx: Ctx,
    actor: CurrentActor,
    after: int = Query(default=0, ge=0),
    limit: int = Query(default=500, ge=1, le=5000),
) -> list[dict[str, Any]]:
    return [
        {"seq": e.seq, **e.envelope()}
        for e in list_events(ctx, actor=actor, tenant_id=tenant_id, after_seq=after, limit=limit)
    ]
