"""Supervisor pages: the approval inbox, with each request's full evidence, and its decisions.

``/t/{tenant}/approvals`` lists every request of the tenant waiting for approval
(``app.approvals.approval_dossiers``): who asks (operator, provider, workstation), about whom, the
proofs and their outcomes, the risk the policy saw and its reasons, the ticket, the decision's
reasons. A request the viewer opened is shown without the buttons, with why (4-eyes). A small
region polls ``/approvals/pulse`` every few seconds and says when the waiting list changed (it does
not replace the page, so a comment being typed is never lost). Approve or deny posts to
``/approvals/{request}`` (``app.approvals.decide_approval``, with the parameters' hash the approver
saw), then comes back to the inbox with the outcome announced.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from deskguard.app.approvals import MAX_COMMENT, approval_dossiers, decide_approval
from deskguard.console.session import Acting, Ctx, Seen
from deskguard.console.web import ConsoleRoute, render

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
POLL_SECONDS = 5


@router.get("/t/{tenant_id}/approvals")
def inbox(
    request: Request, ctx: Ctx, seen: Seen, tenant_id: str, done: str = "", verdict: str = ""
) -> Response:
    dossiers = approval_dossiers(ctx, actor=seen.actor, tenant_id=tenant_id)
    return render(
        request,
        "supervisor/approvals.html",
        viewer=seen,
        tenant_id=tenant_id,
        dossiers=dossiers,
        shown=",".join(d.request.id for d in dossiers),
        done=done,
        verdict=verdict if verdict in ("approve", "deny") else "",
        poll=POLL_SECONDS,
        max_comment=MAX_COMMENT,
    )


@router.get("/t/{tenant_id}/approvals/pulse")
def pulse(request: Request, ctx: Ctx, seen: Seen, tenant_id: str, shown: str = "") -> Response:
    """The live region: how many wait now, and whether the list differs from the page's."""
    waiting = {d.request.id for d in approval_dossiers(ctx, actor=seen.actor, tenant_id=tenant_id)}
    on_page = {i for i in shown.split(",") if i}
    return render(
        request,
        "supervisor/pulse.html",
        viewer=seen,
        tenant_id=tenant_id,
        count=len(waiting),
        arrived=len(waiting - on_page),
        gone=len(on_page - waiting),
        shown=shown,
        poll=POLL_SECONDS,
    )


@router.post("/t/{tenant_id}/approvals/{request_id}")
def decide(
    ctx: Ctx,
    seen: Acting,
    tenant_id: str,
    request_id: str,
    verdict: Annotated[str, Form(max_length=10)],
    comment: Annotated[str, Form(max_length=MAX_COMMENT)] = "",
    params_hash: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    decide_approval(
        ctx,
        actor=seen.actor,
        tenant_id=tenant_id,
        request_id=request_id,
        verdict=verdict,
        comment=comment,
        params_hash=params_hash or None,
    )
    return RedirectResponse(f"/t/{tenant_id}/approvals?done={request_id}&verdict={verdict}", status_code=303)
