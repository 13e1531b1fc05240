"""The ends of time-boxed privileges (``domain.privilege``), read and moved by the expiry worker.

``seed`` inserts with ON CONFLICT DO NOTHING (both SQLite and PostgreSQL speak it), so two workers
seeding one grant never fail; ``update`` is a compare-and-set on (status, attempts), so of two
workers claiming one due record, one moves it and the other sees False.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from deskguard.adapters.db.repositories_people import SqlRepository, rowcount
from deskguard.adapters.db.tables import RequestRow
from deskguard.adapters.db.tables_privilege import PrivilegeExpiryRow
from deskguard.domain.actions import ActionKind
from deskguard.domain.privilege import DUE_STATUSES, ExpiryStatus, PrivilegeExpiry
from deskguard.domain.requests import RequestState


def _expiry(row: PrivilegeExpiryRow) -> PrivilegeExpiry:
    return PrivilegeExpiry(
        tenant_id=row.tenant_id,
        request_id=row.request_id,
        person_id=row.person_id,
        group=row.group,
        granted_at=row.granted_at,
        due_at=row.due_at,
        status=ExpiryStatus(row.status),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        detail=row.detail,
        updated_at=row.updated_at,
    )


def _mutable(expiry: PrivilegeExpiry) -> dict[str, object]:
    return {
        "status": expiry.status.value,
        "attempts": expiry.attempts,
        "next_attempt_at": expiry.next_attempt_at,
        "detail": expiry.detail,
        "updated_at": expiry.updated_at,
    }


class SqlPrivilegeExpiryRepository(SqlRepository):
    def unseeded_grants(self, *, limit: int = 100) -> list[tuple[str, str]]:
        seeded = select(PrivilegeExpiryRow.request_id).where(
            PrivilegeExpiryRow.tenant_id == RequestRow.tenant_id,
            PrivilegeExpiryRow.request_id == RequestRow.id,
        )
        stmt = (
            select(RequestRow.tenant_id, RequestRow.id)
            .where(
                RequestRow.kind == ActionKind.GRANT_PRIVILEGE.value,
                RequestRow.state == RequestState.EXECUTED.value,
                ~seeded.exists(),
            )
            .order_by(RequestRow.updated_at, RequestRow.id)
            .limit(limit)
        )
        return [(tenant, request) for tenant, request in self._s.execute(stmt).all()]

    def seed(self, expiry: PrivilegeExpiry) -> bool:
        dialect = postgresql if self._s.get_bind().dialect.name == "postgresql" else sqlite
        stmt = (
            dialect.insert(PrivilegeExpiryRow)
            .values(
                tenant_id=expiry.tenant_id,
                request_id=expiry.request_id,
                person_id=expiry.person_id,
                group=expiry.group,
                granted_at=expiry.granted_at,
                due_at=expiry.due_at,
                **_mutable(expiry),
            )
            .on_conflict_do_nothing(index_elements=["tenant_id", "request_id"])
        )
        return rowcount(self._s.execute(stmt)) == 1

    def due(self, *, now: datetime, limit: int = 100) -> list[PrivilegeExpiry]:
        stmt = (
            select(PrivilegeExpiryRow)
            .where(
                PrivilegeExpiryRow.status.in_(sorted(s.value for s in DUE_STATUSES)),
                PrivilegeExpiryRow.next_attempt_at <= now,
            )
            .order_by(PrivilegeExpiryRow.next_attempt_at, PrivilegeExpiryRow.request_id)
            .limit(limit)
        )
        return [_expiry(row) for row in self._all(stmt)]

    def get(self, *, tenant_id: str, request_id: str) -> PrivilegeExpiry | None:
        row = self._first(
            select(PrivilegeExpiryRow).where(
                PrivilegeExpiryRow.tenant_id == tenant_id, PrivilegeExpiryRow.request_id == request_id
            )
        )
        return None if row is None else _expiry(row)

    def update(self, expiry: PrivilegeExpiry, *, expect_status: ExpiryStatus, expect_attempts: int) -> bool:
        changed = self._s.execute(
            update(PrivilegeExpiryRow)
            .where(
                PrivilegeExpiryRow.tenant_id == expiry.tenant_id,
                PrivilegeExpiryRow.request_id == expiry.request_id,
                PrivilegeExpiryRow.status == expect_status.value,
                PrivilegeExpiryRow.attempts == expect_attempts,
            )
            .values(**_mutable(expiry))
        )
        return rowcount(changed) == 1
