"""Simulation throughput: records generated per second for a bigger run (one JSON line on stdout).

`.venv/bin/python bench/simulate.py [--persons 600 --days 14]`: all shipped scenarios, in process,
generation only (`simulate()`), then the time to write the files.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from deskguard.sim.scenarios import load_scenarios
from deskguard.sim.simulate import simulate, write_simulation


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tenants", type=int, default=4)
    parser.add_argument("--persons", type=int, default=600)
    parser.add_argument("--operators", type=int, default=12)
    parser.add_argument("--days", type=int, default=14)
    args = parser.parse_args()
    scenarios = load_scenarios()
    started = time.perf_counter()
    sim = simulate(
        seed=1,
        tenants=args.tenants,
        persons=args.persons,
        operators=args.operators,
        days=args.days,
        scenarios=scenarios,
    )
    generated = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        write_simulation(Path(folder), sim)
        written = time.perf_counter() - started
    events = sim.manifest["counts"]["events"]
    print(
        json.dumps(
            {
                "benchmark": "simulate",
                "sizes": sim.manifest["sizes"],
                "events": events,
                "events_per_s": round(events / generated),
                "generate_s": round(generated, 2),
                "write_s": round(written, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
