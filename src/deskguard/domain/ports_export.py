"""The SIEM/SOAR export ports (``app.export``): the persistent delivery queue and the destinations.

Part of ``deskguard.domain.ports`` (which names the queue on the ``UnitOfWork``); kept apart so that
no ports module grows past the house's 600 lines. Tenant-scoped by signature where a tenant's
staff read it (dead letters); the worker's own reads span tenants, per destination.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol


class ExportKind(StrEnum):
    LEDGER_RECORD = "ledger_record"
    ALERT = "alert"


class ExportStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportItem:
    """One thing to deliver to one destination; ``key`` is unique per destination (at-least-once)."""

    id: int  # 0 until stored
    destination: str
    tenant_id: str
    kind: ExportKind
    key: str  # the alert id, or the ledger record's event id
    payload: dict[str, Any]
    created_at: datetime
    next_attempt_at: datetime
    attempts: int = 0
    status: ExportStatus = ExportStatus.PENDING
    last_error: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportPlan:
    """Which destinations are configured, what each takes, and the delivery limits."""

    destinations: Mapping[str, frozenset[ExportKind]] = field(default_factory=dict)
    max_queue: int = 10_000  # pending items per destination; beyond, the oldest are dead-lettered
    max_attempts: int = 8
    backoff_base_s: float = 5.0
    backoff_cap_s: float = 900.0

    def takes(self, kind: ExportKind) -> list[str]:
        return sorted(name for name, kinds in self.destinations.items() if kind in kinds)


class ExportSink(Protocol):
    """A destination adapter. ``send`` returns when the destination accepted the item; it raises
    ``ConnectorTimeout`` (try again) or ``ConnectorError`` (with ``retry_after`` seconds when the
    refusal is worth retrying; without, the item is refused for good and dead-lettered)."""

    name: str
    kinds: frozenset[ExportKind]

    def send(self, item: ExportItem) -> None: ...

    def close(self) -> None: ...


class ExportQueueRepository(Protocol):
    def add(self, items: Sequence[ExportItem]) -> int:
        """Enqueue; an item whose (destination, key) is already queued is skipped. Returns how many
        were added."""
        ...

    def trim(self, *, destination: str, max_pending: int, at: datetime) -> int:
        """Dead-letter the oldest pending items beyond ``max_pending`` ("queue full")."""
        ...

    def due(self, *, destination: str, at: datetime, limit: int) -> Sequence[ExportItem]:
        """Pending items whose next attempt is due, oldest first."""
        ...

    def mark_sent(self, *, item_id: int, at: datetime) -> None: ...

    def mark_failed(
        self, *, item_id: int, error: str, next_attempt_at: datetime | None, attempts: int, at: datetime
    ) -> None:
        """Record a failed attempt; ``next_attempt_at=None`` dead-letters the item."""
        ...

    def dead(self, *, tenant_id: str, limit: int = 100) -> Sequence[ExportItem]: ...

    def get(self, *, tenant_id: str, item_id: int) -> ExportItem | None: ...

    def requeue(self, *, tenant_id: str, item_id: int, at: datetime) -> bool:
        """A dead letter back to pending, due at once, its attempts reset; False when not dead."""
        ...

    def pending(self, *, destination: str) -> int: ...

    def cursor(self, *, destination: str, tenant_id: str) -> int:
        """The last ledger index already queued for this destination and tenant (-1: none)."""
        ...

    def set_cursor(self, *, destination: str, tenant_id: str, index: int) -> None: ...
