"""Identity-verification vendors' own webhooks: ``POST /api/v1/webhooks/idv/veriff``.

Signed by the vendor (Veriff: ``X-HMAC-SIGNATURE``, hex HMAC-SHA256 of the raw body with the
integration's shared secret), not by ``X-Deskguard-Signature``: hence their own route beside the
generic ``/api/v1/webhooks/idv``. A bad signature is refused (401) before the body is read; a
verdict goes to the same use case (``app.verification.idv_result``). The route answers 404 unless
Veriff is the deployment's identity verification; it settles the sessions of tenants without an
integration of their own. A tenant's own Veriff integration (an ``idv`` connector of kind
``veriff``) posts to ``/api/v1/webhooks/idv/{tenant_id}/veriff`` (set in Veriff's Station), checked
with that integration's shared secret and settling that tenant's sessions only; everything that
cannot be checked there is one 404 (``api.webhook_tenants``).

Vendors redeliver until they get a 2xx, and Veriff's signature carries no timestamp, so a
redelivered (or replayed) verdict must change nothing: when the proof already holds that verdict the
answer is 200 with ``recorded: false``. A different verdict for a decided proof is refused (422,
``proof_rejected.<status>``): the first verdict stands. A "not yet" status (started, submitted,
review, resubmission requested) is acknowledged and recorded nowhere.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from deskguard.adapters.channels.veriff import SIGNATURE_HEADER, VeriffDecision, VeriffIdentityVerification
from deskguard.api.deps import Ctx
from deskguard.api.schemas import ProofOut
from deskguard.api.webhook_tenants import deployment, deployment_serves, only, refused, tenant_adapter
from deskguard.app import verification
from deskguard.app.context import AppContext
from deskguard.domain.errors import NotFound, ProofRejected, Unauthenticated
from deskguard.domain.requests import ProofStatus

router = APIRouter(prefix="/api/v1/webhooks/idv", tags=["webhooks"])


class IdvDecisionOut(BaseModel):
    session_id: str
    status: str  # the vendor's word
    recorded: bool  # False: not a verdict yet, or this verdict was already recorded
    proof: ProofOut | None = None  # the proof an approval satisfied


def _veriff(ctx: AppContext) -> VeriffIdentityVerification:
    idv = deployment(ctx.channels.idv)  # past tenant routing
    if not isinstance(idv, VeriffIdentityVerification):
        raise NotFound("Veriff is not the configured identity verification", code="not_found.route")
    return idv


@router.post("/veriff", summary="Veriff decision or event webhook (X-HMAC-SIGNATURE)")
async def veriff(request: Request, ctx: Ctx) -> IdvDecisionOut:
    adapter = _veriff(ctx)
    body = await request.body()
    decision = adapter.decision(body=body, signature=request.headers.get(SIGNATURE_HEADER, ""))
    return await _settle(ctx, decision, lambda tenant_id: deployment_serves(ctx.channels.idv, tenant_id))


@router.post("/{tenant_id}/veriff", summary="Decision webhook of a tenant's own Veriff integration")
async def tenant_veriff(tenant_id: str, request: Request, ctx: Ctx) -> IdvDecisionOut:
    adapter = await run_in_threadpool(
        tenant_adapter, ctx.channels.idv, tenant_id, vendor=VeriffIdentityVerification, name="veriff"
    )
    body = await request.body()
    try:
        decision = adapter.decision(body=body, signature=request.headers.get(SIGNATURE_HEADER, ""))
    except Unauthenticated as exc:
        raise refused(tenant_id=tenant_id, vendor="veriff", reason=str(exc)) from None
    return await _settle(ctx, decision, only(tenant_id))


async def _settle(ctx: AppContext, decision: VeriffDecision, owner: Callable[[str], bool]) -> IdvDecisionOut:
    out = IdvDecisionOut(session_id=decision.session_id, status=decision.status, recorded=False)
    if decision.verified is None:
        return out
    try:
        proof = await run_in_threadpool(
            verification.idv_result,
            ctx,
            session_id=decision.session_id,
            verified=decision.verified,
            owner=owner,
        )
    except ProofRejected as exc:
        held = ProofStatus.SUCCEEDED if decision.verified else ProofStatus.FAILED
        if exc.code != f"proof_rejected.{held.value}":  # another verdict is on file: it stands
            raise
        # The use case reports a failure it has just recorded with its attempt count; a redelivery
        # meets the proof already failed (or succeeded), and that report carries no count.
        return out.model_copy(update={"recorded": "attempts" in (exc.details or {})})
    return out.model_copy(update={"recorded": True, "proof": ProofOut.of(proof)})
