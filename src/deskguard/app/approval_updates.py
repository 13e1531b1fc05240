"""The posted approval message kept current: once the request no longer waits, its buttons go.

A Slack approval message (``app.approval_notices``) keeps live Approve / Deny buttons until someone
rewrites it; a decision taken in the console or the API, an expiry or a cancellation would leave
them there, and a later click would only learn "already decided". So when a request leaves
``pending_approval`` by any path (``app.requests.move_request``), ``queue`` stores, in that
transaction, one step of kind ``approval_update`` in the request's approval run (``apn_<request
id>``, the next free index) for the Slack message of the latest entry into the state. Its outcome
text is fixed now, from the new state and who moved it ("Approved by sup (sup@desk.example) at
2026-12-01 09:00 UTC: request r_1 is now ready.", "Expired at …", "Cancelled by … at …").

Nothing calls Slack in the deciding transaction: the responder worker runs the step
(``deliver``) through ``ApprovalUpdater.update_approval`` (Slack's ``chat.update`` on the channel
and ``ts`` that ``chat.postMessage`` answered, kept in the post step's outcome). If the post never
succeeded (failed, still retrying, or "not posted" because the request was already decided) the
step is done with nothing updated: there is no message to correct, and a post still retrying
will not post for a request that no longer waits. A Slack click's own answer (``response_url``)
already rewrote its message; the update writes the same outcome again, harmlessly. Teams cards are
never updated: a Workflows webhook returns no message id, and their link opens the console, which
shows the decision.
"""

from __future__ import annotations

import re
from datetime import UTC

from deskguard.app import approval_notices
from deskguard.app.context import AppContext
from deskguard.domain.errors import ConnectorError
from deskguard.domain.events import Actor, ActorKind
from deskguard.domain.ports import UnitOfWork
from deskguard.domain.ports_approvals import ApprovalNotice, ApprovalUpdater
from deskguard.domain.requests import ActionRequest, RequestState
from deskguard.domain.response import ResponseStep, StepStatus

KIND = "approval_update"
CHANNELS = ("slack",)  # the channels whose posted message can be rewritten
_POSTED = re.compile(r"\((slack:[^\s():]+:[^\s()]+)\)$")  # the reference at the end of a post's detail
_SAID = {
    RequestState.READY: "Approved",
    RequestState.DENIED: "Denied",
    RequestState.CANCELLED: "Cancelled",
}


def posted_ref(step: ResponseStep) -> str | None:
    """The message reference of a post step that posted (``slack:<channel id>:<ts>``), else None."""
    if step.kind != approval_notices.KIND or step.status != StepStatus.DONE:
        return None
    found = _POSTED.search(step.detail)
    return found.group(1) if found and step.detail.startswith("posted ") else None


def latest_post(uow: UnitOfWork, *, request: ActionRequest, channel: str) -> ResponseStep | None:
    """The request's latest post step to ``channel`` (the message of its latest entry into the state)."""
    run_id = approval_notices.run_id_of(request.id)
    last = approval_notices.free_index(uow, tenant_id=request.tenant_id, run_id=run_id)
    for index in range((approval_notices.MAX_STEPS if last is None else last) - 1, -1, -1):
        step = uow.response_steps.get(tenant_id=request.tenant_id, run_id=run_id, index=index)
        if step is not None and step.kind == approval_notices.KIND and step.params.get("channel") == channel:
            return step
    return None


def outcome_text(uow: UnitOfWork, *, request: ActionRequest, actor: Actor, at: str) -> str:
    """What the message says once the request left ``pending_approval``, in the Slack click's words."""
    then = f"request {request.id} is now {request.state.value.replace('_', ' ')}"
    if request.state == RequestState.EXPIRED:
        return f"Expired at {at}: {then}, undecided."
    said = _SAID.get(request.state)
    if said is None:
        return f"No longer waiting for approval at {at}: {then}."
    return f"{said} by {_who(uow, actor)} at {at}: {then}."


def queue(
    ctx: AppContext, uow: UnitOfWork, *, request: ActionRequest, previous: RequestState, actor: Actor
) -> list[ResponseStep]:
    """In the caller's transaction, as ``request`` leaves ``pending_approval``: one step per posted
    (or still posting) message to rewrite; none when nothing was posted or can be."""
    if previous != RequestState.PENDING_APPROVAL or request.state == RequestState.PENDING_APPROVAL:
        return []
    now = ctx.clock.now()
    at = now.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    run_id = approval_notices.run_id_of(request.id)
    steps: list[ResponseStep] = []
    for channel in CHANNELS:
        post = latest_post(uow, request=request, channel=channel)
        if post is None or post.status == StepStatus.FAILED:
            continue  # never posted, or refused for good: no message to correct
        index = approval_notices.free_index(uow, tenant_id=request.tenant_id, run_id=run_id)
        if index is None:
            break
        step = ResponseStep.for_request(
            tenant_id=request.tenant_id,
            person_id=request.person_id,
            run_id=run_id,
            index=index,
            runbook_id=approval_notices.RUNBOOK,
            kind=KIND,
            params={
                "channel": channel,
                "request_id": request.id,
                "post_index": post.index,
                "outcome": outcome_text(uow, request=request, actor=actor, at=at),
            },
            now=now,
        )
        uow.response_steps.add(step)
        steps.append(step)
    return steps


def deliver(ctx: AppContext, step: ResponseStep) -> str:
    """The step's rewrite (by the responder, outside any transaction); what it did, in words."""
    p = step.params
    with ctx.reads() as uow:
        post = uow.response_steps.get(
            tenant_id=step.tenant_id, run_id=step.run_id, index=int(p["post_index"])
        )
    if post is None:
        return f"not updated: the approval message of {p['request_id']} was never queued"
    ref = posted_ref(post)
    if ref is None:
        return (
            f"not updated: the approval message of {p['request_id']} was never posted ({post.status.value})"
        )
    updater = ctx.channels.response_notifier
    if not isinstance(updater, ApprovalUpdater):
        raise ConnectorError("the notification connectors of this deployment update no approval messages")
    updated = updater.update_approval(
        tenant_id=step.tenant_id,
        channel=p["channel"],
        message_ref=ref,
        notice=ApprovalNotice.from_dict(post.params["notice"]),
        outcome=p["outcome"],
        idempotency_key=step.idempotency_key,
    )
    return f"updated the approval message of {p['request_id']} ({updated}): {p['outcome']}"


def _who(uow: UnitOfWork, actor: Actor) -> str:
    if actor.kind == ActorKind.PERSON:
        return "the person"
    if actor.kind != ActorKind.OPERATOR:
        return "deskguard"
    operator = uow.operators.get(actor.id)
    return f"{operator.display_name} ({operator.username})" if operator else actor.id
