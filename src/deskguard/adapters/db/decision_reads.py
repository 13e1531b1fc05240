"""The decision read model: all the facts one policy decision needs, in one SQL statement.

A decision runs on every preview, open, proof and execution. The person, the tenant, the requester's
role and provider, the last executed action, the recent failed proofs and whether the requester holds
live grants come back in one round trip (scalar subqueries); the granted action kinds need a second
query only when such grants exist (rare).

Speed matters here (the dry-run decision endpoint is the broker's hot path), so the statement is
compiled once per dialect and run on the driver's cursor; SQLAlchemy's per-call machinery cost more
than the query. Values still go through each column type's public bind and result processors, so
they read exactly as the ORM repositories read them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Engine, Select, and_, bindparam, func, or_, select
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from deskguard.adapters.db.repositories_detection import signals_of
from deskguard.adapters.db.repositories_people import _person
from deskguard.adapters.db.tables import (
    GrantRow,
    OperatorRow,
    PersonRow,
    ProofRow,
    ProviderRow,
    RequestRow,
    TenantRow,
)
from deskguard.adapters.db.tables_detection import OperatorRiskRow, PersonRiskRow
from deskguard.domain.actions import ActionKind
from deskguard.domain.model import Tenant
from deskguard.domain.ports import DecisionSnapshot
from deskguard.domain.requests import GrantState, ProofStatus, RequestState

_TENANT, _PERSON, _OPERATOR = bindparam("tenant_id"), bindparam("person_id"), bindparam("operator_id")
_NOW = bindparam("now")
_LIVE_GRANT = and_(
    GrantRow.tenant_id == _TENANT,
    GrantRow.operator_id == _OPERATOR,
    GrantRow.state == GrantState.ACTIVE.value,
    GrantRow.expires_at > _NOW,
)

_LAST_EXECUTED = (
    select(func.max(RequestRow.updated_at))
    .where(
        RequestRow.tenant_id == _TENANT,
        RequestRow.person_id == _PERSON,
        RequestRow.state == RequestState.EXECUTED.value,
    )
    .scalar_subquery()
)
# A proof fails when it ends FAILED or LOCKED; it counts from when it ended.
_FAILED = (
    select(func.count())
    .select_from(ProofRow)
    .join(RequestRow, and_(RequestRow.tenant_id == ProofRow.tenant_id, RequestRow.id == ProofRow.request_id))
    .where(
        ProofRow.tenant_id == _TENANT,
        RequestRow.person_id == _PERSON,
        or_(ProofRow.status == ProofStatus.FAILED.value, ProofRow.status == ProofStatus.LOCKED.value),
        func.coalesce(ProofRow.completed_at, ProofRow.created_at) >= bindparam("failed_since"),
    )
    .scalar_subquery()
)
_ROLE = select(OperatorRow.role).where(OperatorRow.id == _OPERATOR).scalar_subquery()
_PROVIDER_ID = select(OperatorRow.provider_id).where(OperatorRow.id == _OPERATOR).scalar_subquery()
_PROVIDER_KIND = (
    select(ProviderRow.kind)
    .join(OperatorRow, OperatorRow.provider_id == ProviderRow.id)
    .where(OperatorRow.id == _OPERATOR)
    .scalar_subquery()
)
_GRANTS = select(func.count()).select_from(GrantRow).where(_LIVE_GRANT).scalar_subquery()
_RISK_ROW = and_(PersonRiskRow.tenant_id == _TENANT, PersonRiskRow.person_id == _PERSON)
_RISK = select(PersonRiskRow.signals).where(_RISK_ROW).scalar_subquery()
_WATCH = select(PersonRiskRow.watch_until).where(_RISK_ROW).scalar_subquery()
_MANAGER = select(PersonRiskRow.manager_validation_until).where(_RISK_ROW).scalar_subquery()
_OPERATOR_RISK = (
    select(OperatorRiskRow.signals)
    .where(OperatorRiskRow.tenant_id == _TENANT, OperatorRiskRow.operator_id == _OPERATOR)
    .scalar_subquery()
)

SNAPSHOT = (
    select(
        *PersonRow.__table__.columns,
        TenantRow.slug.label("tenant_slug"),
        TenantRow.name.label("tenant_name"),
        TenantRow.timezone.label("tenant_timezone"),
        _LAST_EXECUTED.label("last_executed"),
        _FAILED.label("failed"),
        _ROLE.label("role"),
        _PROVIDER_ID.label("provider_id"),
        _PROVIDER_KIND.label("provider_kind"),
        _GRANTS.label("grants"),
        _RISK.label("risk"),
        _WATCH.label("watch_until"),
        _MANAGER.label("manager_validation_until"),
        _OPERATOR_RISK.label("operator_risk"),
    )
    .join(TenantRow, TenantRow.id == PersonRow.tenant_id)
    .where(PersonRow.tenant_id == _TENANT, PersonRow.id == _PERSON)
)
GRANTED_KINDS = select(GrantRow.action_kinds).where(_LIVE_GRANT)


@dataclass(slots=True)
class _Prepared:
    """A statement compiled for one dialect, with the processors its binds and columns need.

    Column readers need the driver's type codes (PostgreSQL's numeric processor does), so they are
    built from the cursor description of the first execution and kept.
    """

    sql: str
    positional: tuple[str, ...] | None  # bind order for qmark drivers (SQLite); None for named ones
    constants: dict[str, Any]  # binds whose value is fixed in the statement (states, statuses)
    binders: dict[str, Callable[[Any], Any]]
    names: tuple[str, ...]
    types: tuple[Any, ...]
    dialect: Dialect
    readers: tuple[Callable[[Any], Any] | None, ...] | None = None

    @classmethod
    def of(cls, stmt: Select[Any], dialect: Dialect) -> _Prepared:
        compiled = stmt.compile(dialect=dialect)
        binds = compiled.binds
        binders = {
            name: p
            for name, b in binds.items()
            if (p := b.type.dialect_impl(dialect).bind_processor(dialect)) is not None
        }
        constants = {name: b.value for name, b in binds.items() if b.value is not None}
        columns = list(stmt.selected_columns)
        return cls(
            sql=compiled.string,
            positional=tuple(compiled.positiontup) if compiled.positiontup else None,
            constants=constants,
            binders=binders,
            names=tuple(c.key for c in columns),
            types=tuple(c.type.dialect_impl(dialect) for c in columns),
            dialect=dialect,
        )

    def run(self, dbapi_connection: Any, values: dict[str, Any]) -> list[SimpleNamespace]:
        merged = {**self.constants, **values}
        bound = {k: (self.binders[k](v) if k in self.binders else v) for k, v in merged.items()}
        params: Any = [bound[k] for k in self.positional] if self.positional else bound
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
            if self.readers is None:
                self.readers = tuple(
                    t.result_processor(self.dialect, d[1])
                    for t, d in zip(self.types, cursor.description, strict=True)
                )
        finally:
            cursor.close()
        readers = self.readers
        return [
            SimpleNamespace(
                **{n: (r(v) if r else v) for n, r, v in zip(self.names, readers, row, strict=True)}
            )
            for row in rows
        ]


_PREPARED: dict[tuple[str, int], _Prepared] = {}


def _prepared(stmt: Select[Any], dialect: Dialect) -> _Prepared:
    key = (dialect.name, id(stmt))
    if key not in _PREPARED:
        _PREPARED[key] = _Prepared.of(stmt, dialect)
    return _PREPARED[key]


def read_snapshot(
    dbapi_connection: Any,
    dialect: Dialect,
    *,
    tenant_id: str,
    person_id: str,
    operator_id: str | None,
    kind: ActionKind,
    now: datetime,
    failed_since: datetime,
) -> DecisionSnapshot | None:
    values = {
        "tenant_id": tenant_id,
        "person_id": person_id,
        "operator_id": operator_id or "",
        "failed_since": failed_since,
        "now": now,
    }
    rows = _prepared(SNAPSHOT, dialect).run(dbapi_connection, values)
    if not rows:
        return None
    row = rows[0]
    live = False
    if row.grants:
        granted = _prepared(GRANTED_KINDS, dialect).run(dbapi_connection, values)
        live = any(kind.value in g.action_kinds for g in granted)
    return DecisionSnapshot(
        tenant=Tenant(id=tenant_id, slug=row.tenant_slug, name=row.tenant_name, timezone=row.tenant_timezone),
        person=_person(row),
        last_executed_at=row.last_executed,
        failed_verifications=row.failed,
        requester_role=row.role,
        requester_provider_id=row.provider_id or "",
        requester_provider_kind=row.provider_kind or "",
        grant_live=live,
        risk=signals_of(row.risk),
        watch_until=row.watch_until,
        manager_validation_until=row.manager_validation_until,
        operator_risk=signals_of(row.operator_risk),
    )


class SqlDecisionReads:
    """``DecisionReads`` inside a unit of work: the read joins the unit's transaction."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def snapshot(
        self,
        *,
        tenant_id: str,
        person_id: str,
        operator_id: str | None,
        kind: ActionKind,
        now: datetime,
        failed_since: datetime,
    ) -> DecisionSnapshot | None:
        connection = self._s.connection()
        return read_snapshot(
            connection.connection.driver_connection,
            connection.dialect,
            tenant_id=tenant_id,
            person_id=person_id,
            operator_id=operator_id,
            kind=kind,
            now=now,
            failed_since=failed_since,
        )


class SqlDecisionReader:
    """``DecisionReads`` on its own: one statement on a pooled connection, outside any unit of work.

    A single SELECT is consistent by itself; the preview endpoint uses this to skip a transaction.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def snapshot(
        self,
        *,
        tenant_id: str,
        person_id: str,
        operator_id: str | None,
        kind: ActionKind,
        now: datetime,
        failed_since: datetime,
    ) -> DecisionSnapshot | None:
        connection = self._engine.raw_connection()
        try:
            return read_snapshot(
                connection.driver_connection,
                self._engine.dialect,
                tenant_id=tenant_id,
                person_id=person_id,
                operator_id=operator_id,
                kind=kind,
                now=now,
                failed_since=failed_since,
            )
        finally:
            connection.close()
