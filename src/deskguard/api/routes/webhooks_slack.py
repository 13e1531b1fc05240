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
4. the message is updated through the payload's ``response_url`` with the outcome, or an ephemeral
   note says why nothing was applied. A refusal (unknown Slack user, requester clicking, …) is
   logged as ``slack_interaction_refused`` with the Slack user, team and the error code.

The route answers 404 unless ``DESKGUARD_SLACK_SIGNING_SECRET`` is set.
"""

from __future__ import annotations

import structlog
from fastapi import APIRouter, BackgroundTasks, Request, Response

from deskguard.adapters.channels.slack import (
    BlockAction,
    SlackInteractions,
    SlackSignatureError,
    parse_request_reference,
)
from deskguard.api.deps import Ctx
from deskguard.app.approvals import decide_approval
from deskguard.app.auth import resolve_subject
from deskguard.app.context import AppContext
from deskguard.domain.errors import DeskguardError, NotFound, Unauthenticated, ValidationFailed
from deskguard.domain.events import Actor

router = APIRouter(prefix="/api/v1/webhooks/slack", tags=["webhooks"])
log = structlog.get_logger("deskguard.slack")
DONE = {"approve": "Approved", "deny": "Denied"}


def _operator(ctx: AppContext, slack: SlackInteractions, action: BlockAction) -> tuple[Actor, str]:
    """The operator the Slack user is, and their username; ``Unauthenticated`` when nobody."""
    operator_id = slack.operator_map.get(action.user_id)
    email = None if operator_id else slack.user_email(action.user_id)
    with ctx.reads() as uow:
        operator = uow.operators.get(operator_id) if operator_id else None
        if operator is None and email:
            operator = uow.operators.get_by_username(email)
        if operator is None:
            raise Unauthenticated(
                f"Slack user {action.user_id} is not a deskguard operator "
                "(no DESKGUARD_SLACK_OPERATOR_MAP entry, no operator with their e-mail)",
                code="unauthenticated.slack_user",
            )
        return resolve_subject(uow, subject_kind="operator", subject_id=operator.id, tenant_id=None), (
            operator.username
        )


def apply_click(ctx: AppContext, slack: SlackInteractions, action: BlockAction) -> None:
    """After the acknowledgement: decide, then tell Slack (never raises: Slack has had its 200)."""
    try:
        tenant_id, request_id, params_hash = parse_request_reference(action.reference)
        actor, username = _operator(ctx, slack, action)
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
        text = f"{DONE[action.verdict]} by {username}: request {request.id} is now {request.state.value}."
        replace = True
    except (DeskguardError, ValueError) as exc:
        code = getattr(exc, "code", "validation")
        log.warning(
            "slack_interaction_refused",
            slack_user=action.user_id,
            slack_team=action.team_id,
            reference=action.reference,
            code=code,
            error=str(exc),
        )
        text, replace = f"Not applied ({code}): {exc}", False
    try:
        slack.respond(action.response_url, text=text, replace_original=replace)
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
    try:
        action = slack.parse(body)
    except ValueError as exc:
        raise ValidationFailed(str(exc), field=str(exc).split(":", 1)[0]) from None
    background.add_task(apply_click, ctx, slack, action)  # a sync task: Starlette runs it in a thread
    return Response(status_code=200)
