"""``create_app``: the FastAPI application over an ``AppContext``.

Routes parse, authenticate, call one use case and render; they hold no logic. Health: ``/healthz``
(the process answers) and ``/readyz`` (the database answers, the schema is current, the identity
provider is healthy). Bodies above ``max_body_bytes`` are refused with 413 before they are read.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from deskguard import __version__
from deskguard.api import errors
from deskguard.api.routes import audit, directory, events, grants, portal, requests, webhooks
from deskguard.app.context import AppContext


class BodyLimit:
    """Refuse oversized bodies: by Content-Length up front, and by counting a streamed body.

    Not FastAPI's own ``max_body_size``: its 413 is sent by Starlette's middleware, past the app's
    exception handlers, so it would not be problem+json like every other error of this API.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            await self._too_large(scope, receive, send)
            return
        if length is not None:
            await self.app(scope, receive, send)
            return
        # A streamed (chunked) body: buffer it up to the limit, then replay it to the app.
        messages, seen = [], 0
        while True:
            message = await receive()
            messages.append(message)
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                await self._too_large(scope, receive, send)
                return
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
        replay = iter(messages)

        async def replayed() -> Any:
            return next(replay, None) or await receive()

        await self.app(scope, replayed, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = errors.problem(
            413,
            code="payload_too_large",
            title="Payload too large",
            detail=f"request bodies are limited to {self.max_bytes} bytes",
        )
        await response(scope, receive, send)


def create_app(
    ctx: AppContext, *, webhook_key: bytes, max_body_bytes: int = 64 * 1024, readiness: Any = None
) -> FastAPI:
    app = FastAPI(
        title="deskguard",
        version=__version__,
        description="Security broker for IT helpdesks: every sensitive action requested, "
        "verified, approved, executed and explained.",
    )
    app.state.ctx = ctx
    app.state.webhook_key = webhook_key
    errors.install(app)
    for module in (directory, requests, grants, events, audit, portal, webhooks):
        app.include_router(module.router)

    @app.get("/healthz", tags=["health"], summary="Liveness")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], summary="Readiness: database, schema, identity provider")
    def readyz(request: Request) -> JSONResponse:
        checks = readiness() if readiness is not None else {}
        checks["idp"] = ctx.channels.idp.health().ok
        ok = all(checks.values())
        return JSONResponse(
            {"status": "ok" if ok else "unavailable", "checks": checks}, status_code=200 if ok else 503
        )

    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    return app
