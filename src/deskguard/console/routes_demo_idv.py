"""The demo's fake identity-verification provider: the page a fake person link opens.

``FakeIdentityVerification`` (the demo's and the tests' ``IdentityVerification``) gives each session
the link ``/demo/idv/<session>?t=<token>``. This page stands where Veriff's hosted document-and-selfie
flow would: clearly labelled as the fake provider, it lets whoever holds the link make the check pass
or fail, and reports the verdict through the same use case as Veriff's webhook
(``app.verification.idv_result``). It answers 404 outside demo mode, when the fake is not the
configured provider, and for a session or token the fake did not issue: the token is what makes the
link the person's bearer secret, as Veriff's is. It needs no console sign-in (a person opens it from
their e-mail), so it carries no CSRF token: the link's token is the capability.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from deskguard.adapters.channels.fake import FakeIdentityVerification
from deskguard.app import verification
from deskguard.console.session import Ctx
from deskguard.console.web import ConsoleRoute, config, render
from deskguard.domain.errors import NotFound, ProofRejected

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
OUTCOMES = {"approved": True, "declined": False}


def _fake(request: Request, ctx: Ctx, session_id: str, token: str) -> FakeIdentityVerification:
    idv = getattr(ctx.channels.idv, "fallback", ctx.channels.idv)  # past tenant routing
    if not config(request).demo or not isinstance(idv, FakeIdentityVerification):
        raise NotFound("no such page", code="not_found.route")
    if not idv.holds(session_id=session_id, token=token):
        raise NotFound("this identity-check link is not valid", code="not_found.idv_session")
    return idv


@router.get("/demo/idv/{session_id}")
def check_page(request: Request, session_id: str, ctx: Ctx, t: str = "") -> Response:
    _fake(request, ctx, session_id, t)
    return render(request, "demo/idv.html", session_id=session_id, token=t, outcome="")


@router.post("/demo/idv/{session_id}")
def decide(
    request: Request,
    session_id: str,
    ctx: Ctx,
    t: Annotated[str, Form(max_length=64)],
    outcome: Annotated[str, Form(pattern="^(approved|declined)$")],
) -> Response:
    _fake(request, ctx, session_id, t)
    try:
        verification.idv_result(ctx, session_id=session_id, verified=OUTCOMES[outcome])
    except ProofRejected as exc:
        # a decline is recorded, then reported as a rejection carrying the attempt count; any other
        # rejection (a proof already decided or expired) is this page's error
        if OUTCOMES[outcome] or "attempts" not in (exc.details or {}):
            raise
    return render(request, "demo/idv.html", session_id=session_id, token="", outcome=outcome)
