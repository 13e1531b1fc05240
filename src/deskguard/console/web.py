"""The console's plumbing: templates, the security headers, HTML errors, and ``install``.

Every console response carries a strict Content-Security-Policy (scripts and styles from this origin
only: no inline script, no ``eval``, htmx configured through its meta tag), ``frame-ancestors 'none'``,
``no-store`` caching and ``nosniff``. A domain error raised by a use case becomes an HTML page (or an
htmx fragment) with the error's words, never a stack trace; an ended session goes back to sign-in.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from deskguard.app.console_auth import Timeouts, Viewer
from deskguard.console.i18n import LANG_COOKIE, LANGUAGES, Translator, negotiate
from deskguard.domain.errors import DeskguardError, Forbidden, NotFound, Unauthenticated

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.globals["languages"] = LANGUAGES

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
API_PREFIXES = ("/api/", "/docs", "/redoc", "/openapi.json", "/healthz", "/readyz")


@dataclass(frozen=True, slots=True)
class ConsoleConfig:
    """How the console runs here. ``secure_cookies`` is off only for plain-HTTP test servers that are
    not on localhost (browsers accept Secure cookies from http://localhost and http://127.0.0.1)."""

    secure_cookies: bool = True
    timeouts: Timeouts = field(default_factory=Timeouts)
    demo: bool = False  # the sign-in page says where the demo credentials are

    @property
    def session_cookie(self) -> str:
        return "__Host-dg_session" if self.secure_cookies else "dg_session"

    @property
    def half_cookie(self) -> str:
        return "__Host-dg_half" if self.secure_cookies else "dg_half"


class LoginRequired(Exception):
    """No live session: go (back) to the sign-in page."""

    def __init__(self, reason: str = "") -> None:
        super().__init__(reason)
        self.reason = reason


def config(request: Request) -> ConsoleConfig:
    return request.app.state.console  # type: ignore[no-any-return]


def translator(request: Request) -> Translator:
    lang = negotiate(
        cookie=request.cookies.get(LANG_COOKIE), accept_language=request.headers.get("accept-language", "")
    )
    return Translator(lang)


def render(
    request: Request,
    template: str,
    *,
    viewer: Viewer | None = None,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A page (or, for htmx, a fragment) with the translator, the viewer, its CSRF token and menu."""
    from deskguard.console.session import csrf_for, menu, tenant_links

    t = translator(request)
    return templates.TemplateResponse(
        request,
        template,
        {
            "t": t,
            "lang": t.lang,
            "viewer": viewer,
            "csrf": csrf_for(request) if viewer is not None else "",
            "menu": menu(viewer, request) if viewer is not None else [],
            "tenants": tenant_links(viewer, request) if viewer is not None else [],
            "path": request.url.path,
            **context,
        },
        status_code=status,
    )


def login_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    url = "/login" + (f"?next={quote(target)}" if target not in ("/", "/home", "/login") else "")
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def error_page(request: Request, *, status: int, message: str) -> HTMLResponse:
    template = "fragments/error.html" if request.headers.get("hx-request") else "error.html"
    seen = getattr(request.state, "viewer", None)
    return render(request, template, viewer=seen, status=status, message=message, status_code=status)


def _status(exc: DeskguardError) -> int:
    if isinstance(exc, Forbidden):
        return 403
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, Unauthenticated):
        return 401
    return 409 if exc.code.startswith(("conflict", "invalid_transition")) else 422


class ConsoleRoute(APIRoute):
    """Console routes answer in HTML: domain errors become error pages, an ended session a redirect."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await original(request)
            except LoginRequired:
                return login_redirect(request)
            except DeskguardError as exc:
                return error_page(request, status=_status(exc), message=exc.message)
            except RequestValidationError as exc:
                first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid form"}
                name = ".".join(str(p) for p in first["loc"] if p not in ("body", "form"))
                return error_page(request, status=422, message=f"{name}: {first['msg']}")

        return handler


class SecurityHeaders:
    """The console's headers, on every response outside the JSON API and its docs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(API_PREFIXES):
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"content-security-policy", CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"same-origin"),
                    (b"cross-origin-opener-policy", b"same-origin"),
                    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
                ]
                if not scope["path"].startswith("/static/"):
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def install(app: FastAPI, console: ConsoleConfig) -> None:
    """Mount the console's pages and static files on the API's application."""
    app.state.console = console
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for found in sorted(pkgutil.iter_modules([str(HERE)]), key=lambda m: m.name):
        if found.name.startswith("routes_"):  # each area of the console is one routes_<area> module
            app.include_router(importlib.import_module(f"deskguard.console.{found.name}").router)
    app.add_middleware(SecurityHeaders)
