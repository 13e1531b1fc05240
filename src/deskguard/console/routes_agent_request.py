"""The request page: run the proofs with live status, wait for the approval, execute, done.

``/t/{tenant}/requests/{id}`` shows the decision in words (what is still needed, why, the scripts),
the proofs (push with the number to read out; TOTP entry; the automated call-back and the agent's
call-back, both to the *registered* number, shown and never editable; a one-time code sent to the
registered phone, shown masked, and the field for the code read back; an identity check says where
its link went, never the link), who may approve, and the result. Its status region polls
``…/status`` every 2 s: unchanged is a 204 (htmx swaps nothing), a change answers ``HX-Refresh``
so the page reloads with the new state. Every gesture is a plain form post that comes back to the
page (it works without JavaScript). The secret an action may produce is never shown: it goes to
the person's verified channel (``app.execution``).
"""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from deskguard.app import agent_desk, execution, verification
from deskguard.console.routes_agent import scripts_for
from deskguard.console.session import Acting, Ctx, Seen
from deskguard.console.web import ConsoleRoute, render, translator
from deskguard.domain.otp_sms import masked_number
from deskguard.domain.requests import ProofMethod

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
STARTABLE = (
    ProofMethod.PUSH_NUMBER_MATCH,
    ProofMethod.TOTP,
    ProofMethod.CALLBACK_AUTOMATED,
    ProofMethod.CALLBACK_AGENT,
    ProofMethod.MANAGER_CONFIRMATION,
    ProofMethod.EXTERNAL_IDV,
)


def fingerprint(view: agent_desk.RequestView) -> str:
    """What the status poll compares: the request's version and every proof's status."""
    parts = [f"{view.request.state}:{view.request.version}"] + [f"{p.id}:{p.status}" for p in view.proofs]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def _back(tenant_id: str, request_id: str) -> RedirectResponse:
    return RedirectResponse(f"/t/{tenant_id}/requests/{request_id}", status_code=303)


@router.get("/t/{tenant_id}/requests/{request_id}")
def request_page(request: Request, tenant_id: str, request_id: str, ctx: Ctx, seen: Seen) -> Response:
    view = agent_desk.request_view(ctx, actor=seen.actor, tenant_id=tenant_id, request_id=request_id)
    decision = view.request.decision
    acceptable = {m for s in decision.get("acceptable_proof_sets", []) for m in s}
    phone = view.person.registered_phone()
    sending = phone is not None and ProofMethod.OTP_SMS.value in acceptable
    sending = sending and not any(  # one code at a time, unless its sending was never confirmed
        p.method == ProofMethod.OTP_SMS and p.status == "pending" and p.challenge.get("delivery") == "sent"
        for p in view.proofs
    )
    return render(
        request,
        "agent/request.html",
        viewer=seen,
        tenant_id=tenant_id,
        view=view,
        decision=decision,
        scripts=scripts_for(
            translator(request).lang,
            decision,
            privileged=view.person.privileged,
            phone_recent=view.phone_recent,
        ),
        startable=[m.value for m in STARTABLE if m.value in acceptable],
        # the code goes to the registered phone only: its own control shows where, masked
        otp_to=masked_number(phone.number) if phone and sending else "",
        fingerprint=fingerprint(view),
    )


@router.get("/t/{tenant_id}/requests/{request_id}/status")
def status(
    request: Request, tenant_id: str, request_id: str, ctx: Ctx, seen: Seen, seen_as: str = ""
) -> Response:
    view = agent_desk.request_view(ctx, actor=seen.actor, tenant_id=tenant_id, request_id=request_id)
    if fingerprint(view) == seen_as:
        return Response(status_code=204)
    return Response(status_code=200, headers={"HX-Refresh": "true"})


@router.post("/t/{tenant_id}/requests/{request_id}/proofs")
def start_proof(
    tenant_id: str, request_id: str, ctx: Ctx, seen: Acting, method: Annotated[str, Form(max_length=40)]
) -> Response:
    verification.start_proof(ctx, actor=seen.actor, tenant_id=tenant_id, request_id=request_id, method=method)
    return _back(tenant_id, request_id)


@router.post("/t/{tenant_id}/requests/{request_id}/knowledge")
def record_knowledge(
    tenant_id: str,
    request_id: str,
    ctx: Ctx,
    seen: Acting,
    topic: Annotated[str, Form(min_length=1, max_length=80)],
    matched: Annotated[str, Form()] = "",
) -> Response:
    verification.record_knowledge(
        ctx,
        actor=seen.actor,
        tenant_id=tenant_id,
        request_id=request_id,
        topic=topic,
        matched=matched == "yes",
    )
    return _back(tenant_id, request_id)


@router.post("/t/{tenant_id}/requests/{request_id}/proofs/{proof_id}/totp")
def submit_totp(
    tenant_id: str,
    request_id: str,
    proof_id: str,
    ctx: Ctx,
    seen: Acting,
    code: Annotated[str, Form(max_length=12)],
) -> Response:
    verification.submit_totp(ctx, actor=seen.actor, tenant_id=tenant_id, proof_id=proof_id, code=code)
    return _back(tenant_id, request_id)


@router.post("/t/{tenant_id}/requests/{request_id}/proofs/{proof_id}/otp")
def submit_otp(
    tenant_id: str,
    request_id: str,
    proof_id: str,
    ctx: Ctx,
    seen: Acting,
    code: Annotated[str, Form(max_length=16)],
) -> Response:
    verification.submit_otp(ctx, actor=seen.actor, tenant_id=tenant_id, proof_id=proof_id, code=code)
    return _back(tenant_id, request_id)


@router.post("/t/{tenant_id}/requests/{request_id}/proofs/{proof_id}/attest")
def attest(
    tenant_id: str,
    request_id: str,
    proof_id: str,
    ctx: Ctx,
    seen: Acting,
    reached: Annotated[str, Form()],
    note: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    verification.attest_callback(
        ctx, actor=seen.actor, tenant_id=tenant_id, proof_id=proof_id, reached=reached == "yes", note=note
    )
    return _back(tenant_id, request_id)


@router.post("/t/{tenant_id}/requests/{request_id}/execute")
def execute(tenant_id: str, request_id: str, ctx: Ctx, seen: Acting) -> Response:
    # ``secret_for_agent`` is dropped on purpose: the console never shows a produced secret (its
    # requests never ask for one either: routes_agent.NOT_FROM_CONSOLE).
    execution.execute_request(ctx, actor=seen.actor, tenant_id=tenant_id, request_id=request_id)
    return _back(tenant_id, request_id)
