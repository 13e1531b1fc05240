"""``deskguard connectors``: which adapter serves each port, whether it answers, and each tenant's own.

Without ``--tenant``, ``list`` and ``check`` show the deployment's adapters (``DESKGUARD_*``, else
the fakes). With ``--tenant T`` they show the tenant's configurable ports (``tenant_connectors``):
its own adapter, or the deployment's it falls back to. ``set``, ``remove`` and ``test`` change and
probe one tenant's port through the same use cases as the API (``app.connectors``); settings are
``--setting key=value`` pairs, secrets as references (``env://NAME``, ``file:///path``).
"""

from __future__ import annotations

import json
from dataclasses import fields
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from deskguard.bootstrap_routing import health_of, is_fake
from deskguard.domain.errors import DeskguardError
from deskguard.domain.events import Actor, ActorKind
from deskguard.domain.ports import Health

connectors_app = typer.Typer(
    help="Connectors: list them, check their health, configure them per tenant.", no_args_is_help=True
)
out = Console()
CLI_ACTOR = Actor(kind=ActorKind.SYSTEM, id="cli", role="admin")
TENANT = typer.Option(None, "--tenant", help="a tenant id: its own connectors")

__all__ = ["connectors_app", "health_of", "is_fake", "ports_of"]


def ports_of(channels: Any) -> list[tuple[str, Any]]:
    """(port, deployment adapter) for each outbound port of a ``Channels`` (past the tenant routing)."""
    ports = [(field.name, getattr(channels, field.name)) for field in fields(channels)]
    return [(port, getattr(adapter, "fallback", adapter)) for port, adapter in ports]


def _ctx() -> Any:
    from deskguard.cli.main import configured_runtime

    return configured_runtime().ctx


def _adapters() -> list[tuple[str, Any]]:
    return ports_of(_ctx().channels)


def _kind(adapter: Any) -> str:
    name = getattr(adapter, "name", "")
    kind = type(adapter).__name__
    return f"{kind} ({name})" if name and name.lower() not in kind.lower() else kind


def _state(health: Health | None) -> str:
    if health is None:
        return "no health check"
    return ("ok" if health.ok else "FAILING") + (f": {health.detail}" if health.detail else "")


def _fail(exc: DeskguardError) -> typer.Exit:
    out.print(f"[red]error[/red] {exc.code}: {exc.message}")
    return typer.Exit(2)


def _tenant_table(tenant: str, *, health: bool) -> bool:
    """The tenant's ports; True when one checked is failing."""
    from deskguard.app.connectors import connector_views

    try:
        views = connector_views(_ctx(), tenant_id=tenant, health=health)
    except DeskguardError as exc:
        raise _fail(exc) from None
    table = Table("port", "kind", "source", "fake", *(("health", "ms") if health else ("settings",)))
    failed = False
    for view in views:
        s = view.serving
        row = [s.name, s.kind, s.source, "yes" if s.fake else "no"]
        if view.probe is not None:
            failed = failed or (view.probe.health is not None and not view.probe.health.ok)
            row += [_state(view.probe.health), f"{view.probe.latency_ms:g}"]
        else:
            row.append(json.dumps(view.row.settings) if view.row else "")
        table.add_row(*row)
    out.print(table)
    return failed


@connectors_app.command("list")
def list_connectors(tenant: str | None = TENANT) -> None:
    """Each port and the adapter that serves it (for a tenant: its own, or the deployment's)."""
    if tenant:
        _tenant_table(tenant, health=False)
        return
    table = Table("port", "adapter", "fake")
    for port, adapter in _adapters():
        table.add_row(port, _kind(adapter), "yes" if is_fake(adapter) else "no")
    out.print(table)


@connectors_app.command("check")
def check(tenant: str | None = TENANT) -> None:
    """Ask every adapter that can tell whether it answers; exit 1 when one does not."""
    if tenant:
        if _tenant_table(tenant, health=True):
            raise typer.Exit(1)
        return
    table = Table("port", "adapter", "health")
    failed = False
    for port, adapter in _adapters():
        health = health_of(adapter)
        failed = failed or (health is not None and not health.ok)
        table.add_row(port, _kind(adapter), _state(health))
    out.print(table)
    if failed:
        raise typer.Exit(1)


@connectors_app.command("test")
def test(
    name: str = typer.Argument(..., help="the port: idp, ticketing, telephony, notify.email..."),
    tenant: str = typer.Option(..., "--tenant"),
) -> None:
    """Run the health check of the adapter serving NAME for the tenant now; exit 1 when it fails."""
    from deskguard.app.connectors import probe_connector

    try:
        probe = probe_connector(_ctx(), tenant_id=tenant, name=name)
    except DeskguardError as exc:
        raise _fail(exc) from None
    out.print(f"{tenant} {name}: {_state(probe.health)} ({probe.latency_ms:g} ms)")
    if probe.health is not None and not probe.health.ok:
        raise typer.Exit(1)


def _pairs(settings: list[str]) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in settings:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"{item!r}: give key=value", param_hint="--setting")
        pairs[key.strip()] = value
    return pairs


@connectors_app.command("set")
def set_connector(
    name: str = typer.Argument(..., help="the port: idp, ticketing, telephony, notify.email..."),
    tenant: str = typer.Option(..., "--tenant"),
    kind: str = typer.Option(..., "--kind", help="the adapter: ldap, okta, servicenow, smtp..."),
    setting: list[str] = typer.Option(
        [], "--setting", help="key=value; secrets as env://NAME or file:///path"
    ),
    disabled: bool = typer.Option(False, "--disabled", help="store it, but keep the deployment's adapter"),
) -> None:
    """Configure the tenant's adapter for NAME (validated by the adapter's settings model)."""
    from deskguard.app.connectors import store_connector

    try:
        stored = store_connector(
            _ctx(),
            actor=CLI_ACTOR,
            tenant_id=tenant,
            name=name,
            kind=kind,
            settings=_pairs(setting),
            enabled=not disabled,
        )
    except DeskguardError as exc:
        raise _fail(exc) from None
    out.print(f"{tenant} {name}: {stored.kind} {json.dumps(stored.settings)}")


@connectors_app.command("remove")
def remove(name: str = typer.Argument(...), tenant: str = typer.Option(..., "--tenant")) -> None:
    """Remove the tenant's adapter for NAME: the deployment's serves it again."""
    from deskguard.app.connectors import drop_connector

    try:
        drop_connector(_ctx(), actor=CLI_ACTOR, tenant_id=tenant, name=name)
    except DeskguardError as exc:
        raise _fail(exc) from None
    out.print(f"{tenant} {name}: back to the deployment's adapter")
