"""Keeps bench/triage.py from rotting: a small run (a few seconds) and its JSON keys.

Everything runs in memory and on a SQLite file in a temporary directory; no server is needed.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[3] / "bench" / "triage.py"
POSITIVE = (
    "pure_alerts_filed_per_s",
    "fit_ms_1000",
    "rank_ms_1000_cases",
    "cases_filed",
    "cases_filed_per_s",
    "alerts_filed_per_s",
    "retrain_rerank_ms",
    "open_cases",
)


def test_a_small_run_prints_every_figure(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = importlib.util.spec_from_file_location("bench_triage", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    args = ["--alerts", "300", "--entities", "60", "--verdicts", "120", "--cases", "100", "--repeats", "2"]
    result = module.main(args)
    for key in POSITIVE:
        assert result[key] > 0, key
    assert result["cases_filed"] <= result["alerts"]  # alerts about one person close in time share a case
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == result
