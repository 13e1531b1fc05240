"""A tenant's connectors (admins): which adapter serves each port, set, remove, test now."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from deskguard.api.deps import Ctx, CurrentActor
from deskguard.app import connectors
from deskguard.domain.connectors import Probe, TenantConnector

router = APIRouter(prefix="/api/v1", tags=["connectors"])


class ConnectorIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str = Field(description="the adapter: ldap, okta, entra, servicenow, smtp...")
    settings: dict[str, Any] = Field(default_factory=dict, description="secrets as env:// or file:// only")
    enabled: bool = True


class ProbeOut(BaseModel):
    ok: bool | None  # None: the adapter has no health check
    detail: str
    latency_ms: float

    @classmethod
    def of(cls, probe: Probe) -> ProbeOut:
        health = probe.health
        return cls(
            ok=None if health is None else health.ok,
            detail="no health check" if health is None else health.detail,
            latency_ms=probe.latency_ms,
        )


class ConfiguredOut(BaseModel):
    name: str
    kind: str
    settings: dict[str, Any]  # references only, never a secret value
    enabled: bool
    updated_at: str
    updated_by: str

    @classmethod
    def of(cls, row: TenantConnector) -> ConfiguredOut:
        return cls(
            name=row.name,
            kind=row.kind,
            settings=row.settings,
            enabled=row.enabled,
            updated_at=row.updated_at.isoformat(),
            updated_by=row.updated_by,
        )


class ConnectorOut(BaseModel):
    name: str
    kind: str
    source: str  # "tenant" or "deployment"
    fake: bool
    configured: ConfiguredOut | None
    health: ProbeOut | None


@router.get("/tenants/{tenant_id}/connectors", summary="Each port's adapter, and its health")
def list_connectors(tenant_id: str, ctx: Ctx, actor: CurrentActor) -> list[ConnectorOut]:
    return [
        ConnectorOut(
            name=v.serving.name,
            kind=v.serving.kind,
            source=v.serving.source,
            fake=v.serving.fake,
            configured=ConfiguredOut.of(v.row) if v.row else None,
            health=ProbeOut.of(v.probe) if v.probe else None,
        )
        for v in connectors.list_connectors(ctx, actor=actor, tenant_id=tenant_id)
    ]


@router.put("/tenants/{tenant_id}/connectors/{name}", summary="Configure the tenant's adapter for a port")
def put_connector(
    tenant_id: str, name: str, body: ConnectorIn, ctx: Ctx, actor: CurrentActor
) -> ConfiguredOut:
    stored = connectors.set_connector(
        ctx,
        actor=actor,
        tenant_id=tenant_id,
        name=name,
        kind=body.kind,
        settings=body.settings,
        enabled=body.enabled,
    )
    return ConfiguredOut.of(stored)


@router.delete(
    "/tenants/{tenant_id}/connectors/{name}", status_code=204, summary="Back to the deployment's adapter"
)
def delete_connector(tenant_id: str, name: str, ctx: Ctx, actor: CurrentActor) -> Response:
    connectors.remove_connector(ctx, actor=actor, tenant_id=tenant_id, name=name)
    return Response(status_code=204)


@router.post("/tenants/{tenant_id}/connectors/{name}/test", summary="Run the adapter's health check now")
def test_connector(tenant_id: str, name: str, ctx: Ctx, actor: CurrentActor) -> ProbeOut:
    return ProbeOut.of(connectors.check_connector(ctx, actor=actor, tenant_id=tenant_id, name=name))
