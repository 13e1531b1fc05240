"""Sign-in with the company's OpenID provider, when configured (``DESKGUARD_OIDC_*``).

``/login/oidc`` sends the browser to the provider with state, nonce and a PKCE challenge, kept sealed
in a ten-minute cookie; ``/login/oidc/callback`` checks the state, lets the adapter exchange the code
and validate the ID token, and opens a full session. That cookie is ``SameSite=Lax``: the callback
arrives from the provider's site, where a Strict cookie is not sent. For the same reason the callback
answers with a page that moves on to the console itself, so the Strict session cookie flows.
"""

from __future__ import annotations

import base64
import json

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from deskguard.adapters.oidc_signin import OidcSignIn, Transaction
from deskguard.app.console_oidc import sign_in_oidc
from deskguard.console.routes_auth import set_cookie
from deskguard.console.session import Ctx
from deskguard.console.web import ConsoleRoute, config, render
from deskguard.domain.errors import NotFound, Unauthenticated

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
TX_COOKIE, TX_CONTEXT = "dg_oidc", "console-oidc"


def _client(request: Request) -> OidcSignIn:
    oidc = getattr(request.app.state, "oidc", None)
    if oidc is None:
        raise NotFound("sign-in with a company account is not configured")
    return oidc


def _callback_url(request: Request) -> str:
    return str(request.url_for("oidc_callback"))


@router.get("/login/oidc")
def start(request: Request, ctx: Ctx) -> Response:
    url, tx = _client(request).begin(redirect_uri=_callback_url(request))
    sealed = ctx.secrets.seal(json.dumps(tx.as_dict()).encode(), context=TX_CONTEXT)
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        TX_COOKIE,
        base64.urlsafe_b64encode(sealed).decode(),
        max_age=600,
        path="/login/oidc",
        secure=config(request).secure_cookies,
        httponly=True,
        samesite="lax",
    )
    return response


def _refused(request: Request, message: str) -> Response:
    return render(request, "login.html", status=401, next="/", error="", oidc_error=message, demo=False)


@router.get("/login/oidc/callback", name="oidc_callback")
def callback(request: Request, ctx: Ctx, code: str = "", state: str = "", error: str = "") -> Response:
    oidc = _client(request)
    try:
        sealed = base64.urlsafe_b64decode(request.cookies.get(TX_COOKIE, ""))
        tx = Transaction(**json.loads(ctx.secrets.open(sealed, context=TX_CONTEXT)))
    except Exception:  # noqa: BLE001 - missing, expired or forged: all the same refusal
        return _refused(request, "the sign-in took too long or did not start here; start again")
    if error or not code or state != tx.state:
        return _refused(request, error or "the answer does not belong to this sign-in; start again")
    try:
        claims = oidc.finish(code=code, redirect_uri=_callback_url(request), tx=tx)
        signed = sign_in_oidc(
            ctx,
            claims=claims,
            require_mfa=oidc.require_mfa,
            timeouts=config(request).timeouts,
            client_ip=request.client.host if request.client else "",
            user_agent=request.headers.get("user-agent", ""),
        )
    except Unauthenticated as exc:
        return _refused(request, exc.message)
    response = render(request, "passkeys/oidc_done.html")
    set_cookie(response, request, config(request).session_cookie, signed.token, max_age=None)
    response.delete_cookie(TX_COOKIE, path="/login/oidc")
    return response
