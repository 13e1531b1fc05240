"""``deskguard simulate``: write a synthetic MSP's benign days and attack scenarios to a folder.

A thin layer over ``deskguard.sim.simulate``: parse, load the scenarios (checked against the
detection content's rule ids), generate with a progress bar, write. Bad sizes or a broken scenario
file give one clear line and exit code 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from deskguard.cli.detect import BUILT_IN
from deskguard.detection.content import load_content
from deskguard.sim.scenarios import ScenarioError, load_scenarios
from deskguard.sim.simulate import HISTORY_DAYS, write_simulation
from deskguard.sim.simulate import simulate as run_simulation

err = Console(stderr=True, soft_wrap=True)


def rule_names() -> set[str]:
    """The rule ids of the built-in detection content (expected outcomes must name one)."""
    return set(load_content(list(BUILT_IN)).ids())


def simulate(
    out: Annotated[Path, typer.Option(help="the folder to write the dataset to")],
    seed: Annotated[int, typer.Option(help="the seed: the same seed and sizes give the same files")] = 1,
    tenants: Annotated[int, typer.Option(help="client tenants of the MSP")] = 3,
    persons: Annotated[int, typer.Option(help="persons over all tenants")] = 120,
    operators: Annotated[int, typer.Option(help="helpdesk operators (internal desk and provider)")] = 8,
    days: Annotated[int, typer.Option(help="simulated days of benign life")] = 7,
    history: Annotated[
        int, typer.Option(help="days of benign life before them, learned by the baselines and not scored")
    ] = HISTORY_DAYS,
    scenarios: Annotated[str, typer.Option(help="'all', 'none' or NAME,NAME from content/scenarios")] = "all",
) -> None:
    """Generate a synthetic MSP, D days of benign life and the attack scenarios with their labels."""
    try:
        chosen = [] if scenarios == "none" else load_scenarios(scenarios, known_rules=rule_names())
    except ScenarioError as exc:
        err.print(f"[red]scenario error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from None
    with Progress(
        TextColumn("simulate {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err,
        transient=True,
    ) as progress:
        task = progress.add_task("benign days", total=1 + len(chosen))
        try:
            sim = run_simulation(
                seed=seed,
                tenants=tenants,
                persons=persons,
                operators=operators,
                days=days,
                history=history,
                scenarios=chosen,
                progress=lambda name: progress.update(task, advance=1, description=name),
            )
        except ValueError as exc:
            err.print(f"[red]error:[/red] {escape(str(exc))}")
            raise typer.Exit(2) from None
    paths = write_simulation(out, sim)
    counts = sim.manifest["counts"]
    typer.echo(
        f"{counts['events']} records, {counts['helpdesk_requests']} helpdesk requests "
        f"({counts['benign_helpdesk_actions']} benign in the {days} scored days, "
        f"{counts['history_helpdesk_actions']} in the {history} days of history before them), "
        f"{len(chosen)} scenarios (+ twins) -> {out} ({len(paths)} files)"
    )
