"""What the administrator's console pages read: the loaded policy (text, lint, its own cases), a
hypothetical request explained, the runbooks, and the tenant's operators with their console accounts.

Admins only, tenant-scoped (``app.access``). Nothing here writes: locking an account is
``app.console_auth.set_locked``, a rule's mode ``app.rule_modes``, a connector ``app.connectors``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from deskguard.app.access import require_operator
from deskguard.app.context import AppContext
from deskguard.detection.runbooks import Runbook
from deskguard.domain.decision import Decision, Evidence
from deskguard.domain.errors import NotFound, ValidationFailed
from deskguard.domain.events import Actor
from deskguard.domain.model import Operator, OperatorRole, Provider, ProviderKind, Tenant
from deskguard.domain.ports_console import ConsoleAccount
from deskguard.domain.requests import ProofMethod
from deskguard.policy.cases import CaseResult, facts_with_defaults, run_cases
from deskguard.policy.evaluator import evaluate
from deskguard.policy.loader import PolicyError, lint_policy

ADMINS = frozenset({OperatorRole.ADMIN})


@dataclass(frozen=True, slots=True)
class PolicyView:
    name: str
    version: int
    source: str
    digest: str
    text: str  # the file as loaded
    errors: tuple[PolicyError, ...]  # lint of the file as it is on disk now (empty: clean)
    results: tuple[CaseResult, ...]  # the policy's own cases, run against the loaded policy


@dataclass(frozen=True, slots=True, kw_only=True)
class Hypothesis:
    """A request that is not opened: what the explain form asks about."""

    action: str
    provider_id: str
    at: datetime  # the tenant's local time of the request
    channel: str = ""
    privileged: bool = False
    watchlisted: bool = False
    risk_score: float = 0.0
    phone_changed_days: float = 36500.0
    has_push_device: bool = True
    has_totp: bool = True
    has_ticket: bool = True
    proofs: tuple[str, ...] = ()
    approvals: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class OperatorView:
    operator: Operator
    provider: Provider | None
    account: ConsoleAccount | None


@dataclass(frozen=True, slots=True)
class Directory:
    tenants: tuple[Tenant, ...]
    providers: tuple[Provider, ...]
    operators: tuple[OperatorView, ...]


def policy_view(ctx: AppContext, *, actor: Actor, tenant_id: str) -> PolicyView:
    require_operator(actor, tenant_id=tenant_id, roles=ADMINS)
    policy = ctx.policy
    try:
        text = Path(policy.source).read_text(encoding="utf-8")
    except OSError as exc:
        text = f"(the policy file cannot be read now: {exc})"
    _, errors = lint_policy(policy.source)
    return PolicyView(
        name=policy.name,
        version=policy.version,
        source=policy.source,
        digest=policy.digest,
        text=text,
        errors=tuple(errors),
        results=tuple(run_cases(policy)),
    )


def _facts(uow: Any, tenant_id: str, h: Hypothesis) -> dict[str, Any]:
    provider = uow.providers.get(h.provider_id)
    if provider is None:
        raise NotFound(f"provider {h.provider_id} not found", code="not_found.provider", field="provider_id")
    if not 0 <= h.risk_score <= 100:
        raise ValidationFailed("risk_score is between 0 and 100", field="risk_score")
    if h.phone_changed_days < 0:
        raise ValidationFailed("phone_changed_days cannot be negative", field="phone_changed_days")
    return {
        "action.kind": h.action,
        "target.privileged": h.privileged,
        "target.watchlisted": h.watchlisted,
        "target.risk_score": float(h.risk_score),
        "target.phone_changed_days": float(h.phone_changed_days),
        "target.has_push_device": h.has_push_device,
        "target.has_totp": h.has_totp,
        "operator.provider": provider.id,
        "operator.outsourced": provider.kind == ProviderKind.OUTSOURCED,
        "request.channel": h.channel,
        "request.has_ticket": h.has_ticket,
        "request.risk_score": float(h.risk_score),
        "context.local_hour": h.at.hour,
        "context.weekday": h.at.weekday(),
    }


def explain(ctx: AppContext, *, actor: Actor, tenant_id: str, hypothesis: Hypothesis) -> Decision:
    """The loaded policy's decision for a hypothetical request, with its trace; unset facts take the
    policy cases' benign defaults (``policy.cases.facts_with_defaults``)."""
    require_operator(actor, tenant_id=tenant_id, roles=ADMINS)
    try:
        proofs = frozenset(ProofMethod(p) for p in hypothesis.proofs)
    except ValueError as exc:
        raise ValidationFailed(f"proofs: {exc}", field="proofs") from None
    with ctx.reads() as uow:
        overrides = _facts(uow, tenant_id, hypothesis)
    try:
        facts = facts_with_defaults(overrides)
    except ValueError as exc:  # an unknown action kind
        raise ValidationFailed(f"action: {exc}", field="action") from None
    return evaluate(ctx.policy, facts=facts, evidence=Evidence(proofs=proofs, approvals=hypothesis.approvals))


def runbooks(ctx: AppContext, *, actor: Actor, tenant_id: str) -> Sequence[Runbook]:
    require_operator(actor, tenant_id=tenant_id, roles=ADMINS)
    return ctx.detector.runbooks if ctx.detector is not None else ()


def directory(ctx: AppContext, *, actor: Actor, tenant_id: str) -> Directory:
    """The administrator's tenants, every provider, and the operators serving this tenant, each with
    their console account (None: they have not got one)."""
    require_operator(actor, tenant_id=tenant_id, roles=ADMINS)
    with ctx.reads() as uow:
        tenants = tuple(t for t in uow.tenants.list() if t.id in actor.tenant_ids)
        providers = tuple(uow.providers.list())
        by_id = {p.id: p for p in providers}
        operators = tuple(
            OperatorView(
                operator=o,
                provider=by_id.get(o.provider_id),
                account=uow.console_accounts.for_subject(subject_kind="operator", subject_id=o.id),
            )
            for o in sorted(uow.operators.list(tenant_id=tenant_id), key=lambda o: o.username)
        )
    return Directory(tenants=tenants, providers=providers, operators=operators)
