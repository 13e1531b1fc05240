"""The analyst's pages: the prioritised case queue (live), a case with its timeline, verdicts, runbooks.

- ``GET /t/{tenant}/cases``: open cases, highest priority first, with the reasons of each priority;
  the table refreshes itself every 5 s (htmx polling of the same URL, answered with the table only);
- ``GET /t/{tenant}/cases/{case}``: the case's timeline (``app.case_timeline``), every alert with its
  explanation and its verdict form, the runbook steps (a waiting one can be approved or refused);
- ``POST …/alerts/{alert}/verdict``, ``POST …/close``, ``POST …/steps/{run}/{index}/approve|refuse``:
  ``app.triage`` and ``app.response_approvals``; each answers with the case page again (303), which says
  what happened in a status line.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from deskguard.app import triage
from deskguard.app.case_timeline import case_file
from deskguard.app.response_approvals import approve_step, refuse_step
from deskguard.console.session import Acting, Ctx, Seen
from deskguard.console.web import ConsoleRoute, render, templates
from deskguard.detection.triage import Verdict

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
DONE = frozenset({"verdict", "closed", "approved", "refused"})
Comment = Annotated[str, Form(max_length=triage.MAX_COMMENT)]


def epoch_utc(seconds: float) -> str:
    """Epoch seconds (an alert's or a case's times) as a UTC date and time."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M UTC")


templates.env.filters["epoch_utc"] = epoch_utc


def _back(tenant_id: str, case_id: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"/t/{tenant_id}/cases/{case_id}?done={done}", status_code=303)


@router.get("/t/{tenant_id}/cases")
def cases(request: Request, tenant_id: str, seen: Seen, ctx: Ctx, status: str = "open") -> Response:
    views = triage.queue(ctx, actor=seen.actor, tenant_id=tenant_id, status=triage.parse_status(status))
    template = "analyst/_queue.html" if request.headers.get("hx-request") else "analyst/cases.html"
    return render(request, template, viewer=seen, tenant_id=tenant_id, views=views, shown=status)


@router.get("/t/{tenant_id}/cases/{case_id}")
def case(request: Request, tenant_id: str, case_id: str, seen: Seen, ctx: Ctx, done: str = "") -> Response:
    found = case_file(ctx, actor=seen.actor, tenant_id=tenant_id, case_id=case_id)
    return render(
        request,
        "analyst/case.html",
        viewer=seen,
        tenant_id=tenant_id,
        file=found,
        verdicts=[v.value for v in Verdict],
        done=done if done in DONE else "",
        judge=seen.actor.role in {r.value for r in triage.JUDGES},
    )


@router.post("/t/{tenant_id}/cases/{case_id}/alerts/{alert_id}/verdict")
def verdict(
    tenant_id: str,
    case_id: str,
    alert_id: str,
    acting: Acting,
    ctx: Ctx,
    verdict: Annotated[str, Form(max_length=40)],
    comment: Comment = "",
) -> Response:
    triage.record_verdict(
        ctx, actor=acting.actor, tenant_id=tenant_id, alert_id=alert_id, verdict=verdict, comment=comment
    )
    return _back(tenant_id, case_id, "verdict")


@router.post("/t/{tenant_id}/cases/{case_id}/close")
def close(tenant_id: str, case_id: str, acting: Acting, ctx: Ctx, comment: Comment = "") -> Response:
    triage.close_case(ctx, actor=acting.actor, tenant_id=tenant_id, case_id=case_id, comment=comment)
    return _back(tenant_id, case_id, "closed")


@router.post("/t/{tenant_id}/cases/{case_id}/steps/{run_id}/{index}/{decision}")
def decide_step(
    tenant_id: str,
    case_id: str,
    run_id: str,
    index: int,
    decision: str,
    acting: Acting,
    ctx: Ctx,
    comment: Comment = "",
) -> Response:
    gestures = {"approve": (approve_step, "approved"), "refuse": (refuse_step, "refused")}
    if decision not in gestures:
        return Response(status_code=404)
    gesture, done = gestures[decision]
    gesture(ctx, actor=acting.actor, tenant_id=tenant_id, run_id=run_id, index=index, comment=comment)
    return _back(tenant_id, case_id, done)
