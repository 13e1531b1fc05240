"""Keeps bench/detect.py from rotting: a small run (seconds), its JSON keys, and its chain count.

The planted reset -> MFA reset -> new factor chains must each raise exactly one chain alert.
(Elastic's ``eql`` is not a dependency: without it ``eql_sequence_per_s`` is null.)
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[3] / "bench" / "detect.py"


def test_a_small_run_prints_every_figure(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.syspath_prepend(str(BENCH.parent))
    spec = importlib.util.spec_from_file_location("bench_detect", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    result = module.main(["--events", "3000", "--repeats", "1", "--entities", "300", "--backtest", "4000"])
    for key in ("events_per_s", "events_per_s_with_ai", "parse_floor_per_s", "bytes_per_entity"):
        assert result[key] > 0, key
    assert result["backtest_1m_50_rules_s"] > 0 and result["backtest_rules"] == 50
    assert result["learned_analytics"] >= 9  # the with-AI run has the baselines the plain run has not
    assert result["chains_planted"] > 0 and result["chain_alerts"] == result["chains_planted"]
    assert '"events_per_s"' in capsys.readouterr().out
