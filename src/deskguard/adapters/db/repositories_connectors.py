"""Per-tenant connector settings (``domain.connectors.TenantConnectorRepository``): one row per
(tenant, port), every read scoped by tenant."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select

from deskguard.adapters.db.repositories_people import SqlRepository
from deskguard.adapters.db.tables_connectors import TenantConnectorRow
from deskguard.domain.connectors import TenantConnector


def _of(row: TenantConnectorRow) -> TenantConnector:
    return TenantConnector(
        tenant_id=row.tenant_id,
        name=row.name,
        kind=row.kind,
        settings=dict(row.settings),
        enabled=row.enabled,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )


class SqlTenantConnectorRepository(SqlRepository):
    def get(self, *, tenant_id: str, name: str) -> TenantConnector | None:
        row = self._s.get(TenantConnectorRow, (tenant_id, name), populate_existing=True)
        return None if row is None else _of(row)

    def list(self, *, tenant_id: str) -> Sequence[TenantConnector]:
        stmt = (
            select(TenantConnectorRow)
            .where(TenantConnectorRow.tenant_id == tenant_id)
            .order_by(TenantConnectorRow.name)
        )
        return [_of(row) for row in self._all(stmt)]

    def tenants(self) -> Sequence[str]:
        stmt = select(TenantConnectorRow.tenant_id).distinct().order_by(TenantConnectorRow.tenant_id)
        return list(self._s.scalars(stmt))

    def put(self, connector: TenantConnector) -> None:
        row = self._s.get(TenantConnectorRow, (connector.tenant_id, connector.name))
        if row is None:
            row = TenantConnectorRow(tenant_id=connector.tenant_id, name=connector.name)
            self._s.add(row)
        row.kind, row.settings, row.enabled = connector.kind, dict(connector.settings), connector.enabled
        row.updated_at, row.updated_by = connector.updated_at, connector.updated_by
        self._s.flush()

    def remove(self, *, tenant_id: str, name: str) -> bool:
        stmt = delete(TenantConnectorRow).where(
            TenantConnectorRow.tenant_id == tenant_id, TenantConnectorRow.name == name
        )
        return bool(self._s.execute(stmt).rowcount)  # type: ignore[attr-defined]
