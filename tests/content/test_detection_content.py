"""Every case of every detection content file as its own test (id: tests file::case name)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from deskguard.detection.content import Content, case_files, lint, load_cases, load_content
from deskguard.detection.pipeline import run_case

ROOT = Path(__file__).resolve().parents[2] / "content"
PACKS = [ROOT / "rules", ROOT / "correlations"]


@cache
def _content() -> Content:
    return load_content(PACKS, pressure_model=ROOT / "models" / "pressure.json")


def _cases() -> list[pytest.param]:
    return [
        pytest.param(tests, index, id=f"{tests.name}::{case.name}")
        for tests in case_files(PACKS)
        for index, case in enumerate(load_cases(tests))
    ]


def test_content_lints() -> None:
    problems = lint(_content())
    assert not problems, "\n".join(problems)


def test_content_is_large_enough() -> None:
    content = _content()
    assert len(content.ids()) >= 30, content.ids()
    assert not content.unsupported, content.unsupported


@pytest.mark.parametrize(("tests", "index"), _cases())
def test_case(tests: Path, index: int) -> None:
    content = _content()
    case = list(load_cases(tests))[index]
    rule_file = tests.with_name(tests.name.replace(".tests.yml", ".yml"))
    alerts, quarantine = run_case(content, case, rule_ids=content.ids_in(rule_file))
    assert not quarantine.reasons, f"test events were quarantined: {quarantine.samples}"
    explained = "\n".join(f"{a.rule_id}: {a.explanation}" for a in alerts)
    assert len(alerts) == case.expect, f"expected {case.expect} alert(s), got {len(alerts)}:\n{explained}"
    for alert in alerts:
        assert alert.explanation and alert.event_ids
