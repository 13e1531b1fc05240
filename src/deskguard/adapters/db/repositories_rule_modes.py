"""The per-tenant detection rule modes (``domain.ports_rule_modes``), scoped by tenant."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import delete, select

from deskguard.adapters.db.repositories_people import SqlRepository, rowcount
from deskguard.adapters.db.tables_rule_modes import RuleModeRow
from deskguard.domain.ports_rule_modes import RuleMode, RuleModeOverride


class SqlRuleModeRepository(SqlRepository):
    def list(self, *, tenant_id: str) -> Mapping[str, RuleModeOverride]:
        rows = self._all(select(RuleModeRow).where(RuleModeRow.tenant_id == tenant_id))
        return {
            r.rule_id: RuleModeOverride(
                tenant_id=r.tenant_id,
                rule_id=r.rule_id,
                mode=RuleMode(r.mode),
                changed_by=r.changed_by,
                changed_at=r.changed_at,
            )
            for r in rows
        }

    def put(self, override: RuleModeOverride) -> None:
        row = self._s.get(RuleModeRow, (override.tenant_id, override.rule_id))
        if row is None:
            row = RuleModeRow(tenant_id=override.tenant_id, rule_id=override.rule_id)
            self._s.add(row)
        row.mode = override.mode.value
        row.changed_by = override.changed_by
        row.changed_at = override.changed_at
        self._s.flush()

    def remove(self, *, tenant_id: str, rule_id: str) -> bool:
        stmt = delete(RuleModeRow).where(RuleModeRow.tenant_id == tenant_id, RuleModeRow.rule_id == rule_id)
        return rowcount(self._s.execute(stmt)) > 0
