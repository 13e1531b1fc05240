"""Per-tenant routing of the outbound ports (part of the composition root, beside ``bootstrap.py``).

Each routed port (identity provider, ticketing, telephony, the runbooks' notifier) looks up the
tenant's ``tenant_connectors`` row on every call and hands the call to the adapter that row
describes, or to ``fallback`` — the deployment's adapter (``DESKGUARD_*``), itself the fake when
nothing is configured, so the demo and the tests run unchanged. Built adapters are cached per
(tenant, port) and rebuilt when the row's ``updated_at`` changes; a disabled or removed row falls
back at once. ``Registry`` offers the same knowledge to ``app.connectors`` (the API and CLI).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from deskguard.domain.actions import ActionKind, ResponseAction
from deskguard.domain.connectors import PORT_KINDS, Probe, Serving, TenantConnector
from deskguard.domain.errors import ConfigurationError, ConnectorError, ConnectorTimeout
from deskguard.domain.model import Person
from deskguard.domain.ports import (
    ExecutionResult,
    Health,
    IdentityProvider,
    ResponseNotifier,
    Telephony,
    Ticketing,
    UnitOfWorkFactory,
)
from deskguard.domain.ports_approvals import ApprovalMessenger, ApprovalNotice, ApprovalUpdater
from deskguard.domain.ports_response import TicketResolver


def is_fake(adapter: Any) -> bool:
    return type(adapter).__name__.startswith("Fake")


def health_of(adapter: Any) -> Health | None:
    """The adapter's own health check; None when it has none. A failing check is a Health, not a raise."""
    check = getattr(adapter, "health", None)
    if check is None:
        return None
    try:
        return check()
    except (ConnectorError, ConnectorTimeout) as exc:
        return Health(ok=False, detail=str(exc))


class TenantAdapters:
    """(tenant, port) -> the adapter its row describes, built once per ``updated_at``."""

    def __init__(self, *, reads: UnitOfWorkFactory, build: Callable[[TenantConnector], Any]) -> None:
        self._reads, self._build = reads, build
        self._lock = threading.Lock()
        self._built: dict[tuple[str, str], tuple[datetime, str, Any]] = {}

    def row(self, tenant_id: str, name: str) -> TenantConnector | None:
        with self._reads() as uow:
            row = uow.connectors.get(tenant_id=tenant_id, name=name)
        return row if row is not None and row.enabled else None

    def configured(self, tenant_id: str, name: str) -> Any | None:
        """The tenant's adapter for ``name``; None when the tenant configures none (use the fallback).
        ``ConnectorError`` when the row cannot be built: never a silent fallback to another directory."""
        key = (tenant_id, name)
        row = self.row(tenant_id, name)
        with self._lock:
            if row is None:
                self._built.pop(key, None)
                return None
            cached = self._built.get(key)
            if cached is not None and cached[:2] == (row.updated_at, row.kind):
                return cached[2]
            try:
                adapter = self._build(row)
            except ConfigurationError as exc:
                raise ConnectorError(exc.message) from None
            self._built[key] = (row.updated_at, row.kind, adapter)
            return adapter


class TenantIdentityProvider:
    """``IdentityProvider`` by tenant. Evidence names the tenant's connector in the summary."""

    def __init__(self, adapters: TenantAdapters, *, fallback: IdentityProvider) -> None:
        self._adapters, self.fallback = adapters, fallback

    @property
    def name(self) -> str:
        return self.fallback.name

    def execute(
        self,
        *,
        tenant_id: str,
        person: Person,
        kind: ActionKind | ResponseAction,
        params: dict[str, Any],
        idempotency_key: str,
    ) -> ExecutionResult:
        idp = self._adapters.configured(tenant_id, "idp")
        chosen = idp or self.fallback
        result = chosen.execute(
            tenant_id=tenant_id, person=person, kind=kind, params=params, idempotency_key=idempotency_key
        )
        return result if idp is None else replace(result, summary={**result.summary, "connector": idp.name})

    def health(self) -> Health:
        return self.fallback.health()


class TenantTicketing:
    def __init__(self, adapters: TenantAdapters, *, fallback: Ticketing) -> None:
        self._adapters, self.fallback = adapters, fallback

    def _for(self, tenant_id: str) -> Ticketing:
        return self._adapters.configured(tenant_id, "ticketing") or self.fallback

    def open(self, *, tenant_id: str, title: str, text: str, idempotency_key: str) -> str:
        return self._for(tenant_id).open(
            tenant_id=tenant_id, title=title, text=text, idempotency_key=idempotency_key
        )

    def comment(self, *, tenant_id: str, ticket_ref: str, text: str, idempotency_key: str) -> str:
        return self._for(tenant_id).comment(
            tenant_id=tenant_id, ticket_ref=ticket_ref, text=text, idempotency_key=idempotency_key
        )

    def resolve(self, *, tenant_id: str, ticket_ref: str, idempotency_key: str) -> str:
        """``TicketResolver``, when the tenant's adapter has it (app.ticket_evidence)."""
        chosen = self._for(tenant_id)
        if not isinstance(chosen, TicketResolver):
            name = getattr(chosen, "name", "ticketing")
            raise ConnectorError(f"the {name} connector cannot resolve tickets")
        return chosen.resolve(tenant_id=tenant_id, ticket_ref=ticket_ref, idempotency_key=idempotency_key)


