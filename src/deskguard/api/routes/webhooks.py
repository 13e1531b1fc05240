"""Provider callbacks: telephony call-back outcomes and identity-verification verdicts.

Signed with HMAC-SHA256 over the raw body (header ``X-Deskguard-Signature: sha256=<hex>``) using
``DESKGUARD_WEBHOOK_SECRET``; an unsigned or badly signed call is refused before parsing.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import TypeVar

from fastapi import APIRouter, Request
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from deskguard.api.deps import Ctx
from deskguard.api.schemas import IdvWebhookIn, ProofOut, TelephonyWebhookIn
from deskguard.app import verification
from deskguard.domain.errors import Unauthenticated, ValidationFailed

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])
M = TypeVar("M", bound=BaseModel)


def sign(key: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


async def _signed(request: Request, model: type[M]) -> M:
    """The body, once its signature checks out, parsed into ``model`` (errors name the field)."""
    body = await request.body()
    given = request.headers.get("x-deskguard-signature", "")
    if not hmac.compare_digest(given, sign(request.app.state.webhook_key, body)):
        raise Unauthenticated("missing or bad X-Deskguard-Signature")
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ValidationFailed(
            f"{'.'.join(map(str, first['loc']))}: {first['msg']}", field=".".join(map(str, first["loc"]))
        ) from None


@router.post("/telephony", summary="Outcome of an automated call-back")
async def telephony(request: Request, ctx: Ctx) -> ProofOut:
    body = await _signed(request, TelephonyWebhookIn)
    return ProofOut.of(
        await run_in_threadpool(
            verification.callback_result, ctx, call_id=body.call_id, confirmed=body.confirmed
        )
    )


@router.post("/idv", summary="Verdict of an external identity verification")
async def idv(request: Request, ctx: Ctx) -> ProofOut:
    body = await _signed(request, IdvWebhookIn)
    return ProofOut.of(
        await run_in_threadpool(
            verification.idv_result, ctx, session_id=body.session_id, verified=body.verified
        )
    )
