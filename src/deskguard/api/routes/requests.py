"""Action requests: preview, open, read, cancel; proofs; approvals; execution."""

from __future__ import annotations

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from deskguard.api.deps import Ctx, CurrentActor
from deskguard.api.schemas import (
    ApprovalIn,
    AttestIn,
    CancelIn,
    DecisionOut,
    ExecutionOut,
    KnowledgeIn,
    OtpIn,
    PreviewIn,
    ProofIn,
    ProofOut,
    RequestIn,
    RequestOut,
    TotpIn,
)
from deskguard.app import approvals, execution, requests, verification
from deskguard.domain.decision import Evidence
from deskguard.domain.errors import ValidationFailed
from deskguard.domain.ports import RequestFilter
from deskguard.domain.requests import ProofMethod, RequestState

router = APIRouter(prefix="/api/v1/tenants/{tenant_id}", tags=["requests"])


def _draft(body: RequestIn) -> requests.RequestDraft:
    return requests.RequestDraft(
        kind=body.kind,
        person_id=body.person_id,
        params=body.params,
        ticket_id=body.ticket_id,
        justification=body.justification,
    )


@router.post(
    "/decisions/preview",
    summary="What would it take? A decision that changes nothing",
    response_class=JSONResponse,
    responses={200: {"model": DecisionOut}},
)
async def preview(tenant_id: str, body: PreviewIn, ctx: Ctx, actor: CurrentActor) -> JSONResponse:
    try:
        evidence = Evidence(
            proofs=frozenset(ProofMethod(p) for p in body.proofs), approvals=tuple(body.approvals)
        )
    except ValueError as exc:
        raise ValidationFailed(f"proofs: {exc}", field="proofs") from None
    # Inline on the event loop (ADR 0002): one indexed read plus the policy cost less than the hop
    # to a worker thread, and this is the endpoint agents and integrations call most.
    decision = requests.preview(ctx, actor=actor, tenant_id=tenant_id, draft=_draft(body), evidence=evidence)
    return JSONResponse(decision.to_dict())  # plain JSON types already: no encoder pass needed


@router.post("/requests", status_code=201, summary="Open a request for a sensitive action")
def open_request(tenant_id: str, body: RequestIn, ctx: Ctx, actor: CurrentActor) -> RequestOut:
    return RequestOut.of(requests.open_request(ctx, actor=actor, tenant_id=tenant_id, draft=_draft(body)))


@router.get("/requests", summary="List requests")
def list_requests(
    tenant_id: str,
    ctx: Ctx,
    actor: CurrentActor,
    state: RequestState | None = None,
    person_id: str | None = None,
    limit: int = Query(default=100, ge=1, le=500),
) -> list[RequestOut]:
    found = requests.list_requests(
        ctx,
        actor=actor,
        tenant_id=tenant_id,
        where=RequestFilter(state=state, person_id=person_id, limit=limit),
    )
    return [RequestOut.of(r) for r in found]


@router.get("/requests/{request_id}", summary="A request with its decision and proofs")
def get_request(tenant_id: str, request_id: str, ctx: Ctx, actor: CurrentActor) -> RequestOut:
    request, proofs = requests.get_request(ctx, actor=actor, tenant_id=tenant_id, request_id=request_id)
    return RequestOut.of(request, list(proofs))


@router.post("/requests/{request_id}/cancel", summary="Cancel a live request")
def cancel(tenant_id: str, request_id: str, body: CancelIn, ctx: Ctx, actor: CurrentActor) -> RequestOut:
    return RequestOut.of(
        requests.cancel_request(
            ctx, actor=actor, tenant_id=tenant_id, request_id=request_id, reason=body.reason
        )
    )


@router.post("/requests/{request_id}/proofs", status_code=201, summary="Start a proof of identity")
def start_proof(tenant_id: str, request_id: str, body: ProofIn, ctx: Ctx, actor: CurrentActor) -> ProofOut:
    return ProofOut.of(
        verification.start_proof(
            ctx, actor=actor, tenant_id=tenant_id, request_id=request_id, method=body.method
        )
    )


@router.post(
    "/requests/{request_id}/knowledge",
    status_code=201,
    summary="Record a knowledge answer (kept for the file; never counts as proof)",
)
def record_knowledge(
    tenant_id: str, request_id: str, body: KnowledgeIn, ctx: Ctx, actor: CurrentActor
) -> ProofOut:
    return ProofOut.of(
        verification.record_knowledge(
            ctx,
            actor=actor,
            tenant_id=tenant_id,
            request_id=request_id,
            topic=body.topic,
            matched=body.matched,
        )
    )


@router.post("/proofs/{proof_id}/totp", summary="Submit the code the person reads from their authenticator")
def submit_totp(tenant_id: str, proof_id: str, body: TotpIn, ctx: Ctx, actor: CurrentActor) -> ProofOut:
    return ProofOut.of(
        verification.submit_totp(ctx, actor=actor, tenant_id=tenant_id, proof_id=proof_id, code=body.code)
    )


@router.post(
    "/proofs/{proof_id}/otp",
    summary="Submit the code the person read back from the SMS or call sent to their registered phone",
)
def submit_otp(tenant_id: str, proof_id: str, body: OtpIn, ctx: Ctx, actor: CurrentActor) -> ProofOut:
    return ProofOut.of(
        verification.submit_otp(ctx, actor=actor, tenant_id=tenant_id, proof_id=proof_id, code=body.code)
    )


@router.post("/proofs/{proof_id}/attest", summary="Agent attests a call-back to the registered number")
def attest(tenant_id: str, proof_id: str, body: AttestIn, ctx: Ctx, actor: CurrentActor) -> ProofOut:
    return ProofOut.of(
        verification.attest_callback(
            ctx, actor=actor, tenant_id=tenant_id, proof_id=proof_id, reached=body.reached, note=body.note
        )
    )


@router.post("/requests/{request_id}/approvals", summary="Approve or deny (4-eyes)")
def decide(tenant_id: str, request_id: str, body: ApprovalIn, ctx: Ctx, actor: CurrentActor) -> RequestOut:
    return RequestOut.of(
        approvals.decide_approval(
            ctx,
            actor=actor,
            tenant_id=tenant_id,
            request_id=request_id,
            verdict=body.verdict,
            comment=body.comment,
            params_hash=body.params_hash,
        )
    )


@router.get("/approvals", summary="The approval inbox")
def inbox(tenant_id: str, ctx: Ctx, actor: CurrentActor) -> list[RequestOut]:
    return [RequestOut.of(r) for r in approvals.approval_inbox(ctx, actor=actor, tenant_id=tenant_id)]


@router.post(
    "/requests/{request_id}/execute", summary="Execute a ready request through the identity provider"
)
def execute(tenant_id: str, request_id: str, ctx: Ctx, actor: CurrentActor) -> ExecutionOut:
    done = execution.execute_request(ctx, actor=actor, tenant_id=tenant_id, request_id=request_id)
    return ExecutionOut(request=RequestOut.of(done.request), secret=done.secret_for_agent)
