"""Shared fixtures for the policy engine tests: the shipped policy, small policies, fact builders."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from policy_samples import MINIMAL

from deskguard.policy.cases import facts_with_defaults
from deskguard.policy.loader import CompiledPolicy, load_policy, load_policy_text

DEFAULT_POLICY = Path(__file__).resolve().parents[3] / "content" / "policies" / "default.yml"


@pytest.fixture(scope="session")
def default_policy() -> CompiledPolicy:
    return load_policy(DEFAULT_POLICY)


@pytest.fixture(scope="session")
def policy_with() -> Callable[[str], CompiledPolicy]:
    """Compile MINIMAL plus a ``rules:`` block given as YAML text."""

    def build(rules: str) -> CompiledPolicy:
        return load_policy_text(MINIMAL + "rules:\n" + textwrap.indent(textwrap.dedent(rules), "  "))

    return build


@pytest.fixture(scope="session")
def facts() -> Callable[..., dict[str, Any]]:
    """``facts(**{"target.privileged": True})``: default facts with overrides."""

    def build(overrides: dict[str, Any] | None = None, /, **kw: Any) -> dict[str, Any]:
        return facts_with_defaults({**(overrides or {}), **kw})

    return build
