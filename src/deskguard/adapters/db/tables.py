"""The relational schema: one SQLAlchemy 2 declarative class per table, for SQLite and PostgreSQL.

These classes describe storage only; the repositories (``repositories_*.py``) map rows to the frozen
domain dataclasses and back, so nothing outside ``adapters/db`` ever sees a row. The Alembic
migrations (``migrations/versions``) must produce exactly this schema; a test compares them.

Tenant data tables carry ``tenant_id`` as the first column of their primary key, so an identifier is
only ever meaningful together with its tenant and every lookup is naturally tenant-scoped.
Enumerations are stored as their string values (no native enum types: adding a value must not need a
migration); sets are stored as sorted JSON lists; every timestamp goes through ``UTCDateTime``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Double,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ID = String(64)
NAME = String(200)
CODE = String(40)  # enum values
HASH = String(128)

# Stable constraint names, so that later migrations can drop or alter them on both backends.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out; stored as naive UTC.

    SQLite has no time zone type and PostgreSQL's ``timestamptz`` would convert to the session zone,
    so both backends store the same naive UTC value. Naive input is refused: guessing its zone is how
    an audit trail ends up an hour off.
    """

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(
                f"naive datetime {value.isoformat()} refused: store aware UTC datetimes "
                "(datetime.now(UTC), or the injected Clock)"
            )
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[str]: JSON(),
        list[dict[str, Any]]: JSON(),
        bytes: LargeBinary(),
    }


def _tenant_fk() -> Any:
    return ForeignKey("tenants.id")


class TenantRow(Base):
    __tablename__ = "tenants"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(NAME)
    timezone: Mapped[str] = mapped_column(String(64))


class ProviderRow(Base):
    __tablename__ = "providers"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(NAME)
    kind: Mapped[str] = mapped_column(CODE)


class OperatorRow(Base):
    __tablename__ = "operators"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    username: Mapped[str] = mapped_column(NAME, unique=True)
    display_name: Mapped[str] = mapped_column(NAME)
    role: Mapped[str] = mapped_column(CODE)
    provider_id: Mapped[str] = mapped_column(ID, ForeignKey("providers.id"))
    workstation: Mapped[str] = mapped_column(NAME)
    active: Mapped[bool] = mapped_column(Boolean)


class OperatorTenantRow(Base):
    """Which tenants an operator serves (an outsourced provider may serve many)."""

    __tablename__ = "operator_tenants"
    operator_id: Mapped[str] = mapped_column(ID, ForeignKey("operators.id"), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ID, _tenant_fk(), primary_key=True, index=True)


class TokenRow(Base):
    __tablename__ = "api_tokens"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    token_hash: Mapped[str] = mapped_column(HASH, unique=True)
    subject_kind: Mapped[str] = mapped_column(CODE)
    subject_id: Mapped[str] = mapped_column(ID)
    tenant_id: Mapped[str | None] = mapped_column(ID, _tenant_fk())
    label: Mapped[str] = mapped_column(NAME)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    revoked: Mapped[bool] = mapped_column(Boolean)


class PersonRow(Base):
    __tablename__ = "persons"
    tenant_id: Mapped[str] = mapped_column(ID, _tenant_fk(), primary_key=True)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    employee_id: Mapped[str] = mapped_column(String(64))
    email: Mapped[str] = mapped_column(String(254))
    display_name: Mapped[str] = mapped_column(NAME)
    department: Mapped[str] = mapped_column(NAME)
    manager_id: Mapped[str | None] = mapped_column(ID)
    privileged: Mapped[bool] = mapped_column(Boolean)
    groups: Mapped[list[str]]
    # Phones and factors are small value lists read and written with their person, never queried on
    # their own: JSON keeps one row per person and the aggregate atomic.
    phones: Mapped[list[dict[str, Any]]]
    factors: Mapped[list[dict[str, Any]]]
    watchlisted: Mapped[bool] = mapped_column(Boolean)
    risk_score: Mapped[float] = mapped_column(Double)
    locked: Mapped[bool] = mapped_column(Boolean)
    # Lower-case name, e-mail, employee id and phone digits: one portable LIKE serves the search.
    search_text: Mapped[str] = mapped_column(Text)


