"""The approvers' channels get the request: a Slack message with Approve / Deny, a Teams card linking
to the console's approval page, when it waits for them.

When a request enters ``pending_approval`` (``app.requests.move_request``) and its tenant's
``notify.slack`` connector names an ``approvals_channel`` and/or its ``notify.teams`` connector an
``approvals_webhook``, ``queue`` stores one step of kind ``approval_notice`` per channel in the
transaction that records the state (the same notice in each): the message's content, fixed now
(``ApprovalNotice``: who asks, for whom, the action, the proofs, the risk and its reasons, the
ticket) and the request's parameters hash, which the buttons carry (``request/<tenant>/<request>/
<params hash>``), so a click on a message for parameters that changed since is refused by the
interactivity route.

Nothing calls Slack inside the request's transaction or its API call: the step is due at once and
the responder worker (``app.response_steps.retry_due``) posts it through
``ApprovalMessenger.post_approval`` with the idempotency key ``apn_<request id>:<index>``. Before
posting it reads the request again: one decided, expired or changed meanwhile is not posted (the
step is done, saying so). A timeout or a 429/5xx is retried with back-off, a refusal fails the step,
each outcome a ``response.step`` event on the ledger; the request stays pending either way and the
console's approval inbox and ``POST …/approvals`` work as without Slack. Each entry into
``pending_approval`` is one message per channel: the step index counts the steps, never the
attempts. A Teams card cannot round-trip a click: its one link opens the console's page for the
request. When the request leaves the state, ``app.approval_updates`` rewrites the Slack message.
"""

from __future__ import annotations

from datetime import datetime

from deskguard.app.context import AppContext
from deskguard.app.evaluation import request_facts
from deskguard.app.ticket_evidence import HOW
from deskguard.domain.actions import CATALOGUE
from deskguard.domain.errors import ConnectorError
from deskguard.domain.model import Ticket
from deskguard.domain.ports import UnitOfWork
from deskguard.domain.ports_approvals import ApprovalMessenger, ApprovalNotice
from deskguard.domain.requests import (
    METHOD_STRENGTH,
    ActionRequest,
    ProofMethod,
    RequestOrigin,
    RequestState,
)
from deskguard.domain.response import ResponseStep

KIND = "approval_notice"
RUNBOOK = "deskguard.approval_notice"  # the steps' runbook id: no runbook file, deskguard's own
CONNECTOR = "notify.slack"
TEAMS_CONNECTOR = "notify.teams"
TEAMS_TO = "approvals_webhook"  # the step's recipient: the Teams connector's approvers' webhook
MAX_STEPS = 200  # the steps (posts and updates, app.approval_updates) one request's run can have


def run_id_of(request_id: str) -> str:
    return f"apn_{request_id}"


def approvals_channel(uow: UnitOfWork, *, tenant_id: str) -> str | None:
    """The tenant's approvers' Slack channel; None when its Slack connector names none (or is off)."""
    row = uow.connectors.get(tenant_id=tenant_id, name=CONNECTOR)
    if row is None or not row.enabled or row.kind != "slack":
        return None
    channel = row.settings.get("approvals_channel")
    return channel if isinstance(channel, str) and channel else None


def approvals_webhook_set(uow: UnitOfWork, *, tenant_id: str) -> bool:
    """Whether the tenant's Teams connector names an approvers' webhook (the URL itself stays in the
    adapter: it is a credential, never in a step's parameters)."""
    row = uow.connectors.get(tenant_id=tenant_id, name=TEAMS_CONNECTOR)
    if row is None or not row.enabled or row.kind != "teams":
        return False
    return bool(row.settings.get("approvals_webhook"))


def targets(uow: UnitOfWork, *, tenant_id: str) -> list[tuple[str, str]]:
    """``(channel, to)`` of every approvers' channel the tenant configured, Slack first."""
    found: list[tuple[str, str]] = []
    to = approvals_channel(uow, tenant_id=tenant_id)
    if to is not None:
        found.append(("slack", to))
    if approvals_webhook_set(uow, tenant_id=tenant_id):
        found.append(("teams", TEAMS_TO))
    return found


def free_index(uow: UnitOfWork, *, tenant_id: str, run_id: str) -> int | None:
    """The run's first unused step index; None past ``MAX_STEPS``."""
    return next(
        (
            i
            for i in range(MAX_STEPS)
            if uow.response_steps.get(tenant_id=tenant_id, run_id=run_id, index=i) is None
        ),
        None,
    )


