"""bench/run_all.py (`make bench`): runs real benchmarks, captures their JSON line, describes the machine."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
RUNNER = ROOT / "bench" / "run_all.py"


def test_collects_one_real_benchmark(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    sizes = ["--tenants", "2", "--persons", "40", "--operators", "4", "--days", "2"]
    done = subprocess.run(
        [sys.executable, str(RUNNER), "--only", "simulate", "--out", str(out), "--", *sizes],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    document = json.loads(out.read_text())
    machine = document["machine"]
    assert machine["cpu_count"] >= 1 and machine["cpu_model"] and machine["python"].startswith("3.")
    assert machine["date"][:2] == "20"
    [entry] = document["benchmarks"]
    assert entry["benchmark"] == "simulate" and entry["exit_code"] == 0 and entry["seconds"] > 0
    assert entry["result"]["benchmark"] == "simulate"
    sizes_run = {"tenants": 2, "persons": 40, "operators": 4, "days": 2, "history_days": 28}
    assert entry["result"]["sizes"] == sizes_run
    assert entry["result"]["events_per_s"] > 0


def test_a_failing_benchmark_is_recorded_with_its_error(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, str(RUNNER), "--only", "simulate", "--out", str(out), "--", "--no-such-flag"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    [entry] = json.loads(out.read_text())["benchmarks"]
    assert entry["exit_code"] == 2 and entry["result"] is None and "--no-such-flag" in entry["error"]


def test_unknown_name_is_refused(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(RUNNER), "--only", "nope", "--out", str(tmp_path / "r.json")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2 and "'nope'" in done.stderr and "simulate" in done.stderr
    assert not (tmp_path / "r.json").exists()
