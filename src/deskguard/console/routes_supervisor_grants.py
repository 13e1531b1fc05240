"""Just-in-time grants (``/t/{tenant}/grants``): an operator asks, a supervisor decides or revokes.

An agent sees their own grants and the form to ask for one (action kinds, duration, justification:
``app.grants.request_grant``); a supervisor or admin sees every grant of the tenant, approves or
denies those still requested (never their own: ``decide_grant``) and revokes live ones
(``revoke_grant``; the holder may give theirs up too).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from deskguard.app.grants import MAX_GRANT_MINUTES, decide_grant, list_grants, request_grant, revoke_grant
from deskguard.console.session import Acting, Ctx, Seen
from deskguard.console.web import ConsoleRoute, render
from deskguard.domain.actions import CATALOGUE

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
DONE = ("requested", "approved", "denied", "revoked")


@router.get("/t/{tenant_id}/grants")
def grants(request: Request, ctx: Ctx, seen: Seen, tenant_id: str, done: str = "") -> Response:
    return render(
        request,
        "supervisor/grants.html",
        viewer=seen,
        tenant_id=tenant_id,
        grants=list_grants(ctx, actor=seen.actor, tenant_id=tenant_id),
        kinds=[k.value for k in CATALOGUE],
        max_minutes=MAX_GRANT_MINUTES,
        done=done if done in DONE else "",
    )


def _back(tenant_id: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"/t/{tenant_id}/grants?done={done}", status_code=303)


@router.post("/t/{tenant_id}/grants")
def ask(
    ctx: Ctx,
    seen: Acting,
    tenant_id: str,
    action_kinds: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI's form default
    duration_minutes: Annotated[int, Form()] = 60,
    justification: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    request_grant(
        ctx,
        actor=seen.actor,
        tenant_id=tenant_id,
        action_kinds=action_kinds,
        duration_minutes=duration_minutes,
        justification=justification,
    )
    return _back(tenant_id, "requested")


@router.post("/t/{tenant_id}/grants/{grant_id}/decide")
def decide(
    ctx: Ctx,
    seen: Acting,
    tenant_id: str,
    grant_id: str,
    verdict: Annotated[str, Form(pattern="^(approve|deny)$")],
    comment: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    approve = verdict == "approve"
    decide_grant(
        ctx, actor=seen.actor, tenant_id=tenant_id, grant_id=grant_id, approve=approve, comment=comment
    )
    return _back(tenant_id, "approved" if approve else "denied")


@router.post("/t/{tenant_id}/grants/{grant_id}/revoke")
def revoke(
    ctx: Ctx,
    seen: Acting,
    tenant_id: str,
    grant_id: str,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    revoke_grant(ctx, actor=seen.actor, tenant_id=tenant_id, grant_id=grant_id, reason=reason)
    return _back(tenant_id, "revoked")
