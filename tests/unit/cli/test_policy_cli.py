"""``deskguard policy`` lint / test / explain through Typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from deskguard.cli.policy import policy_app

DEFAULT = Path(__file__).resolve().parents[3] / "content" / "policies" / "default.yml"
runner = CliRunner()

SMALL = """\
policy: small
actions:
  unlock_account:
    proofs:
      - [push_number_match]
cases:
  - name: push-unlocks
    facts: {action.kind: unlock_account}
    evidence: {proofs: [push_number_match]}
    expect: {allowed: true}
"""


def test_lint_ok() -> None:
    result = runner.invoke(policy_app, ["lint", str(DEFAULT)])
    assert result.exit_code == 0, result.output
    assert "ok (10 actions" in result.output


def test_lint_malformed_file_shows_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yml"
    path.write_text(
        SMALL.replace(
            "      - [push_number_match]\n", "      - [push_number_match]\n      - [knowledge]\n"
        ).replace("policy: small", "policy: small\ncolour: red")
    )
    result = runner.invoke(policy_app, ["lint", str(path)])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert f"{path}:2: unknown key 'colour'" in lines
    assert f"{path}:7: knowledge-based answers never count as proof" in lines


def test_test_passes_on_default() -> None:
    result = runner.invoke(policy_app, ["test", str(DEFAULT)])
    assert result.exit_code == 0, result.output
    assert "0 failed" in result.output


def test_test_fails_and_explains(tmp_path: Path) -> None:
    path = tmp_path / "p.yml"
    path.write_text(
        SMALL.replace("expect: {allowed: true}", "expect: {allowed: false, approvals_required: 2}")
    )
    result = runner.invoke(policy_app, ["test", str(path)])
    assert result.exit_code == 1
    assert "FAIL" in result.output
    assert "allowed: expected False, got True" in result.output
    assert "approvals_required: expected 2, got 0" in result.output


def test_explain_plain_words() -> None:
    result = runner.invoke(
        policy_app,
        [
            "explain",
            str(DEFAULT),
            "--action",
            "reset_mfa",
            "--fact",
            "target.privileged=true",
            "--fact",
            "operator.outsourced=yes",
            "--fact",
            "context.local_hour=3",
            "--fact",
            "target.phone_changed_days=1",
            "--proof",
            "push_number_match",
            "--proof",
            "knowledge",
            "--approval",
            "supervisor",
        ],
    )
    assert result.exit_code == 0, result.output
    out = result.output
    assert "NOT YET ALLOWED" in out
    assert "self_service_initiated + push_number_match   [missing: self_service_initiated]" in out
    assert "not accepted here: callback_automated: registered phone changed 1.0 day(s) ago" in out
    assert "approvals: 1 of 1 (supervisor or higher)" in out
    assert "matched recent-phone-change (target.phone_changed_days=1.0)" in out


def test_explain_json() -> None:
    result = runner.invoke(
        policy_app,
        ["explain", str(DEFAULT), "--action", "unlock_account", "--proof", "push_number_match", "--json"],
    )
    assert result.exit_code == 0, result.output
    decision = json.loads(result.output)
    assert decision["allowed"] is True
    assert decision["action"] == "unlock_account"


@pytest.mark.parametrize(
    ("fact", "message"),
    [
        ("target.nope=1", "unknown fact 'target.nope'"),
        ("target.privileged=maybe", "expected true or false"),
        ("context.local_hour=noon", "int expected"),
        ("target.privileged", "expected name=value"),
    ],
)
def test_explain_bad_fact_exits_2(fact: str, message: str) -> None:
    result = runner.invoke(policy_app, ["explain", str(DEFAULT), "--action", "reset_mfa", "--fact", fact])
    assert result.exit_code == 2
    assert message in " ".join(result.output.replace("│", " ").split())


def test_explain_list_fact_and_blocked_policy_file(tmp_path: Path) -> None:
    result = runner.invoke(
        policy_app,
        [
            "explain",
            str(DEFAULT),
            "--action",
            "grant_privilege",
            "--fact",
            "target.groups=a, b",
            "--fact",
            "target.risk_score=95",
        ],
    )
    assert result.exit_code == 0
    assert "BLOCKED" in result.output
    broken = tmp_path / "broken.yml"
    broken.write_text("policy: [\n")
    result = runner.invoke(policy_app, ["explain", str(broken), "--action", "reset_mfa"])
    assert result.exit_code == 1
    assert f"{broken}:" in result.output
