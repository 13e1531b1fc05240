"""Storage rows of provider assurance (``domain.assurance``): each tenant's assessment of a provider's
checklist items, and the evidence files attached to them. Same ``Base`` as ``tables``."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from deskguard.adapters.db.tables import CODE, ID, NAME, Base


class AssessmentRow(Base):
    """A tenant's assessment of one checklist item of one provider (the latest: history is the ledger)."""

    __tablename__ = "assurance_assessments"
    tenant_id: Mapped[str] = mapped_column(ID, primary_key=True)
    provider_id: Mapped[str] = mapped_column(ID, primary_key=True)
    item_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    status: Mapped[str] = mapped_column(CODE)
    note: Mapped[str] = mapped_column(Text)
    reviewer_id: Mapped[str] = mapped_column(ID)
    reviewed_at: Mapped[datetime]
    review_due: Mapped[date] = mapped_column(Date)


class EvidenceRow(Base):
    """An evidence file, its content kept in the database with its SHA-256 (size-limited upstream)."""

    __tablename__ = "assurance_evidence"
    __table_args__ = (Index("ix_assurance_evidence_tenant_provider", "tenant_id", "provider_id"),)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ID)
    provider_id: Mapped[str] = mapped_column(ID)
    item_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(NAME)
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    attached_by: Mapped[str] = mapped_column(ID)
    attached_at: Mapped[datetime]
