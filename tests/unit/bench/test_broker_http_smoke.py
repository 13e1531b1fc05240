"""Keeps bench/broker_http.py from rotting: one ``--quick`` run (about 15 s), the JSON keys, positive values.

It needs wrk and PostgreSQL on 127.0.0.1:5432: without them it is skipped, except under CI=true,
where a missing tool must fail the build rather than silently drop the benchmark.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path
from types import ModuleType

import psycopg
import pytest

BENCH = Path(__file__).resolve().parents[3] / "bench" / "broker_http.py"
WRK = Path("/usr/bin/wrk")
NUMBERS = {
    "decisions_per_s",
    "p99_ms",
    "p50_ms",
    "ceiling_per_s",
    "ceiling_p99_ms",
    "opened_per_s_sqlite",
    "opened_per_s_postgres",
    "connections",
    "duration_s",
}


def _missing() -> str | None:
    if not WRK.exists():
        return f"{WRK} is not installed"
    try:
        psycopg.connect(
            host="127.0.0.1", port=5432, user="postgres", dbname="test", connect_timeout=3
        ).close()
    except psycopg.OperationalError as exc:
        return f"PostgreSQL not reachable at 127.0.0.1:5432: {exc}".strip()
    return None


def _load_bench(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_broker_http", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


def test_quick_run_reports_every_number(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = _missing()
    if missing is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(missing, pytrace=False)
        pytest.skip(missing)
    assert _load_bench(monkeypatch).main(["--quick"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1, lines  # exactly one JSON line on stdout
    result = json.loads(lines[0])
    assert result.keys() == NUMBERS | {"load_generator"}
    assert result["load_generator"] == "wrk" and result["connections"] == 8 and result["duration_s"] == 1
    assert all(result[key] > 0 for key in NUMBERS), result
