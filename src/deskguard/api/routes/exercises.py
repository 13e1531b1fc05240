"""Vishing exercises: campaigns, their calls, the agents' feedback and the trends (``app.exercises``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from deskguard.api.deps import Ctx, CurrentActor
from deskguard.app import exercise_trends, exercises
from deskguard.domain.exercises import Campaign, ExerciseCall, Outcome

router = APIRouter(prefix="/api/v1", tags=["exercises"])


class CampaignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=200)
    quarter: str = Field(examples=["2026-Q4"])
    provider_ids: list[str] = []
    operator_ids: list[str] = []
    script_ids: list[str]
    starts_at: AwareDatetime
    ends_at: AwareDatetime


class CallIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    operator_id: str
    script_id: str
    called_at: AwareDatetime
    outcome: Outcome
    failures: list[str] = []
    notes: str = Field("", max_length=2000)


class CampaignOut(BaseModel):
    id: str
    name: str
    quarter: str
    provider_ids: list[str]
    operator_ids: list[str]
    script_ids: list[str]
    starts_at: datetime
    ends_at: datetime
    created_by: str

    @classmethod
    def of(cls, c: Campaign) -> CampaignOut:
        return cls(
            id=c.id,
            name=c.name,
            quarter=c.quarter,
            provider_ids=sorted(c.provider_ids),
            operator_ids=sorted(c.operator_ids),
            script_ids=list(c.script_ids),
            starts_at=c.starts_at,
            ends_at=c.ends_at,
            created_by=c.created_by,
        )


class CallOut(BaseModel):
    id: str
    campaign_id: str
    quarter: str
    operator_id: str
    provider_id: str
    script_id: str
    called_at: datetime
    outcome: str
    failures: list[str]
    notes: str
    recorded_by: str
    feedback_sent_at: datetime | None
    feedback_channel: str

    @classmethod
    def of(cls, c: ExerciseCall) -> CallOut:
        return cls(
            id=c.id,
            campaign_id=c.campaign_id,
            quarter=c.quarter,
            operator_id=c.operator_id,
            provider_id=c.provider_id,
            script_id=c.script_id,
            called_at=c.called_at,
            outcome=c.outcome.value,
            failures=[f.value for f in c.failures],
            notes=c.notes,
            recorded_by=c.recorded_by,
            feedback_sent_at=c.feedback_sent_at,
            feedback_channel=c.feedback_channel,
        )


class CampaignDetailOut(CampaignOut):
    calls: list[CallOut]


@router.post("/tenants/{tenant_id}/exercises/campaigns", status_code=201, summary="Plan a vishing exercise")
def plan(tenant_id: str, body: CampaignIn, ctx: Ctx, actor: CurrentActor) -> CampaignOut:
    return CampaignOut.of(exercises.plan_campaign(ctx, actor=actor, tenant_id=tenant_id, **body.model_dump()))


@router.get("/tenants/{tenant_id}/exercises/campaigns", summary="Exercise campaigns, newest first")
def campaigns(tenant_id: str, ctx: Ctx, actor: CurrentActor, quarter: str = "") -> list[CampaignOut]:
    views = exercises.list_campaigns(ctx, actor=actor, tenant_id=tenant_id, quarter=quarter)
    return [CampaignOut.of(v.campaign) for v in views]


@router.get("/tenants/{tenant_id}/exercises/campaigns/{campaign_id}", summary="A campaign and its calls")
def campaign(tenant_id: str, campaign_id: str, ctx: Ctx, actor: CurrentActor) -> CampaignDetailOut:
    view = exercises.get_campaign(ctx, actor=actor, tenant_id=tenant_id, campaign_id=campaign_id)
    out = CampaignOut.of(view.campaign).model_dump()
    return CampaignDetailOut(**out, calls=[CallOut.of(c) for c in view.calls])


@router.post(
    "/tenants/{tenant_id}/exercises/campaigns/{campaign_id}/calls",
    status_code=201,
    summary="Record an exercise call's outcome",
)
def record(tenant_id: str, campaign_id: str, body: CallIn, ctx: Ctx, actor: CurrentActor) -> CallOut:
    fields: dict[str, Any] = body.model_dump()
    fields["outcome"] = body.outcome.value
    return CallOut.of(
        exercises.record_call(ctx, actor=actor, tenant_id=tenant_id, campaign_id=campaign_id, **fields)
    )


@router.post(
    "/tenants/{tenant_id}/exercises/calls/{call_id}/feedback",
    summary="Send the agent their feedback on a call",
)
def feedback(tenant_id: str, call_id: str, ctx: Ctx, actor: CurrentActor) -> CallOut:
    return CallOut.of(exercises.send_feedback(ctx, actor=actor, tenant_id=tenant_id, call_id=call_id))


@router.get("/tenants/{tenant_id}/exercises/feedback", summary="The caller's own exercise feedback")
def my_feedback(tenant_id: str, ctx: Ctx, actor: CurrentActor) -> list[dict[str, Any]]:
    found = exercises.my_feedback(ctx, actor=actor, tenant_id=tenant_id)
    return [
        {"call": CallOut.of(f.call).model_dump(mode="json"), "subject": f.subject, "text": f.text}
        for f in found
    ]


@router.get("/tenants/{tenant_id}/exercises/trends", summary="Shares of outcomes per quarter, desk and agent")
def trends(tenant_id: str, ctx: Ctx, actor: CurrentActor, quarter: str = "") -> list[dict[str, Any]]:
    report = exercise_trends.exercise_trends(ctx, actor=actor, tenant_id=tenant_id, quarter=quarter)
    return [
        {
            "quarter": t.quarter,
            "scope": t.scope,
            "key": t.key,
            "name": report.name(t.key) if t.key else "",
            "calls": t.calls,
            "counts": {o.value: n for o, n in t.counts.items()},
            "shares": {o.value: round(t.share(o), 4) for o in Outcome},
            "top_failures": [{"category": f.value, "calls": n} for f, n in t.top_failures],
        }
        for t in report.trends
    ]