class TotpSeedRow(Base):
    """Sealed TOTP seeds, apart from the person row so that listing persons never loads a secret."""

    __tablename__ = "totp_seeds"
    tenant_id: Mapped[str] = mapped_column(ID, _tenant_fk(), primary_key=True)
    factor_id: Mapped[str] = mapped_column(ID, primary_key=True)
    sealed: Mapped[bytes]


class TicketRow(Base):
    __tablename__ = "tickets"
    tenant_id: Mapped[str] = mapped_column(ID, _tenant_fk(), primary_key=True)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    external_ref: Mapped[str] = mapped_column(NAME)
    channel: Mapped[str] = mapped_column(CODE)
    claimed_identity: Mapped[str] = mapped_column(NAME)
    caller_number: Mapped[str] = mapped_column(String(32))
    opened_at: Mapped[datetime]
    opened_by: Mapped[str] = mapped_column(ID)


class RequestRow(Base):
    __tablename__ = "action_requests"
    __table_args__ = (
        Index("ix_action_requests_tenant_state", "tenant_id", "state"),
        Index("ix_action_requests_tenant_person", "tenant_id", "person_id"),
    )
    tenant_id: Mapped[str] = mapped_column(ID, _tenant_fk(), primary_key=True)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    kind: Mapped[str] = mapped_column(CODE)
    person_id: Mapped[str] = mapped_column(ID)
    requester_id: Mapped[str] = mapped_column(ID)
    origin: Mapped[str] = mapped_column(CODE)
    ticket_id: Mapped[str | None] = mapped_column(ID)
    justification: Mapped[str] = mapped_column(Text)
    params: Mapped[dict[str, Any]]
    params_hash: Mapped[str] = mapped_column(HASH)
    state: Mapped[str] = mapped_column(CODE)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    decision: Mapped[dict[str, Any]]
    result: Mapped[dict[str, Any]]
    failure_reason: Mapped[str] = mapped_column(Text)
    # The compare-and-set token: an update succeeds only against the version it was read at.
    version: Mapped[int] = mapped_column(Integer)


class ProofRow(Base):
    __tablename__ = "proofs"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "request_id"], ["action_requests.tenant_id", "action_requests.id"]
        ),
        Index("ix_proofs_tenant_request", "tenant_id", "request_id"),
    )
    tenant_id: Mapped[str] = mapped_column(ID, _tenant_fk(), primary_key=True)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    request_id: Mapped[str] = mapped_column(ID)
    method: Mapped[str] = mapped_column(CODE)
    channel: Mapped[str] = mapped_column(CODE)
    strength: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(CODE)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer)
    max_attempts: Mapped[int] = mapped_column(Integer)
    failure_reason: Mapped[str] = mapped_column(Text)
    challenge: Mapped[dict[str, Any]]
    secret_hash: Mapped[str] = mapped_column(HASH)
    attested_by: Mapped[str] = mapped_column(ID)
    # The provider's reference (call id, IDV session) a webhook arrives with; NULL when there is none.
    channel_ref: Mapped[str | None] = mapped_column(NAME, index=True)


class ApprovalRow(Base):
    __tablename__ = "approvals"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "request_id"], ["action_requests.tenant_id", "action_requests.id"]
        ),
        UniqueConstraint("tenant_id", "request_id", "approver_id", name="uq_approvals_request_approver"),
    )
    tenant_id: Mapped[str] = mapped_column(ID, _tenant_fk(), primary_key=True)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    request_id: Mapped[str] = mapped_column(ID)
    approver_id: Mapped[str] = mapped_column(ID)
    approver_role: Mapped[str] = mapped_column(CODE)
    verdict: Mapped[str] = mapped_column(CODE)
    params_hash: Mapped[str] = mapped_column(HASH)
    comment: Mapped[str] = mapped_column(Text)
    decided_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class GrantRow(Base):
    __tablename__ = "grants"
    __table_args__ = (Index("ix_grants_tenant_operator", "tenant_id", "operator_id"),)
    tenant_id: Mapped[str] = mapped_column(ID, _tenant_fk(), primary_key=True)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    operator_id: Mapped[str] = mapped_column(ID)
    action_kinds: Mapped[list[str]]
    justification: Mapped[str] = mapped_column(Text)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(CODE)
    requested_at: Mapped[datetime]
    decided_by: Mapped[str | None] = mapped_column(ID)
    decided_at: Mapped[datetime | None]
    starts_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    uses: Mapped[int] = mapped_column(Integer)


