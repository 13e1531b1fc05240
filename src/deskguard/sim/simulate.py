"""A whole simulation: the MSP, D days of benign life and the injected scenarios, from one seed.

``simulate(seed=…, tenants=…, …)`` is pure and returns a ``Simulation`` (the files' records, the
MSP, the labels, the manifest); ``write_simulation`` writes it (``docs/simulation.md``). The same seed
and sizes give byte-identical files: every random draw comes from one ``random.Random(seed)`` and
record ids derive from it or from counters.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from deskguard.sim.benign import benign_days
from deskguard.sim.dataset import FORMAT_VERSION, Dataset, write_dataset
from deskguard.sim.inject import inject
from deskguard.sim.msp import Msp, build_msp
from deskguard.sim.scenarios import Scenario

START = datetime(2026, 11, 30, tzinfo=UTC)  # a Monday: the first day is a password-expiry Monday
# the learning period before START: four weeks of benign life that teach the baselines (people's
# places, networks and devices, operators' habits and tenants) and that the evaluation does not score
HISTORY_DAYS = 28


@dataclass(slots=True)
class Simulation:
    files: dict[str, list[dict[str, Any]]]
    msp: Msp
    labels: list[dict[str, Any]]
    manifest: dict[str, Any]


def simulate(
    *,
    seed: int,
    tenants: int = 3,
    persons: int = 120,
    operators: int = 8,
    days: int = 7,
    history: int = HISTORY_DAYS,
    scenarios: list[Scenario] | tuple[Scenario, ...] = (),
    progress: Callable[[str], None] = lambda _: None,
) -> Simulation:
    if days < 1:
        raise ValueError(f"days must be at least 1, not {days}")
    if history < 0:
        raise ValueError(f"history days cannot be negative, not {history}")
    rng = random.Random(seed)
    msp = build_msp(rng, tenants=tenants, persons=persons, operators=operators, start=START)
    data = Dataset(rng)
    learning, actions = benign_days(rng, msp, data, start=START, days=days, history=history)
    progress("benign")
    labels: list[dict[str, Any]] = []
    used: set[str] = set()
    for scenario in scenarios:
        attack = inject(rng, msp, data, scenario, start=START, days=days, twin=False, used=used)
        twin = inject(
            rng,
            msp,
            data,
            scenario,
            start=START,
            days=days,
            twin=True,
            used=used,
            avoid=frozenset(attack["agents"]),
        )
        labels += [attack, twin]
        progress(scenario.name)
    files = data.by_file()
    manifest = {
        "format_version": FORMAT_VERSION,
        "seed": seed,
        "sizes": {
            "tenants": tenants,
            "persons": persons,
            "operators": operators,
            "days": days,
            "history_days": history,
        },
        "history_start": (START - timedelta(days=history)).isoformat(),
        "start": START.isoformat(),
        "scenarios": [scenario.name for scenario in scenarios],
        "files": {name: len(records) for name, records in files.items()},
        "counts": {
            "events": sum(len(records) for records in files.values()),
            "benign_helpdesk_actions": actions,
            "history_helpdesk_actions": learning,
            "helpdesk_requests": len(data.requests),
            "labels": len(labels),
        },
    }
    return Simulation(files=files, msp=msp, labels=labels, manifest=manifest)


def write_simulation(folder: Path, sim: Simulation) -> list[Path]:
    extra = {"msp.json": sim.msp.to_json(), "labels.json": {"labels": sim.labels}}
    sim.manifest["documents"] = sorted(extra)
    return write_dataset(folder, files=sim.files, extra=extra, manifest=sim.manifest)
