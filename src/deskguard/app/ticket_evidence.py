"""The helpdesk ticket gets the evidence back: a request's final state, in words, on its ITSM ticket.

When a request reaches a final state (executed, failed, denied, expired, cancelled) and names a
ticket (``ActionRequest.ticket_id``, whose ``external_ref`` is the ITSM's reference), ``queue`` stores
one runbook-like step of kind ``ticket_evidence`` in the transaction that records the final state:
a comment written from the request's evidence (``evidence_text``) — the action and the person, the
proofs that counted and how, what did not count, the approvals, the outcome, the request id and
the ledger record of its final event. Never a secret: no code, no challenge, no produced secret,
no phone number.

Nothing calls the ITSM inside the request's transaction or its API call: the step is stored due at
once and the responder worker (``app.response_steps.retry_due``) writes it with the idempotency key
``tev_<request id>:<index>``, retries it with back-off on a timeout or a 429/5xx (an unknown outcome
stays ``retrying``, never "probably done") and records each outcome as a ``response.step`` event.
A second step puts the ticket in its resolved state after an executed request when the deployment
says so (``DESKGUARD_TICKETING_RESOLVE_EXECUTED``, off by default), through the optional
``TicketResolver`` port method; an adapter without it fails that step on the record.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from deskguard.app.context import AppContext
from deskguard.app.ledger import origin_of
from deskguard.domain.actions import CATALOGUE
from deskguard.domain.errors import ConnectorError
from deskguard.domain.events import DomainEvent
from deskguard.domain.ports import Channels, UnitOfWork
from deskguard.domain.ports_response import TicketResolver
from deskguard.domain.requests import (
    METHOD_STRENGTH,
    ActionRequest,
    Approval,
    ApprovalVerdict,
    Proof,
    ProofMethod,
    ProofStatus,
    RequestState,
)
from deskguard.domain.response import ResponseStep

KIND = "ticket_evidence"
RUNBOOK = "deskguard.ticket_evidence"  # the steps' runbook id: no runbook file, deskguard's own
HOW: dict[ProofMethod, str] = {
    ProofMethod.PUSH_NUMBER_MATCH: "push with number matching to the person's enrolled device",
    ProofMethod.TOTP: "one-time code from the person's enrolled authenticator app",
    ProofMethod.CALLBACK_AUTOMATED: "automated call-back to the registered number",
    ProofMethod.CALLBACK_AGENT: "call-back by the agent to the registered number",
    ProofMethod.SELF_SERVICE_INITIATED: "request made from the person's authenticated self-service session",
    ProofMethod.MANAGER_CONFIRMATION: "confirmation by the person's manager",
    ProofMethod.EXTERNAL_IDV: "external identity verification",
    ProofMethod.OTP_SMS: "one-time code sent to the registered phone, read back by the person",
    ProofMethod.KNOWLEDGE: "knowledge answers",
}
_OUTCOME = {
    RequestState.EXECUTED: "Executed",
    RequestState.FAILED: "Failed",
    RequestState.DENIED: "Refused",
    RequestState.EXPIRED: "Expired",
    RequestState.CANCELLED: "Cancelled",
}


def run_id_of(request: ActionRequest) -> str:
    return f"tev_{request.id}"


def queue(
    ctx: AppContext, uow: UnitOfWork, *, request: ActionRequest, event: DomainEvent
) -> list[ResponseStep]:
    """In the caller's transaction: the steps that bring ``request``'s final state to its ticket
    (``event`` is the one that recorded that state); none when it is not final or names no ticket."""
    if not request.terminal or request.ticket_id is None:
        return []
    ticket = uow.tickets.get(tenant_id=request.tenant_id, ticket_id=request.ticket_id)
    if ticket is None or not ticket.external_ref:
        return []
    text = evidence_text(ctx, uow, request=request, event=event)
    actions = [{"action": "comment", "ticket_ref": ticket.external_ref, "text": text}]
    if ctx.resolve_tickets and request.state == RequestState.EXECUTED:
        actions.append({"action": "resolve", "ticket_ref": ticket.external_ref})
    now = ctx.clock.now()
    steps = [
        ResponseStep.for_request(
            tenant_id=request.tenant_id,
            person_id=request.person_id,
            run_id=run_id_of(request),
            index=index,
            runbook_id=RUNBOOK,
            kind=KIND,
            params={**params, "request_id": request.id},
            now=now,
        )
        for index, params in enumerate(actions)
    ]
    for step in steps:
        uow.response_steps.add(step)
    return steps


def deliver(channels: Channels, step: ResponseStep) -> str:
    """The step's ITSM call (by the responder, outside any transaction); what it did, in words."""
    p, ticketing = step.params, channels.ticketing
    if p["action"] == "comment":
        ref = ticketing.comment(
            tenant_id=step.tenant_id,
            ticket_ref=p["ticket_ref"],
            text=p["text"],
            idempotency_key=step.idempotency_key,
        )
        return f"wrote the evidence of {p['request_id']} on ticket {p['ticket_ref']} ({ref})"
    if not isinstance(ticketing, TicketResolver):
        raise ConnectorError(f"the ticketing connector cannot resolve ticket {p['ticket_ref']}")
    ref = ticketing.resolve(
        tenant_id=step.tenant_id, ticket_ref=p["ticket_ref"], idempotency_key=step.idempotency_key
    )
    return f"resolved ticket {p['ticket_ref']} after {p['request_id']} ({ref})"


