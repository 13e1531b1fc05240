"""Passkeys in the console: register one on ``/account``; use one as the second step of signing in.

The browser side is ``static/passkeys.js``: it asks for the options (JSON), calls
``navigator.credentials.create`` / ``get``, puts the credential (JSON) in the form's hidden field and
submits the form, so the answer is an ordinary page (a redirect, or the page with the error). The
relying party is the console as this request reached it (``app.console_passkeys.RelyingParty``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from deskguard.app.console_passkeys import (
    MAX_LABEL,
    MAX_RESPONSE,
    RelyingParty,
    authentication_options,
    passkeys_of,
    register_passkey,
    registration_options,
    sign_in_passkey,
)
from deskguard.console.routes_auth import same_origin, second_step, signed_in
from deskguard.console.session import Acting, Ctx
from deskguard.console.web import ConsoleRoute, config, render
from deskguard.domain.errors import Unauthenticated, ValidationFailed

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
JSON = "application/json"


def relying_party(request: Request) -> RelyingParty:
    return RelyingParty(id=request.url.hostname or "", origin=f"{request.url.scheme}://{request.url.netloc}")


@router.post("/account/passkeys/options")
def register_options(request: Request, ctx: Ctx, seen: Acting) -> Response:
    return Response(registration_options(ctx, seen=seen, rp=relying_party(request)), media_type=JSON)


@router.post("/account/passkeys")
def register(
    request: Request,
    ctx: Ctx,
    seen: Acting,
    credential: Annotated[str, Form(max_length=MAX_RESPONSE)] = "",
    label: Annotated[str, Form(max_length=MAX_LABEL)] = "",
) -> Response:
    try:
        if not credential:
            raise ValidationFailed(
                "passkeys need JavaScript and a browser that supports them", field="credential"
            )
        register_passkey(ctx, seen=seen, rp=relying_party(request), response_json=credential, label=label)
    except ValidationFailed as exc:
        return render(
            request,
            "account.html",
            viewer=seen,
            status=422,
            passkeys=passkeys_of(ctx, seen=seen),
            passkey_error=exc.message,
        )
    return RedirectResponse("/account?passkey=added", status_code=303)


@router.post("/login/passkey/options")
def sign_in_options(request: Request, ctx: Ctx) -> Response:
    same_origin(request)
    token = request.cookies.get(config(request).half_cookie, "")
    return Response(authentication_options(ctx, token=token, rp=relying_party(request)), media_type=JSON)


@router.post("/login/passkey")
def sign_in(
    request: Request,
    ctx: Ctx,
    credential: Annotated[str, Form(max_length=MAX_RESPONSE)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    same_origin(request)
    token = request.cookies.get(config(request).half_cookie, "")
    try:
        signed = sign_in_passkey(
            ctx,
            token=token,
            rp=relying_party(request),
            response_json=credential or "{}",
            timeouts=config(request).timeouts,
        )
    except (Unauthenticated, ValidationFailed) as exc:
        return second_step(request, ctx, next=next, error=exc.message)
    return signed_in(request, signed, next)
