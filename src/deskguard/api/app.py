"""``create_app``: the FastAPI application over an ``AppContext``.

Routes parse, authenticate, call one use case and render; they hold no logic. Health: ``/healthz``
(the process answers) and ``/readyz`` (the database answers, the schema is current, the identity
provider is healthy). Bodies above ``max_body_bytes`` are refused with 413 before they are read.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from deskguard import __version__
from deskguard.api import errors
from deskguard.api.routes import (
    assurance,
    audit,
    connectors,
    detection,
    directory,
    events,
    exercises,
    exports,
    grants,
    portal,
    requests,
    responses,
    triage,
    webhooks,
    webhooks_idv,
    webhooks_slack,
    webhooks_twilio,
)
from deskguard.app.context import AppContext


class BodyLimit:
    """Refuse oversized bodies: by Content-Length up front, and by counting a streamed body.

    Not FastAPI's own ``max_body_size``: its 413 is sent by Starlette's middleware, past the app's
    exception handlers, so it would not be problem+json like every other error of this API.
    """

    INGEST_PATHS = ("/api/v1/ingest/", "/api/v1/hooks/")
    UPLOAD_SUFFIXES = ("/evidence",)  # provider-assurance evidence files (app.assurance), API and console

    def __init__(self, app: ASGIApp, *, max_bytes: int, ingest_max_bytes: int) -> None:
        self.app, self.max_bytes, self.ingest_max_bytes = app, max_bytes, ingest_max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        large = scope["path"].startswith(self.INGEST_PATHS) or scope["path"].endswith(self.UPLOAD_SUFFIXES)
        limit = self.ingest_max_bytes if large else self.max_bytes
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            await self._too_large(scope, receive, send, limit)
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
            if seen > limit:
                await self._too_large(scope, receive, send, limit)
                return
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
        replay = iter(messages)

        async def replayed() -> Any:
            return next(replay, None) or await receive()

        await self.app(scope, replayed, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        response = errors.problem(
            413,
            code="payload_too_large",
            title="Payload too large",
            detail=f"request bodies are limited to {limit} bytes here",
        )
        await response(scope, receive, send)


def create_app(
    ctx: AppContext,
    *,
    webhook_key: bytes,
    max_body_bytes: int = 64 * 1024,
    ingest_max_bytes: int = 8 * 1024 * 1024,
    replay_window_s: float = 300.0,
    readiness: Any = None,
) -> FastAPI:
    app = FastAPI(
        title="deskguard",
        version=__version__,
        description="Security broker for IT helpdesks: every sensitive action requested, "
        "verified, approved, executed and explained.",
    )
    app.state.ctx = ctx
    app.state.webhook_key = webhook_key
    app.state.replay_window_s = replay_window_s
    app.state.seen_signatures = OrderedDict()  # signed ingest deliveries, against replays
    errors.install(app)
    routes = (directory, requests, grants, events, audit, portal, webhooks, detection, triage, responses)
    routes = (*routes, exports, webhooks_twilio)
    routes = (*routes, connectors)
    routes = (*routes, webhooks_slack)
    routes = (*routes, webhooks_idv)
    routes = (*routes, assurance)
    routes = (*routes, exercises)
    for module in routes:
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

    app.add_middleware(BodyLimit, max_bytes=max_body_bytes, ingest_max_bytes=ingest_max_bytes)
    return app
