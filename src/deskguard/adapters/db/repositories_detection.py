"""Alerts, quarantined records and the detection cursor, scoped by tenant like everything else."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from deskguard.adapters.db.repositories_people import SqlRepository, rowcount
from deskguard.adapters.db.tables_detection import (
    AlertRow,
    DetectionCursorRow,
    PersonRiskRow,
    QuarantineRow,
    ResponseRunRow,
)
from deskguard.detection.alerts import SEVERITIES, Alert
from deskguard.detection.risk import RiskSignal
from deskguard.domain.ports import AlertQuery, QuarantineEntry

RECORD_LIMIT = 64 * 1024


class SqlAlertRepository(SqlRepository):
    def save(self, alert: Alert) -> None:
        body = json.dumps(alert.to_dict(), ensure_ascii=False, separators=(",", ":"))
        values = {
            "tenant_id": alert.tenant,
            "rule_id": alert.rule_id,
            "title": alert.title[:300],
            "severity": alert.severity,
            "mode": alert.mode,
            "first_seen": alert.first_seen,
            "last_seen": alert.last_seen,
            "count": alert.count,
            "body": body,
        }
        changed = self._s.execute(
            update(AlertRow)
            .where(AlertRow.id == alert.id, AlertRow.tenant_id == alert.tenant)
            .values(**values)
        )
        if not rowcount(changed):
            self._s.add(AlertRow(id=alert.id, **values))
            self._s.flush()

    def get(self, *, tenant_id: str, alert_id: str) -> Alert | None:
        row = self._first(select(AlertRow).where(AlertRow.tenant_id == tenant_id, AlertRow.id == alert_id))
        return None if row is None else Alert.from_dict(json.loads(row.body))

    def list(self, query: AlertQuery) -> Sequence[Alert]:
        stmt = select(AlertRow).where(AlertRow.tenant_id == query.tenant_id)
        if query.rule_id:
            stmt = stmt.where(AlertRow.rule_id == query.rule_id)
        if query.severities:
            stmt = stmt.where(AlertRow.severity.in_(sorted(query.severities & set(SEVERITIES))))
        if query.mode:
            stmt = stmt.where(AlertRow.mode == query.mode)
        if query.since is not None:
            stmt = stmt.where(AlertRow.last_seen >= query.since)
        if query.until is not None:
            stmt = stmt.where(AlertRow.last_seen < query.until)
        if query.entity:
            # narrowed in SQL on the JSON text, then checked exactly on the entity values
            stmt = stmt.where(AlertRow.body.contains(json.dumps(query.entity)[1:-1]))
        rows = self._all(stmt.order_by(AlertRow.last_seen.desc(), AlertRow.id).limit(query.limit))
        alerts = [Alert.from_dict(json.loads(row.body)) for row in rows]
        if query.entity:
            alerts = [a for a in alerts if query.entity in a.entities.values()]
        return alerts


class SqlQuarantineRepository(SqlRepository):
    def add(self, entry: QuarantineEntry) -> None:
        self._s.add(
            QuarantineRow(
                tenant_id=entry.tenant_id,
                source=entry.source[:32],
                reason=entry.reason[:64],
                detail=entry.detail,
                record=entry.record[:RECORD_LIMIT],
                received_at=entry.received_at,
            )
        )

    def list(self, *, tenant_id: str, limit: int = 100) -> Sequence[QuarantineEntry]:
        stmt = (
            select(QuarantineRow)
            .where(QuarantineRow.tenant_id == tenant_id)
            .order_by(QuarantineRow.id.desc())
        )
        return [
            QuarantineEntry(
                id=row.id,
                tenant_id=row.tenant_id,
                source=row.source,
                reason=row.reason,
                detail=row.detail,
                record=row.record,
                received_at=row.received_at,
            )
            for row in self._all(stmt.limit(limit))
        ]


class SqlDetectionCursorRepository(SqlRepository):
    def get(self, *, tenant_id: str) -> int:
        row = self._first(select(DetectionCursorRow).where(DetectionCursorRow.tenant_id == tenant_id))
        return 0 if row is None else row.outbox_seq

    def set(self, *, tenant_id: str, outbox_seq: int) -> None:
        changed = self._s.execute(
            update(DetectionCursorRow)
            .where(DetectionCursorRow.tenant_id == tenant_id)
            .values(outbox_seq=outbox_seq)
        )
        if not rowcount(changed):
            self._s.add(DetectionCursorRow(tenant_id=tenant_id, outbox_seq=outbox_seq))
            self._s.flush()


def signals_of(text: str | None) -> tuple[RiskSignal, ...]:
    return tuple(RiskSignal.from_dict(item) for item in json.loads(text)) if text else ()


class SqlRiskRepository(SqlRepository):
    def get(self, *, tenant_id: str, person_id: str) -> tuple[RiskSignal, ...]:
        row = self._row(tenant_id, person_id)
        return () if row is None else signals_of(row.signals)

    def put(
        self, *, tenant_id: str, person_id: str, signals: Sequence[RiskSignal], updated_at: datetime
    ) -> None:
        text = json.dumps([s.to_dict() for s in signals], separators=(",", ":"))
        self._upsert(tenant_id, person_id, updated_at, signals=text)

    def watch(self, *, tenant_id: str, person_id: str, until: datetime, updated_at: datetime) -> None:
        """Watch-list the person until ``until`` (a later watch is never shortened by an earlier one)."""
        row = self._row(tenant_id, person_id)
        if row is not None and row.watch_until is not None and row.watch_until >= until:
            return
        self._upsert(tenant_id, person_id, updated_at, watch_until=until)

    def require_manager_validation(
        self, *, tenant_id: str, person_id: str, until: datetime, updated_at: datetime
    ) -> None:
        """Sensitive requests on the person need their manager until ``until`` (never shortened)."""
        row = self._row(tenant_id, person_id)
        current = None if row is None else row.manager_validation_until
        if current is not None and current >= until:
            return
        self._upsert(tenant_id, person_id, updated_at, manager_validation_until=until)

    def _row(self, tenant_id: str, person_id: str) -> PersonRiskRow | None:
        return self._first(
            select(PersonRiskRow).where(
                PersonRiskRow.tenant_id == tenant_id, PersonRiskRow.person_id == person_id
            )
        )

    def _upsert(self, tenant_id: str, person_id: str, updated_at: datetime, **values: Any) -> None:
        changed = self._s.execute(
            update(PersonRiskRow)
            .where(PersonRiskRow.tenant_id == tenant_id, PersonRiskRow.person_id == person_id)
            .values(updated_at=updated_at, **values)
        )
        if not rowcount(changed):
            fields = {"signals": "[]", **values}
            self._s.add(
                PersonRiskRow(tenant_id=tenant_id, person_id=person_id, updated_at=updated_at, **fields)
            )
            self._s.flush()


class SqlResponseRunRepository(SqlRepository):
    def claim(
        self, *, run_id: str, tenant_id: str, runbook_id: str, alert_id: str, created_at: datetime
    ) -> bool:
        """True the first time a run id is claimed; False when that run already happened."""
        if self._first(select(ResponseRunRow).where(ResponseRunRow.id == run_id)) is not None:
            return False
        self._s.add(
            ResponseRunRow(
                id=run_id,
                tenant_id=tenant_id,
                runbook_id=runbook_id,
                alert_id=alert_id,
                created_at=created_at,
            )
        )
        self._s.flush()
        return True
