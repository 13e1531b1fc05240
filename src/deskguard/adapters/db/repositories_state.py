"""The detection engine's learned state (baselines, one row per analytic), and operators' risk."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select

from deskguard.adapters.db.repositories_detection import signals_of
from deskguard.adapters.db.repositories_people import SqlRepository
from deskguard.adapters.db.tables_detection import DetectionStateRow, OperatorRiskRow
from deskguard.detection.risk import RiskSignal
from deskguard.domain.ports import StoredState


class SqlDetectionStateRepository(SqlRepository):
    def all(self) -> list[StoredState]:
        rows = self._all(select(DetectionStateRow).order_by(DetectionStateRow.rule_id))
        return [StoredState(row.rule_id, row.state, row.keys, row.updated_at) for row in rows]

    def put(self, *, rule_id: str, state: bytes, keys: int, updated_at: datetime) -> None:
        row = self._s.get(DetectionStateRow, rule_id)
        if row is None:
            self._s.add(DetectionStateRow(rule_id=rule_id, state=state, keys=keys, updated_at=updated_at))
        else:
            row.state, row.keys, row.updated_at = state, keys, updated_at
        self._s.flush()


class SqlOperatorRiskRepository(SqlRepository):
    def get(self, *, tenant_id: str, operator_id: str) -> tuple[RiskSignal, ...]:
        row = self._s.get(OperatorRiskRow, (tenant_id, operator_id))
        return signals_of(row.signals if row else None)

    def put(
        self, *, tenant_id: str, operator_id: str, signals: Sequence[RiskSignal], updated_at: datetime
    ) -> None:
        text = json.dumps([signal.to_dict() for signal in signals], separators=(",", ":"))
        row = self._s.get(OperatorRiskRow, (tenant_id, operator_id))
        if row is None:
            self._s.add(
                OperatorRiskRow(
                    tenant_id=tenant_id, operator_id=operator_id, signals=text, updated_at=updated_at
                )
            )
        else:
            row.signals, row.updated_at = text, updated_at
        self._s.flush()
