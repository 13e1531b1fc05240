"""``deskguard evaluate DIR``: the whole product over a simulated dataset, measured against its labels.

Builds a fresh runtime on an embedded SQLite database in a temporary folder (``bootstrap.build``: the
shipped policy, detection content, learned analytics, risk and runbooks, the fake channels), with a
``FixedClock`` the replay moves to each record's time; seeds the dataset's MSP, replays it
(``sim.evaluate_replay``), scores it (``sim.evaluate_score``), prints a table per scenario and the
summary. ``--json`` writes the JSON document (``-`` prints it), ``--html`` the report with its plots.
Exit 0 when the targets are met, 1 otherwise (the misses listed), 2 for an unreadable dataset.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from deskguard.adapters.system import FixedClock, SeededRandomness
from deskguard.bootstrap import build
from deskguard.settings import load_settings
from deskguard.sim.evaluate_replay import monthly_kpis, replay
from deskguard.sim.evaluate_report import render_html
from deskguard.sim.evaluate_score import Evaluation, score
from deskguard.sim.evaluate_seed import DatasetError, load_dataset, seed_msp

err = Console(stderr=True, highlight=False, soft_wrap=True)


def run_evaluation(folder: Path, *, progress: Progress | None = None) -> Evaluation:
    """Seed, replay and score the dataset in ``folder`` on a throw-away database."""
    data = load_dataset(folder)
    start = data.begins
    with tempfile.TemporaryDirectory(prefix="deskguard-evaluate-") as tmp:
        settings = load_settings(
            database_url=f"sqlite:///{Path(tmp) / 'evaluate.db'}",
            demo=True,
            witness_dir=Path(tmp) / "witness",
        )
        clock = FixedClock(start)
        runtime = build(
            settings,
            clock=clock,
            randomness=SeededRandomness(int(data.manifest.get("seed", 0))),
            migrate=True,
        )
        try:
            seed_msp(runtime.ctx, data)
            task = progress.add_task("replay", total=None) if progress else None

            def tick(done: int, total: int) -> None:
                if progress is not None and task is not None:
                    progress.update(task, completed=done, total=total)

            result = score(data, replay(runtime.ctx, clock, data, progress=tick))
            result.kpis = monthly_kpis(runtime.ctx, data)
        finally:
            runtime.engine.dispose()
    return result


def _ttd(value: float | None) -> str:
    return "" if value is None else f"{value:.0f} s"


def print_tables(result: Evaluation, out: Console) -> None:
    table = Table(
        "scenario",
        "variant",
        "expected",
        "prevented",
        "detected by",
        "time to detect",
        "result",
        title="per scenario",
    )
    for r in result.labels:
        table.add_row(
            escape(r.scenario),
            r.variant,
            r.expected,
            "yes" if r.prevented else "",
            escape(", ".join(r.rules)),
            _ttd(r.time_to_detect_s),
            "ok" if r.ok else f"[red]MISS[/red] {escape(r.miss)}",
        )
    out.print(table)
    s = result.summary
    summary = Table("figure", "value", title="summary")
    for key in (
        "attacks",
        "prevented",
        "detected",
        "recall",
        "precision",
        "alerts",
        "false_alerts",
        "history_alerts",
        "benign_helpdesk_actions",
        "false_alerts_per_10k_benign_actions",
        "alerts_per_analyst_day",
        "worst_time_to_detect_s",
        "events_evaluated",
        "events_per_s",
    ):
        summary.add_row(key.replace("_", " "), str(s[key]))
    out.print(summary)
    targets = Table("target", "wanted", "measured", "met", title="targets")
    for name, t in result.targets.items():
        targets.add_row(
            name.replace("_", " "), t["target"], str(t["measured"]), "yes" if t["met"] else "[red]no[/red]"
        )
    out.print(targets)
    for miss in result.misses:
        out.print(f"[red]miss:[/red] {escape(miss)}")


def evaluate(
    folder: Annotated[
        Path, typer.Argument(help="a dataset written by deskguard simulate", show_default=False)
    ],
    json_out: Annotated[
        Path | None,
        typer.Option("--json", help="write the JSON document here ('-': print it instead of the tables)"),
    ] = None,
    html: Annotated[Path | None, typer.Option("--html", help="write the HTML report here")] = None,
) -> None:
    """Run the whole product over a dataset and measure it against the labels (exit 1: targets missed)."""
    try:
        with Progress(
            TextColumn("evaluate"), BarColumn(), MofNCompleteColumn(), console=err, transient=True
        ) as bar:
            result = run_evaluation(folder, progress=bar)
    except DatasetError as exc:
        err.print(f"[red]dataset error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from None
    document = json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n"
    if json_out is not None and str(json_out) == "-":
        sys.stdout.write(document)
    else:
        print_tables(result, Console(width=None if sys.stdout.isatty() else 200, highlight=False))
        if json_out is not None:
            json_out.write_text(document, encoding="utf-8")
    if html is not None:
        html.write_text(render_html(result), encoding="utf-8")
    if not result.met:
        raise typer.Exit(1)
