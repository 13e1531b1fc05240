"""Storage rows of the per-tenant detection rule modes (``domain.ports_rule_modes``). Same ``Base``
(and so the same metadata) as ``tables``; split from it by capability."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from deskguard.adapters.db.tables import ID, Base


class RuleModeRow(Base):
    """A tenant's override of one rule's mode: on, off or monitor."""

    __tablename__ = "rule_modes"
    tenant_id: Mapped[str] = mapped_column(ID, primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    mode: Mapped[str] = mapped_column(String(16))
    changed_by: Mapped[str] = mapped_column(ID)
    changed_at: Mapped[datetime]
