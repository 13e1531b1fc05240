"""Who is looking: the session cookie, the CSRF check, the current tenant and the role's menu.

Dependencies for console routes:

- ``Seen`` (``page_viewer``): the full session behind the cookie, or ``LoginRequired``;
- ``Acting`` (``acting_viewer``): the same, for a state change: the CSRF token must come back, as the
  ``csrf`` form field or the ``X-CSRF-Token`` header (htmx sends it from ``hx-headers``). A missing or
  wrong token is refused with 403 before the route runs.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from deskguard.app.console_auth import Viewer, check_csrf, csrf_token, viewer
from deskguard.app.context import AppContext
from deskguard.app.directory import tenants_of
from deskguard.console.web import ConsoleConfig, LoginRequired, config
from deskguard.domain.errors import Forbidden, Unauthenticated
from deskguard.domain.events import ActorKind


def _ctx(request: Request) -> AppContext:
    return request.app.state.ctx  # type: ignore[no-any-return]


def session_token(request: Request) -> str:
    return request.cookies.get(config(request).session_cookie, "")


def csrf_for(request: Request) -> str:
    token = session_token(request)
    return csrf_token(_ctx(request), token) if token else ""


async def page_viewer(request: Request) -> Viewer:
    token = session_token(request)
    if not token:
        raise LoginRequired()
    console: ConsoleConfig = config(request)
    try:
        seen = viewer(
            _ctx(request),
            token=token,
            timeouts=console.timeouts,
            client_ip=request.client.host if request.client else "",
            user_agent=request.headers.get("user-agent", ""),
        )
    except Unauthenticated as exc:
        raise LoginRequired(exc.message) from None
    request.state.viewer = seen
    return seen


async def acting_viewer(request: Request, seen: Annotated[Viewer, Depends(page_viewer)]) -> Viewer:
    sent = request.headers.get("x-csrf-token", "")
    if not sent and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        sent = str((await request.form()).get("csrf", ""))
    if not check_csrf(_ctx(request), token=session_token(request), sent=sent):
        raise Forbidden(
            "this form has expired or did not come from this console; reload the page", code="csrf"
        )
    return seen


Seen = Annotated[Viewer, Depends(page_viewer)]
Acting = Annotated[Viewer, Depends(acting_viewer)]
Ctx = Annotated[AppContext, Depends(_ctx)]


def current_tenant(seen: Viewer, request: Request) -> str:
    """The tenant in the page's path, else the viewer's first (alphabetically)."""
    tenant = request.path_params.get("tenant_id")
    if isinstance(tenant, str) and tenant:
        return tenant
    return sorted(seen.actor.tenant_ids)[0] if seen.actor.tenant_ids else ""


# Each role's pages, in menu order: (i18n key, path under /t/<tenant>, roles that see it)
PAGES: tuple[tuple[str, str, frozenset[str]], ...] = (
    ("menu.find_person", "/agent", frozenset({"agent", "supervisor", "admin"})),
    ("menu.approvals", "/approvals", frozenset({"supervisor", "admin"})),
    ("menu.grants", "/grants", frozenset({"agent", "supervisor", "admin"})),
    ("menu.cases", "/cases", frozenset({"analyst", "admin"})),
    ("menu.dashboard", "/dashboard", frozenset({"supervisor", "analyst", "admin", "auditor"})),
    ("menu.admin", "/admin", frozenset({"admin"})),
    ("menu.providers", "/providers", frozenset({"admin", "auditor", "supervisor"})),
    ("menu.ledger", "/audit", frozenset({"auditor", "admin"})),
    ("menu.exercises", "/exercises", frozenset({"supervisor", "admin"})),
)


def home_path(seen: Viewer) -> str:
    if seen.actor.kind == ActorKind.PERSON:
        return "/portal"
    tenant = sorted(seen.actor.tenant_ids)[0] if seen.actor.tenant_ids else ""
    for _, path, roles in PAGES:
        if seen.actor.role in roles:
            return f"/t/{tenant}{path}"
    return "/"


def menu(seen: Viewer, request: Request) -> list[dict[str, str | bool]]:
    if seen.actor.kind == ActorKind.PERSON:
        return [{"key": "menu.portal", "url": "/portal", "current": request.url.path.startswith("/portal")}]
    tenant = current_tenant(seen, request)
    items: list[dict[str, str | bool]] = []
    for key, path, roles in PAGES:
        if seen.actor.role in roles:
            url = f"/t/{tenant}{path}"
            items.append({"key": key, "url": url, "current": request.url.path.startswith(url)})
    return items


def tenant_links(seen: Viewer, request: Request) -> list[dict[str, str | bool]]:
    """The operator's tenants, each a link to the same page in that tenant (or its first page)."""
    if seen.actor.kind != ActorKind.OPERATOR:
        return []
    current, path = current_tenant(seen, request), request.url.path
    links: list[dict[str, str | bool]] = []
    for tenant in tenants_of(_ctx(request), actor=seen.actor):
        if path.startswith(f"/t/{current}/"):
            section = "/".join(path.split("/")[:4])  # /t/<tenant>/<page>: not an object of the other tenant
            url = section.replace(f"/t/{current}/", f"/t/{tenant.id}/", 1)
        else:
            url = home_path(seen).replace(f"/t/{current}/", f"/t/{tenant.id}/", 1)
        links.append({"name": tenant.name, "url": url, "current": tenant.id == current})
    return links
