"""``deskguard replay`` and ``deskguard rules``: the detection engine over files, and its content.

``replay`` reads JSON, NDJSON or JSON-array files (``.gz`` too), normalises every record (format
detected, or ``--source``), merges the files by event time and runs the engine; it writes one JSON
alert per line and prints a summary. Quarantined records are counted with their reasons; the run
still exits 0. Usage errors (a missing file, a broken rules folder) exit 2.
"""

from __future__ import annotations

import gzip
import heapq
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from deskguard.detection.content import Content, ContentError, case_files, lint, load_cases, load_content
from deskguard.detection.event import Event
from deskguard.detection.geo import BundledResolver
from deskguard.detection.networks import NetworksError, load_networks
from deskguard.detection.normalize import SOURCES
from deskguard.detection.pipeline import Pipeline, QuarantinedRecord, run_case, streaming_gc
from deskguard.detection.reading import Unreadable, read_batch
from deskguard.settings import REPO_ROOT

BUILT_IN = (REPO_ROOT / "content" / "rules", REPO_ROOT / "content" / "correlations")
PRESSURE_MODEL = REPO_ROOT / "content" / "models" / "pressure.json"
PRESSURE_CORPUS = REPO_ROOT / "content" / "corpus" / "pressure.yml"
NETWORKS = REPO_ROOT / "content" / "networks" / "networks.yml"
rules_app = typer.Typer(help="List, lint and test detection content.", no_args_is_help=True)
sim_app = typer.Typer(help="Synthetic data for trying the detection engine.", no_args_is_help=True)
text_app = typer.Typer(help="The social-engineering pressure model for ticket text.", no_args_is_help=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def _out() -> Console:
    return Console(width=None if sys.stdout.isatty() else 160, highlight=False)


def _content(rules: list[Path] | None) -> Content:
    try:
        return load_content(rules or list(BUILT_IN), pressure_model=PRESSURE_MODEL)
    except ContentError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from None


def check_inputs(files: list[Path], source: str | None) -> None:
    """Usage errors (exit 2) before any work: an unknown ``--source``, a file that is not there."""
    if source is not None and source not in SOURCES:
        err.print(f"[red]error:[/red] --source {escape(source)!r} is not one of {', '.join(SOURCES)}")
        raise typer.Exit(2)
    missing = [str(path) for path in files if not path.is_file()]
    if missing:
        err.print(f"[red]error:[/red] no such file: {escape(', '.join(missing))}")
        raise typer.Exit(2)


def event_time(event: Event) -> float:
    return event.time


def read_records(path: Path) -> list[tuple[Any, str]]:
    """(record, where) for each record of a file: a JSON array, one JSON object, or NDJSON."""
    data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    batch = read_batch(data)
    whole = len(batch) > 1 and all(line == 1 for _, line in batch)
    return [
        (record, f"{path}:{index + 1}" if whole else f"{path}:{line}")
        for index, (record, line) in enumerate(batch)
    ]


def stream_events(
    pipeline: Pipeline, records: list[tuple[Any, str]], source: str | None, tenant: str, tick: Any
) -> Iterator[Event]:
    for record, where in records:
        tick()
        if isinstance(record, Unreadable):
            pipeline.records += 1
            pipeline.quarantine.add(QuarantinedRecord("invalid_json", record.detail, None, where))
            continue
        yield from pipeline.events(record, source=source, tenant=tenant, where=where)


def replay(
    files: Annotated[
        list[Path], typer.Argument(help="JSON, NDJSON or JSON-array files (.gz too)", show_default=False)
    ],
    source: Annotated[str | None, typer.Option(help=f"force the format: {', '.join(SOURCES)}")] = None,
    rules: Annotated[
        list[Path] | None, typer.Option(help="run only the rules in this folder (repeatable)")
    ] = None,
    output: Annotated[Path | None, typer.Option(help="write alerts here, one JSON per line")] = None,
    summary: Annotated[Path | None, typer.Option(help="write the summary here as JSON")] = None,
    tenant: Annotated[str, typer.Option(help="tenant id given to every event")] = "",
    lateness: Annotated[
        float, typer.Option(help="seconds an event may arrive late and still join a window")
    ] = 300.0,
    geo: Annotated[
        bool, typer.Option(help="look up the country and network of each source IP (bundled geo-IP data)")
    ] = True,
) -> None:
    """Run the detection engine over files, merged by event time."""
    check_inputs(files, source)
    content = _content(rules)
    if geo:
        try:
            content.geo = BundledResolver(load_networks(NETWORKS))
        except NetworksError as exc:
            err.print(f"[red]error:[/red] {escape(str(exc))}")
            raise typer.Exit(2) from None
    pipeline = Pipeline(content, lateness_s=lateness)
    loaded = [list(read_records(path)) for path in files]
    total = sum(len(records) for records in loaded)
    with Progress(
        TextColumn("replay"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    ) as progress:
        task = progress.add_task("records", total=total)
        done = [0]

        def tick() -> None:
            done[0] += 1
            if done[0] % 2000 == 0 or done[0] == total:
                progress.update(task, completed=done[0])

        with streaming_gc():
            # Each file in time order (exports usually are: the sort is then linear), then merged.
            streams = [
                sorted(stream_events(pipeline, records, source, tenant, tick), key=event_time)
                for records in loaded
            ]
            for event in heapq.merge(*streams, key=event_time):
                pipeline.process(event)
            pipeline.flush()
        progress.update(task, completed=total)
    alerts = sorted(pipeline.alerts.values(), key=lambda a: (a.first_seen, a.rule_id))
    if output is not None:
        output.write_text(
            "".join(json.dumps(a.to_dict(), ensure_ascii=False) + "\n" for a in alerts), encoding="utf-8"
        )
    report = pipeline.summary()
    shown = {key: report[key] for key in ("events", "quarantined", "quarantine_reasons", "alerts", "by_rule")}
    if summary is not None:
        summary.write_text(json.dumps(shown, indent=2) + "\n", encoding="utf-8")
    _print_summary(report, alerts, pipeline.quarantine.samples)


def _print_summary(report: dict[str, Any], alerts: list[Any], samples: list[QuarantinedRecord]) -> None:
    out = _out()
    out.print(
        f"{report['records']} records read, {report['events']} events, {report['quarantined']} quarantined, "
        f"{report['duplicates']} duplicates dropped, {report['alerts']} alerts"
    )
    for reason, count in report["quarantine_reasons"].items():
        example = next((s for s in samples if s.reason == reason), None)
        hint = f" (e.g. {example.where}: {example.detail})" if example else ""
        out.print(f"  quarantined {count} × {reason}{escape(hint)}")
    if alerts:
        table = Table("rule", "alerts", "severity", title="alerts by rule")
        severity = {a.rule_id: a.severity for a in alerts}
        for rule_id, count in report["by_rule"].items():
            table.add_row(escape(rule_id), str(count), severity[rule_id])
        out.print(table)
        for alert in alerts:
            out.print(f"[bold]{escape(alert.rule_id)}[/bold] ({alert.severity}): {escape(alert.explanation)}")


@rules_app.command("list")
def list_rules(
    folders: Annotated[list[Path] | None, typer.Argument(help="rule folders or files")] = None,
) -> None:
    """Every rule loaded, and every rule that could not be, with the reason."""
    content = _content(folders)
    out = _out()
    table = Table("rule id", "kind", "level", "log source", "title")
    for rule in content.rules:
        table.add_row(
            escape(rule.name or rule.id),
            "sigma",
            rule.level,
            "/".join(p for p in rule.logsource if p),
            escape(rule.title),
        )
    for corr in content.correlations:
        table.add_row(
            escape(corr.name or corr.id), f"correlation {corr.kind}", corr.level, "", escape(corr.title)
        )
    for analytic in content.analytics:
        meta = analytic.meta
        table.add_row(
            escape(meta.rule_id), f"analytic {analytic.kind}", meta.severity, "normalised", escape(meta.title)
        )
    out.print(table)
    out.print(
        f"{len(content.rules)} rules, {len(content.correlations)} correlations, "
        f"{len(content.analytics)} analytics "
        f"loaded; {len(content.unsupported)} unsupported"
    )
    for item in content.unsupported:
        out.print(
            f"  unsupported: {escape(str(item.path))}: {escape(item.title or item.rule_id)}: "
            f"{escape(item.reason)}"
        )


@rules_app.command("lint")
def lint_rules(
    folders: Annotated[list[Path] | None, typer.Argument(help="rule folders or files")] = None,
    conventions: Annotated[
        bool | None,
        typer.Option(
            "--conventions/--sigma-only",
            help="also check deskguard's content conventions (default: for the built-in content only)",
        ),
    ] = None,
) -> None:
    """Check content: every rule loads; deskguard's metadata and tests conventions. Exit 1 on problems."""
    content = _content(folders)
    problems = lint(content, conventions=not folders if conventions is None else conventions)
    out = _out()
    for problem in problems:
        out.print(escape(problem))
    out.print(f"{len(content.ids())} rules checked, {len(problems)} problems")
    if problems:
        raise typer.Exit(1)


@rules_app.command("test")
def test_rules(
    folders: Annotated[list[Path] | None, typer.Argument(help="rule folders or files")] = None,
) -> None:
    """Run every rule file's positive and negative cases. Exit 1 on any failure."""
    paths = folders or list(BUILT_IN)
    content = _content(paths)
    out = _out()
    table = Table("tests file", "case", "expected", "got", "result")
    failures = 0
    for tests in case_files(paths):
        rule_file = tests.with_name(tests.name.replace(".tests.yml", ".yml"))
        for case in load_cases(tests):
            alerts, _ = run_case(content, case, rule_ids=content.ids_in(rule_file))
            ok = len(alerts) == case.expect
            failures += not ok
            table.add_row(
                escape(tests.name),
                escape(case.name),
                str(case.expect),
                str(len(alerts)),
                "ok" if ok else "[red]FAIL[/red]",
            )
    out.print(table)
    if failures:
        out.print(f"[red]{failures} case(s) failed[/red]")
        raise typer.Exit(1)


@sim_app.command("day")
def sim_day(
    folder: Annotated[Path, typer.Argument(help="where to write the day's files", show_default=False)],
    benign: Annotated[
        bool, typer.Option("--benign", help="only the benign day, without the attack story")
    ] = False,
    seed: Annotated[int, typer.Option(help="the day is a function of this seed")] = 7,
) -> None:
    """Write a day of Okta, Entra, ServiceNow and call records (see deskguard.sim.day)."""
    from deskguard.sim.day import write_day  # noqa: PLC0415

    for path in write_day(folder, seed=seed, attack=not benign):
        _out().print(str(path))


@text_app.command("train")
def text_train(
    corpus: Annotated[Path, typer.Option(help="the labelled corpus")] = PRESSURE_CORPUS,
    out: Annotated[Path, typer.Option(help="where to write the model")] = PRESSURE_MODEL,
) -> None:
    """Train on the corpus's training split, write the model, print the held-out figures."""
    from deskguard.detection.pressure import f1, load_corpus, split, train  # noqa: PLC0415

    train_set, test_set = split(load_corpus(corpus))
    model = train(train_set)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(model.to_json(), encoding="utf-8")
    figures = f1(model, test_set)
    _out().print(
        f"{len(train_set)} training texts, {len(test_set)} held-out texts (templates never trained on): "
        f"precision {figures['precision']}, recall {figures['recall']}, F1 {figures['f1']} -> {out}"
    )


@text_app.command("score")
def text_score(
    text: Annotated[str, typer.Argument(help="a ticket text or call note", show_default=False)],
) -> None:
    """How much social-engineering pressure a text carries, and which phrases weighed."""
    from deskguard.detection.pressure import PressureModel  # noqa: PLC0415

    _out().print(escape(PressureModel.load(PRESSURE_MODEL).score(text).explanation()))