def evidence_text(ctx: AppContext, uow: UnitOfWork, *, request: ActionRequest, event: DomainEvent) -> str:
    """The comment, in plain words, from what deskguard stored about the request."""
    person = uow.persons.get(tenant_id=request.tenant_id, person_id=request.person_id)
    who = f"{person.display_name} ({person.email})" if person else request.person_id
    proofs = uow.proofs.list_for_request(tenant_id=request.tenant_id, request_id=request.id)
    approvals = uow.approvals.list_for_request(tenant_id=request.tenant_id, request_id=request.id)
    lines = [
        f"deskguard: {CATALOGUE[request.kind].summary} for {who} — {_OUTCOME[request.state].lower()}.",
        f"Requested by {_name(uow, request.requester_id)} ({request.origin.value.replace('_', ' ')})"
        + (f": {request.justification}" if request.justification else "."),
        *_proof_lines(proofs, request),
        *_approval_lines(uow, approvals),
        _outcome_line(request, event),
        f"deskguard request {request.id}; ledger record of event {event.id} "
        f"(log {origin_of(ctx, request.tenant_id)}).",
    ]
    return "\n".join(lines)


def _proof_lines(proofs: Sequence[Proof], request: ActionRequest) -> list[str]:
    counted = [p for p in proofs if p.counts]
    lines = [
        "Verified by "
        + " + ".join(f"{HOW[p.method]} ({METHOD_STRENGTH[p.method].name.lower()})" for p in counted)
        + "."
        if counted
        else "No proof of identity counted."
    ]
    if any(p.method == ProofMethod.KNOWLEDGE for p in proofs):
        lines.append("Did not count: knowledge answers (recorded, never proof of identity).")
    unsuccessful = [
        p for p in proofs if p.method != ProofMethod.KNOWLEDGE and p.status != ProofStatus.SUCCEEDED
    ]
    for proof in unsuccessful:
        why = f": {proof.failure_reason}" if proof.failure_reason else ""
        lines.append(f"Did not succeed: {HOW[proof.method]} ({proof.status.value}{why}).")
    known = {m.value: m for m in HOW}
    for method, why in request.decision.get("disallowed_proofs", {}).items():
        if method in known:
            lines.append(f"Not accepted here: {HOW[known[method]]} ({why}).")
    return lines


def _approval_lines(uow: UnitOfWork, approvals: Sequence[Approval]) -> list[str]:
    lines = []
    for a in approvals:
        verb = "Approved" if a.verdict == ApprovalVerdict.APPROVE else "Refused"
        said = f': "{a.comment}"' if a.comment else ""
        lines.append(
            f"{verb} by {_name(uow, a.approver_id)} ({a.approver_role}) at {_at(a.decided_at)}{said}."
        )
    return lines or ["No approval was given."]


def _outcome_line(request: ActionRequest, event: DomainEvent) -> str:
    at = _at(request.updated_at)
    if request.state == RequestState.EXECUTED:
        connector = event.data.get("connector")
        secret = request.result.get("secret") or {}
        sent = (
            f"; the new secret went to the {secret['delivered_to'].replace('_', ' ')}"
            if "delivered_to" in secret
            else ""
        )
        return f"Executed at {at}" + (f" by {connector}" if connector else "") + f"{sent}."
    if request.state == RequestState.DENIED:
        reasons = [r.get("message", "") for r in request.decision.get("blocking_reasons", [])]
        because = "; ".join(r for r in reasons if r) or "the policy's requirements were not met"
        return f"Refused at {at}: {because}."
    reason = request.failure_reason or (
        "its proofs or approvals were not complete in time"
        if request.state == RequestState.EXPIRED
        else "no reason given"
    )
    return f"{_OUTCOME[request.state]} at {at}: {reason}."


def _name(uow: UnitOfWork, actor_id: str) -> str:
    operator = uow.operators.get(actor_id)
    return f"{operator.display_name} ({operator.username})" if operator else actor_id


def _at(moment: datetime) -> str:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)  # stored in UTC
    return aware.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
