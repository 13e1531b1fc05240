"""Slack's Interactivity Request URL: Approve / Deny clicks on an action request's approval message.

``POST /api/v1/webhooks/slack/interactions`` (form-encoded ``payload=`` of a ``block_actions``):

1. the ``X-Slack-Signature`` over the raw body and the 5-minute ``X-Slack-Request-Timestamp`` are
   checked first (401 otherwise), then the payload is read (a clear 422 naming what is wrong);
2. Slack is acknowledged at once (200, empty body: Slack wants an answer within 3 s);
3. after the acknowledgement, the Slack user is mapped to a deskguard operator (the configured
   ``DESKGUARD_SLACK_OPERATOR_MAP`` entry, else the Slack profile e-mail equal to an operator's
   username) and the verdict goes through ``app.approvals.decide_approval``, the use case of
   ``POST /api/v1/tenants/{t}/requests/{id}/approvals``, with the parameters hash the button
   carries: role, tenant, 4-eyes and separation-of-duties checks are the API's own;
4. a decision replaces the message's buttons with the outcome ("Approved by <operator> at <time>")
   through the payload's ``response_url`` (while more approvals are needed the buttons stay, the
   outcome above them); a refusal (unknown Slack user, not an approver, stale parameters, already
   decided, the requester or the target clicking) is an ephemeral note to the clicker only, saying
   why in plain words (``refusal_text``), and is logged as ``slack_interaction_refused`` with the
   Slack user, team and the error code.

The route answers 404 unless ``DESKGUARD_SLACK_SIGNING_SECRET`` is set; it decides the requests of
tenants whose Slack app is the deployment's (no ``notify.slack`` connector with a signing secret of
its own). A tenant's own Slack app (its ``notify.slack`` connector with ``signing_secret``) has the
Request URL ``/api/v1/webhooks/slack/{tenant_id}/interactions``: checked with that app's signing
secret (same 5-minute window), its clickers mapped by that connector's ``operator_map`` and bot
token, and only that tenant's requests decided (a reference naming another tenant is refused as an
unknown request); everything that cannot be checked there is one 404 (``api.webhook_tenants``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC

import structlog
from fastapi import APIRouter, BackgroundTasks, Request, Response
from starlette.concurrency import run_in_threadpool

from deskguard.adapters.channels.slack import (
    BlockAction,
    SlackInteractions,
    SlackNotifier,
    SlackSignatureError,
    decided_blocks,
    parse_request_reference,
)
from deskguard.api.deps import Ctx
from deskguard.api.webhook_tenants import deployment_serves, only, refused, tenant_adapter
from deskguard.app.approvals import decide_approval
from deskguard.app.auth import resolve_subject
from deskguard.app.context import AppContext
from deskguard.domain.errors import DeskguardError, NotFound, Unauthenticated, ValidationFailed
from deskguard.domain.events import Actor
from deskguard.domain.model import Operator
from deskguard.domain.requests import RequestState

router = APIRouter(prefix="/api/v1/webhooks/slack", tags=["webhooks"])
log = structlog.get_logger("deskguard.slack")
DONE = {"approve": "Approved", "deny": "Denied"}


PLAIN: dict[str, str] = {
    "unauthenticated.slack_user": "your Slack account is not linked to a deskguard operator (no "
    "operator map entry, and no operator has your Slack e-mail); ask a deskguard administrator to link it",
    "forbidden.role": "you are not an approver in deskguard",
    "forbidden.approval_role": "this request needs an approver of a higher role",
    "not_found.tenant": "you are not an operator of this request's organisation",
    "not_found.request": "this request does not exist (any more) in deskguard",
    "invalid_transition.params_changed": "the request changed after this message was posted; "
    "open it in the deskguard console and review it again",
    "invalid_transition.expired": "the request expired before anyone decided it",
    "separation_of_duties.requester": "you opened this request, so someone else must approve it (4-eyes)",
    "separation_of_duties.target": "the request is about your own account, so someone else must decide it",
    "connector_failed": "deskguard could not ask Slack who you are; try again, or decide in the console",
    "connector_timeout": "deskguard could not ask Slack who you are; try again, or decide in the console",
    "not_a_request": "this button does not decide a helpdesk request",
}
NOT_WAITING = frozenset({RequestState.DRAFT.value, RequestState.PENDING_VERIFICATION.value})


def refusal_text(code: str, message: str) -> str:
    """What the clicker reads: the code, for support, and why in plain words."""
    why = PLAIN.get(code)
    state = code.removeprefix("invalid_transition.").removesuffix("_approval")
    if why is None and code.startswith("invalid_transition.") and state in NOT_WAITING:
        why = f"the request is not waiting for an approval yet (it is {state.replace('_', ' ')})"
    elif why is None and code.startswith("invalid_transition.") and state in set(RequestState):
        why = f"the request was already decided: it is {state.replace('_', ' ')} now"
    detail = f" ({message})" if why and code.startswith("forbidden") else ""
    return f"Not applied ({code}): {why or message}{detail}. Nothing was changed."


def _operator(ctx: AppContext, slack: SlackInteractions, action: BlockAction) -> tuple[Actor, Operator]:
    """The operator the Slack user is; ``Unauthenticated`` when nobody."""
    operator_id = slack.operator_map.get(action.user_id)
    email = None if operator_id else slack.user_email(action.user_id)
    with ctx.reads() as uow:
        operator = uow.operators.get(operator_id) if operator_id else None
        if operator is None and email:
            operator = uow.operators.get_by_username(email)
        if operator is None:
            raise Unauthenticated(
                f"Slack user {action.user_id} is not a deskguard operator "
                "(no operator map entry, no operator with their e-mail)",
                code="unauthenticated.slack_user",
            )
        actor = resolve_subject(uow, subject_kind="operator", subject_id=operator.id, tenant_id=None)
        return actor, operator


def apply_click(
    ctx: AppContext, slack: SlackInteractions, action: BlockAction, owner: Callable[[str], bool] | None = None
) -> None:
    """After the acknowledgement: decide, then tell Slack (never raises: Slack has had its 200).
    ``owner``: the tenants whose requests this Slack app may decide; another's is an unknown request."""
    try:
        try:
            tenant_id, request_id, params_hash = parse_request_reference(action.reference)
        except ValueError as exc:
            raise ValidationFailed(str(exc), code="not_a_request") from None
        if owner is not None and not owner(tenant_id):
            raise NotFound(f"request {request_id} not found", code="not_found.request")
        actor, operator = _operator(ctx, slack, action)
        comment = f"{DONE[action.verdict].lower()} in Slack by {action.user_name or action.user_id}"
        request = decide_approval(
            ctx,
            actor=actor,
            tenant_id=tenant_id,
            request_id=request_id,
            verdict=action.verdict,
            comment=comment,
            params_hash=params_hash,
        )
    except DeskguardError as exc:
        log.warning(
            "slack_interaction_refused",
            slack_user=action.user_id,
            slack_team=action.team_id,
            reference=action.reference,
            code=exc.code,
            error=str(exc),
        )
        _answer(slack, action, text=refusal_text(exc.code, str(exc)), replace=False)
        return
    at = ctx.clock.now().astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    waiting = request.state == RequestState.PENDING_APPROVAL
    then = (
        "still waits for another approval" if waiting else f"is now {request.state.value.replace('_', ' ')}"
    )
    who = f"{operator.display_name} ({operator.username})"
    text = f"{DONE[action.verdict]} by {who} at {at}: request {request.id} {then}."
    blocks = decided_blocks(action.message_blocks, outcome=text, keep_buttons=waiting)
    _answer(slack, action, text=text, replace=True, blocks=blocks)


