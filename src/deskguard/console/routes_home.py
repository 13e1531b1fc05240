"""The way in: ``/`` and ``/home`` send each signed-in person to their role's first page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from deskguard.app.console_passkeys import passkeys_of
from deskguard.console.session import Ctx, Seen, home_path
from deskguard.console.web import ConsoleRoute, render

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)


@router.get("/")
@router.get("/home")
def home(seen: Seen) -> RedirectResponse:
    return RedirectResponse(home_path(seen), status_code=303)


@router.get("/account")
def account(request: Request, ctx: Ctx, seen: Seen) -> Response:
    """Who I am signed in as, my passkeys, and the way to end every session of this account."""
    return render(request, "account.html", viewer=seen, passkeys=passkeys_of(ctx, seen=seen))