def queue(ctx: AppContext, uow: UnitOfWork, *, request: ActionRequest) -> list[ResponseStep]:
    """In the caller's transaction, as ``request`` enters ``pending_approval``: one step per
    approvers' channel, each posting the same notice; none when the tenant names no channel."""
    if request.state != RequestState.PENDING_APPROVAL:
        return []
    channels = targets(uow, tenant_id=request.tenant_id)
    if not channels:
        return []
    run_id = run_id_of(request.id)
    first = free_index(uow, tenant_id=request.tenant_id, run_id=run_id)
    if first is None or first + len(channels) > MAX_STEPS:
        return []  # a request bouncing in and out of the state that often gets no more messages
    now = ctx.clock.now()
    notice = notice_for(ctx, uow, request=request, now=now).to_dict()
    steps = [
        ResponseStep.for_request(
            tenant_id=request.tenant_id,
            person_id=request.person_id,
            run_id=run_id,
            index=first + i,
            runbook_id=RUNBOOK,
            kind=KIND,
            params={"channel": channel, "to": to, "request_id": request.id, "notice": notice},
            now=now,
        )
        for i, (channel, to) in enumerate(channels)
    ]
    for step in steps:
        uow.response_steps.add(step)
    return steps


def deliver(ctx: AppContext, step: ResponseStep) -> str:
    """The step's post (by the responder, outside any transaction); what it did, in words."""
    notice = ApprovalNotice.from_dict(step.params["notice"])
    with ctx.reads() as uow:
        request = uow.requests.get(tenant_id=step.tenant_id, request_id=notice.request_id)
    if request is None:
        return f"not posted: request {notice.request_id} is gone"
    if request.state != RequestState.PENDING_APPROVAL:
        return f"not posted: request {request.id} is {request.state.value} now"
    if request.params_hash != notice.params_hash:
        return f"not posted: request {request.id} changed since it waited for approval"
    messenger = ctx.channels.response_notifier
    if not isinstance(messenger, ApprovalMessenger):
        raise ConnectorError("the notification connectors of this deployment post no approval messages")
    ref = messenger.post_approval(
        tenant_id=step.tenant_id,
        channel=step.params["channel"],
        to=step.params["to"],
        notice=notice,
        idempotency_key=step.idempotency_key,
    )
    return f"posted the approval request of {request.id} to {step.params['to']} ({ref})"


def notice_for(ctx: AppContext, uow: UnitOfWork, *, request: ActionRequest, now: datetime) -> ApprovalNotice:
    """The message's content, from what deskguard stored about the request (no secret, no number)."""
    person = uow.persons.get(tenant_id=request.tenant_id, person_id=request.person_id)
    who = f"{person.display_name} ({person.email})" if person else request.person_id
    if person is not None and person.privileged:
        who += ", privileged"
    proofs = uow.proofs.list_for_request(tenant_id=request.tenant_id, request_id=request.id)
    collected = [
        f"{HOW.get(p.method, p.method.value.replace('_', ' '))} ({METHOD_STRENGTH[p.method].name.lower()})"
        for p in proofs
        if p.counts
    ]
    if any(p.method == ProofMethod.KNOWLEDGE for p in proofs):
        collected.append("knowledge answers (recorded, never proof of identity)")
    ticket = (
        uow.tickets.get(tenant_id=request.tenant_id, ticket_id=request.ticket_id)
        if request.ticket_id
        else None
    )
    return ApprovalNotice(
        tenant_id=request.tenant_id,
        request_id=request.id,
        params_hash=request.params_hash,
        action=CATALOGUE[request.kind].summary,
        person=who,
        requester=_requester(uow, request),
        justification=request.justification,
        proofs=tuple(collected),
        risk=_risk(ctx, uow, request=request, ticket=ticket, now=now),
        ticket=f"{ticket.external_ref or ticket.id} ({ticket.channel.value})" if ticket else "",
        approver_role=str(request.decision.get("approvals", {}).get("role", "supervisor")),
        expires_at=request.expires_at.isoformat(timespec="minutes"),
    )


def _requester(uow: UnitOfWork, request: ActionRequest) -> str:
    if request.origin == RequestOrigin.SELF_SERVICE:
        return "the person, from their self-service portal session"
    operator = uow.operators.get(request.requester_id)
    if operator is None:
        return request.requester_id
    provider = uow.providers.get(operator.provider_id)
    company = f", {provider.name} ({provider.kind.value})" if provider else ""
    desk = f", workstation {operator.workstation}" if operator.workstation else ""
    return f"{operator.display_name} ({operator.username}){company}{desk}"


def _risk(
    ctx: AppContext, uow: UnitOfWork, *, request: ActionRequest, ticket: Ticket | None, now: datetime
) -> str:
    """The request's risk score now, the signals behind it, and why the policy wants an approval."""
    facts = request_facts(uow, request=request, ticket=ticket, now=now)
    decision = request.decision
    why = [r.get("message", "") for r in decision.get("step_ups", []) if r.get("message")]
    approvals = decision.get("approvals", {})
    parts = [
        f"{facts['request.risk_score']:.0f}/100 (action tier {decision.get('tier', '?')})",
        f"signals: {facts['request.risk_reasons'] or 'none'}",
        f"approval: {approvals.get('missing', 1)} of {approvals.get('required', 1)} "
        f"by a {approvals.get('role', 'supervisor')}" + (f" ({'; '.join(why)})" if why else ""),
    ]
    return "; ".join(parts)
