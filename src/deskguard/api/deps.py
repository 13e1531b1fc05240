"""FastAPI dependencies: the application context and the authenticated actor."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from deskguard.app.auth import authenticate
from deskguard.app.context import AppContext
from deskguard.domain.errors import Unauthenticated
from deskguard.domain.events import Actor


async def app_context(request: Request) -> AppContext:
    return request.app.state.ctx  # type: ignore[no-any-return]


async def current_actor(request: Request, ctx: Annotated[AppContext, Depends(app_context)]) -> Actor:
    """Resolve the bearer token. Inline on the event loop: a resolved token is cached (app.auth), so
    the common case costs microseconds, less than handing it to a worker thread."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("send an API token as 'Authorization: Bearer <token>'")
    client = request.client.host if request.client else ""
    return authenticate(
        ctx, token=token.strip(), client_ip=client, user_agent=request.headers.get("user-agent", "")[:200]
    )


Ctx = Annotated[AppContext, Depends(app_context)]
CurrentActor = Annotated[Actor, Depends(current_actor)]
