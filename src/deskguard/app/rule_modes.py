"""The detection rule pack per tenant: each rule on, off or in monitor mode (admins only).

The pack (``detection.content``) gives every rule its own mode; ``DESKGUARD_DETECTION_MONITOR_RULES``
puts some in monitor mode for the whole deployment; an administrator overrides either for one
tenant here. The override is stored (``domain.ports_rule_modes``) and recorded in the ledger in one
transaction; the Detector reads the tenant's overrides before every batch (``app.detection``), so
the change applies to the next event, in every process.
"""

from __future__ import annotations

from dataclasses import dataclass

from deskguard.app.access import require_operator
from deskguard.app.context import AppContext
from deskguard.app.detection import Detector
from deskguard.app.outbox import emit
from deskguard.domain.errors import NotFound, ValidationFailed
from deskguard.domain.events import Actor, EventType
from deskguard.domain.model import OperatorRole
from deskguard.domain.ports_rule_modes import RuleMode, RuleModeOverride

ADMINS = frozenset({OperatorRole.ADMIN})


@dataclass(frozen=True, slots=True)
class RuleView:
    rule_id: str
    title: str
    severity: str
    description: str
    pack_mode: str  # alert | monitor: what the pack (and the deployment's monitor list) says
    mode: RuleMode  # what runs for the tenant
    override: RuleModeOverride | None


def _detector(ctx: AppContext) -> Detector:
    if ctx.detector is None:
        raise ValidationFailed("detection is not configured in this process", field="detection")
    return ctx.detector


def list_rules(ctx: AppContext, *, actor: Actor, tenant_id: str) -> list[RuleView]:
    """Every rule of the pack with the mode it runs in for the tenant, by rule id."""
    require_operator(actor, tenant_id=tenant_id, roles=ADMINS)
    detector = _detector(ctx)
    with ctx.reads() as uow:
        overrides = uow.rule_modes.list(tenant_id=tenant_id)
    views: list[RuleView] = []
    for rule_id in sorted(detector.content.ids()):
        meta = detector.content.meta(rule_id)
        pack_mode = detector.pipeline.engine.mode_of("", meta)  # no tenant: the pack's and deployment's
        override = overrides.get(rule_id)
        mode = override.mode if override else RuleMode.MONITOR if pack_mode == "monitor" else RuleMode.ON
        views.append(
            RuleView(
                rule_id=rule_id,
                title=meta.title,
                severity=meta.severity,
                description=meta.description,
                pack_mode=pack_mode,
                mode=mode,
                override=override,
            )
        )
    return views


def set_rule_mode(
    ctx: AppContext, *, actor: Actor, tenant_id: str, rule_id: str, mode: str
) -> RuleModeOverride:
    """Override one rule's mode for the tenant; recorded with its ledger record."""
    require_operator(actor, tenant_id=tenant_id, roles=ADMINS)
    detector = _detector(ctx)
    if rule_id not in set(detector.content.ids()):
        raise NotFound(f"rule {rule_id} is not in the rule pack", code="not_found.rule", field="rule_id")
    try:
        chosen = RuleMode(mode)
    except ValueError:
        raise ValidationFailed(
            f"mode {mode!r} is one of {', '.join(m.value for m in RuleMode)}", field="mode"
        ) from None
    override = RuleModeOverride(
        tenant_id=tenant_id, rule_id=rule_id, mode=chosen, changed_by=actor.id, changed_at=ctx.clock.now()
    )
    with ctx.uow() as uow:
        uow.rule_modes.put(override)
        emit(
            ctx,
            uow,
            type=EventType.RULE_MODE_CHANGED,
            actor=actor,
            tenant_id=tenant_id,
            rule_id=rule_id,
            mode=chosen.value,
        )
        uow.commit()
    return override
