"""Every case of every policy under content/policies/ as its own test (id: file::case name)."""

from __future__ import annotations

from pathlib import Path

import pytest

from deskguard.domain.actions import CATALOGUE
from deskguard.policy.cases import run_case
from deskguard.policy.loader import CompiledPolicy, lint_policy, load_policy

POLICIES = sorted((Path(__file__).resolve().parents[2] / "content" / "policies").glob("*.yml"))
_LOADED: dict[Path, CompiledPolicy] = {}


def _policy(path: Path) -> CompiledPolicy:
    if path not in _LOADED:
        _LOADED[path] = load_policy(path)
    return _LOADED[path]


def _cases() -> list[pytest.param]:
    params = []
    for path in POLICIES:
        policy, errors = lint_policy(path)
        if policy is None:  # reported by test_policy_lints; keep collection going
            continue
        params += [
            pytest.param(path, i, id=f"{path.name}::{case.name}")
            for i, case in enumerate(policy.document.cases)
        ]
    return params


@pytest.mark.parametrize("path", POLICIES, ids=[p.name for p in POLICIES])
def test_policy_lints(path: Path) -> None:
    _, errors = lint_policy(path)
    assert not errors, "\n".join(str(e) for e in errors)


@pytest.mark.parametrize(("path", "index"), _cases())
def test_policy_case(path: Path, index: int) -> None:
    policy = _policy(path)
    result = run_case(policy, case=policy.document.cases[index], line=policy.case_lines[index])
    assert result.passed, f"{path.name}:{result.line}: " + "; ".join(result.mismatches)


def test_default_policy_covers_the_catalogue_with_enough_cases() -> None:
    policy = _policy(next(p for p in POLICIES if p.name == "default.yml"))
    assert set(policy.actions) == set(CATALOGUE)
    assert len(policy.document.cases) >= 25
