"""SIEM/SOAR export: at-least-once delivery of alerts and ledger records through a persistent queue.

- **Alerts** are queued where they are stored (``app.detection._save`` calls ``enqueue_alerts``):
  a DB insert in the same transaction, nothing sent there, so an unreachable SIEM never slows
  or blocks the helpdesk or detection path.
- **Ledger records** are not hooked into ``outbox.emit`` (the request flow's hot path): the
  exporter worker reads each tenant's ledger after a per-destination cursor and queues what is new,
  moving the cursor in the same transaction (``queue_ledger``). Crash anywhere: the records are
  queued again (skipped when already there) or sent again: at least once, never lost.
- The queue is bounded per destination (``ExportPlan.max_queue``): beyond it the oldest pending
  items become dead letters with the reason "queue full".
- ``deliver`` sends the due items of one destination; a failure is retried with capped exponential
  back-off (a ``Retry-After`` is honoured), a refusal for good or the last attempt dead-letters the
  item. Staff list dead letters; an admin sends one back to the queue.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog

from deskguard.app.access import require_operator
from deskguard.app.context import AppContext
from deskguard.detection.alerts import Alert
from deskguard.domain.errors import ConnectorError, ConnectorTimeout, InvalidTransition, NotFound
from deskguard.domain.events import Actor
from deskguard.domain.model import OperatorRole
from deskguard.domain.ports import StoredRecord, UnitOfWork
from deskguard.domain.ports_export import ExportItem, ExportKind, ExportPlan, ExportSink

log = structlog.get_logger("deskguard.export")

DEAD_LETTER_READERS = frozenset({OperatorRole.ADMIN, OperatorRole.ANALYST, OperatorRole.AUDITOR})
DEAD_LETTER_RETRIERS = frozenset({OperatorRole.ADMIN})


@dataclass(slots=True)
class Delivery:
    sent: int = 0
    retried: int = 0
    dead: int = 0


def enqueue_alerts(uow: UnitOfWork, alerts: Iterable[Alert], *, plan: ExportPlan, now: datetime) -> int:
    """Queue each alert for every destination that takes alerts (inside the caller's transaction).

    An alert is queued once per destination: later updates of the same alert (suppression counts)
    are not sent again."""
    destinations = plan.takes(ExportKind.ALERT)
    if not destinations:
        return 0
    items = [
        ExportItem(
            id=0,
            destination=name,
            tenant_id=alert.tenant,
            kind=ExportKind.ALERT,
            key=alert.id,
            payload=alert.to_dict(),
            created_at=now,
            next_attempt_at=now,
        )
        for alert in alerts
        for name in destinations
    ]
    added = uow.exports.add(items)
    for name in destinations:
        uow.exports.trim(destination=name, max_pending=plan.max_queue, at=now)
    return added


def ledger_payload(stored: StoredRecord) -> dict[str, Any]:
    record = stored.record
    return {
        "index": stored.index,
        "tenant_id": record.tenant_id,
        "event_id": record.event_id,
        "type": record.type,
        "occurred_at": record.occurred_at.isoformat(),
        "actor_id": record.actor_id,
        "person_id": record.person_id,
        "request_id": record.request_id,
        "ticket_id": record.ticket_id,
        # the canonical record: identifying values are already keyed HMACs (app.ledger)
        "record": json.loads(record.canonical) if record.canonical else None,
    }


def queue_ledger(ctx: AppContext, *, destination: str, limit: int = 500) -> int:
    """Queue every tenant's ledger records after the destination's cursor; returns how many."""
    plan = ctx.exports
    if ExportKind.LEDGER_RECORD not in plan.destinations.get(destination, frozenset()):
        return 0
    now = ctx.clock.now()
    with ctx.reads() as uow:  # most ticks find nothing new: do not take the writer for that
        fresh: dict[str, list[StoredRecord]] = {}
        for tenant_id in uow.ledger.tenants():
            after = uow.exports.cursor(destination=destination, tenant_id=tenant_id)
            records = list(uow.ledger.records(tenant_id=tenant_id, start=after + 1, limit=limit))
            if records:
                fresh[tenant_id] = records
    if not fresh:
        return 0
    queued = 0
    with ctx.uow() as uow:
        for tenant_id, records in fresh.items():
            items = [
                ExportItem(
                    id=0,
                    destination=destination,
                    tenant_id=tenant_id,
                    kind=ExportKind.LEDGER_RECORD,
                    key=r.record.event_id,
                    payload=ledger_payload(r),
                    created_at=now,
                    next_attempt_at=now,
                )
                for r in records
            ]
            queued += uow.exports.add(items)
            # the cursor only moves forward: a concurrent exporter that queued further wins
            if uow.exports.cursor(destination=destination, tenant_id=tenant_id) < records[-1].index:
                uow.exports.set_cursor(destination=destination, tenant_id=tenant_id, index=records[-1].index)
        uow.exports.trim(destination=destination, max_pending=plan.max_queue, at=now)
        uow.commit()
    return queued


def backoff(attempts: int, plan: ExportPlan) -> timedelta:
    """The wait after ``attempts`` failed attempts: base x 2^(attempts-1), capped."""
    return timedelta(seconds=min(plan.backoff_cap_s, plan.backoff_base_s * 2 ** max(0, attempts - 1)))


def deliver(ctx: AppContext, sink: ExportSink, *, limit: int = 100) -> Delivery:
    """Send the destination's due items, oldest first, and record each outcome.

    A temporary failure (timeout, 429, 5xx) stops this pass for the destination: the rest waits for
    the next tick instead of piling up timeouts against a SIEM that is down."""
    plan = ctx.exports
    with ctx.reads() as uow:
        due = list(uow.exports.due(destination=sink.name, at=ctx.clock.now(), limit=limit))
    done = Delivery()
    for item in due:
        now = ctx.clock.now()
        try:
            sink.send(item)
        except (ConnectorTimeout, ConnectorError, OSError, ValueError) as exc:
            attempts = item.attempts + 1
            permanent = isinstance(exc, ConnectorError) and not hasattr(exc, "retry_after")
            error = f"{type(exc).__name__}: {exc}"
            if permanent or attempts >= plan.max_attempts:
                _failed(ctx, item, error=error, attempts=attempts, at=now, next_at=None)
                done.dead += 1
                log.warning("export_dead_letter", destination=sink.name, item=item.id, error=error)
                continue
            wait = backoff(attempts, plan)
            retry_after = getattr(exc, "retry_after", None)
            if isinstance(retry_after, int | float) and retry_after > wait.total_seconds():
                wait = timedelta(seconds=min(retry_after, plan.backoff_cap_s))
            _failed(ctx, item, error=error, attempts=attempts, at=now, next_at=now + wait)
            done.retried += 1
            break
        with ctx.uow() as uow:
            uow.exports.mark_sent(item_id=item.id, at=now)
            uow.commit()
        done.sent += 1
    return done


def _failed(
    ctx: AppContext, item: ExportItem, *, error: str, attempts: int, at: datetime, next_at: datetime | None
) -> None:
    with ctx.uow() as uow:
        uow.exports.mark_failed(
            item_id=item.id, error=error, next_attempt_at=next_at, attempts=attempts, at=at
        )
        uow.commit()


def list_dead_letters(ctx: AppContext, *, actor: Actor, tenant_id: str, limit: int = 100) -> list[ExportItem]:
    require_operator(actor, tenant_id=tenant_id, roles=DEAD_LETTER_READERS)
    with ctx.reads() as uow:
        return list(uow.exports.dead(tenant_id=tenant_id, limit=min(limit, 1000)))


def retry_dead_letter(ctx: AppContext, *, actor: Actor, tenant_id: str, item_id: int) -> ExportItem:
    """Send a dead letter back to the queue, due now, its attempts reset."""
    require_operator(actor, tenant_id=tenant_id, roles=DEAD_LETTER_RETRIERS)
    with ctx.uow() as uow:
        item = uow.exports.get(tenant_id=tenant_id, item_id=item_id)
        if item is None:
            raise NotFound(f"dead letter {item_id} not found", code="not_found.dead_letter")
        if not uow.exports.requeue(tenant_id=tenant_id, item_id=item_id, at=ctx.clock.now()):
            raise InvalidTransition(
                f"export item {item_id} is {item.status.value}, not dead", code="invalid_transition.not_dead"
            )
        uow.commit()
        requeued = uow.exports.get(tenant_id=tenant_id, item_id=item_id)
    assert requeued is not None
    log.info("export_dead_letter_retried", tenant_id=tenant_id, item=item_id, operator=actor.id)
    return requeued
