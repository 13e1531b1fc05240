"""The employee portal's account sections: manager confirmations, self-service, recent actions.

``/portal`` itself is served by ``routes_portal_push`` (with the pushes); it adds
``portal_sections`` to its page, so that the sections below render with it, without JavaScript:

- *Verify your identity*: the identity checks (``external_idv``) an agent started for the person,
  with the vendor's link, its expiry and who opened the request (``app.verification_idv``);
- *Confirmations for my reports*: the requests about the person's reports waiting for them as the
  manager (``app.portal.manager_confirmations``), confirmed or declined by a post to
  ``/portal/confirmations/{proof}`` (``app.verification.confirm_as_manager``);
- *Ask for a change*: a self-service request (``app.requests.open_request`` with the person as
  actor: origin ``self_service``); a sensitive change waits ``Timeouts.self_service_delay`` and the
  person is told by e-mail (``app.self_service``);
- *Recent helpdesk actions on your account — not you?*: the last 30 days (``app.portal.recent_actions``)
  and "This wasn't me" (``app.portal.dispute_action``), which raises an alert for the analysts.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response

from deskguard.app import portal, requests, verification, verification_idv
from deskguard.app.console_auth import Viewer
from deskguard.app.context import AppContext
from deskguard.console.session import Acting, Ctx
from deskguard.console.web import ConsoleRoute
from deskguard.domain.actions import ActionKind

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
# What a person may ask for themselves, with the one parameter the form carries (if any).
SELF_SERVICE_KINDS = (
    ActionKind.RESET_PASSWORD,
    ActionKind.UNLOCK_ACCOUNT,
    ActionKind.REVOKE_SESSIONS,
    ActionKind.RESET_MFA,
    ActionKind.CHANGE_RECOVERY_EMAIL,
)
DONE = frozenset({"confirmed", "declined", "requested", "disputed"})


def _tenant(seen: Viewer) -> str:
    return sorted(seen.actor.tenant_ids)[0] if seen.actor.tenant_ids else ""


def portal_sections(ctx: AppContext, seen: Viewer, done: str = "") -> dict[str, Any]:
    """The context ``portal/index.html``'s account sections need (added by the /portal page)."""
    tenant = _tenant(seen)
    return {
        # the person's own identity checks: the only page that ever shows the vendor's link
        "identity_checks": verification_idv.identity_checks(ctx, actor=seen.actor, tenant_id=tenant),
        "confirmations": portal.manager_confirmations(ctx, actor=seen.actor, tenant_id=tenant),
        "recent": portal.recent_actions(ctx, actor=seen.actor, tenant_id=tenant),
        "self_service_kinds": [k.value for k in SELF_SERVICE_KINDS],
        "recent_days": portal.RECENT_DAYS,
        "account_done": done if done in DONE else "",
    }


def _back(done: str) -> RedirectResponse:
    return RedirectResponse(f"/portal?done={done}", status_code=303)


@router.post("/portal/confirmations/{proof_id}")
def confirm(
    proof_id: str, ctx: Ctx, seen: Acting, answer: Annotated[str, Form(pattern="^(confirm|decline)$")]
) -> Response:
    verification.confirm_as_manager(
        ctx, actor=seen.actor, tenant_id=_tenant(seen), proof_id=proof_id, confirm=answer == "confirm"
    )
    return _back("confirmed" if answer == "confirm" else "declined")


@router.post("/portal/requests")
def ask(
    ctx: Ctx,
    seen: Acting,
    kind: Annotated[str, Form(max_length=40)],
    justification: Annotated[str, Form(max_length=requests.MAX_JUSTIFICATION)] = "",
    new_email: Annotated[str, Form(max_length=254)] = "",
) -> Response:
    params = {"new_email": new_email.strip()} if kind == ActionKind.CHANGE_RECOVERY_EMAIL.value else None
    draft = requests.RequestDraft(
        kind=kind, person_id=seen.actor.id, params=params, justification=justification
    )
    requests.open_request(ctx, actor=seen.actor, tenant_id=_tenant(seen), draft=draft)
    return _back("requested")


@router.post("/portal/actions/{request_id}/dispute")
def dispute(
    request_id: str, ctx: Ctx, seen: Acting, note: Annotated[str, Form(max_length=portal.MAX_NOTE)] = ""
) -> Response:
    portal.dispute_action(ctx, actor=seen.actor, tenant_id=_tenant(seen), request_id=request_id, note=note)
    return _back("disputed")