class OutboxRow(Base):
    """Domain events in write order. ``envelope`` is the exact JSON text consumers read."""

    __tablename__ = "outbox"
    # AUTOINCREMENT on SQLite: a sequence number is never reused, even after the newest row is deleted.
    __table_args__ = (Index("ix_outbox_tenant_seq", "tenant_id", "seq"), {"sqlite_autoincrement": True})
    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    event_id: Mapped[str] = mapped_column(ID, unique=True)
    # No foreign key: the event log must accept whatever happened, even about a tenant being removed.
    tenant_id: Mapped[str] = mapped_column(ID)
    type: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime]
    envelope: Mapped[str] = mapped_column(Text)


class TotpStateRow(Base):
    """The last accepted time step per TOTP factor: a code is never accepted twice."""

    __tablename__ = "totp_state"
    tenant_id: Mapped[str] = mapped_column(ID, _tenant_fk(), primary_key=True)
    factor_id: Mapped[str] = mapped_column(ID, primary_key=True)
    last_step: Mapped[int] = mapped_column(BigInteger)


metadata = Base.metadata


class AuditRecordRow(Base):
    """The evidence ledger: one row per record, in log order per tenant (``idx`` from 0).

    ``record`` is the exact canonical JSON (RFC 8785) that was hashed into ``leaf_hash``; no foreign
    keys, like the outbox: the ledger must accept whatever happened.
    """

    __tablename__ = "audit_records"
    __table_args__ = (
        Index("ix_audit_records_tenant_person", "tenant_id", "person_id"),
        Index("ix_audit_records_tenant_request", "tenant_id", "request_id"),
        Index("ix_audit_records_tenant_ticket", "tenant_id", "ticket_id"),
    )
    tenant_id: Mapped[str] = mapped_column(ID, primary_key=True)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    event_id: Mapped[str] = mapped_column(ID, unique=True)
    type: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime]
    actor_id: Mapped[str] = mapped_column(ID)
    person_id: Mapped[str | None] = mapped_column(ID)
    request_id: Mapped[str | None] = mapped_column(ID)
    ticket_id: Mapped[str | None] = mapped_column(ID)  # set on records that name the ticket
    record: Mapped[str | None] = mapped_column(Text)  # None once pruned; the leaf hash stays
    leaf_hash: Mapped[bytes]
    pruned_at: Mapped[datetime | None]


class AuditNodeRow(Base):
    """Hashes of the perfect Merkle subtrees of each tenant's log: (level, idx) covers leaves
    [idx * 2^level, (idx + 1) * 2^level). Proofs read O(log n) of them; nothing is rehashed."""

    __tablename__ = "audit_nodes"
    tenant_id: Mapped[str] = mapped_column(ID, primary_key=True)
    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes]


class AuditHeadRow(Base):
    """The size of each tenant's log."""

    __tablename__ = "audit_heads"
    tenant_id: Mapped[str] = mapped_column(ID, primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)


class AuditCheckpointRow(Base):
    """Signed checkpoints (C2SP signed notes) of each tenant's log."""

    __tablename__ = "audit_checkpoints"
    tenant_id: Mapped[str] = mapped_column(ID, primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root: Mapped[bytes]
    note: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[datetime]


class AuditKeyRow(Base):
    """Checkpoint signing keys: the verifier in clear, the signer sealed under the master key."""

    __tablename__ = "audit_keys"
    tenant_id: Mapped[str] = mapped_column(ID, primary_key=True)
    key_id: Mapped[str] = mapped_column(String(8), primary_key=True)
    verifier: Mapped[str] = mapped_column(Text)
    sealed_signer: Mapped[bytes]
    not_before: Mapped[datetime]
    not_after: Mapped[datetime | None]
