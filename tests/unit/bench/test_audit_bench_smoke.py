"""Keeps bench/audit.py from rotting: one ``--quick --crash-rounds 3`` run (about 10 s), the JSON keys.

Everything runs on SQLite files in a temporary directory; no server is needed.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[3] / "bench" / "audit.py"
POSITIVE = {
    "records",
    "naive_commits_per_s",
    "appends_per_s",
    "appends_per_s_single",
    "group_commit",
    "build_1m_s",
    "proof_ms_at_1m",
    "proof_uow_ms_at_1m",
    "export_1m_s",
    "verify_1m_s",
    "crash_rounds",
    "crash_records",
    "crash_s",
    "total_s",
}


def _load_bench(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_audit", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


def test_quick_run_reports_every_number(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _load_bench(monkeypatch).main(["--quick", "--crash-rounds", "3"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1, lines  # exactly one JSON line on stdout
    result = json.loads(lines[0])
    assert result.keys() == POSITIVE | {"crash_failures", "python"}
    assert result["records"] == 10_000 and result["crash_rounds"] == 3 and result["crash_failures"] == 0
    assert all(result[key] > 0 for key in POSITIVE), result
