"""Detection over HTTP: ingest (batches and vendor pushes), alerts, quarantine.

- ``POST /api/v1/ingest/{source}``: NDJSON, a JSON array or one JSON object; ``source`` is a
  parser name or ``auto``. Authenticated by an analyst or admin token; ``?tenant=`` when the
  token serves several tenants. Each record that cannot be read or normalised is reported with its
  index and reason and quarantined; the others are processed.
- ``GET|POST /api/v1/hooks/okta/{tenant}``: Okta event hooks. Okta sends the Authorization header
  configured on the hook (put a deskguard token there); the GET answers the one-time verification
  challenge.
- ``POST /api/v1/hooks/{source}/{tenant}``: a generic signed webhook. ``X-Deskguard-Timestamp``
  (epoch seconds) and ``X-Deskguard-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">``
  under the tenant's ingest key (``deskguard hooks key TENANT``). Outside the replay window, or a
  signature already used, is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections import OrderedDict
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from deskguard.api.deps import Ctx, CurrentActor
from deskguard.app import detection
from deskguard.detection.normalize import SOURCES
from deskguard.domain.errors import Conflict, Unauthenticated, ValidationFailed
from deskguard.domain.events import Actor, ActorKind
from deskguard.domain.ports import AlertQuery

router = APIRouter(prefix="/api/v1", tags=["detection"])
# The body is read raw (NDJSON cannot go through a JSON model); this documents it in the OpenAPI.
BATCH_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-ndjson": {"schema": {"type": "string", "description": "one JSON object per line"}},
            "application/json": {
                "schema": {"oneOf": [{"type": "array", "items": {"type": "object"}}, {"type": "object"}]}
            },
        },
    }
}


def ingest_key(webhook_key: bytes, tenant_id: str) -> bytes:
    """The tenant's own webhook key: one client's key never signs for another tenant."""
    return hmac.new(webhook_key, b"ingest:" + tenant_id.encode(), hashlib.sha256).digest()


def sign_ingest(key: bytes, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(key, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def _source(source: str) -> str | None:
    if source == "auto":
        return None
    if source not in SOURCES:
        raise ValidationFailed(
            f"unknown source {source!r}; one of auto, {', '.join(SOURCES)}", field="source"
        )
    return source


def _tenant(actor: Actor, tenant: str | None) -> str:
    if tenant:
        return tenant
    if len(actor.tenant_ids) == 1:
        return next(iter(actor.tenant_ids))
    raise ValidationFailed("this token serves several tenants: add ?tenant=<tenant id>", field="tenant")


async def _ingest(ctx: Any, actor: Actor, tenant_id: str, source: str | None, body: bytes) -> dict[str, Any]:
    result = await run_in_threadpool(
        detection.ingest, ctx, actor=actor, tenant_id=tenant_id, source=source, body=body
    )
    return {
        "tenant": tenant_id,
        "received": result.received,
        "accepted": result.accepted,
        "events": result.events,
        "quarantined": len(result.errors),
        "errors": [{"index": e.index, "reason": e.reason, "detail": e.detail} for e in result.errors],
        "alerts": [alert.to_dict() for alert in result.alerts],
        "responses": [
            {
                "run_id": o.run_id,
                "runbook": o.runbook_id,
                "alert_id": o.alert_id,
                "step": o.step,
                "kind": o.kind,
                "outcome": o.outcome,
                "attempts": o.attempts,
                "detail": o.detail,
            }
            for o in result.responses
        ],
    }


@router.post(
    "/ingest/{source}", summary="Ingest events: NDJSON, a JSON array or one object", openapi_extra=BATCH_BODY
)
async def ingest(
    source: str, request: Request, ctx: Ctx, actor: CurrentActor, tenant: str | None = Query(default=None)
) -> dict[str, Any]:
    return await _ingest(ctx, actor, _tenant(actor, tenant), _source(source), await request.body())


@router.get("/hooks/okta/{tenant_id}", summary="Okta event hook: the one-time verification challenge")
async def okta_verify(tenant_id: str, request: Request, actor: CurrentActor) -> dict[str, str]:
    detection.require_ingester(actor, tenant_id=tenant_id)
    challenge = request.headers.get("x-okta-verification-challenge", "")
    if not challenge:
        raise ValidationFailed(
            "missing X-Okta-Verification-Challenge header", field="x-okta-verification-challenge"
        )
    return {"verification": challenge}


@router.post("/hooks/okta/{tenant_id}", summary="Okta event hook delivery", openapi_extra=BATCH_BODY)
async def okta_hook(tenant_id: str, request: Request, ctx: Ctx, actor: CurrentActor) -> dict[str, Any]:
    return await _ingest(ctx, actor, tenant_id, "okta", await request.body())


@router.post(
    "/hooks/{source}/{tenant_id}",
    summary="Signed generic webhook (HMAC, timestamp, replay window)",
    openapi_extra=BATCH_BODY,
)
async def signed_hook(source: str, tenant_id: str, request: Request, ctx: Ctx) -> dict[str, Any]:
    body = await request.body()
    stamp = request.headers.get("x-deskguard-timestamp", "")
    given = request.headers.get("x-deskguard-signature", "")
    window = request.app.state.replay_window_s
    if not stamp.isdigit():
        raise Unauthenticated("missing or bad X-Deskguard-Timestamp (epoch seconds)")
    if abs(time.time() - int(stamp)) > window:
        raise Unauthenticated(f"X-Deskguard-Timestamp is outside the {window:.0f} s replay window")
    expected = sign_ingest(ingest_key(request.app.state.webhook_key, tenant_id), stamp, body)
    if not hmac.compare_digest(given, expected):
        raise Unauthenticated("missing or bad X-Deskguard-Signature")
    _remember(request.app.state.seen_signatures, given, window)
    actor = Actor(
        kind=ActorKind.SYSTEM, id=f"webhook:{source}", role="system", tenant_ids=frozenset({tenant_id})
    )
    return await _ingest(ctx, actor, tenant_id, _source(source), body)


def _remember(seen: OrderedDict[str, float], signature: str, window: float) -> None:
    """Signatures seen within twice the window (older ones are refused by their timestamp anyway)."""
    now = time.monotonic()
    while seen and next(iter(seen.values())) < now - 2 * window:
        seen.popitem(last=False)
    if signature in seen:
        raise Conflict("this signed delivery was already received (replay)", code="conflict.replay")
    seen[signature] = now


def _epoch(value: str | None, name: str) -> float | None:
    if not value:
        return None
    try:
        return (
            float(value) if value.replace(".", "", 1).isdigit() else datetime.fromisoformat(value).timestamp()
        )
    except ValueError:
        raise ValidationFailed(
            f"{name}: expected ISO 8601 or epoch seconds, got {value!r}", field=name
        ) from None


@router.get("/tenants/{tenant_id}/alerts", summary="The tenant's alerts, newest first, with filters")
def alerts(
    tenant_id: str,
    ctx: Ctx,
    actor: CurrentActor,
    rule_id: str | None = None,
    severity: str | None = Query(default=None, description="comma-separated, e.g. high,critical"),
    mode: str | None = Query(default=None, pattern="^(alert|monitor)$"),
    entity: str | None = Query(default=None, description="a user, IP, caller number... named by the alert"),
    since: str | None = None,
    until: str | None = None,
    limit: int = Query(default=100, ge=1, le=1000),
) -> list[dict[str, Any]]:
    query = AlertQuery(
        tenant_id=tenant_id,
        rule_id=rule_id,
        severities=frozenset(s.strip() for s in severity.split(",")) if severity else None,
        mode=mode,
        entity=entity,
        since=_epoch(since, "since"),
        until=_epoch(until, "until"),
        limit=limit,
    )
    return [alert.to_dict() for alert in detection.list_alerts(ctx, actor=actor, query=query)]


@router.get("/tenants/{tenant_id}/alerts/{alert_id}", summary="One alert")
def alert(tenant_id: str, alert_id: str, ctx: Ctx, actor: CurrentActor) -> dict[str, Any]:
    return detection.get_alert(ctx, actor=actor, tenant_id=tenant_id, alert_id=alert_id).to_dict()


@router.get("/tenants/{tenant_id}/quarantine", summary="Records the pipeline could not normalise")
def quarantine(
    tenant_id: str, ctx: Ctx, actor: CurrentActor, limit: int = Query(default=100, ge=1, le=1000)
) -> list[dict[str, Any]]:
    return [
        {
            "id": e.id,
            "source": e.source,
            "reason": e.reason,
            "detail": e.detail,
            "record": e.record,
            "received_at": e.received_at.isoformat(),
        }
        for e in detection.list_quarantine(ctx, actor=actor, tenant_id=tenant_id, limit=limit)
    ]