def _answer(
    slack: SlackInteractions,
    action: BlockAction,
    *,
    text: str,
    replace: bool,
    blocks: list[dict[str, object]] | None = None,
) -> None:
    try:
        slack.respond(action.response_url, text=text, replace_original=replace, blocks=blocks)
    except DeskguardError as exc:  # the decision stands; only the message update failed
        log.error("slack_response_url_failed", error=str(exc), reference=action.reference)


@router.post("/interactions", summary="Slack Approve/Deny clicks (block_actions)")
async def interactions(request: Request, ctx: Ctx, background: BackgroundTasks) -> Response:
    slack: SlackInteractions | None = getattr(request.app.state, "slack", None)
    if slack is None:
        raise NotFound("Slack interactivity is not configured", code="not_found.route")
    body = await request.body()
    try:
        slack.verify(headers=request.headers, body=body, now=ctx.clock.now().timestamp())
    except SlackSignatureError as exc:
        raise Unauthenticated(str(exc)) from None
    action = _action(slack, body)
    port = ctx.channels.response_notifier

    def owner(tenant_id: str) -> bool:
        return deployment_serves(port, tenant_id, "slack", inbound=_own_app)

    background.add_task(apply_click, ctx, slack, action, owner)  # a sync task: Starlette runs it in a thread
    return Response(status_code=200)


@router.post("/{tenant_id}/interactions", summary="Approve/Deny clicks from a tenant's own Slack app")
async def tenant_interactions(
    tenant_id: str, request: Request, ctx: Ctx, background: BackgroundTasks
) -> Response:
    notifier = await run_in_threadpool(
        tenant_adapter, ctx.channels.response_notifier, tenant_id, "slack", vendor=SlackNotifier, name="slack"
    )
    slack = notifier.interactions()
    if slack is None:
        raise refused(tenant_id=tenant_id, vendor="slack", reason="the Slack connector has no signing_secret")
    body = await request.body()
    try:
        slack.verify(headers=request.headers, body=body, now=ctx.clock.now().timestamp())
    except SlackSignatureError as exc:
        raise refused(tenant_id=tenant_id, vendor="slack", reason=str(exc)) from None
    action = _action(slack, body)
    background.add_task(apply_click, ctx, slack, action, only(tenant_id))
    return Response(status_code=200)


def _own_app(adapter: object) -> bool:
    """A tenant's Slack connector with a signing secret is its own Slack app, with its own URL."""
    return isinstance(adapter, SlackNotifier) and adapter.interactions() is not None


def _action(slack: SlackInteractions, body: bytes) -> BlockAction:
    try:
        return slack.parse(body)
    except ValueError as exc:
        raise ValidationFailed(str(exc), field=str(exc).split(":", 1)[0]) from None
