"""Storage rows of the ends of time-boxed privileges (``domain.privilege``). Same ``Base`` (and so
the same metadata) as ``tables``; split from it by capability."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from deskguard.adapters.db.tables import CODE, ID, Base


class PrivilegeExpiryRow(Base):
    """One per executed ``grant_privilege`` request: when it ends, and whether it has."""

    __tablename__ = "privilege_expiries"
    __table_args__ = (Index("ix_privilege_expiries_due", "status", "next_attempt_at"),)
    tenant_id: Mapped[str] = mapped_column(ID, primary_key=True)
    request_id: Mapped[str] = mapped_column(ID, primary_key=True)
    person_id: Mapped[str] = mapped_column(ID)
    group: Mapped[str] = mapped_column(String(128))
    granted_at: Mapped[datetime]
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(CODE)
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime]
    detail: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]
