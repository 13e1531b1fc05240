"""Storage rows of the portal devices' Web Push subscriptions (``domain.ports_push``). Same ``Base``
(and so the same metadata) as ``tables``; split from it by capability."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from deskguard.adapters.db.tables import ID, Base


class PushSubscriptionRow(Base):
    """One browser push subscription of a person's portal device; one row per (tenant, endpoint)."""

    __tablename__ = "push_subscriptions"
    __table_args__ = (
        UniqueConstraint("tenant_id", "endpoint_hash", name="uq_push_subscriptions_endpoint"),
        Index("ix_push_subscriptions_person", "tenant_id", "person_id"),
    )
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ID)
    person_id: Mapped[str] = mapped_column(ID)
    endpoint: Mapped[str] = mapped_column(Text)
    endpoint_hash: Mapped[str] = mapped_column(String(64))  # sha256 hex: endpoints are too long to index
    p256dh: Mapped[str] = mapped_column(String(128))
    auth: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
