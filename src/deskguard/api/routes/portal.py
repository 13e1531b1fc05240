"""The employee's self-service portal API: pushes to answer, manager confirmations, own requests,
identity checks (with the person's own link to each: the only API that returns it, and to persons only).

Authenticated with the person's portal token; the console issue adds the pages on top of it.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from deskguard.api.deps import Ctx, CurrentActor
from deskguard.api.schemas import ConfirmIn, ProofOut, PushAnswerIn, RequestOut, SelfServiceIn
from deskguard.app import push_subscriptions, requests, verification, verification_idv
from deskguard.domain.errors import NotFound
from deskguard.domain.events import Actor, ActorKind

router = APIRouter(prefix="/api/v1/portal", tags=["portal"])


def _tenant(actor: Actor) -> str:
    if actor.kind != ActorKind.PERSON:
        raise NotFound("the portal is for employees' own sessions", code="not_found.portal")
    return next(iter(actor.tenant_ids))


@router.get("/pending", summary="Verifications waiting for me: pushes and manager confirmations")
def pending(ctx: Ctx, actor: CurrentActor) -> list[ProofOut]:
    return [
        ProofOut.of(p) for p in verification.pending_for_person(ctx, actor=actor, tenant_id=_tenant(actor))
    ]


@router.post(
    "/pushes/{proof_id}", summary="Answer a push: approve with the number the agent read out, or deny"
)
def answer_push(proof_id: str, body: PushAnswerIn, ctx: Ctx, actor: CurrentActor) -> ProofOut:
    proof = verification.respond_push(
        ctx,
        actor=actor,
        tenant_id=_tenant(actor),
        proof_id=proof_id,
        approve=body.approve,
        number=body.number,
    )
    return ProofOut.of(proof)


@router.post("/confirmations/{proof_id}", summary="As the manager, confirm a report's request")
def confirm(proof_id: str, body: ConfirmIn, ctx: Ctx, actor: CurrentActor) -> ProofOut:
    return ProofOut.of(
        verification.confirm_as_manager(
            ctx, actor=actor, tenant_id=_tenant(actor), proof_id=proof_id, confirm=body.confirm
        )
    )


@router.post("/requests", status_code=201, summary="Open a request for my own account")
def self_service(body: SelfServiceIn, ctx: Ctx, actor: CurrentActor) -> RequestOut:
    draft = requests.RequestDraft(
        kind=body.kind, person_id=actor.id, params=body.params, justification=body.justification
    )
    return RequestOut.of(requests.open_request(ctx, actor=actor, tenant_id=_tenant(actor), draft=draft))


class PushKeysIn(BaseModel):
    p256dh: str = Field(min_length=80, max_length=100)
    auth: str = Field(min_length=20, max_length=30)


class PushSubscriptionIn(BaseModel):
    """``PushSubscription.toJSON()`` of the browser (``expirationTime`` is accepted and ignored)."""

    endpoint: str = Field(min_length=9, max_length=2048)
    keys: PushKeysIn
    expirationTime: int | None = None  # noqa: N815 - the browser's own name


class PushSubscriptionOut(BaseModel):
    id: str
    endpoint: str


class PushUnsubscribeIn(BaseModel):
    endpoint: str = Field(min_length=9, max_length=2048)


@router.post("/push-subscriptions", status_code=201, summary="Register this device for Web Push")
def subscribe_push(body: PushSubscriptionIn, ctx: Ctx, actor: CurrentActor) -> PushSubscriptionOut:
    sub = push_subscriptions.subscribe(
        ctx,
        actor=actor,
        tenant_id=_tenant(actor),
        endpoint=body.endpoint,
        p256dh=body.keys.p256dh,
        auth=body.keys.auth,
    )
    return PushSubscriptionOut(id=sub.id, endpoint=sub.endpoint)


@router.delete("/push-subscriptions", status_code=204, summary="Stop Web Push to this device")
def unsubscribe_push(body: PushUnsubscribeIn, ctx: Ctx, actor: CurrentActor) -> Response:
    push_subscriptions.unsubscribe(ctx, actor=actor, tenant_id=_tenant(actor), endpoint=body.endpoint)
    return Response(status_code=204)


class IdentityCheckOut(BaseModel):
    proof_id: str
    request_id: str
    kind: str
    opened_by: str  # the agent's display name; "" when the person opened the request
    opened_at: datetime
    expires_at: datetime
    url: str  # the person's link to the vendor's check: a bearer secret, theirs only


@router.get("/identity-checks", summary="My pending identity checks, with my link to each")
def identity_checks(ctx: Ctx, actor: CurrentActor) -> list[IdentityCheckOut]:
    return [
        IdentityCheckOut(
            proof_id=c.proof.id,
            request_id=c.request.id,
            kind=c.request.kind.value,
            opened_by=c.opened_by,
            opened_at=c.request.created_at,
            expires_at=c.expires_at,
            url=c.url,
        )
        for c in verification_idv.identity_checks(ctx, actor=actor, tenant_id=_tenant(actor))
    ]
