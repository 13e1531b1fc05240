"""Triage storage: cases, the alert-to-case links, verdicts and each tenant's learned model.

Scoped by tenant like everything else: every read filters on ``tenant_id`` in SQL. Cases and
verdicts map to the frozen dataclasses of ``detection.triage``; the model is stored as its JSON
state (``TriageModel.to_json``), never as a pickle.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import bindparam, insert, select, update

from deskguard.adapters.db.repositories_people import SqlRepository, rowcount
from deskguard.adapters.db.tables_detection import AlertRow, CaseAlertRow, CaseRow, TriageModelRow, VerdictRow
from deskguard.detection.alerts import Alert
from deskguard.detection.triage import Case, CaseStatus, TriageModel, Verdict, VerdictRecord

CHUNK = 500  # ids per IN (...) list
CASES = CaseRow.__table__
LINKS = CaseAlertRow.__table__


def _case(row: Any) -> Case:  # a CaseRow or a Core row of its columns
    return Case(
        id=row.id,
        tenant=row.tenant_id,
        entity_kind=row.entity_kind,
        entity=row.entity,
        first_seen=row.first_seen,
        last_seen=row.last_seen,
        alert_count=row.alert_count,
        rule_ids=tuple(json.loads(row.rule_ids)),
        status=CaseStatus(row.status),
        priority=row.priority,
        explanation=tuple(json.loads(row.explanation)),
        risk=row.risk,
        closed_at=row.closed_at,
        closed_reason=row.closed_reason,
    )


def _reasons(reasons: Sequence[str]) -> str:
    return json.dumps(list(reasons), ensure_ascii=False)


def _values(case: Case) -> dict[str, Any]:
    return {
        "entity_kind": case.entity_kind[:16],
        "entity": case.entity[:254],
        "status": case.status.value,
        "first_seen": case.first_seen,
        "last_seen": case.last_seen,
        "alert_count": case.alert_count,
        "rule_ids": json.dumps(list(case.rule_ids)),
        "priority": case.priority,
        "explanation": _reasons(case.explanation),
        "risk": case.risk,
        "closed_at": case.closed_at,
        "closed_reason": case.closed_reason,
    }


def _verdict(row: VerdictRow) -> VerdictRecord:
    return VerdictRecord(
        tenant=row.tenant_id,
        alert_id=row.alert_id,
        case_id=row.case_id,
        verdict=Verdict(row.verdict),
        operator_id=row.operator_id,
        comment=row.comment,
        at=row.at,
    )


def _chunks(ids: Sequence[str]) -> list[list[str]]:
    unique = sorted(set(ids))
    return [unique[i : i + CHUNK] for i in range(0, len(unique), CHUNK)]


class SqlCaseRepository(SqlRepository):
    """Cases through Core statements: a re-rank writes thousands of rows, ORM units would cost 10x."""

    def get(self, *, tenant_id: str, case_id: str) -> Case | None:
        row = self._s.execute(
            select(*CASES.c).where(CASES.c.tenant_id == tenant_id, CASES.c.id == case_id)
        ).first()
        return None if row is None else _case(row)

    def add(self, case: Case) -> None:
        self._s.execute(insert(CASES).values(tenant_id=case.tenant, id=case.id, **_values(case)))

    def update(self, case: Case) -> None:
        self._s.execute(
            update(CASES)
            .where(CASES.c.tenant_id == case.tenant, CASES.c.id == case.id)
            .values(**_values(case))
        )

    def update_priorities(
        self, *, tenant_id: str, ranks: Sequence[tuple[str, float, tuple[str, ...]]]
    ) -> None:
        if not ranks:
            return
        self._s.execute(
            update(CASES)
            .where(CASES.c.tenant_id == tenant_id, CASES.c.id == bindparam("case_id"))
            .values(priority=bindparam("new_priority"), explanation=bindparam("new_explanation")),
            [
                {"case_id": case_id, "new_priority": priority, "new_explanation": _reasons(reasons)}
                for case_id, priority, reasons in ranks
            ],
        )

    def find_open(self, *, tenant_id: str, entity_kind: str, entity: str) -> Sequence[Case]:
        stmt = select(*CASES.c).where(
            CASES.c.tenant_id == tenant_id,
            CASES.c.entity_kind == entity_kind,
            CASES.c.entity == entity[:254],
            CASES.c.status == CaseStatus.OPEN.value,
        )
        return [_case(row) for row in self._s.execute(stmt.order_by(CASES.c.last_seen.desc(), CASES.c.id))]

    def list(self, *, tenant_id: str, status: CaseStatus | None = None, limit: int = 100) -> Sequence[Case]:
        stmt = select(*CASES.c).where(CASES.c.tenant_id == tenant_id)
        if status is not None:
            stmt = stmt.where(CASES.c.status == status.value)
        stmt = stmt.order_by(CASES.c.priority.desc(), CASES.c.last_seen.desc(), CASES.c.id).limit(limit)
        return [_case(row) for row in self._s.execute(stmt)]

    def link(self, *, tenant_id: str, alert_id: str, case_id: str) -> None:
        """File the alert into the case (once: an alert stays in the case it was filed into)."""
        self._s.execute(insert(LINKS).values(tenant_id=tenant_id, alert_id=alert_id, case_id=case_id))

    def case_of(self, *, tenant_id: str, alert_id: str) -> str | None:
        return self._s.scalars(
            select(CaseAlertRow.case_id).where(
                CaseAlertRow.tenant_id == tenant_id, CaseAlertRow.alert_id == alert_id
            )
        ).first()

    def alerts(self, *, tenant_id: str, case_ids: Sequence[str]) -> dict[str, list[Alert]]:
        found: dict[str, list[Alert]] = {case_id: [] for case_id in case_ids}
        for chunk in _chunks(case_ids):
            rows = self._s.execute(
                select(CaseAlertRow.case_id, AlertRow.body)
                .join(AlertRow, (AlertRow.id == CaseAlertRow.alert_id) & (AlertRow.tenant_id == tenant_id))
                .where(CaseAlertRow.tenant_id == tenant_id, CaseAlertRow.case_id.in_(chunk))
                .order_by(AlertRow.first_seen, AlertRow.id)
            ).all()
            for case_id, body in rows:
                found[case_id].append(Alert.from_dict(orjson.loads(body)))
        return found


class SqlVerdictRepository(SqlRepository):
    def put(self, verdict: VerdictRecord) -> VerdictRecord | None:
        previous = self.get(tenant_id=verdict.tenant, alert_id=verdict.alert_id)
        values = {
            "case_id": verdict.case_id,
            "verdict": verdict.verdict.value,
            "operator_id": verdict.operator_id,
            "comment": verdict.comment,
            "at": verdict.at,
        }
        if previous is None:
            self._s.add(VerdictRow(tenant_id=verdict.tenant, alert_id=verdict.alert_id, **values))
            self._s.flush()
        else:
            self._s.execute(
                update(VerdictRow)
                .where(VerdictRow.tenant_id == verdict.tenant, VerdictRow.alert_id == verdict.alert_id)
                .values(**values)
            )
        return previous

    def get(self, *, tenant_id: str, alert_id: str) -> VerdictRecord | None:
        row = self._first(
            select(VerdictRow).where(VerdictRow.tenant_id == tenant_id, VerdictRow.alert_id == alert_id)
        )
        return None if row is None else _verdict(row)

    def for_cases(self, *, tenant_id: str, case_ids: Sequence[str]) -> Sequence[VerdictRecord]:
        found: list[VerdictRecord] = []
        for chunk in _chunks(case_ids):
            stmt = select(VerdictRow).where(VerdictRow.tenant_id == tenant_id, VerdictRow.case_id.in_(chunk))
            found.extend(
                _verdict(row) for row in self._all(stmt.order_by(VerdictRow.at, VerdictRow.alert_id))
            )
        return found

    def training(self, *, tenant_id: str, limit: int) -> Sequence[tuple[VerdictRecord, Alert, Case]]:
        stmt = (
            select(VerdictRow, AlertRow.body, CaseRow)
            .join(AlertRow, (AlertRow.id == VerdictRow.alert_id) & (AlertRow.tenant_id == tenant_id))
            .join(CaseRow, (CaseRow.tenant_id == tenant_id) & (CaseRow.id == VerdictRow.case_id))
            .where(VerdictRow.tenant_id == tenant_id)
            .order_by(VerdictRow.at.desc(), VerdictRow.alert_id)
            .limit(limit)
        )
        return [
            (_verdict(verdict), Alert.from_dict(orjson.loads(body)), _case(case))
            for verdict, body, case in self._s.execute(stmt.execution_options(populate_existing=True)).all()
        ]


class SqlTriageModelRepository(SqlRepository):
    def get(self, *, tenant_id: str) -> TriageModel | None:
        row = self._first(select(TriageModelRow).where(TriageModelRow.tenant_id == tenant_id))
        return None if row is None else TriageModel.from_json(row.state)

    def put(self, *, tenant_id: str, model: TriageModel, updated_at: datetime) -> None:
        values = {"state": model.to_json(), "verdicts": model.verdicts, "updated_at": updated_at}
        changed = self._s.execute(
            update(TriageModelRow).where(TriageModelRow.tenant_id == tenant_id).values(**values)
        )
        if not rowcount(changed):
            self._s.add(TriageModelRow(tenant_id=tenant_id, **values))
            self._s.flush()
