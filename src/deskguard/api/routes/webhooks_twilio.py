"""Twilio's callbacks of an automated call-back: the keypad answer (gather) and the call status.

Form-encoded and signed by Twilio (``X-Twilio-Signature`` over the full public URL and the POST
parameters, keyed by the auth token), not by ``X-Deskguard-Signature``: hence their own routes. A
bad signature is refused before anything is read; a verified outcome goes to the same use case as
``/api/v1/webhooks/telephony``.

- ``/api/v1/webhooks/twilio/gather|status``: the deployment's Twilio account (404 unless Twilio is
  the deployment's telephony); it settles the calls of tenants without a telephony of their own.
- ``/api/v1/webhooks/twilio/{tenant_id}/gather|status``: a tenant's own account (its ``telephony``
  connector of kind ``twilio`` gives Twilio these URLs), checked with that account's token, settling
  that tenant's calls only; everything that cannot be checked is one 404 (``api.webhook_tenants``).
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from deskguard.adapters.telephony.twilio import CallOutcome, TwilioTelephony
from deskguard.api.deps import Ctx
from deskguard.api.webhook_tenants import deployment, deployment_serves, only, refused, tenant_adapter
from deskguard.app import verification
from deskguard.app.context import AppContext
from deskguard.domain.errors import NotFound, Unauthenticated

router = APIRouter(prefix="/api/v1/webhooks/twilio", tags=["webhooks"])
SAID = {
    True: "Thank you. Your request is confirmed.",
    False: "The code did not match. Nothing was approved. Goodbye.",
}


Owner = Callable[[str], bool]


def _twilio(ctx: AppContext) -> TwilioTelephony:
    telephony = deployment(ctx.channels.telephony)  # past tenant routing
    if not isinstance(telephony, TwilioTelephony):
        raise NotFound("Twilio is not the configured telephony", code="not_found.route")
    return telephony


def _deployments(ctx: AppContext) -> Owner:
    return lambda tenant_id: deployment_serves(ctx.channels.telephony, tenant_id)


async def _tenant_twilio(ctx: AppContext, tenant_id: str) -> TwilioTelephony:
    return await run_in_threadpool(
        tenant_adapter, ctx.channels.telephony, tenant_id, vendor=TwilioTelephony, name="twilio"
    )


async def _signed(request: Request) -> tuple[str, list[tuple[str, str]], str]:
    body = (await request.body()).decode("utf-8", errors="replace")
    params = parse_qsl(body, keep_blank_values=True)
    return request.url.path, params, request.headers.get("x-twilio-signature", "")


async def _report(ctx: AppContext, outcome: CallOutcome, owner: Owner) -> None:
    if outcome.confirmed is not None:
        await run_in_threadpool(
            verification.callback_result,
            ctx,
            call_id=outcome.call_id,
            confirmed=outcome.confirmed,
            owner=owner,
        )


def _twiml(outcome: CallOutcome) -> Response:
    said = SAID[bool(outcome.confirmed)]
    twiml = f'<?xml version="1.0" encoding="UTF-8"?><Response><Say>{said}</Say><Hangup/></Response>'
    return Response(twiml, media_type="application/xml")


async def _gathered(request: Request, twilio: TwilioTelephony) -> CallOutcome:
    path, params, signature = await _signed(request)
    url = twilio.callback_url(path, request.url.query)
    return twilio.gather_outcome(url=url, params=params, signature=signature)


async def _status(request: Request, twilio: TwilioTelephony) -> CallOutcome:
    path, params, signature = await _signed(request)
    url = twilio.callback_url(path, request.url.query)
    return twilio.status_outcome(url=url, params=params, signature=signature)


@router.post("/gather", summary="Twilio <Gather> result of an automated call-back (TwiML reply)")
async def gather(request: Request, ctx: Ctx) -> Response:
    outcome = await _gathered(request, _twilio(ctx))
    await _report(ctx, outcome, _deployments(ctx))
    return _twiml(outcome)


@router.post("/status", summary="Twilio call status callback of an automated call-back", status_code=204)
async def status(request: Request, ctx: Ctx) -> Response:
    await _report(ctx, await _status(request, _twilio(ctx)), _deployments(ctx))
    return Response(status_code=204)


@router.post("/{tenant_id}/gather", summary="<Gather> result of a call by a tenant's own Twilio account")
async def tenant_gather(tenant_id: str, request: Request, ctx: Ctx) -> Response:
    twilio = await _tenant_twilio(ctx, tenant_id)
    try:
        outcome = await _gathered(request, twilio)
    except Unauthenticated as exc:
        raise refused(tenant_id=tenant_id, vendor="twilio", reason=str(exc)) from None
    await _report(ctx, outcome, only(tenant_id))
    return _twiml(outcome)


@router.post(
    "/{tenant_id}/status", summary="Call status callback of a tenant's own Twilio account", status_code=204
)
async def tenant_status(tenant_id: str, request: Request, ctx: Ctx) -> Response:
    twilio = await _tenant_twilio(ctx, tenant_id)
    try:
        outcome = await _status(request, twilio)
    except Unauthenticated as exc:
        raise refused(tenant_id=tenant_id, vendor="twilio", reason=str(exc)) from None
    await _report(ctx, outcome, only(tenant_id))
    return Response(status_code=204)
