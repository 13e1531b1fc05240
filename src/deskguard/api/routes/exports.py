"""SIEM/SOAR export over HTTP: the dead letters of the delivery queue (``app.export``).

- ``GET /api/v1/tenants/{tenant}/exports/dead-letters``: items that could not be delivered
  (refused, out of attempts, or dropped when the queue was full), newest first. Admin, analyst,
  auditor.
- ``POST .../exports/dead-letters/{id}/retry``: back to the queue, due now, attempts reset. Admin.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from deskguard.api.deps import Ctx, CurrentActor
from deskguard.app import export
from deskguard.domain.errors import NotFound
from deskguard.domain.ports_export import ExportItem

router = APIRouter(prefix="/api/v1", tags=["export"])


def _render(item: ExportItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "destination": item.destination,
        "kind": item.kind.value,
        "key": item.key,
        "status": item.status.value,
        "attempts": item.attempts,
        "last_error": item.last_error,
        "created_at": item.created_at.isoformat(),
        "next_attempt_at": item.next_attempt_at.isoformat(),
        "payload": item.payload,
    }


@router.get("/tenants/{tenant_id}/exports/dead-letters", summary="Export items that were not delivered")
def dead_letters(
    tenant_id: str, ctx: Ctx, actor: CurrentActor, limit: int = Query(default=100, ge=1, le=1000)
) -> list[dict[str, Any]]:
    items = export.list_dead_letters(ctx, actor=actor, tenant_id=tenant_id, limit=limit)
    return [_render(item) for item in items]


@router.post(
    "/tenants/{tenant_id}/exports/dead-letters/{dead_letter_id}/retry",
    summary="Send a dead letter back to the delivery queue",
)
def retry(tenant_id: str, dead_letter_id: str, ctx: Ctx, actor: CurrentActor) -> dict[str, Any]:
    if not dead_letter_id.isdigit():  # ids are integers; anything else is simply not found
        export.require_operator(actor, tenant_id=tenant_id, roles=export.DEAD_LETTER_RETRIERS)
        raise NotFound(f"dead letter {dead_letter_id} not found", code="not_found.dead_letter")
    item = export.retry_dead_letter(ctx, actor=actor, tenant_id=tenant_id, item_id=int(dead_letter_id))
    return _render(item)
