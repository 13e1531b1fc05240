"""``deskguard connectors``: which adapter serves each port, and whether it answers."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from deskguard.domain.errors import ConnectorError, ConnectorTimeout
from deskguard.domain.ports import Health

connectors_app = typer.Typer(
    help="The connectors this environment configures: list them, check their health.", no_args_is_help=True
)
out = Console()


def ports_of(channels: Any) -> list[tuple[str, Any]]:
    """(port, adapter) for each outbound port of a ``Channels``."""
    return [(field.name, getattr(channels, field.name)) for field in fields(channels)]


def is_fake(adapter: Any) -> bool:
    return type(adapter).__name__.startswith("Fake")


def _adapters() -> list[tuple[str, Any]]:
    from deskguard.cli.main import configured_runtime

    return ports_of(configured_runtime().ctx.channels)


def _kind(adapter: Any) -> str:
    name = getattr(adapter, "name", "")
    kind = type(adapter).__name__
    return f"{kind} ({name})" if name and name.lower() not in kind.lower() else kind


def health_of(adapter: Any) -> Health | None:
    """The adapter's own health check; None when it has none. A failing check is a Health, not a raise."""
    check = getattr(adapter, "health", None)
    if check is None:
        return None
    try:
        return check()
    except (ConnectorError, ConnectorTimeout) as exc:
        return Health(ok=False, detail=str(exc))


@connectors_app.command("list")
def list_connectors() -> None:
    """Each port of the request and response flows, and the adapter that serves it."""
    table = Table("port", "adapter", "fake")
    for port, adapter in _adapters():
        table.add_row(port, _kind(adapter), "yes" if is_fake(adapter) else "no")
    out.print(table)


@connectors_app.command("check")
def check() -> None:
    """Ask every adapter that can tell whether it answers; exit 1 when one does not."""
    table = Table("port", "adapter", "health")
    failed = False
    for port, adapter in _adapters():
        health = health_of(adapter)
        if health is None:
            state = "no health check"
        else:
            failed = failed or not health.ok
            state = ("ok" if health.ok else "FAILING") + (f": {health.detail}" if health.detail else "")
        table.add_row(port, _kind(adapter), state)
    out.print(table)
    if failed:
        raise typer.Exit(1)
