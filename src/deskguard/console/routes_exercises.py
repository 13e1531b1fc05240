"""The vishing exercises in the console (issue 8): plan a campaign, record its calls, send feedback.

- ``GET /t/{tenant}/exercises``: the campaigns (supervisors, admins, auditors) and, for supervisors
  and admins, the planning form; ``POST`` plans one (``app.exercises.plan_campaign``);
- ``GET /t/{tenant}/exercises/c/{campaign}``: its calls, the form to record one, the feedback buttons;
  ``POST …/calls`` records an outcome, ``POST …/feedback`` sends every pending feedback,
  ``POST /t/{tenant}/exercises/calls/{call}/feedback`` one;
- ``GET /my-feedback``: an operator's own feedback, in every tenant they serve (linked from the account
  page); trends and the quarterly report: ``routes_exercises_trends``.

Times in the forms are UTC (``datetime-local`` fields, said so in their labels).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from deskguard.app import exercises
from deskguard.console.session import Acting, Ctx, Seen
from deskguard.console.web import ConsoleRoute, render
from deskguard.domain.errors import ValidationFailed
from deskguard.domain.exercises import FailureCategory, Outcome, Quarter

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
MANAGERS = {r.value for r in exercises.MANAGERS}


def utc_field(value: str, *, field: str) -> datetime:
    """A ``datetime-local`` form value, read as UTC; a bad one names its field."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(f"{field}: {value!r} is not a date and time", field=field) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _to_campaign(tenant_id: str, campaign_id: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"/t/{tenant_id}/exercises/c/{campaign_id}?done={done}", status_code=303)


@router.get("/t/{tenant_id}/exercises")
def campaigns(request: Request, tenant_id: str, seen: Seen, ctx: Ctx, quarter: str = "") -> Response:
    views = exercises.list_campaigns(ctx, actor=seen.actor, tenant_id=tenant_id, quarter=quarter)
    manages = seen.actor.role in MANAGERS
    choices = exercises.planning_choices(ctx, actor=seen.actor, tenant_id=tenant_id) if manages else None
    now = Quarter.of(ctx.clock.now())
    return render(
        request,
        "exercises/campaigns.html",
        viewer=seen,
        tenant_id=tenant_id,
        views=views,
        choices=choices,
        quarter=quarter,
        this_quarter=str(now),
        next_quarter=str(Quarter(now.year + now.number // 4, now.number % 4 + 1)),
    )


@router.post("/t/{tenant_id}/exercises")
def plan(
    ctx: Ctx,
    seen: Acting,
    tenant_id: str,
    name: Annotated[str, Form(max_length=200)],
    quarter: Annotated[str, Form(max_length=10)],
    starts_at: Annotated[str, Form(max_length=40)],
    ends_at: Annotated[str, Form(max_length=40)],
    script_ids: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI's form default
    provider_ids: Annotated[list[str], Form()] = [],  # noqa: B006
    operator_ids: Annotated[list[str], Form()] = [],  # noqa: B006
) -> Response:
    campaign = exercises.plan_campaign(
        ctx,
        actor=seen.actor,
        tenant_id=tenant_id,
        name=name,
        quarter=quarter,
        provider_ids=provider_ids,
        operator_ids=operator_ids,
        script_ids=script_ids,
        starts_at=utc_field(starts_at, field="starts_at"),
        ends_at=utc_field(ends_at, field="ends_at"),
    )
    return _to_campaign(tenant_id, campaign.id, "planned")


@router.get("/t/{tenant_id}/exercises/c/{campaign_id}")
def campaign(
    request: Request, tenant_id: str, campaign_id: str, seen: Seen, ctx: Ctx, done: str = ""
) -> Response:
    view = exercises.get_campaign(ctx, actor=seen.actor, tenant_id=tenant_id, campaign_id=campaign_id)
    return render(
        request,
        "exercises/campaign.html",
        viewer=seen,
        tenant_id=tenant_id,
        view=view,
        agents={o.id: o.display_name for o in view.agents},
        scripts={s.id: s for s in view.scripts},
        manages=seen.actor.role in MANAGERS,
        outcomes=list(Outcome),
        failures=list(FailureCategory),
        now=ctx.clock.now().strftime("%Y-%m-%dT%H:%M"),
        done=done if done in ("planned", "recorded", "sent") else "",
    )


@router.post("/t/{tenant_id}/exercises/c/{campaign_id}/calls")
def record(
    ctx: Ctx,
    seen: Acting,
    tenant_id: str,
    campaign_id: str,
    operator_id: Annotated[str, Form(max_length=64)],
    script_id: Annotated[str, Form(max_length=200)],
    called_at: Annotated[str, Form(max_length=40)],
    outcome: Annotated[str, Form(max_length=40)],
    failures: Annotated[list[str], Form()] = [],  # noqa: B006
    notes: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    exercises.record_call(
        ctx,
        actor=seen.actor,
        tenant_id=tenant_id,
        campaign_id=campaign_id,
        operator_id=operator_id,
        script_id=script_id,
        called_at=utc_field(called_at, field="called_at"),
        outcome=outcome,
        failures=failures,
        notes=notes,
    )
    return _to_campaign(tenant_id, campaign_id, "recorded")


@router.post("/t/{tenant_id}/exercises/c/{campaign_id}/feedback")
def send_all(ctx: Ctx, seen: Acting, tenant_id: str, campaign_id: str) -> Response:
    exercises.send_campaign_feedback(ctx, actor=seen.actor, tenant_id=tenant_id, campaign_id=campaign_id)
    return _to_campaign(tenant_id, campaign_id, "sent")


@router.post("/t/{tenant_id}/exercises/calls/{call_id}/feedback")
def send_one(ctx: Ctx, seen: Acting, tenant_id: str, call_id: str) -> Response:
    call = exercises.send_feedback(ctx, actor=seen.actor, tenant_id=tenant_id, call_id=call_id)
    return _to_campaign(tenant_id, call.campaign_id, "sent")


@router.get("/my-feedback")
def my_feedback(request: Request, seen: Seen, ctx: Ctx) -> Response:
    found = [
        (tenant_id, item)
        for tenant_id in sorted(seen.actor.tenant_ids)
        for item in exercises.my_feedback(ctx, actor=seen.actor, tenant_id=tenant_id)
    ]
    return render(request, "exercises/my_feedback.html", viewer=seen, found=found)
