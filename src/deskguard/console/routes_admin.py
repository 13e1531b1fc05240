"""The administrator's pages: the policy (view, lint, its cases, explain a hypothetical request),
the detection rule pack (on, off, monitor per tenant), runbooks, tenants, operators and their
console accounts (lock, unlock), providers, and the tenant's connectors with their health.

Admins of the tenant only: every use case called here checks it (``app.admin``, ``app.rule_modes``,
``app.console_auth.set_locked``, ``app.connectors``). State changes are POST forms with the CSRF
token; each answers with the page again and a status line announced to screen readers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from deskguard.app import admin, connectors, rule_modes
from deskguard.app.console_auth import Viewer, set_locked
from deskguard.console.session import Acting, Ctx, Seen
from deskguard.console.web import ConsoleRoute, render
from deskguard.domain.actions import ActionKind
from deskguard.domain.errors import ValidationFailed
from deskguard.domain.ports_rule_modes import RuleMode
from deskguard.domain.requests import ProofMethod

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
BASE = "/t/{tenant_id}/admin"
CHANNELS = ("phone", "chat", "email", "walk_in", "portal", "")
SECTIONS = ("policy", "rules", "runbooks", "people", "connectors")
Checkbox = Annotated[bool, Form()]


def _page(request: Request, seen: Viewer, tenant_id: str, section: str, **context: Any) -> Response:
    return render(
        request,
        f"admin/{section}.html",
        viewer=seen,
        tenant_id=tenant_id,
        section=section,
        sections=SECTIONS,
        **context,
    )


def _policy(request: Request, ctx: Any, seen: Viewer, tenant_id: str, **context: Any) -> Response:
    directory = admin.directory(ctx, actor=seen.actor, tenant_id=tenant_id)
    return _page(
        request,
        seen,
        tenant_id,
        "policy",
        policy=admin.policy_view(ctx, actor=seen.actor, tenant_id=tenant_id),
        actions=[a.value for a in ActionKind],
        channels=CHANNELS,
        proofs=[p.value for p in ProofMethod if p != ProofMethod.KNOWLEDGE],
        providers=directory.providers,
        **context,
    )


@router.get(BASE)
def policy_page(request: Request, tenant_id: str, seen: Seen, ctx: Ctx) -> Response:
    return _policy(request, ctx, seen, tenant_id, asked=None, decision=None)


@router.post(BASE + "/explain")
def explain(
    request: Request,
    tenant_id: str,
    seen: Acting,
    ctx: Ctx,
    action: Annotated[str, Form()],
    provider_id: Annotated[str, Form()],
    when: Annotated[str, Form()],
    channel: Annotated[str, Form()] = "",
    risk_score: Annotated[float, Form(ge=0, le=100)] = 0.0,
    phone_changed_days: Annotated[float, Form(ge=0)] = 36500.0,
    privileged: Checkbox = False,
    watchlisted: Checkbox = False,
    has_push_device: Checkbox = False,
    has_totp: Checkbox = False,
    has_ticket: Checkbox = False,
    proofs: Annotated[list[str] | None, Form()] = None,
) -> Response:
    try:
        at = datetime.fromisoformat(when)
    except ValueError:
        raise ValidationFailed(f"when: {when!r} is not a date and time", field="when") from None
    hypothesis = admin.Hypothesis(
        action=action,
        provider_id=provider_id,
        at=at,
        channel=channel,
        privileged=privileged,
        watchlisted=watchlisted,
        risk_score=risk_score,
        phone_changed_days=phone_changed_days,
        has_push_device=has_push_device,
        has_totp=has_totp,
        has_ticket=has_ticket,
        proofs=tuple(proofs or ()),
    )
    decision = admin.explain(ctx, actor=seen.actor, tenant_id=tenant_id, hypothesis=hypothesis)
    return _policy(request, ctx, seen, tenant_id, asked=hypothesis, decision=decision)


def _rules(request: Request, ctx: Any, seen: Viewer, tenant_id: str, done: str = "") -> Response:
    views = rule_modes.list_rules(ctx, actor=seen.actor, tenant_id=tenant_id)
    return _page(request, seen, tenant_id, "rules", rules=views, modes=[m.value for m in RuleMode], done=done)


@router.get(BASE + "/rules")
def rules_page(request: Request, tenant_id: str, seen: Seen, ctx: Ctx) -> Response:
    return _rules(request, ctx, seen, tenant_id)


@router.post(BASE + "/rules")
def set_rule_mode(
    request: Request,
    tenant_id: str,
    seen: Acting,
    ctx: Ctx,
    rule_id: Annotated[str, Form(max_length=200)],
    mode: Annotated[str, Form(max_length=16)],
) -> Response:
    rule_modes.set_rule_mode(ctx, actor=seen.actor, tenant_id=tenant_id, rule_id=rule_id, mode=mode)
    return _rules(request, ctx, seen, tenant_id, done=f"{rule_id}:{mode}")


@router.get(BASE + "/runbooks")
def runbooks_page(request: Request, tenant_id: str, seen: Seen, ctx: Ctx) -> Response:
    found = admin.runbooks(ctx, actor=seen.actor, tenant_id=tenant_id)
    return _page(request, seen, tenant_id, "runbooks", runbooks=found)


def _people(request: Request, ctx: Any, seen: Viewer, tenant_id: str, done: str = "") -> Response:
    found = admin.directory(ctx, actor=seen.actor, tenant_id=tenant_id)
    return _page(request, seen, tenant_id, "people", directory=found, done=done)


@router.get(BASE + "/people")
def people_page(request: Request, tenant_id: str, seen: Seen, ctx: Ctx) -> Response:
    return _people(request, ctx, seen, tenant_id)


@router.post(BASE + "/accounts/{account_id}/lock")
def lock_account(
    request: Request,
    tenant_id: str,
    account_id: str,
    seen: Acting,
    ctx: Ctx,
    locked: Annotated[bool, Form()],
) -> Response:
    account = set_locked(ctx, actor=seen.actor, account_id=account_id, locked=locked)
    return _people(request, ctx, seen, tenant_id, done=("locked:" if locked else "unlocked:") + account.login)


def _connectors(request: Request, ctx: Any, seen: Viewer, tenant_id: str, **context: Any) -> Response:
    views = connectors.list_connectors(ctx, actor=seen.actor, tenant_id=tenant_id)
    return _page(request, seen, tenant_id, "connectors", connectors=views, **context)


@router.get(BASE + "/connectors")
def connectors_page(request: Request, tenant_id: str, seen: Seen, ctx: Ctx) -> Response:
    return _connectors(request, ctx, seen, tenant_id, tested=None, probe=None)


@router.post(BASE + "/connectors/{name}/test")
def test_connector(request: Request, tenant_id: str, name: str, seen: Acting, ctx: Ctx) -> Response:
    probe = connectors.check_connector(ctx, actor=seen.actor, tenant_id=tenant_id, name=name)
    return _connectors(request, ctx, seen, tenant_id, tested=name, probe=probe)
