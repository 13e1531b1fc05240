"""Guardrails of self-service: a sensitive change the person asked for waits, and they are told.

A request the person opened from the portal (origin ``self_service``) for an action of tier HIGH or
CRITICAL cannot be executed before ``Timeouts.self_service_delay`` has passed since it was opened
(``not_before``; the request's lifetime is extended by as much), even once its proofs and approvals
are complete: a stolen portal session cannot take over the account at once, and the person has time
to see the notice and say "this wasn't me". When such a request is opened, the person is notified
on their work e-mail (the ``email`` channel of ``ctx.channels.response_notifier``), with the time
the change takes effect.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog

from deskguard.app.context import AppContext
from deskguard.domain.actions import ActionKind, RiskTier, spec_for
from deskguard.domain.errors import ConnectorError, ConnectorTimeout, InvalidTransition
from deskguard.domain.model import Person
from deskguard.domain.requests import ActionRequest, RequestOrigin

log = structlog.get_logger("deskguard.self_service")


def hold_for(ctx: AppContext, *, kind: ActionKind, origin: RequestOrigin) -> timedelta:
    """How long a new request of this kind and origin is held (zero when it is not). The request's
    lifetime is extended by as much, so that it does not expire while it waits."""
    if origin != RequestOrigin.SELF_SERVICE or spec_for(kind).tier < RiskTier.HIGH:
        return timedelta()
    return ctx.timeouts.self_service_delay


def not_before(ctx: AppContext, request: ActionRequest) -> datetime | None:
    """When a self-service sensitive request may take effect; None when it is not held."""
    hold = hold_for(ctx, kind=request.kind, origin=request.origin)
    return request.created_at + hold if hold else None


def require_delay_passed(ctx: AppContext, request: ActionRequest) -> None:
    """Refuse to execute a held request before its time (checked when execution claims it)."""
    until = not_before(ctx, request)
    if until is not None and ctx.clock.now() < until:
        raise InvalidTransition(
            f"request {request.id} was asked from the portal and takes effect at "
            f"{until.isoformat(timespec='minutes')} at the earliest",
            code="invalid_transition.self_service_delay",
            details={"not_before": until.isoformat()},
        )


def notify_held(ctx: AppContext, *, request: ActionRequest, person: Person) -> str | None:
    """Tell the person a sensitive change was asked in their name and when it takes effect.

    Sent after the request is committed; a refused or timed-out delivery is logged and does not undo
    the request (the delay still holds it, and the portal lists it under recent actions)."""
    until = not_before(ctx, request)
    if until is None:
        return None
    spec = spec_for(request.kind)
    try:
        return ctx.channels.response_notifier.send(
            tenant_id=request.tenant_id,
            channel="email",
            to=person.email,
            subject=f"deskguard: {spec.summary.lower()} asked on your account",
            text=(
                f"A request to {spec.summary.lower()} on your account was made from the self-service "
                f"portal. It takes effect at {until.isoformat(timespec='minutes')} at the earliest. "
                "If this wasn't you, open the portal and press \"This wasn't me\" on it, "
                "or call the helpdesk."
            ),
            idempotency_key=f"{request.id}:self-service-notice",
        )
    except (ConnectorError, ConnectorTimeout, OSError) as exc:
        log.warning("self_service_notice_failed", request_id=request.id, error=str(exc))
        return None
