"""Whose secret checks an inbound vendor webhook: the deployment's account, or a tenant's own.

A tenant that brings its own Twilio, Slack app or Veriff integration (a ``tenant_connectors`` row,
ADR 0010) gives the vendor tenant-scoped URLs, ``/api/v1/webhooks/<vendor>/<tenant>/...``. Their
routes take the tenant's own adapter from the same routing the outbound calls use (the routed port's
``own(tenant)``, ``bootstrap_routing`` / ``bootstrap_channels``), verify the signature with that
adapter's secret, and then settle only objects of that tenant (ADR 0017):

- an unknown tenant, a tenant without that connector, a connector that cannot be built, and a
  missing or wrong signature all get the same ``404 not_found.route`` (``refused``): the answer
  says nothing about which tenants exist or what they configured; the log line
  ``webhook_refused`` says why, for the administrator;
- the object the payload names (a call, a verification session, a request) must be the tenant's,
  else the same answer as an unknown object (``only``).

The deployment-level URLs keep verifying with the deployment's secret (``deployment``), and settle
only objects of tenants that have no account of their own on that port (``deployment_serves``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import structlog

from deskguard.domain.errors import ConnectorError, ConnectorTimeout, NotFound

log = structlog.get_logger("deskguard.webhooks")
A = TypeVar("A")


def refused(*, tenant_id: str, vendor: str, reason: str) -> NotFound:
    """The one answer of a tenant-scoped webhook that cannot be checked; the reason is logged only."""
    log.warning("webhook_refused", tenant_id=tenant_id, vendor=vendor, reason=reason)
    return NotFound("no such webhook", code="not_found.route")


def deployment(port: Any) -> Any:
    """The deployment's adapter behind a routed port (or the port itself when it is not routed)."""
    return getattr(port, "fallback", port)


def _own(port: Any, tenant_id: str, *args: str) -> Any | None:
    own = getattr(port, "own", None)
    return None if own is None else own(tenant_id, *args)


def tenant_adapter(port: Any, tenant_id: str, *args: str, vendor: type[A], name: str) -> A:
    """The tenant's own ``vendor`` adapter on ``port``; ``refused`` when it has none (or no such
    tenant), or when its row cannot be built (a secret that cannot be read)."""
    try:
        adapter = _own(port, tenant_id, *args)
    except (ConnectorError, ConnectorTimeout) as exc:
        log.error("webhook_connector_unusable", tenant_id=tenant_id, vendor=name, error=str(exc))
        raise refused(tenant_id=tenant_id, vendor=name, reason="connector cannot be built") from None
    if not isinstance(adapter, vendor):
        raise refused(tenant_id=tenant_id, vendor=name, reason=f"no {name} connector")
    return adapter


def deployment_serves(
    port: Any, tenant_id: str, *args: str, inbound: Callable[[Any], bool] = lambda _adapter: True
) -> bool:
    """Whether the deployment's account may settle this tenant's objects: the tenant has no adapter
    of its own on the port, or one that takes no webhooks of its own (``inbound`` False: a Slack
    connector without a signing secret, whose clicks the deployment's Slack app receives). A row
    that cannot be built is still the tenant's own: refused."""
    try:
        own = _own(port, tenant_id, *args)
    except (ConnectorError, ConnectorTimeout):
        return False
    return own is None or not inbound(own)


def only(tenant_id: str) -> Callable[[str], bool]:
    """The owner check of a tenant-scoped webhook: objects of that tenant only."""
    return lambda owner: owner == tenant_id
