"""``deskguard baselines``: what the detection engine learned, rebuilt from history or shown."""

from __future__ import annotations

import heapq
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from deskguard.app.baselines import export_lines, store, summary
from deskguard.cli.detect import check_inputs, event_time, read_records, stream_events
from deskguard.detection.normalize import SOURCES
from deskguard.detection.pipeline import Pipeline, streaming_gc

baselines_app = typer.Typer(
    help="The detection engine's learned baselines: rebuild them from recorded events, or show them.",
    no_args_is_help=True,
)
out = Console()
err = Console(stderr=True, soft_wrap=True)


@baselines_app.command("rebuild")
def rebuild(
    files: Annotated[list[Path], typer.Argument(help="JSON, NDJSON or JSON-array files (.gz too)")],
    source: Annotated[str | None, typer.Option(help=f"force the format: {', '.join(SOURCES)}")] = None,
    tenant: Annotated[str, typer.Option(help="tenant id given to every event")] = "",
    output: Annotated[
        Path | None, typer.Option(help="write the baselines here (JSON lines) instead of the database")
    ] = None,
) -> None:
    """Replay recorded events through a fresh engine and store what its analytics learned.

    The engine is the one the environment configures (content, geo), so the baselines fit the
    server that restores them at start. Stop the server first: a running one writes its own
    baselines every minute."""
    from deskguard.cli.main import configured_runtime

    check_inputs(files, source)
    runtime = configured_runtime()
    detector = runtime.ctx.detector
    if detector is None:
        err.print("[red]error:[/red] detection is not configured")
        raise typer.Exit(2)
    pipeline = Pipeline(detector.content)
    with streaming_gc():
        streams = [
            sorted(stream_events(pipeline, read_records(path), source, tenant, lambda: None), key=event_time)
            for path in files
        ]
        for event in heapq.merge(*streams, key=event_time):
            pipeline.process(event)
    state = pipeline.engine.export_state()
    if output is not None:
        with output.open("wb") as handle:
            handle.writelines(export_lines(state))
        where = str(output)
    else:
        store(runtime.ctx, state)
        where = "the database"
    table = Table("analytic", "keys learned")
    for rule_id, keys in summary(state).items():
        table.add_row(rule_id, str(keys))
    out.print(table)
    out.print(
        f"{pipeline.engine.stats.events} events from {pipeline.records} records "
        f"({pipeline.quarantine.count} quarantined); baselines written to {where}"
    )


@baselines_app.command("show")
def show() -> None:
    """The stored baselines: each analytic, the keys it holds, when it was last written."""
    from deskguard.cli.main import configured_runtime

    runtime = configured_runtime()
    with runtime.ctx.reads() as uow:
        rows = uow.detection_state.all()
    table = Table("analytic", "keys", "bytes", "updated")
    for row in rows:
        table.add_row(
            row.rule_id, str(row.keys), str(len(row.state)), row.updated_at.isoformat(timespec="seconds")
        )
    out.print(table)
    if not rows:
        out.print("no baselines stored yet: the server writes them every minute, or run `baselines rebuild`")