class TenantTelephony:
    """``Telephony`` by tenant. A tenant's own Twilio account gives Twilio the tenant's callback URLs
    (``/api/v1/webhooks/twilio/<tenant>/...``), whose route verifies them with that account's token
    (``own``); the deployment's routes verify the deployment's (``fallback``)."""

    def __init__(self, adapters: TenantAdapters, *, fallback: Telephony) -> None:
        self._adapters, self.fallback = adapters, fallback

    def own(self, tenant_id: str) -> Telephony | None:
        """The tenant's own telephony adapter (its inbound webhooks' secret); None: the deployment's."""
        return self._adapters.configured(tenant_id, "telephony")

    def place_verification_call(
        self, *, tenant_id: str, to_number: str, reference: str, spoken_code: str
    ) -> str:
        telephony = self._adapters.configured(tenant_id, "telephony") or self.fallback
        return telephony.place_verification_call(
            tenant_id=tenant_id, to_number=to_number, reference=reference, spoken_code=spoken_code
        )


class TenantResponseNotifier:
    """The runbooks' notifier by tenant and channel: ``notify.<channel>`` when the tenant has it;
    and the approval messages (``post_approval``, ``update_approval``), by the tenant's own adapter
    only."""

    def __init__(self, adapters: TenantAdapters, *, fallback: ResponseNotifier) -> None:
        self._adapters, self.fallback = adapters, fallback

    def own(self, tenant_id: str, channel: str) -> Any | None:
        """The tenant's own ``notify.<channel>`` adapter (a Slack app answers the clicks on what it
        posted); None when the tenant has none."""
        name = f"notify.{channel}"
        return self._adapters.configured(tenant_id, name) if name in PORT_KINDS else None

    def send(
        self, *, tenant_id: str, channel: str, to: str, subject: str, text: str, idempotency_key: str
    ) -> str:
        name = f"notify.{channel}"
        own = self._adapters.configured(tenant_id, name) if name in PORT_KINDS else None
        return (own or self.fallback).send(
            tenant_id=tenant_id,
            channel=channel,
            to=to,
            subject=subject,
            text=text,
            idempotency_key=idempotency_key,
        )

    def post_approval(
        self, *, tenant_id: str, channel: str, to: str, notice: ApprovalNotice, idempotency_key: str
    ) -> str:
        """``ApprovalMessenger``: the tenant's own ``notify.<channel>`` adapter posts it (the channel
        was read from that row); ``ConnectorError`` when the tenant has none that can."""
        name = f"notify.{channel}"
        own = self._adapters.configured(tenant_id, name) if name in PORT_KINDS else None
        if not isinstance(own, ApprovalMessenger):
            raise ConnectorError(f"tenant {tenant_id} has no {name} connector that posts approval messages")
        return own.post_approval(
            tenant_id=tenant_id, channel=channel, to=to, notice=notice, idempotency_key=idempotency_key
        )

    def update_approval(
        self,
        *,
        tenant_id: str,
        channel: str,
        message_ref: str,
        notice: ApprovalNotice,
        outcome: str,
        idempotency_key: str,
    ) -> str:
        """``ApprovalUpdater``: the tenant's own ``notify.<channel>`` adapter, which posted it."""
        name = f"notify.{channel}"
        own = self._adapters.configured(tenant_id, name) if name in PORT_KINDS else None
        if not isinstance(own, ApprovalUpdater):
            raise ConnectorError(f"tenant {tenant_id} has no {name} connector that updates approval messages")
        return own.update_approval(
            tenant_id=tenant_id,
            channel=channel,
            message_ref=message_ref,
            notice=notice,
            outcome=outcome,
            idempotency_key=idempotency_key,
        )


def adapter_name(adapter: Any) -> str:
    return str(getattr(adapter, "name", "") or type(adapter).__name__)


class Registry:
    """``domain.connectors.ConnectorRegistry``: validation, what serves a port, its health now."""

    def __init__(
        self,
        adapters: TenantAdapters,
        *,
        deployment: Mapping[str, Any],
        validate: Callable[..., dict[str, Any]],
    ) -> None:
        self._adapters, self._deployment, self._validate = adapters, dict(deployment), validate

    def validate(self, *, name: str, kind: str, settings: Mapping[str, Any]) -> dict[str, Any]:
        return self._validate(name=name, kind=kind, settings=settings)

    def serving(self, *, tenant_id: str, name: str) -> Serving:
        row = self._adapters.row(tenant_id, name)
        if row is not None:
            return Serving(name=name, kind=row.kind, source="tenant", fake=False)
        adapter = self._deployment[name]
        return Serving(name=name, kind=adapter_name(adapter), source="deployment", fake=is_fake(adapter))

    def probe(self, *, tenant_id: str, name: str) -> Probe:
        started = time.perf_counter()
        try:
            adapter = self._adapters.configured(tenant_id, name) or self._deployment[name]
            health = health_of(adapter)
        except (ConnectorError, ConnectorTimeout) as exc:
            health = Health(ok=False, detail=exc.message)
        return Probe(health=health, latency_ms=round((time.perf_counter() - started) * 1000, 1))
