"""``deskguard audit``: checkpoint, verify (live or a bundle offline), export, prove.

``verify`` exits 0 when the log is intact and 1 with the first bad index and why otherwise, so it
can run from cron or CI; given a directory it verifies an exported bundle with no database and no
configuration at all (what a client runs on what its provider hands over).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

if TYPE_CHECKING:
    from deskguard.bootstrap import Runtime

audit_app = typer.Typer(
    help="The evidence ledger: sign checkpoints, verify, export bundles, prove records.", no_args_is_help=True
)
out = Console(soft_wrap=True)  # one report per line, whatever the terminal width: auditors grep them
err = Console(stderr=True, soft_wrap=True)


def _runtime() -> Runtime:
    """The configured runtime; imported lazily so that offline verification needs no configuration."""
    from deskguard.cli.main import configured_runtime

    return configured_runtime()


@audit_app.command()
def checkpoint(
    tenant: str = typer.Option(None, help="one tenant (default: every tenant with records)"),
) -> None:
    """Sign a checkpoint of each tenant's log at its current size and publish it to the witness."""
    from deskguard.app.ledger import sign_checkpoint, sign_due_checkpoints

    ctx = _runtime().ctx
    signed = (
        [c for c in [sign_checkpoint(ctx, tenant_id=tenant)] if c]
        if tenant
        else sign_due_checkpoints(ctx, every_records=1, every_seconds=float("inf"))
    )
    for cp in signed:
        out.print(f"{cp.tenant_id}: checkpoint at size {cp.size}, root {cp.root.hex()[:16]}…")


@audit_app.command()
def verify(
    bundle: Path = typer.Argument(
        None, help="an exported bundle (a directory, or the console's .zip download): verify it offline"
    ),
    tenant: str = typer.Option(None, help="one tenant of the live database"),
) -> None:
    """Recompute the log(s) and check every known checkpoint. Exit 0 intact, 1 broken."""
    if bundle is not None:
        raise typer.Exit(_verify_bundle(bundle))
    from deskguard.app.ledger import origin_of, verify_tenant

    runtime = _runtime()
    ctx = runtime.ctx
    with ctx.reads() as uow:
        tenants = [tenant] if tenant else list(uow.ledger.tenants())
    broken = 0
    for tenant_id in tenants:
        held = tuple(ctx.witness.published(tenant_id=tenant_id)) if ctx.witness else ()
        report = verify_tenant(ctx, tenant_id=tenant_id, extra_checkpoints=held)
        (out if report.ok else err).print(report.line(origin=origin_of(ctx, tenant_id)))
        broken += not report.ok
    raise typer.Exit(1 if broken else 0)


def _verify_bundle(directory: Path) -> int:
    from deskguard.audit.bundle import FILES, BundleError, from_zip, verify_bundle

    try:
        if directory.is_file():  # the console's download: the same files in one zip archive
            files = from_zip(directory.read_bytes())
        else:
            files = {
                name: (directory / name).read_text(encoding="utf-8")
                for name in (*FILES, "proofs.jsonl")
                if (directory / name).exists()
            }
        origin, report = verify_bundle(files)
    except (BundleError, OSError) as exc:
        err.print(f"{directory}: {exc}")
        return 2
    (out if report.ok else err).print(report.line(origin=origin))
    return 0 if report.ok else 1


@audit_app.command()
def export(
    directory: Path,
    tenant: str = typer.Option(..., help="the tenant whose log to export"),
    since: datetime = typer.Option(
        None, "--from", help="only records from this time (with inclusion proofs)"
    ),
    until: datetime = typer.Option(None, "--to", help="only records before this time"),
) -> None:
    """Write the tenant's bundle (records, checkpoints, keys[, proofs]) to DIRECTORY for offline checks."""
    from deskguard.app.ledger import export_bundle

    bundle = export_bundle(_runtime().ctx, tenant_id=tenant, since=_aware(since), until=_aware(until))
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in bundle.files.items():
        (directory / name).write_text(text, encoding="utf-8")
    out.print(f"exported {tenant} to {directory}: verify it with `deskguard audit verify {directory}`")


@audit_app.command()
def prune(
    tenant: str = typer.Option(..., help="the tenant whose old records to prune"),
    older_than_days: int = typer.Option(..., min=1, help="the tenant's retention, in days"),
) -> None:
    """Retention: drop the content of records older than the tenant's retention; the log still verifies."""
    from datetime import timedelta

    from deskguard.app.ledger import prune as drop

    count = drop(_runtime().ctx, tenant_id=tenant, older_than=timedelta(days=older_than_days))
    out.print(f"{tenant}: pruned {count} records older than {older_than_days} days (their hashes stay)")


@audit_app.command("rotate-key")
def rotate_key(tenant: str = typer.Option(..., help="the tenant whose signing key to retire")) -> None:
    """Retire the tenant's signing key; the next checkpoint is signed with a new one."""
    from deskguard.app.ledger import rotate_key as retire

    retired = retire(_runtime().ctx, tenant_id=tenant)
    out.print(f"{tenant}: retired key {retired}" if retired else f"{tenant}: no active key yet")


def _aware(moment: datetime | None) -> datetime | None:
    """Times on the command line without a zone are UTC."""
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=UTC)


@audit_app.command()
def prove(event_id: str) -> None:
    """Print the inclusion proof of one record (by its event id) against the latest checkpoint."""
    from deskguard.app.ledger import prove as inclusion

    out.print_json(json.dumps(inclusion(_runtime().ctx, event_id=event_id)))
