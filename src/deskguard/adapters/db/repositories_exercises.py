"""The vishing exercises' campaigns and calls (``domain.exercises.ExerciseRepository``), scoped by tenant."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update

from deskguard.adapters.db.repositories_people import SqlRepository, rowcount
from deskguard.adapters.db.tables_exercises import ExerciseCallRow, ExerciseCampaignRow
from deskguard.domain.exercises import Campaign, ExerciseCall, FailureCategory, Outcome


def _campaign(r: ExerciseCampaignRow) -> Campaign:
    return Campaign(
        id=r.id,
        tenant_id=r.tenant_id,
        name=r.name,
        quarter=r.quarter,
        provider_ids=frozenset(r.provider_ids),
        operator_ids=frozenset(r.operator_ids),
        script_ids=tuple(r.script_ids),
        starts_at=r.starts_at,
        ends_at=r.ends_at,
        created_by=r.created_by,
        created_at=r.created_at,
    )


def _call(r: ExerciseCallRow) -> ExerciseCall:
    return ExerciseCall(
        id=r.id,
        tenant_id=r.tenant_id,
        campaign_id=r.campaign_id,
        quarter=r.quarter,
        operator_id=r.operator_id,
        provider_id=r.provider_id,
        script_id=r.script_id,
        called_at=r.called_at,
        outcome=Outcome(r.outcome),
        failures=tuple(FailureCategory(f) for f in r.failures),
        notes=r.notes,
        recorded_by=r.recorded_by,
        recorded_at=r.recorded_at,
        feedback_sent_at=r.feedback_sent_at,
        feedback_channel=r.feedback_channel,
        feedback_ref=r.feedback_ref,
    )


class SqlExerciseRepository(SqlRepository):
    def add_campaign(self, campaign: Campaign) -> None:
        self._s.add(
            ExerciseCampaignRow(
                tenant_id=campaign.tenant_id,
                id=campaign.id,
                name=campaign.name,
                quarter=campaign.quarter,
                provider_ids=sorted(campaign.provider_ids),
                operator_ids=sorted(campaign.operator_ids),
                script_ids=list(campaign.script_ids),
                starts_at=campaign.starts_at,
                ends_at=campaign.ends_at,
                created_by=campaign.created_by,
                created_at=campaign.created_at,
            )
        )
        self._s.flush()

    def get_campaign(self, *, tenant_id: str, campaign_id: str) -> Campaign | None:
        row = self._first(
            select(ExerciseCampaignRow).where(
                ExerciseCampaignRow.tenant_id == tenant_id, ExerciseCampaignRow.id == campaign_id
            )
        )
        return _campaign(row) if row else None

    def list_campaigns(self, *, tenant_id: str, quarter: str = "") -> Sequence[Campaign]:
        stmt = select(ExerciseCampaignRow).where(ExerciseCampaignRow.tenant_id == tenant_id)
        if quarter:
            stmt = stmt.where(ExerciseCampaignRow.quarter == quarter)
        stmt = stmt.order_by(ExerciseCampaignRow.starts_at.desc(), ExerciseCampaignRow.id)
        return [_campaign(r) for r in self._all(stmt)]

    def add_call(self, call: ExerciseCall) -> None:
        self._s.add(
            ExerciseCallRow(
                tenant_id=call.tenant_id,
                id=call.id,
                campaign_id=call.campaign_id,
                quarter=call.quarter,
                operator_id=call.operator_id,
                provider_id=call.provider_id,
                script_id=call.script_id,
                called_at=call.called_at,
                outcome=call.outcome.value,
                failures=[f.value for f in call.failures],
                notes=call.notes,
                recorded_by=call.recorded_by,
                recorded_at=call.recorded_at,
                feedback_sent_at=call.feedback_sent_at,
                feedback_channel=call.feedback_channel,
                feedback_ref=call.feedback_ref,
            )
        )
        self._s.flush()

    def get_call(self, *, tenant_id: str, call_id: str) -> ExerciseCall | None:
        row = self._first(
            select(ExerciseCallRow).where(
                ExerciseCallRow.tenant_id == tenant_id, ExerciseCallRow.id == call_id
            )
        )
        return _call(row) if row else None

    def list_calls(
        self, *, tenant_id: str, campaign_id: str = "", operator_id: str = "", quarter: str = ""
    ) -> Sequence[ExerciseCall]:
        stmt = select(ExerciseCallRow).where(ExerciseCallRow.tenant_id == tenant_id)
        if campaign_id:
            stmt = stmt.where(ExerciseCallRow.campaign_id == campaign_id)
        if operator_id:
            stmt = stmt.where(ExerciseCallRow.operator_id == operator_id)
        if quarter:
            stmt = stmt.where(ExerciseCallRow.quarter == quarter)
        return [_call(r) for r in self._all(stmt.order_by(ExerciseCallRow.called_at, ExerciseCallRow.id))]

    def mark_feedback(self, call: ExerciseCall) -> bool:
        stmt = (
            update(ExerciseCallRow)
            .where(
                ExerciseCallRow.tenant_id == call.tenant_id,
                ExerciseCallRow.id == call.id,
                ExerciseCallRow.feedback_sent_at.is_(None),
            )
            .values(
                feedback_sent_at=call.feedback_sent_at,
                feedback_channel=call.feedback_channel,
                feedback_ref=call.feedback_ref,
            )
        )
        return rowcount(self._s.execute(stmt)) == 1
