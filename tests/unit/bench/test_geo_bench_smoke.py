"""Keeps bench/geo.py from rotting: a quick run, its keys, lookups that find countries."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[3] / "bench" / "geo.py"


def test_quick_run(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = importlib.util.spec_from_file_location("bench_geo", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    result = module.main(["--quick"])
    assert result["cold_per_s"] > 0 and result["cached_per_s"] > result["cold_per_s"]
    assert 0.5 < result["with_country"] <= 1 and result["hosting_share"] > 0
