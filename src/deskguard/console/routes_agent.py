"""The agent's pages during a call: find a person, their identity card, choose an action with the
call's ticket, and the decision in plain words before anything is opened.

``/t/{tenant}/agent`` searches (htmx live results as the agent types, and a plain submit);
``/t/{tenant}/persons/{id}`` is the identity card with the action form; its *preview* asks
``app.requests.preview`` (writes nothing) and *open* records the ticket and opens the request
(``app.agent_desk.open_for_call``), then the request page (``routes_agent_request``) takes over.
The decision is rendered with the scripts of ``content/scripts/<lang>.yml`` for each situation.
"""

from __future__ import annotations

import typing
from functools import cache
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from deskguard.app import agent_desk, requests
from deskguard.console.session import Acting, Ctx, Seen
from deskguard.console.web import ConsoleRoute, render, translator
from deskguard.domain.actions import CATALOGUE, spec_for
from deskguard.domain.model import TicketChannel
from deskguard.policy.scripts import Script, load_scripts, situations_for
from deskguard.settings import REPO_ROOT

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
SCRIPTS = REPO_ROOT / "content" / "scripts"
PARAM = "p_"  # form fields of the action's parameters
# The console never asks for a secret to be shown to the agent: a produced secret always goes to the
# person's verified channel (the parameter keeps its default, whatever the form sends).
NOT_FROM_CONSOLE = frozenset({"deliver_to"})


@cache
def scripts(lang: str) -> dict[str, Script]:
    return load_scripts(SCRIPTS / f"{lang}.yml")


def scripts_for(lang: str, decision: dict[str, Any], *, privileged: bool, phone_recent: bool) -> list[Script]:
    chosen = scripts(lang)
    return [chosen[s] for s in situations_for(decision, privileged=privileged, phone_recent=phone_recent)]


def param_fields(kind: str) -> list[dict[str, Any]]:
    """The form controls of an action's parameters, from its schema in the catalogue."""
    fields: list[dict[str, Any]] = []
    for name, info in spec_for(kind).params.model_fields.items():
        if name in NOT_FROM_CONSOLE:
            continue
        annotation = info.annotation
        options: list[str] = []
        if annotation is bool:
            control, options = "select", ["true", "false"]
        elif typing.get_origin(annotation) is typing.Literal:
            control, options = "select", [str(v) for v in typing.get_args(annotation)]
        elif annotation is int:
            control = "number"
        else:
            control = "text"
        default = (
            "" if info.is_required() else str(info.default).lower() if annotation is bool else info.default
        )
        fields.append(
            {
                "name": name,
                "control": control,
                "options": options,
                "default": default,
                "required": info.is_required(),
            }
        )
    return fields


def _params(form: Any, kind: str) -> dict[str, Any]:
    known = {f["name"] for f in param_fields(kind)}
    return {
        key[len(PARAM) :]: value
        for key, value in form.items()
        if key.startswith(PARAM) and key[len(PARAM) :] in known and value != ""
    }


def _draft(form: Any, person_id: str) -> requests.RequestDraft:
    kind = str(form.get("kind", ""))
    spec_for(kind)  # an unknown action is named before anything else is read
    return requests.RequestDraft(
        kind=kind,
        person_id=person_id,
        params=_params(form, kind),
        justification=str(form.get("justification", "")),
    )


def _call(form: Any) -> agent_desk.CallTicket | None:
    ref = str(form.get("external_ref", "")).strip()
    if not ref:
        return None
    return agent_desk.CallTicket(
        external_ref=ref,
        channel=str(form.get("channel", "phone")),
        claimed_identity=str(form.get("claimed_identity", "")),
        caller_number=str(form.get("caller_number", "")),
    )


@router.get("/t/{tenant_id}/agent")
def search(request: Request, tenant_id: str, ctx: Ctx, seen: Seen, q: str = "") -> Response:
    found = agent_desk.find_persons(ctx, actor=seen.actor, tenant_id=tenant_id, query=q)
    template = "agent/results.html" if request.headers.get("hx-request") else "agent/search.html"
    return render(request, template, viewer=seen, tenant_id=tenant_id, q=q, found=found)


def _card_page(
    request: Request, ctx: Ctx, seen: Seen, *, tenant_id: str, person_id: str, form: Any, **extra: Any
) -> Response:
    card = agent_desk.person_card(ctx, actor=seen.actor, tenant_id=tenant_id, person_id=person_id)
    kind = str(form.get("kind", "")) or next(iter(CATALOGUE)).value
    return render(
        request,
        "agent/person.html",
        viewer=seen,
        tenant_id=tenant_id,
        card=card,
        catalogue=list(CATALOGUE.values()),
        kind=spec_for(kind).kind.value,
        fields=param_fields(kind),
        channels=[c.value for c in TicketChannel],
        form=form,
        **extra,
    )


@router.get("/t/{tenant_id}/persons/{person_id}")
def person(request: Request, tenant_id: str, person_id: str, ctx: Ctx, seen: Seen) -> Response:
    return _card_page(request, ctx, seen, tenant_id=tenant_id, person_id=person_id, form=request.query_params)


@router.post("/t/{tenant_id}/persons/{person_id}/preview")
async def preview(request: Request, tenant_id: str, person_id: str, ctx: Ctx, seen: Acting) -> Response:
    form = await request.form()
    decision = requests.preview(
        ctx, actor=seen.actor, tenant_id=tenant_id, draft=_draft(form, person_id)
    ).to_dict()
    card = agent_desk.person_card(ctx, actor=seen.actor, tenant_id=tenant_id, person_id=person_id)
    told = scripts_for(
        translator(request).lang, decision, privileged=card.person.privileged, phone_recent=card.phone_recent
    )
    if request.headers.get("hx-request"):
        return render(
            request, "agent/decision.html", viewer=seen, decision=decision, scripts=told, preview=True
        )
    return _card_page(
        request,
        ctx,
        seen,
        tenant_id=tenant_id,
        person_id=person_id,
        form=form,
        decision=decision,
        scripts=told,
    )


@router.post("/t/{tenant_id}/persons/{person_id}/requests")
async def open_request(request: Request, tenant_id: str, person_id: str, ctx: Ctx, seen: Acting) -> Response:
    form = await request.form()
    opened = agent_desk.open_for_call(
        ctx, actor=seen.actor, tenant_id=tenant_id, call=_call(form), draft=_draft(form, person_id)
    )
    return RedirectResponse(f"/t/{tenant_id}/requests/{opened.id}", status_code=303)
