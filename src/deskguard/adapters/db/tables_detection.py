"""Storage rows of detection and response: alerts, quarantine, risk, runbook steps, triage, learned
state, exports and identity-provider log cursors. Same ``Base`` (and so the same metadata) as
``tables``; split from it by capability."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Double,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from deskguard.adapters.db.tables import CODE, ID, Base


class AlertRow(Base):
    """Alerts raised by the detection engine; times are epoch seconds (UTC) of the evidence events."""

    __tablename__ = "alerts"
    __table_args__ = (
        Index("ix_alerts_tenant_last_seen", "tenant_id", "last_seen"),
        Index("ix_alerts_tenant_rule", "tenant_id", "rule_id"),
    )
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    # No foreign key: identity-provider logs may name a tenant before it is set up here.
    tenant_id: Mapped[str] = mapped_column(ID)
    rule_id: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(300))
    severity: Mapped[str] = mapped_column(String(16))
    mode: Mapped[str] = mapped_column(String(16))
    first_seen: Mapped[float] = mapped_column(Double)
    last_seen: Mapped[float] = mapped_column(Double)
    count: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)  # the alert as JSON (entities, evidence, explanation...)


class QuarantineRow(Base):
    """Records the detection pipeline could not normalise, with the reason, kept for inspection."""

    __tablename__ = "quarantine"
    __table_args__ = (Index("ix_quarantine_tenant_id", "tenant_id", "id"), {"sqlite_autoincrement": True})
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    tenant_id: Mapped[str] = mapped_column(ID)
    source: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text)
    record: Mapped[str] = mapped_column(Text)  # the raw record as received, cut at 64 KiB
    received_at: Mapped[datetime]


class DetectionCursorRow(Base):
    """How far the detection engine has read a tenant's outbox."""

    __tablename__ = "detection_cursor"
    tenant_id: Mapped[str] = mapped_column(ID, primary_key=True)
    outbox_seq: Mapped[int] = mapped_column(BigInteger)


class PersonRiskRow(Base):
    """The detection signals about a person (``detection.risk``), the strongest few, as JSON."""

    __tablename__ = "person_risk"
    tenant_id: Mapped[str] = mapped_column(ID, primary_key=True)
    person_id: Mapped[str] = mapped_column(ID, primary_key=True)
    signals: Mapped[str] = mapped_column(Text)
    watch_until: Mapped[datetime | None]  # on the watch list until then (a response runbook's step)
    # sensitive requests on the person need their manager's confirmation until then (a runbook's step)
    manager_validation_until: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class ResponseRunRow(Base):
    """A runbook run for one alert: its id makes a run happen once, however often the alert repeats."""

    __tablename__ = "response_runs"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ID)
    runbook_id: Mapped[str] = mapped_column(String(200))
    alert_id: Mapped[str] = mapped_column(ID)
    created_at: Mapped[datetime]


class ResponseStepRow(Base):
    """One step of a runbook run (``deskguard.domain.response``): awaiting approval, retrying, done..."""

    __tablename__ = "response_steps"
    __table_args__ = (
        Index("ix_response_steps_tenant_status", "tenant_id", "status"),
        Index("ix_response_steps_due", "status", "next_attempt_at"),
    )
    tenant_id: Mapped[str] = mapped_column(ID, primary_key=True)
    run_id: Mapped[str] = mapped_column(ID, primary_key=True)
    step: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    runbook_id: Mapped[str] = mapped_column(String(200))
    alert_id: Mapped[str] = mapped_column(ID)
    rule_id: Mapped[str] = mapped_column(String(200))
    person_id: Mapped[str | None] = mapped_column(ID)
    kind: Mapped[str] = mapped_column(CODE)
    params: Mapped[dict[str, Any]]
    approval: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(CODE)
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime | None]
    approver_id: Mapped[str | None] = mapped_column(ID)
    comment: Mapped[str] = mapped_column(Text)
    detail: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]


class CaseRow(Base):
    """Triage cases (``detection.triage``): alerts about one entity close in time, with the priority
    and its explanation. ``first_seen``/``last_seen`` are epoch seconds of the alerts' evidence."""

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_tenant_status_priority", "tenant_id", "status", "priority"),
        Index("ix_cases_tenant_entity", "tenant_id", "entity_kind", "entity", "status"),
    )
    tenant_id: Mapped[str] = mapped_column(ID, primary_key=True)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    entity_kind: Mapped[str] = mapped_column(String(16))
    entity: Mapped[str] = mapped_column(String(254))
    status: Mapped[str] = mapped_column(String(16))
    first_seen: Mapped[float] = mapped_column(Double)
    last_seen: Mapped[float] = mapped_column(Double)
    alert_count: Mapped[int] = mapped_column(Integer)
    rule_ids: Mapped[str] = mapped_column(Text)  # sorted JSON list of the distinct rules
    priority: Mapped[float] = mapped_column(Double)
    explanation: Mapped[str] = mapped_column(Text)  # JSON list of reasons
    risk: Mapped[float] = mapped_column(Double)
    closed_at: Mapped[datetime | None]
    closed_reason: Mapped[str] = mapped_column(Text)


