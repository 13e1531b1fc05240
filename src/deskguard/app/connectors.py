"""Per-tenant connectors: which adapter serves each port of a tenant, set, removed and tested.

Admins only, tenant-scoped (``app.access``). A change is validated by the adapter's own settings
model (through ``ctx.connectors``, the composition root's registry) before anything is written,
and recorded with its domain event and ledger record in the same transaction. Settings hold
secrets as references (``env://``, ``file://``) only, so what is stored, recorded and shown never
contains a secret value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from deskguard.app.access import require_operator
from deskguard.app.context import AppContext
from deskguard.app.outbox import emit
from deskguard.domain.connectors import PORT_KINDS, ConnectorRegistry, Probe, Serving, TenantConnector
from deskguard.domain.errors import NotFound, ValidationFailed
from deskguard.domain.events import Actor, EventType
from deskguard.domain.model import OperatorRole

ADMINS = frozenset({OperatorRole.ADMIN})


@dataclass(frozen=True, slots=True)
class ConnectorView:
    serving: Serving
    row: TenantConnector | None  # the tenant's configuration; None: the deployment's adapter
    probe: Probe | None  # None when health was not asked for


def _registry(ctx: AppContext) -> ConnectorRegistry:
    if ctx.connectors is None:
        raise ValidationFailed("per-tenant connectors are not configured in this process", field="connectors")
    return ctx.connectors


def _known(name: str) -> None:
    if name not in PORT_KINDS:
        raise NotFound(
            f"connector {name} not found; one of {', '.join(PORT_KINDS)}", code="not_found.connector"
        )


def connector_views(ctx: AppContext, *, tenant_id: str, health: bool = True) -> list[ConnectorView]:
    """Every configurable port of the tenant (for the API after its access check, and the CLI)."""
    registry = _registry(ctx)
    with ctx.reads() as uow:
        rows = {row.name: row for row in uow.connectors.list(tenant_id=tenant_id)}
    return [
        ConnectorView(
            serving=registry.serving(tenant_id=tenant_id, name=name),
            row=rows.get(name),
            probe=registry.probe(tenant_id=tenant_id, name=name) if health else None,
        )
        for name in PORT_KINDS
    ]


def list_connectors(ctx: AppContext, *, actor: Actor, tenant_id: str) -> list[ConnectorView]:
    require_operator(actor, tenant_id=tenant_id, roles=ADMINS)
    return connector_views(ctx, tenant_id=tenant_id)


def set_connector(
    ctx: AppContext,
    *,
    actor: Actor,
    tenant_id: str,
    name: str,
    kind: str,
    settings: Mapping[str, Any],
    enabled: bool = True,
) -> TenantConnector:
    """Validate, then store and record in one transaction. The event carries the references only."""
    require_operator(actor, tenant_id=tenant_id, roles=ADMINS)
    return store_connector(
        ctx, actor=actor, tenant_id=tenant_id, name=name, kind=kind, settings=settings, enabled=enabled
    )


def store_connector(
    ctx: AppContext,
    *,
    actor: Actor,
    tenant_id: str,
    name: str,
    kind: str,
    settings: Mapping[str, Any],
    enabled: bool = True,
) -> TenantConnector:
    """``set_connector`` without the role check: the local CLI (``deskguard connectors set``)."""
    checked = _registry(ctx).validate(name=name, kind=kind, settings=settings)
    with ctx.uow() as uow:
        if uow.tenants.get(tenant_id) is None:
            raise NotFound(f"tenant {tenant_id} not found", code="not_found.tenant")
        connector = TenantConnector(
            tenant_id=tenant_id,
            name=name,
            kind=kind,
            settings=checked,
            enabled=enabled,
            updated_at=ctx.clock.now(),
            updated_by=actor.id,
        )
        uow.connectors.put(connector)
        emit(
            ctx,
            uow,
            type=EventType.CONNECTOR_CONFIGURED,
            actor=actor,
            tenant_id=tenant_id,
            name=name,
            kind=kind,
            settings=checked,
            enabled=enabled,
        )
        uow.commit()
    return connector


def remove_connector(ctx: AppContext, *, actor: Actor, tenant_id: str, name: str) -> None:
    require_operator(actor, tenant_id=tenant_id, roles=ADMINS)
    drop_connector(ctx, actor=actor, tenant_id=tenant_id, name=name)


def drop_connector(ctx: AppContext, *, actor: Actor, tenant_id: str, name: str) -> None:
    """The port goes back to the deployment's adapter; ``NotFound`` when the tenant had none."""
    _known(name)
    with ctx.uow() as uow:
        previous = uow.connectors.get(tenant_id=tenant_id, name=name)
        if previous is None or not uow.connectors.remove(tenant_id=tenant_id, name=name):
            raise NotFound(f"tenant {tenant_id} configures no {name} connector", code="not_found.connector")
        emit(
            ctx,
            uow,
            type=EventType.CONNECTOR_REMOVED,
            actor=actor,
            tenant_id=tenant_id,
            name=name,
            kind=previous.kind,
        )
        uow.commit()


def check_connector(ctx: AppContext, *, actor: Actor, tenant_id: str, name: str) -> Probe:
    require_operator(actor, tenant_id=tenant_id, roles=ADMINS)
    return probe_connector(ctx, tenant_id=tenant_id, name=name)


def probe_connector(ctx: AppContext, *, tenant_id: str, name: str) -> Probe:
    """Run the health check of the adapter serving ``name`` for the tenant, now."""
    _known(name)
    return _registry(ctx).probe(tenant_id=tenant_id, name=name)
