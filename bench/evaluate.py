"""Evaluation throughput: events run through the whole product per second (one JSON line on stdout).

`.venv/bin/python bench/evaluate.py [--persons 120 --days 7]`: simulates (seed 1, all shipped
scenarios) into a temporary folder, then times `deskguard evaluate`'s work (`run_evaluation`: seed,
replay through the broker and the detection pipeline on embedded SQLite, score). `events_per_s` counts
the records ingested plus deskguard's own outbox events consumed.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from deskguard.cli.evaluate import run_evaluation
from deskguard.sim.scenarios import load_scenarios
from deskguard.sim.simulate import simulate, write_simulation


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tenants", type=int, default=3)
    parser.add_argument("--persons", type=int, default=120)
    parser.add_argument("--operators", type=int, default=8)
    parser.add_argument("--days", type=int, default=7)
    args = parser.parse_args()
    sizes = {"tenants": args.tenants, "persons": args.persons, "operators": args.operators, "days": args.days}
    sim = simulate(seed=1, **sizes, scenarios=load_scenarios())
    with tempfile.TemporaryDirectory() as folder:
        write_simulation(Path(folder), sim)
        started = time.perf_counter()
        result = run_evaluation(Path(folder))
        elapsed = time.perf_counter() - started
    summary = result.summary
    print(
        json.dumps(
            {
                "benchmark": "evaluate",
                "sizes": sizes,
                "events": summary["events_evaluated"],
                "events_per_s": round(summary["events_evaluated"] / elapsed, 1),
                "replay_events_per_s": summary["events_per_s"],
                "total_s": round(elapsed, 2),
                "targets_met": result.met,
            }
        )
    )


if __name__ == "__main__":
    main()