class CaseAlertRow(Base):
    """Which case each alert was filed into (an alert belongs to one case)."""

    __tablename__ = "case_alerts"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "case_id"], ["cases.tenant_id", "cases.id"]),
        Index("ix_case_alerts_tenant_case", "tenant_id", "case_id"),
    )
    tenant_id: Mapped[str] = mapped_column(ID, primary_key=True)
    alert_id: Mapped[str] = mapped_column(ID, primary_key=True)
    case_id: Mapped[str] = mapped_column(ID)


class VerdictRow(Base):
    """The current verdict on each alert; a later one replaces it (the ledger keeps every one)."""

    __tablename__ = "verdicts"
    __table_args__ = (
        Index("ix_verdicts_tenant_case", "tenant_id", "case_id"),
        Index("ix_verdicts_tenant_at", "tenant_id", "at"),
    )
    tenant_id: Mapped[str] = mapped_column(ID, primary_key=True)
    alert_id: Mapped[str] = mapped_column(ID, primary_key=True)
    case_id: Mapped[str] = mapped_column(ID)
    verdict: Mapped[str] = mapped_column(CODE)
    operator_id: Mapped[str] = mapped_column(ID)
    comment: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime]


class TriageModelRow(Base):
    """Each tenant's learned priority model, as JSON (``detection.triage.TriageModel``)."""

    __tablename__ = "triage_models"
    tenant_id: Mapped[str] = mapped_column(ID, primary_key=True)
    state: Mapped[str] = mapped_column(Text)
    verdicts: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime]


class DetectionStateRow(Base):
    """What one analytic learned (its baselines), as exported by ``Engine.export_state``."""

    __tablename__ = "detection_state"
    rule_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    state: Mapped[bytes] = mapped_column(LargeBinary)  # JSON (orjson)
    keys: Mapped[int] = mapped_column(Integer)  # how many keys it holds: people, numbers, tenants...
    updated_at: Mapped[datetime]


class OperatorRiskRow(Base):
    """The detection signals about an operator in one tenant (alerts naming them as the actor)."""

    __tablename__ = "operator_risk"
    tenant_id: Mapped[str] = mapped_column(ID, primary_key=True)
    operator_id: Mapped[str] = mapped_column(ID, primary_key=True)
    signals: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]


class ExportQueueRow(Base):
    """SIEM/SOAR deliveries (``app.export``): one row per item and destination, kept once sent."""

    __tablename__ = "export_queue"
    __table_args__ = (
        UniqueConstraint("destination", "item_key", name="uq_export_queue_destination_key"),
        Index("ix_export_queue_due", "destination", "status", "next_attempt_at"),
        Index("ix_export_queue_tenant_status", "tenant_id", "status"),
        {"sqlite_autoincrement": True},
    )
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    destination: Mapped[str] = mapped_column(String(32))
    tenant_id: Mapped[str] = mapped_column(ID)
    kind: Mapped[str] = mapped_column(CODE)  # ledger_record | alert
    item_key: Mapped[str] = mapped_column(ID)  # alert id or ledger event id
    payload: Mapped[str] = mapped_column(Text)  # JSON
    status: Mapped[str] = mapped_column(String(16))  # pending | sent | dead
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    last_error: Mapped[str] = mapped_column(Text)


class ExportCursorRow(Base):
    """How far each destination has queued each tenant's ledger (the last record index queued)."""

    __tablename__ = "export_cursors"
    destination: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ID, primary_key=True)
    ledger_idx: Mapped[int] = mapped_column(BigInteger)


class IdpPollCursorRow(Base):
    """Where each identity-provider log poller stands (``domain.ports_poll``): one row per stream."""

    __tablename__ = "idp_poll_cursor"
    tenant_id: Mapped[str] = mapped_column(ID, primary_key=True)
    stream: Mapped[str] = mapped_column(String(64), primary_key=True)
    next_url: Mapped[str] = mapped_column(Text)
    last_time: Mapped[str] = mapped_column(String(64))
    last_id: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime]
