"""Twilio's callbacks of an automated call-back: the keypad answer (gather) and the call status.

Form-encoded and signed by Twilio (``X-Twilio-Signature`` over the full public URL and the POST
parameters, keyed by the auth token), not by ``X-Deskguard-Signature``: hence their own routes. A
bad signature is refused before anything is read; a verified outcome goes to the same use case as
``/api/v1/webhooks/telephony``. The routes answer 404 unless Twilio is the configured telephony.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from deskguard.adapters.telephony.twilio import CallOutcome, TwilioTelephony
from deskguard.api.deps import Ctx
from deskguard.app import verification
from deskguard.app.context import AppContext
from deskguard.domain.errors import NotFound

router = APIRouter(prefix="/api/v1/webhooks/twilio", tags=["webhooks"])
SAID = {
    True: "Thank you. Your request is confirmed.",
    False: "The code did not match. Nothing was approved. Goodbye.",
}


def _twilio(ctx: AppContext) -> TwilioTelephony:
    telephony = getattr(ctx.channels.telephony, "fallback", ctx.channels.telephony)  # past tenant routing
    if not isinstance(telephony, TwilioTelephony):
        raise NotFound("Twilio is not the configured telephony", code="not_found.route")
    return telephony


async def _signed(request: Request) -> tuple[str, list[tuple[str, str]], str]:
    body = (await request.body()).decode("utf-8", errors="replace")
    params = parse_qsl(body, keep_blank_values=True)
    return request.url.path, params, request.headers.get("x-twilio-signature", "")


async def _report(ctx: AppContext, outcome: CallOutcome) -> None:
    if outcome.confirmed is not None:
        await run_in_threadpool(
            verification.callback_result, ctx, call_id=outcome.call_id, confirmed=outcome.confirmed
        )


@router.post("/gather", summary="Twilio <Gather> result of an automated call-back (TwiML reply)")
async def gather(request: Request, ctx: Ctx) -> Response:
    twilio = _twilio(ctx)
    path, params, signature = await _signed(request)
    url = twilio.callback_url(path, request.url.query)
    outcome = twilio.gather_outcome(url=url, params=params, signature=signature)
    await _report(ctx, outcome)
    said = SAID[bool(outcome.confirmed)]
    twiml = f'<?xml version="1.0" encoding="UTF-8"?><Response><Say>{said}</Say><Hangup/></Response>'
    return Response(twiml, media_type="application/xml")


@router.post("/status", summary="Twilio call status callback of an automated call-back", status_code=204)
async def status(request: Request, ctx: Ctx) -> Response:
    twilio = _twilio(ctx)
    path, params, signature = await _signed(request)
    url = twilio.callback_url(path, request.url.query)
    await _report(ctx, twilio.status_outcome(url=url, params=params, signature=signature))
    return Response(status_code=204)
