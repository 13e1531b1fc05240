"""The steps of runbook runs (``deskguard.domain.response``), scoped by tenant like everything else.

``update`` is a compare-and-set on (status, attempts): the inline run, an approval and the responder
worker may reach one step at the same time, and only one of them moves it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update

from deskguard.adapters.db.repositories_people import SqlRepository, rowcount
from deskguard.adapters.db.tables_detection import ResponseStepRow
from deskguard.domain.response import DUE_STATUSES, ResponseStep, StepStatus


def _step(row: ResponseStepRow) -> ResponseStep:
    return ResponseStep(
        tenant_id=row.tenant_id,
        run_id=row.run_id,
        index=row.step,
        runbook_id=row.runbook_id,
        alert_id=row.alert_id,
        rule_id=row.rule_id,
        person_id=row.person_id,
        kind=row.kind,
        params=dict(row.params),
        approval=row.approval,
        status=StepStatus(row.status),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        approver_id=row.approver_id,
        comment=row.comment,
        detail=row.detail,
        created_at=row.created_at,
        updated_at=row.updated_at,
        decided_at=row.decided_at,
    )


def _mutable(step: ResponseStep) -> dict[str, object]:
    return {
        "status": step.status.value,
        "attempts": step.attempts,
        "next_attempt_at": step.next_attempt_at,
        "approver_id": step.approver_id,
        "comment": step.comment,
        "detail": step.detail,
        "updated_at": step.updated_at,
        "decided_at": step.decided_at,
    }


class SqlResponseStepRepository(SqlRepository):
    def add(self, step: ResponseStep) -> None:
        self._s.add(
            ResponseStepRow(
                tenant_id=step.tenant_id,
                run_id=step.run_id,
                step=step.index,
                runbook_id=step.runbook_id,
                alert_id=step.alert_id,
                rule_id=step.rule_id,
                person_id=step.person_id,
                kind=step.kind,
                params=dict(step.params),
                approval=step.approval,
                created_at=step.created_at,
                **_mutable(step),  # type: ignore[arg-type]
            )
        )
        self._s.flush()

    def get(self, *, tenant_id: str, run_id: str, index: int) -> ResponseStep | None:
        row = self._first(
            select(ResponseStepRow).where(
                ResponseStepRow.tenant_id == tenant_id,
                ResponseStepRow.run_id == run_id,
                ResponseStepRow.step == index,
            )
        )
        return None if row is None else _step(row)

    def list(
        self, *, tenant_id: str, status: StepStatus | None = None, limit: int = 100
    ) -> Sequence[ResponseStep]:
        stmt = select(ResponseStepRow).where(ResponseStepRow.tenant_id == tenant_id)
        if status is not None:
            stmt = stmt.where(ResponseStepRow.status == status.value)
        stmt = stmt.order_by(
            ResponseStepRow.created_at.desc(), ResponseStepRow.run_id, ResponseStepRow.step
        ).limit(limit)
        return [_step(row) for row in self._all(stmt)]

    def due(self, *, now: datetime, limit: int = 100) -> Sequence[ResponseStep]:
        stmt = (
            select(ResponseStepRow)
            .where(
                ResponseStepRow.status.in_(sorted(s.value for s in DUE_STATUSES)),
                ResponseStepRow.next_attempt_at <= now,
            )
            .order_by(ResponseStepRow.next_attempt_at, ResponseStepRow.run_id, ResponseStepRow.step)
            .limit(limit)
        )
        return [_step(row) for row in self._all(stmt)]

    def update(self, step: ResponseStep, *, expect_status: StepStatus, expect_attempts: int) -> bool:
        changed = self._s.execute(
            update(ResponseStepRow)
            .where(
                ResponseStepRow.tenant_id == step.tenant_id,
                ResponseStepRow.run_id == step.run_id,
                ResponseStepRow.step == step.index,
                ResponseStepRow.status == expect_status.value,
                ResponseStepRow.attempts == expect_attempts,
            )
            .values(**_mutable(step))
        )
        return rowcount(changed) == 1
