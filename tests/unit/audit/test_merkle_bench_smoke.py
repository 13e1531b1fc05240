"""Keeps bench/audit_merkle.py from rotting: a quick run prints one JSON line with the expected figures."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[3] / "bench" / "audit_merkle.py"


def test_bench_runs_and_reports(capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("bench_audit_merkle", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = module.main(module.QUICK_LEAVES, samples=50)
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert printed == result
    assert result["leaves"] == 10_000
    for key in ["appends_per_s", "proof_ms_at_1m", "consistency_ms", "recompute_root_s"]:
        assert result[key] > 0, key
