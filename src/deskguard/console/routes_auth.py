"""Sign-in (password, then TOTP or a passkey), sign-out, sign-out everywhere, and the language.

The password step sets a short-lived *half* cookie; the second step replaces it with the session
cookie (HttpOnly, Secure, SameSite=Strict, path /). Before the first step there is no session to
bind a CSRF token to; SameSite=Strict cookies and the ``Origin`` check below stand in for it there.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from deskguard.app.console_auth import (
    SignedIn,
    half_session,
    has_totp,
    sign_in_password,
    sign_in_totp,
    sign_out,
)
from deskguard.app.console_passkeys import has_passkeys
from deskguard.console.i18n import LANG_COOKIE, LANGUAGES
from deskguard.console.session import Acting, Ctx, session_token
from deskguard.console.web import ConsoleRoute, config, render
from deskguard.domain.errors import Forbidden, Unauthenticated

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)


def safe_next(target: str) -> str:
    """Only a path of this console: never another site (an open redirect is a phishing tool)."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def same_origin(request: Request) -> None:
    origin = request.headers.get("origin")
    if origin is not None and origin != "null":
        expected = f"{request.url.scheme}://{request.url.netloc}"
        if origin != expected:
            raise Forbidden("sign-in must come from this console's own page", code="csrf")


def set_cookie(response: Response, request: Request, name: str, value: str, max_age: int | None) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        secure=config(request).secure_cookies,
        httponly=True,
        samesite="strict",
    )


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    return render(request, "login.html", next=safe_next(next), error="", demo=config(request).demo)


@router.post("/login")
def login(
    request: Request,
    ctx: Ctx,
    login: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    same_origin(request)
    try:
        half = sign_in_password(
            ctx,
            login=login,
            password=password,
            client_ip=request.client.host if request.client else "",
            user_agent=request.headers.get("user-agent", ""),
        )
    except Unauthenticated as exc:
        page = render(request, "login.html", status=401, next=safe_next(next), error=exc.message, login=login)
        return page
    response = RedirectResponse(f"/login/second?next={safe_next(next)}", status_code=303)
    set_cookie(response, request, config(request).half_cookie, half.token, max_age=300)
    return response


@router.get("/login/second")
def second_page(request: Request, ctx: Ctx, next: str = "/") -> Response:
    return second_step(request, ctx, next=next)


def second_step(request: Request, ctx: Ctx, *, next: str, error: str = "") -> Response:
    """The second-factor page of the half session in the cookie (again, with ``error``, after a refusal);
    back to the first step when that session has ended."""
    token = request.cookies.get(config(request).half_cookie, "")
    try:
        _, account = half_session(ctx, token=token)
    except Unauthenticated:
        return RedirectResponse("/login", status_code=303)
    return render(
        request,
        "login_second.html",
        status=401 if error else 200,
        next=safe_next(next),
        totp=has_totp(account),
        passkey=has_passkeys(ctx, account_id=account.id),
        error=error,
    )


def signed_in(request: Request, signed: SignedIn, next: str) -> Response:
    console = config(request)
    target = safe_next(next)
    response = RedirectResponse(target if target != "/" else "/home", status_code=303)
    set_cookie(response, request, console.session_cookie, signed.token, max_age=None)
    response.delete_cookie(console.half_cookie, path="/", secure=console.secure_cookies, httponly=True)
    return response


@router.post("/login/totp")
def login_totp(
    request: Request,
    ctx: Ctx,
    code: Annotated[str, Form(max_length=12)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    same_origin(request)
    token = request.cookies.get(config(request).half_cookie, "")
    try:
        signed = sign_in_totp(ctx, token=token, code=code, timeouts=config(request).timeouts)
    except Unauthenticated as exc:
        return second_step(request, ctx, next=next, error=exc.message)
    return signed_in(request, signed, next)


@router.post("/logout")
def logout(request: Request, ctx: Ctx, seen: Acting, everywhere: Annotated[str, Form()] = "") -> Response:
    ended = sign_out(ctx, token=session_token(request), everywhere=everywhere == "1")
    del seen  # checked (session and CSRF) before signing out; nothing else to do with it
    response = render(request, "signed_out.html", ended=ended, everywhere=everywhere == "1")
    console = config(request)
    response.delete_cookie(console.session_cookie, path="/", secure=console.secure_cookies, httponly=True)
    return response


@router.post("/lang")
def language(
    request: Request, lang: Annotated[str, Form()] = "en", next: Annotated[str, Form()] = "/"
) -> Response:
    """Switch the language (a preference cookie; no state of the account changes)."""
    response = RedirectResponse(safe_next(next), status_code=303)
    if lang in LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, path="/", samesite="strict")
    return response
