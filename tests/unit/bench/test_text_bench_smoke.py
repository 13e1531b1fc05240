"""Keeps bench/text.py from rotting: two rounds, its keys, the held-out F1 target."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[3] / "bench" / "text.py"


def test_two_rounds(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = importlib.util.spec_from_file_location("bench_text", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    result = module.main(["2"])
    assert result["texts_per_s"] > 0 and result["f1"] >= 0.85 and result["held_out_texts"] > 0
