"""Keeps bench/policy.py from rotting: a few rounds, the expected JSON keys, full agreement."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[3] / "bench" / "policy.py"


def test_bench_runs_and_reports(capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("bench_policy", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = module.main(40, inputs=60)
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert printed == result
    assert {"policy_median_us", "cedar_median_us", "ratio", "agreement"} <= result.keys()
    assert result["agreement"] == 1.0  # Cedar and deskguard must agree, or the ratio means nothing
    assert result["policy_median_us"] > 0 and result["cedar_median_us"] > 0
