"""Run every ``bench/*.py`` and write ``bench/results.json`` (what ``make bench`` calls).

`.venv/bin/python bench/run_all.py [--only NAME,…] [--out bench/results.json] [-- ARGS…]`

Each benchmark is run as its own process with this interpreter, from the repository root; it prints
one JSON line on stdout (its figures), which is captured. The result file holds the machine's
description (cpu count, cpu model, platform, python version, date) and one object per benchmark:
its name, the command, the exit code, the seconds it took and its figures (``null`` with the tail of
stderr when it failed or printed no JSON line). Arguments after ``--`` go to every benchmark run.
Exit code 1 when a benchmark failed, 2 on a bad ``--only`` name.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent


def cpu_model() -> str:
    """The processor's model name (``/proc/cpuinfo`` on Linux, ``platform`` elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict[str, Any]:
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def benchmarks() -> list[str]:
    return sorted(path.stem for path in BENCH.glob("*.py") if path.stem != Path(__file__).stem)


def last_json_line(stdout: str) -> dict[str, Any] | None:
    """The last stdout line that is a JSON object (a benchmark prints exactly one)."""
    for line in reversed(stdout.strip().splitlines()):
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None


def run(name: str, extra: list[str]) -> dict[str, Any]:
    command = [sys.executable, str(BENCH / f"{name}.py"), *extra]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    seconds = round(time.perf_counter() - started, 2)
    figures = last_json_line(done.stdout)
    entry: dict[str, Any] = {
        "benchmark": name,
        "command": " ".join(["python", f"bench/{name}.py", *extra]),
        "exit_code": done.returncode,
        "seconds": seconds,
        "result": figures,
    }
    if done.returncode != 0 or figures is None:
        entry["error"] = done.stderr.strip()[-2000:] or "no JSON line on stdout"
    print(f"{name}: exit {done.returncode} in {seconds} s", file=sys.stderr, flush=True)
    return entry


def main(argv: list[str] | None = None) -> int:
    args_in = list(sys.argv[1:] if argv is None else argv)
    extra = args_in[args_in.index("--") + 1 :] if "--" in args_in else []
    own = args_in[: args_in.index("--")] if "--" in args_in else args_in
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated benchmark names (default: all)")
    parser.add_argument("--out", type=Path, default=BENCH / "results.json")
    args = parser.parse_args(own)
    available = benchmarks()
    names = [n.strip() for n in args.only.split(",") if n.strip()] or available
    unknown = [n for n in names if n not in available]
    if unknown:
        print(f"--only: no benchmark {unknown[0]!r}; have {', '.join(available)}", file=sys.stderr)
        return 2
    document: dict[str, Any] = {"machine": machine(), "benchmarks": []}
    results: list[dict[str, Any]] = document["benchmarks"]
    for name in names:  # the file is rewritten after each one: an interrupted run keeps what it measured
        results.append(run(name, extra))
        args.out.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0 if all(r["exit_code"] == 0 and r["result"] is not None for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
