"""Evaluation: throughput and the measured figures over a simulated MSP (one JSON line on stdout).

`.venv/bin/python bench/evaluate.py [--seed 1 --persons 120 --days 7 --history 28]`: simulates (all
shipped scenarios) into a temporary folder, then times `deskguard evaluate`'s work (`run_evaluation`:
seed, replay through the broker and the detection pipeline on embedded SQLite, score). `events_per_s`
counts the records ingested plus deskguard's own outbox events consumed. The line also carries what
was measured - benign helpdesk actions, false alerts and their rate per 10,000, recall, the worst time
to detect - so that a large run (bench/README.md: over 10,000 benign actions) is the false-alarm figure.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from deskguard.cli.evaluate import run_evaluation
from deskguard.sim.scenarios import load_scenarios
from deskguard.sim.simulate import HISTORY_DAYS, simulate, write_simulation


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--tenants", type=int, default=3)
    parser.add_argument("--persons", type=int, default=120)
    parser.add_argument("--operators", type=int, default=8)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--history", type=int, default=HISTORY_DAYS)
    args = parser.parse_args()
    sizes = {
        "tenants": args.tenants,
        "persons": args.persons,
        "operators": args.operators,
        "days": args.days,
        "history": args.history,
    }
    started = time.perf_counter()
    sim = simulate(seed=args.seed, **sizes, scenarios=load_scenarios())
    simulated = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as folder:
        write_simulation(Path(folder), sim)
        del sim  # the evaluator reads the files: a large run must not hold the records twice
        started = time.perf_counter()
        result = run_evaluation(Path(folder))
        elapsed = time.perf_counter() - started
    summary = result.summary
    print(
        json.dumps(
            {
                "benchmark": "evaluate",
                "seed": args.seed,
                "sizes": sizes,
                "events": summary["events_evaluated"],
                "events_per_s": round(summary["events_evaluated"] / elapsed, 1),
                "replay_events_per_s": summary["events_per_s"],
                "total_s": round(elapsed, 2),
                "simulate_s": round(simulated, 2),
                "benign_helpdesk_actions": summary["benign_helpdesk_actions"],
                "false_alerts": summary["false_alerts"],
                "false_alerts_per_10k_benign_actions": summary["false_alerts_per_10k_benign_actions"],
                "history_alerts": summary["history_alerts"],
                "recall": summary["recall"],
                "worst_time_to_detect_s": summary["worst_time_to_detect_s"],
                "targets_met": result.met,
                "misses": result.misses,
            }
        )
    )


if __name__ == "__main__":
    main()
