"""The ``deskguard`` command: serve, demo, db, policy.

Each command builds the runtime through ``bootstrap`` and reports configuration problems as one
clear line and exit code 2 (no traceback for a mistyped setting).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer
import uvicorn
from rich.console import Console

from deskguard.bootstrap import Runtime, build, http_app
from deskguard.domain.errors import ConfigurationError, PolicyError, ValidationFailed
from deskguard.settings import Settings, load_settings
from deskguard.workers.ticker import Ticker

if TYPE_CHECKING:
    from deskguard.workers.ari_events import AriEvents

app = typer.Typer(help="deskguard: the security broker for IT helpdesks.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
hooks_app = typer.Typer(help="Keys for signed ingest webhooks.", no_args_is_help=True)
app.add_typer(hooks_app, name="hooks")
console = Console(stderr=True, soft_wrap=True)


def _mount_groups() -> None:
    from deskguard.cli.accounts import accounts_app
    from deskguard.cli.audit import audit_app
    from deskguard.cli.baselines import baselines_app
    from deskguard.cli.connectors import connectors_app
    from deskguard.cli.detect import replay, rules_app, sim_app, text_app
    from deskguard.cli.evaluate import evaluate
    from deskguard.cli.policy import policy_app
    from deskguard.cli.simulate import simulate

    app.add_typer(policy_app, name="policy", help="Lint, test and explain assurance policies.")
    app.add_typer(audit_app, name="audit")
    app.add_typer(rules_app, name="rules", help="List, lint and test detection content.")
    app.add_typer(sim_app, name="sim", help="Synthetic data for trying the detection engine.")
    app.add_typer(text_app, name="text", help="The social-engineering pressure model for ticket text.")
    app.add_typer(baselines_app, name="baselines")
    app.add_typer(connectors_app, name="connectors")
    app.add_typer(accounts_app, name="accounts")
    app.command("replay")(replay)
    app.command("simulate")(simulate)
    app.command("evaluate")(evaluate)


_mount_groups()


def _settings(**overrides: object) -> Settings:
    try:
        return load_settings(**overrides)
    except ConfigurationError as exc:
        console.print(f"[red]configuration error:[/red] {exc.message}")
        raise typer.Exit(2) from None


def _runtime(settings: Settings, *, migrate: bool) -> Runtime:
    try:
        return build(settings, migrate=migrate)
    except (ConfigurationError, PolicyError) as exc:
        console.print(f"[red]cannot start:[/red] {exc.message}")
        raise typer.Exit(2) from None


def configured_runtime() -> Runtime:
    """The runtime the environment configures (for command groups that need one)."""
    return _runtime(_settings(), migrate=False)


def _serve(runtime: Runtime, *, host: str, port: int) -> None:
    from deskguard.app.baselines import restore
    from deskguard.workers.checkpointer import Checkpointer
    from deskguard.workers.detector import BaselineKeeper, OutboxDetector
    from deskguard.workers.privilege_expiry import PrivilegeExpirer
    from deskguard.workers.responder import Responder

    settings = runtime.settings
    checkpointer = Checkpointer(
        runtime.ctx,
        every_records=settings.checkpoint_every_records,
        every_seconds=settings.checkpoint_every_seconds,
    )
    detector = OutboxDetector(runtime.ctx)
    responder = Responder(runtime.ctx)  # runbook steps whose connector timed out, retried with back-off
    expirer = PrivilegeExpirer(runtime.ctx, tick_s=settings.privilege_expiry_seconds)  # grants that ended
    keeper = BaselineKeeper(runtime.ctx, tick_s=settings.baselines_persist_seconds)
    from deskguard.workers.idp_logs import IdpLogPoller, PollTarget, tenant_log_targets

    targets = [PollTarget(tenant, source) for tenant, source in runtime.log_sources]
    adapters = runtime.tenant_adapters
    poller = IdpLogPoller(
        runtime.ctx,
        targets=targets,
        # the tenants' own Okta/Entra logs, re-read from tenant_connectors every few ticks
        tenant_targets=None
        if adapters is None
        else lambda: tenant_log_targets(
            reads=runtime.ctx.reads, adapters=adapters, now=runtime.ctx.clock.now
        ),
        tick_s=settings.idp_logs_poll_seconds,
    )
    try:
        keys = restore(runtime.ctx)
        console.print(f"detection baselines restored: {keys} keys")
    except ValidationFailed as exc:  # the rest was restored; say which analytics start from their prior
        console.print(f"[yellow]warning:[/yellow] {exc.message}")
    checkpointer.start()
    detector.start()
    responder.start()
    expirer.start()
    keeper.start()
    if targets or adapters is not None:
        poller.start()
    ari_events = _ari_events(runtime)
    exporter = _exporter(runtime)  # SIEM/SOAR deliveries, when destinations are configured
    try:
        uvicorn.run(http_app(runtime), host=host, port=port, log_level="info")
    finally:
        if ari_events is not None:
            ari_events.stop()
        if exporter is not None:
            exporter.stop()
        responder.stop()
        expirer.stop()
        detector.stop()
        keeper.stop()
        if targets:
            poller.stop()
        checkpointer.stop()


def _ari_events(runtime: Runtime) -> AriEvents | None:
    """The ARI event stream, when Asterisk ARI places the call-backs (it settles their outcomes)."""
    from deskguard.adapters.telephony.ari import AriTelephony
    from deskguard.workers.ari_events import AriEvents

    # the deployment's own adapter, behind the per-tenant routing (a tenant's own ARI has no stream yet)
    routed = runtime.ctx.channels.telephony
    telephony = getattr(routed, "fallback", routed)
    if not isinstance(telephony, AriTelephony):
        return None
    events = AriEvents(runtime.ctx, telephony)
    events.start()
    console.print(f"ARI call-back events from: {telephony.events_url()}")
    return events


def _exporter(runtime: Runtime) -> Ticker | None:
    from deskguard.bootstrap_export import export_sinks
    from deskguard.workers.exporter import Exporter

    if not runtime.ctx.exports.destinations:
        return None
    exporter = Exporter(runtime.ctx, export_sinks(runtime.settings))
    exporter.start()
    console.print(f"SIEM/SOAR export to: {', '.join(sorted(runtime.ctx.exports.destinations))}")
    return exporter


@app.command()
def serve(
    host: str = typer.Option(None, help="bind address (default DESKGUARD_HOST or 127.0.0.1)"),
    port: int = typer.Option(None, help="port (default DESKGUARD_PORT or 8000)"),
) -> None:
    """Serve the API. The schema must be current: run `deskguard db upgrade` first."""
    settings = _settings()
    runtime = _runtime(settings, migrate=False)
    from deskguard.cli.connectors import is_fake, ports_of

    fakes = [port for port, adapter in ports_of(runtime.ctx.channels) if is_fake(adapter)]
    if fakes:
        console.print(
            f"[yellow]note:[/yellow] in-memory fakes serve {', '.join(fakes)} "
            "(`deskguard connectors list`; docs/connectors/)"
        )
    _serve(runtime, host=host or settings.host, port=port or settings.port)


@app.command()
def demo(
    port: int = typer.Option(8000, help="port to serve on"),
    seed_only: bool = typer.Option(False, "--seed-only", help="seed and write credentials, do not serve"),
) -> None:
    """Create the embedded database, seed the demo MSP, write var/demo-credentials.json, then serve."""
    from deskguard.sim.demo import seed_demo

    settings = _settings(demo=True)
    runtime = _runtime(settings, migrate=True)
    creds = seed_demo(runtime.ctx, history=True)
    out = Path("var") / "demo-credentials.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(creds.to_json(), indent=2, ensure_ascii=False))
    out.chmod(0o600)
    console.print(f"[green]demo ready[/green]: database {settings.database_url}")
    console.print(f"  credentials (API tokens, portal tokens, TOTP seeds): {out.resolve()}")
    console.print(
        f"  console: http://127.0.0.1:{port}/ — sign in as any demo login below, password "
        f"[bold]{creds.to_json()['console_password']}[/bold], then the code of "
        "`deskguard demo-code LOGIN`"
    )
    for login, who in creds.operators.items():
        console.print(f"    {login:34} {who['role']}")
    console.print("    claire.dubois0@acme.example        employee (portal; Jean's manager)")
    console.print(f"  API docs: http://127.0.0.1:{port}/docs — walkthrough: README.md, 'The demo'")
    if not seed_only:
        _serve(runtime, host="127.0.0.1", port=port)


@app.command("demo-code")
def demo_code(
    login: str = typer.Argument(..., help="a demo console login (var/demo-credentials.json)"),
    credentials: Path = typer.Option(Path("var") / "demo-credentials.json", help="the demo's credentials"),
) -> None:
    """The current TOTP code of a demo console account: what its authenticator app would show."""
    import base64
    import time

    from deskguard.domain.otp import totp

    try:
        creds = json.loads(credentials.read_text())
    except (OSError, ValueError) as exc:
        raise typer.BadParameter(f"{credentials}: {exc} (run `make demo` first)") from None
    who = creds.get("operators", {}).get(login) or creds.get("persons", {}).get(login)
    if who is None or "console_totp_base32" not in who:
        raise typer.BadParameter(f"{login!r} is not a demo console login (see {credentials})")
    seed = base64.b32decode(who["console_totp_base32"] + "=" * (-len(who["console_totp_base32"]) % 8))
    typer.echo(totp(seed, time.time()))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations to DESKGUARD_DATABASE_URL."""
    from deskguard.adapters.db.migrate import current_revision, upgrade

    # Only the database URL matters here: no secret is needed to migrate a schema.
    url = os.environ.get("DESKGUARD_DATABASE_URL", str(Settings.model_fields["database_url"].default))
    upgrade(url)
    console.print(f"schema at revision {current_revision(url)}")


if __name__ == "__main__":  # pragma: no cover
    app()


@hooks_app.command("key")
def hooks_key(tenant: str = typer.Argument(..., help="the tenant id the webhook posts for")) -> None:
    """The HMAC key (hex) a signed generic webhook uses for this tenant (POST /api/v1/hooks/...)."""
    from deskguard.api.routes.detection import ingest_key

    typer.echo(ingest_key(_settings().webhook_key(), tenant).hex())
