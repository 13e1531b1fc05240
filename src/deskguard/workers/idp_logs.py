"""Polls identity-provider logs (Okta System Log, Entra audits and sign-ins) into detection.

Each tick, for each configured (tenant, ``LogSource``): read the stream's checkpoint, fetch the
page after it, hand the page to ``app.detection.ingest`` as a system actor of that tenant, then
store the checkpoint the page ends at — in that order, so a crash loses nothing (the interrupted
page is fetched again; detection drops the duplicate (source, id) pairs it then sees). A failed
fetch (refusal, timeout, malformed page) leaves the checkpoint where it was; the next tick retries.

Two kinds of targets: the deployment's IdP logs (``DESKGUARD_IDP_LOGS_TENANT``, fixed at start),
and those of every tenant whose own ``idp`` connector is Okta (System Log) or Entra (directory
audits and sign-ins). The latter are re-read from ``tenant_connectors`` every ``refresh_ticks``
ticks, so a tenant configured, changed, disabled or removed through the API is picked up without
a restart. Adapters come from the composition root's per-tenant cache (rebuilt when a row's
``updated_at`` changes), so a token survives the refreshes. A tenant's own stream replaces the
deployment's stream of the same name for that tenant: one checkpoint per (tenant, stream).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import structlog

from deskguard.adapters.idp.entra_logs import AUDITS, SIGN_INS, EntraLog
from deskguard.adapters.idp.okta_logs import OktaSystemLog
from deskguard.app.context import AppContext
from deskguard.app.detection import ingest
from deskguard.domain.connectors import TenantConnector
from deskguard.domain.errors import ConnectorError
from deskguard.domain.events import Actor, ActorKind
from deskguard.domain.ports import UnitOfWorkFactory
from deskguard.domain.ports_poll import LogSource
from deskguard.workers.ticker import Ticker

IDP = "idp"
LOG_KINDS = frozenset({"okta", "entra"})  # the tenant IdP kinds with a log source
_log = structlog.get_logger("deskguard.idp.logs")


@dataclass(frozen=True, slots=True)
class PollTarget:
    tenant_id: str
    source: LogSource


def poller_actor(tenant_id: str, stream: str) -> Actor:
    return Actor(kind=ActorKind.SYSTEM, id=f"poller:{stream}", tenant_ids=frozenset({tenant_id}))


def poll_stream(ctx: AppContext, *, tenant_id: str, source: LogSource, max_pages: int = 20) -> int:
    """Ingest up to ``max_pages`` pages after the stream's checkpoint; returns how many records."""
    actor = poller_actor(tenant_id, source.stream)
    ingested = 0
    for _ in range(max_pages):
        with ctx.reads() as uow:
            cursor = uow.idp_poll.get(tenant_id=tenant_id, stream=source.stream)
        page = source.fetch(tenant_id=tenant_id, cursor=cursor)
        if page.records:
            body = json.dumps(page.records, ensure_ascii=False, separators=(",", ":")).encode()
            ingest(ctx, actor=actor, tenant_id=tenant_id, source=source.source, body=body)
            ingested += len(page.records)
        with ctx.uow() as uow:
            uow.idp_poll.put(page.after)
            uow.commit()
        if not page.more:
            break
    return ingested


class TenantIdps(Protocol):
    """The composition root's per-tenant adapters (``bootstrap_routing.TenantAdapters``)."""

    def row(self, tenant_id: str, name: str) -> TenantConnector | None: ...

    def configured(self, tenant_id: str, name: str) -> Any | None: ...


def _sources(kind: str, idp: Any, now: Callable[[], datetime]) -> tuple[LogSource, ...]:
    if kind == "okta":
        return (OktaSystemLog(idp, now=now),)
    return tuple(EntraLog(idp.graph, kind=k, now=now) for k in (AUDITS, SIGN_INS))  # entra


def tenant_log_targets(
    *, reads: UnitOfWorkFactory, adapters: TenantIdps, now: Callable[[], datetime]
) -> list[PollTarget]:
    """The log streams of every tenant whose enabled ``idp`` connector is Okta or Entra, as stored
    now. A row that cannot be built (a secret that cannot be read) is logged and skipped."""
    with reads() as uow:
        tenants = list(uow.connectors.tenants())
    targets: list[PollTarget] = []
    for tenant_id in tenants:
        row = adapters.row(tenant_id, IDP)
        if row is None or row.kind not in LOG_KINDS:  # LDAP, Keycloak, Google: no log source yet
            continue
        try:
            idp = adapters.configured(tenant_id, IDP)
        except ConnectorError as exc:
            _log.error("idp_log_tenant_unusable", tenant_id=tenant_id, kind=row.kind, error=exc.message)
            continue
        if idp is not None:
            targets.extend(PollTarget(tenant_id, source) for source in _sources(row.kind, idp, now))
    return targets


class IdpLogPoller(Ticker):
    name = "deskguard-idp-logs"
    failure = "idp_log_poll_failed"

    def __init__(
        self,
        ctx: AppContext,
        *,
        targets: list[PollTarget],
        tenant_targets: Callable[[], Sequence[PollTarget]] | None = None,
        refresh_ticks: int = 4,
        tick_s: float = 30.0,
    ) -> None:
        if refresh_ticks < 1:
            raise ValueError("refresh_ticks is at least 1")
        super().__init__(tick_s=tick_s)
        self._ctx = ctx
        self._targets = list(targets)
        self._tenant_targets = tenant_targets
        self._refresh_ticks = refresh_ticks
        self._ticks = 0
        self._tenants: list[PollTarget] = []

    def targets(self) -> list[PollTarget]:
        """The deployment's targets and the tenants' (re-read every ``refresh_ticks`` calls); a
        tenant's own stream wins over the deployment's of the same (tenant, stream)."""
        if self._tenant_targets is not None and self._ticks % self._refresh_ticks == 0:
            try:
                self._tenants = list(self._tenant_targets())
            except Exception as exc:  # the database may be away: keep polling what was known
                self._log.error("idp_log_targets_failed", error_type=type(exc).__name__, error=str(exc))
        self._ticks += 1
        own = {(t.tenant_id, t.source.stream) for t in self._tenants}
        return [t for t in self._targets if (t.tenant_id, t.source.stream) not in own] + self._tenants

    def tick(self) -> int:
        """One pass over every stream; a failing stream is logged and does not stop the others."""
        total = 0
        for target in self.targets():
            try:
                total += poll_stream(self._ctx, tenant_id=target.tenant_id, source=target.source)
            except Exception as exc:  # the checkpoint is unchanged: the next tick retries this stream
                self._log.error(
                    self.failure,
                    stream=target.source.stream,
                    tenant_id=target.tenant_id,
                    error_type=type(exc).__name__,
                    error=str(exc),
                )
        return total
