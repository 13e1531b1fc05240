"""Use cases of the portal devices' Web Push subscriptions: a person registers, or removes, the
subscription their browser's push service gave (``domain.ports_push``).

The person acts for themselves only (a portal session); each change is recorded in the ledger, since
which devices get woken for a verification is part of the evidence. The push itself is sent by the
``PushChannel`` (``adapters.channels.webpush``) when a verification starts.
"""

from __future__ import annotations

import base64
from urllib.parse import urlsplit

from deskguard.app.access import require_person
from deskguard.app.context import AppContext
from deskguard.app.outbox import emit
from deskguard.domain.errors import NotFound, ValidationFailed
from deskguard.domain.events import Actor, EventType
from deskguard.domain.ports_push import PushSubscription

MAX_PER_PERSON = 10
MAX_ENDPOINT = 2048


def _b64url(value: str, *, field: str, size: int) -> str:
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except ValueError:
        raw = b""
    if len(raw) != size or any(c in value for c in "+/"):
        raise ValidationFailed(f"{field}: {size} bytes in base64url expected", field=field)
    return value.rstrip("=")


def check_endpoint(endpoint: str) -> str:
    parts = urlsplit(endpoint)
    if parts.scheme != "https" or not parts.hostname or len(endpoint) > MAX_ENDPOINT:
        raise ValidationFailed(
            "endpoint: the push service's https:// URL (at most 2048 characters)", field="endpoint"
        )
    return endpoint


def subscribe(
    ctx: AppContext, *, actor: Actor, tenant_id: str, endpoint: str, p256dh: str, auth: str
) -> PushSubscription:
    """Registers (or renews) a subscription of the signed-in person's device."""
    require_person(actor, tenant_id=tenant_id)
    subscription = PushSubscription(
        id=ctx.random.new_id("psub"),
        tenant_id=tenant_id,
        person_id=actor.id,
        endpoint=check_endpoint(endpoint),
        p256dh=_b64url(p256dh, field="keys.p256dh", size=65),
        auth=_b64url(auth, field="keys.auth", size=16),
        created_at=ctx.clock.now(),
    )
    if not subscription.p256dh.startswith("B"):  # 0x04: an uncompressed point
        raise ValidationFailed("keys.p256dh: an uncompressed P-256 point (0x04...)", field="keys.p256dh")
    with ctx.uow() as uow:
        existing = uow.push_subscriptions.list(tenant_id=tenant_id, person_id=actor.id)
        if len(existing) >= MAX_PER_PERSON and all(s.endpoint != endpoint for s in existing):
            raise ValidationFailed(
                f"endpoint: at most {MAX_PER_PERSON} devices per person; remove one first", field="endpoint"
            )
        uow.push_subscriptions.add(subscription)
        emit(
            ctx,
            uow,
            type=EventType.PUSH_DEVICE_SUBSCRIBED,
            actor=actor,
            tenant_id=tenant_id,
            person_id=actor.id,
            subscription_id=subscription.id,
            push_service=urlsplit(endpoint).hostname,
        )
        uow.commit()
    return subscription


def unsubscribe(ctx: AppContext, *, actor: Actor, tenant_id: str, endpoint: str) -> None:
    """Removes one of the person's own subscriptions; another's, or an unknown one, is not found."""
    require_person(actor, tenant_id=tenant_id)
    with ctx.uow() as uow:
        if not uow.push_subscriptions.remove(tenant_id=tenant_id, endpoint=endpoint, person_id=actor.id):
            raise NotFound("no such push subscription of yours", code="not_found.push_subscription")
        emit(
            ctx,
            uow,
            type=EventType.PUSH_DEVICE_UNSUBSCRIBED,
            actor=actor,
            tenant_id=tenant_id,
            person_id=actor.id,
            push_service=urlsplit(endpoint).hostname,
        )
        uow.commit()
