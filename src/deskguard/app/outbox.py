"""Writing domain events: one call per state change, inside the caller's transaction."""

from __future__ import annotations

from typing import Any

from deskguard.app.access import require_operator
from deskguard.app.context import AppContext
from deskguard.app.ledger import record_for
from deskguard.domain.events import Actor, DomainEvent, EventType
from deskguard.domain.ports import UnitOfWork


def emit(
    ctx: AppContext,
    uow: UnitOfWork,
    *,
    type: EventType,
    actor: Actor,
    tenant_id: str,
    request_id: str | None = None,
    person_id: str | None = None,
    correlation_id: str | None = None,
    **data: Any,
) -> DomainEvent:
    event = DomainEvent(
        id=ctx.random.new_id("evt"),
        tenant_id=tenant_id,
        type=type,
        occurred_at=ctx.clock.now(),
        actor=actor,
        request_id=request_id,
        person_id=person_id,
        data=data,
        correlation_id=correlation_id or request_id,
    )
    uow.outbox.add(event)
    uow.ledger.add(record_for(ctx, event))  # the evidence, in the same transaction as the change
    return event


def list_events(
    ctx: AppContext, *, actor: Actor, tenant_id: str, after_seq: int = 0, limit: int = 500
) -> list[DomainEvent]:
    """The tenant's outbox, in order: what the ledger and detection consume, readable by staff."""
    require_operator(actor, tenant_id=tenant_id)
    with ctx.reads() as uow:
        return list(uow.outbox.list(tenant_id=tenant_id, after_seq=after_seq, limit=min(limit, 5000)))
