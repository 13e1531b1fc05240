"""Storage rows of the vishing exercises (``domain.exercises``): campaigns and their test calls. Same
``Base`` (and so the same metadata) as ``tables``; split from it by capability."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKeyConstraint, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from deskguard.adapters.db.tables import CODE, ID, NAME, Base


class ExerciseCampaignRow(Base):
    """A planned campaign: the desks and agents called, the tester scripts, the window."""

    __tablename__ = "exercise_campaigns"
    tenant_id: Mapped[str] = mapped_column(ID, primary_key=True)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(NAME)
    quarter: Mapped[str] = mapped_column(String(7))  # 2026-Q4
    provider_ids: Mapped[list[str]]
    operator_ids: Mapped[list[str]]
    script_ids: Mapped[list[str]]
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(ID)
    created_at: Mapped[datetime]
    __table_args__ = (Index("ix_exercise_campaigns_quarter", "tenant_id", "quarter"),)


class ExerciseCallRow(Base):
    """One test call's outcome, and the feedback sent to the agent (empty until it is sent)."""

    __tablename__ = "exercise_calls"
    tenant_id: Mapped[str] = mapped_column(ID, primary_key=True)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    campaign_id: Mapped[str] = mapped_column(ID)
    quarter: Mapped[str] = mapped_column(String(7))
    operator_id: Mapped[str] = mapped_column(ID)
    provider_id: Mapped[str] = mapped_column(ID)
    script_id: Mapped[str] = mapped_column(NAME)
    called_at: Mapped[datetime]
    outcome: Mapped[str] = mapped_column(CODE)
    failures: Mapped[list[str]]
    notes: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(ID)
    recorded_at: Mapped[datetime]
    feedback_sent_at: Mapped[datetime | None]
    feedback_channel: Mapped[str] = mapped_column(CODE)
    feedback_ref: Mapped[str] = mapped_column(NAME)
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "campaign_id"], ["exercise_campaigns.tenant_id", "exercise_campaigns.id"]
        ),
        Index("ix_exercise_calls_campaign", "tenant_id", "campaign_id"),
        Index("ix_exercise_calls_operator", "tenant_id", "operator_id"),
        Index("ix_exercise_calls_quarter", "tenant_id", "quarter"),
    )
