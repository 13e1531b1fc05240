"""The SIEM/SOAR delivery queue (``domain.ports_export.ExportQueueRepository``) and ledger cursors.

``add`` is an ``INSERT ... ON CONFLICT DO NOTHING`` on (destination, key) on both backends: a
concurrent writer queuing the same alert never fails the helpdesk transaction that carries it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from deskguard.adapters.db.repositories_people import SqlRepository, rowcount
from deskguard.adapters.db.tables_detection import ExportCursorRow, ExportQueueRow
from deskguard.domain.ports_export import ExportItem, ExportKind, ExportStatus

QUEUE_FULL = "queue full"
CHUNK = 500


def _item(row: ExportQueueRow) -> ExportItem:
    return ExportItem(
        id=row.id,
        destination=row.destination,
        tenant_id=row.tenant_id,
        kind=ExportKind(row.kind),
        key=row.item_key,
        payload=json.loads(row.payload),
        created_at=row.created_at,
        next_attempt_at=row.next_attempt_at,
        attempts=row.attempts,
        status=ExportStatus(row.status),
        last_error=row.last_error,
    )


class SqlExportQueueRepository(SqlRepository):
    def add(self, items: Sequence[ExportItem]) -> int:
        if not items:
            return 0
        values: list[dict[str, Any]] = [
            {
                "destination": item.destination,
                "tenant_id": item.tenant_id,
                "kind": item.kind.value,
                "item_key": item.key,
                "payload": json.dumps(item.payload, separators=(",", ":"), ensure_ascii=False),
                "status": item.status.value,
                "attempts": item.attempts,
                "next_attempt_at": item.next_attempt_at,
                "created_at": item.created_at,
                "updated_at": item.created_at,
                "last_error": item.last_error,
            }
            for item in items
        ]
        dialect = self._s.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        added = 0
        for start in range(0, len(values), CHUNK):  # under SQLite's bound-parameter limit
            stmt = (
                insert(ExportQueueRow)
                .values(values[start : start + CHUNK])
                .on_conflict_do_nothing(index_elements=["destination", "item_key"])
                .returning(ExportQueueRow.id)
            )
            added += len(self._s.execute(stmt).all())
        return added

    def trim(self, *, destination: str, max_pending: int, at: datetime) -> int:
        excess = self.pending(destination=destination) - max_pending
        if excess <= 0:
            return 0
        oldest = (
            select(ExportQueueRow.id)
            .where(
                ExportQueueRow.destination == destination, ExportQueueRow.status == ExportStatus.PENDING.value
            )
            .order_by(ExportQueueRow.id)
            .limit(excess)
        )
        ids = list(self._s.scalars(oldest))
        result = self._s.execute(
            update(ExportQueueRow)
            .where(ExportQueueRow.id.in_(ids))
            .values(status=ExportStatus.DEAD.value, last_error=QUEUE_FULL, updated_at=at)
        )
        return rowcount(result)

    def due(self, *, destination: str, at: datetime, limit: int) -> Sequence[ExportItem]:
        rows = self._all(
            select(ExportQueueRow)
            .where(
                ExportQueueRow.destination == destination,
                ExportQueueRow.status == ExportStatus.PENDING.value,
                ExportQueueRow.next_attempt_at <= at,
            )
            .order_by(ExportQueueRow.next_attempt_at, ExportQueueRow.id)
            .limit(limit)
        )
        return [_item(row) for row in rows]

    def mark_sent(self, *, item_id: int, at: datetime) -> None:
        self._s.execute(
            update(ExportQueueRow)
            .where(ExportQueueRow.id == item_id)
            .values(
                status=ExportStatus.SENT.value,
                attempts=ExportQueueRow.attempts + 1,
                updated_at=at,
                last_error="",
            )
        )

    def mark_failed(
        self, *, item_id: int, error: str, next_attempt_at: datetime | None, attempts: int, at: datetime
    ) -> None:
        values: dict[str, Any] = {"attempts": attempts, "last_error": error[:2000], "updated_at": at}
        if next_attempt_at is None:
            values["status"] = ExportStatus.DEAD.value
        else:
            values["next_attempt_at"] = next_attempt_at
        self._s.execute(update(ExportQueueRow).where(ExportQueueRow.id == item_id).values(**values))

    def dead(self, *, tenant_id: str, limit: int = 100) -> Sequence[ExportItem]:
        rows = self._all(
            select(ExportQueueRow)
            .where(ExportQueueRow.tenant_id == tenant_id, ExportQueueRow.status == ExportStatus.DEAD.value)
            .order_by(ExportQueueRow.id.desc())
            .limit(limit)
        )
        return [_item(row) for row in rows]

    def get(self, *, tenant_id: str, item_id: int) -> ExportItem | None:
        row = self._first(
            select(ExportQueueRow).where(ExportQueueRow.tenant_id == tenant_id, ExportQueueRow.id == item_id)
        )
        return None if row is None else _item(row)

    def requeue(self, *, tenant_id: str, item_id: int, at: datetime) -> bool:
        result = self._s.execute(
            update(ExportQueueRow)
            .where(
                ExportQueueRow.tenant_id == tenant_id,
                ExportQueueRow.id == item_id,
                ExportQueueRow.status == ExportStatus.DEAD.value,
            )
            .values(status=ExportStatus.PENDING.value, attempts=0, next_attempt_at=at, updated_at=at)
        )
        return rowcount(result) == 1

    def pending(self, *, destination: str) -> int:
        stmt = select(func.count()).where(
            ExportQueueRow.destination == destination, ExportQueueRow.status == ExportStatus.PENDING.value
        )
        return int(self._s.scalar(stmt) or 0)

    def cursor(self, *, destination: str, tenant_id: str) -> int:
        row = self._s.get(ExportCursorRow, (destination, tenant_id), populate_existing=True)
        return -1 if row is None else row.ledger_idx

    def set_cursor(self, *, destination: str, tenant_id: str, index: int) -> None:
        row = self._s.get(ExportCursorRow, (destination, tenant_id))
        if row is None:
            self._s.add(ExportCursorRow(destination=destination, tenant_id=tenant_id, ledger_idx=index))
        else:
            row.ledger_idx = index
        self._s.flush()
