"""Per-tenant connector configuration: which adapter serves each outbound port for one tenant.

An MSP serves many client tenants, each with its own directory and ticketing. A
``TenantConnector`` row says that, for tenant T, the port ``name`` (``idp``, ``ticketing``,
``telephony``, ``otp``, ``idv``, ``notify.email``...) is served by adapter ``kind`` (``ldap``, ``okta``...)
with these settings. Settings hold secrets only as references (``env://NAME``, ``file:///path``); the
``ConnectorRegistry`` (built by the composition root, ``bootstrap_connectors``) checks them with the
adapter's own typed settings model, builds the adapters, and tells which one serves a port now: the
tenant's, or the deployment's (``DESKGUARD_*``) when the tenant configured none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from deskguard.domain.ports import Health

# The ports a tenant can configure, and the adapters (kinds) that can serve each.
PORT_KINDS: Mapping[str, tuple[str, ...]] = {
    "idp": ("ldap", "okta", "entra", "keycloak", "google"),
    "ticketing": ("servicenow", "jsm", "zendesk", "glpi"),
    "telephony": ("twilio", "ari"),
    "otp": ("twilio_verify",),
    "idv": ("veriff",),
    "notify.email": ("smtp",),
    "notify.slack": ("slack",),
    "notify.teams": ("teams",),
    "notify.webhook": ("webhook",),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class TenantConnector:
    tenant_id: str
    name: str  # the port it serves: a key of PORT_KINDS
    kind: str  # the adapter
    settings: dict[str, Any] = field(default_factory=dict)  # validated; secrets as references only
    enabled: bool = True
    updated_at: datetime
    updated_by: str  # the actor id of the last change


@dataclass(frozen=True, slots=True, kw_only=True)
class Serving:
    """Which adapter serves a tenant's port right now."""

    name: str
    kind: str  # the adapter's kind (``ldap``...) or the deployment adapter's name
    source: str  # "tenant" (a row configures it) or "deployment" (DESKGUARD_* settings, or the fake)
    fake: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Probe:
    """A health check run now: its answer and how long it took."""

    health: Health | None  # None: the adapter has no health check
    latency_ms: float


class TenantConnectorRepository(Protocol):
    def get(self, *, tenant_id: str, name: str) -> TenantConnector | None: ...

    def list(self, *, tenant_id: str) -> Sequence[TenantConnector]: ...

    def tenants(self) -> Sequence[str]:
        """Every tenant with at least one row (log pollers, ``connectors check``)."""
        ...

    def put(self, connector: TenantConnector) -> None: ...  # insert or replace (tenant_id, name)

    def remove(self, *, tenant_id: str, name: str) -> bool: ...  # False when there was none


class ConnectorRegistry(Protocol):
    """The composition root's knowledge of adapters, offered to the use cases (``app.connectors``)."""

    def validate(self, *, name: str, kind: str, settings: Mapping[str, Any]) -> dict[str, Any]:
        """The settings as the adapter's model reads them; ``ValidationFailed`` naming the field."""
        ...

    def serving(self, *, tenant_id: str, name: str) -> Serving: ...

    def probe(self, *, tenant_id: str, name: str) -> Probe:
        """Run the serving adapter's health check now; a failure to build it is a failing Health."""
        ...
