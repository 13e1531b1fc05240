"""The employee's portal page and its verification pushes with number matching.

``/portal`` is the person's start page (``templates/portal/index.html``; other portal sections are
added to it). The pushes list (``portal/pushes.html``) shows what is waiting — never the number: the
person must hear it from the agent and type it (``app.verification.pending_for_person`` strips it),
or deny when they asked for nothing. The list polls ``/portal/pushes`` every 2 s and is swapped only
when the set of waiting pushes changed (204 otherwise, so typing is never interrupted).
"""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from deskguard.app import verification
from deskguard.app.console_auth import Viewer
from deskguard.console.routes_portal import portal_sections
from deskguard.console.session import Acting, Ctx, Seen
from deskguard.console.web import ConsoleRoute, render
from deskguard.domain.errors import ProofRejected, ValidationFailed
from deskguard.domain.requests import ProofMethod, ProofStatus

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
ANSWERS = frozenset({"approved", "denied", "mismatch"})


def _tenant(seen: Viewer) -> str:
    return sorted(seen.actor.tenant_ids)[0] if seen.actor.tenant_ids else ""


def _pushes(ctx: Ctx, seen: Viewer) -> list:
    waiting = verification.pending_for_person(ctx, actor=seen.actor, tenant_id=_tenant(seen))
    return [p for p in waiting if p.method == ProofMethod.PUSH_NUMBER_MATCH]


def _fingerprint(pushes: list) -> str:
    return hashlib.sha256("|".join(f"{p.id}:{p.attempts}" for p in pushes).encode()).hexdigest()[:16]


@router.get("/portal")
def portal(request: Request, ctx: Ctx, seen: Seen, answered: str = "") -> Response:
    pushes = _pushes(ctx, seen)
    return render(
        request,
        "portal/index.html",
        viewer=seen,
        pushes=pushes,
        pushes_seen=_fingerprint(pushes),
        answered=answered if answered in ANSWERS else "",
        **portal_sections(ctx, seen, request.query_params.get("done", "")),  # routes_portal's sections
    )


@router.get("/portal/pushes")
def pushes(request: Request, ctx: Ctx, seen: Seen, seen_as: str = "") -> Response:
    waiting = _pushes(ctx, seen)
    if _fingerprint(waiting) == seen_as:
        return Response(status_code=204)
    return render(
        request,
        "portal/pushes.html",
        viewer=seen,
        pushes=waiting,
        pushes_seen=_fingerprint(waiting),
        answered="",
    )


@router.post("/portal/pushes/{proof_id}")
def answer(
    proof_id: str,
    ctx: Ctx,
    seen: Acting,
    answer: Annotated[str, Form()],
    number: Annotated[str, Form(max_length=4)] = "",
) -> Response:
    if answer not in ("approve", "deny"):
        raise ValidationFailed("answer must be approve or deny", field="answer")
    approve = answer == "approve"
    if approve and not number.strip().isdigit():
        raise ValidationFailed("type the number the agent reads out to you (two digits)", field="number")
    try:
        proof = verification.respond_push(
            ctx,
            actor=seen.actor,
            tenant_id=_tenant(seen),
            proof_id=proof_id,
            approve=approve,
            number=int(number) if approve else None,
        )
    except ProofRejected as exc:
        if exc.code != "proof_rejected.pending":  # a wrong number with attempts left: say so, retry
            raise
        return RedirectResponse("/portal?answered=mismatch", status_code=303)
    outcome = "denied" if not approve else "approved" if proof.status == ProofStatus.SUCCEEDED else "mismatch"
    return RedirectResponse(f"/portal?answered={outcome}", status_code=303)
