"""Loader: every malformed policy is a PolicyError naming file and line of the offending key."""

from __future__ import annotations

import hashlib

import pytest
from policy_samples import MINIMAL

from deskguard.domain.actions import ActionKind
from deskguard.domain.decision import FACTS
from deskguard.domain.errors import PolicyError
from deskguard.domain.requests import ProofMethod
from deskguard.policy.loader import lint_policy, lint_policy_text, load_policy, load_policy_text
from deskguard.policy.model import coerce_fact, default_facts

RULE = """\
rules:
  - id: r1
    when: target.privileged
    message: privileged
    add_approvals: 1
"""


def error_for(text: str) -> PolicyError:
    with pytest.raises(PolicyError) as info:
        load_policy_text(text, source="p.yml")
    assert info.value.file == "p.yml"
    return info.value


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_minimal_policy_loads() -> None:
    policy = load_policy_text(MINIMAL + RULE)
    assert policy.name == "minimal"
    assert set(policy.actions) == {ActionKind.UNLOCK_ACCOUNT, ActionKind.RESET_MFA}
    assert [r.id for r in policy.rules] == ["r1"]
    assert policy.methods == {
        ProofMethod.PUSH_NUMBER_MATCH,
        ProofMethod.CALLBACK_AUTOMATED,
        ProofMethod.SELF_SERVICE_INITIATED,
        ProofMethod.EXTERNAL_IDV,
    }
    assert policy.digest == hashlib.sha256((MINIMAL + RULE).encode()).hexdigest()


@pytest.mark.parametrize(
    ("text", "needle", "message"),
    [
        (MINIMAL + "colour: blue\n", "colour", "unknown key 'colour'"),
        (
            MINIMAL.replace("  reset_mfa:\n", "  reset_mfa:\n    proofz: []\n"),
            "proofz",
            "unknown key 'proofz'",
        ),
        (MINIMAL.replace("{count: 1,", "{count: two,"), "count: two", "count"),
        (MINIMAL.replace("  reset_mfa:", "  reset_everything:"), "reset_everything", "unknown action kind"),
        (
            MINIMAL.replace("[callback_automated]", "[carrier_pigeon]"),
            "carrier_pigeon",
            "unknown proof method",
        ),
        (
            MINIMAL.replace("[callback_automated]", "[knowledge]"),
            "[knowledge]",
            "knowledge-based answers never count as proof",
        ),
        (
            MINIMAL.replace("{count: 1, role: supervisor}", "{count: 1, role: janitor}"),
            "janitor",
            "unknown approval role",
        ),
        (
            MINIMAL.replace("  unlock_account:\n", "  unlock_account:\n    secret_to_agent: true\n"),
            "secret_to_agent",
            "produces no secret",
        ),
        (MINIMAL.replace("policy: minimal\n", ""), "policy", "missing required key 'policy'"),
        (MINIMAL + "actions: {}\n", "actions: {}", "duplicate key 'actions'"),
    ],
)
def test_schema_errors_name_the_line(text: str, needle: str, message: str) -> None:
    err = error_for(text)
    assert message in err.message
    if needle == "policy":
        assert err.line == 1
    else:
        assert err.line == line_of(text, needle), err.message
    assert err.message.startswith(f"p.yml:{err.line}: ")


@pytest.mark.parametrize(
    ("rule_lines", "needle", "message"),
    [
        (
            "    when: target.privilegd\n    message: m\n    add_approvals: 1\n",
            "when:",
            "unknown fact 'target.privilegd'",
        ),
        (
            "    when: target.privileged &&\n    message: m\n    add_approvals: 1\n",
            "when:",
            "CEL syntax error",
        ),
        (
            "    when: privileged\n    message: m\n    add_approvals: 1\n",
            "when:",
            "unknown fact 'privileged'",
        ),
        (
            "    when: target.privileged\n    message: m {target.nope}\n    add_approvals: 1\n",
            "message:",
            "unknown fact 'target.nope'",
        ),
        ("    when: target.privileged\n    message: m\n", "- id:", "at least one effect"),
        ("    when: target.privileged\n    message: m\n    block: true\n", "- id:", "need a 'reason'"),
        (
            "    when: target.privileged\n    message: m\n    require_any_of: [knowledge]\n",
            "require_any_of",
            "knowledge-based answers never count as proof",
        ),
        (
            "    when: target.privileged\n    message: m\n    applies_to: [unlock_account, teleport]\n"
            "    add_approvals: 1\n",
            "applies_to",
            "unknown action kind 'teleport'",
        ),
        (
            "    when: target.privileged\n    message: m\n    applies_to: {min_tier: extreme}\n"
            "    add_approvals: 1\n",
            "applies_to",
            "min_tier",
        ),
        (
            "    when: target.privileged\n    message: m\n    add_approvals: 1\n    approval_role: boss\n",
            "approval_role",
            "unknown approval role 'boss'",
        ),
    ],
)
def test_rule_errors_name_the_line(rule_lines: str, needle: str, message: str) -> None:
    text = MINIMAL + "rules:\n  - id: r1\n" + rule_lines
    err = error_for(text)
    assert message in err.message
    assert err.line == line_of(text, needle), err.message


def test_union_error_is_reported_once_and_precisely() -> None:
    text = MINIMAL + RULE + "    applies_to: [unlock_account, teleport]\n"
    _, errors = lint_policy_text(text)
    assert len(errors) == 1
    assert "teleport" in errors[0].message


def test_duplicate_rule_id() -> None:
    text = MINIMAL + RULE + RULE.replace("rules:\n", "")
    err = error_for(text)
    assert "duplicate rule id 'r1'" in err.message
    assert err.line == [i for i, line in enumerate(text.splitlines(), 1) if "- id: r1" in line][1]


def test_yaml_syntax_error_has_a_line() -> None:
    text = MINIMAL + "rules: [\n  - id: r1\n"
    err = error_for(text)
    assert "YAML" in err.message
    assert err.line is not None and err.line > 10


@pytest.mark.parametrize(
    ("case", "message"),
    [
        (
            "{name: c, facts: {target.privilegd: true}, expect: {allowed: false}}",
            "unknown fact 'target.privilegd'",
        ),
        ("{name: c, facts: {target.privileged: 'yes'}, expect: {allowed: false}}", "must be bool"),
        ("{name: c, facts: {action.kind: teleport}, expect: {allowed: false}}", "unknown action kind"),
        ("{name: c, expect: {}}", "at least one thing"),
        ("{name: c, evidence: {proofs: [owl]}, expect: {allowed: false}}", "unknown proof method"),
    ],
)
def test_case_errors(case: str, message: str) -> None:
    text = MINIMAL + "cases:\n  - " + case + "\n"
    err = error_for(text)
    assert message in err.message
    assert err.line == line_of(text, "- {name: c")


def test_knowledge_may_appear_in_case_evidence() -> None:
    text = MINIMAL + "cases:\n  - {name: c, evidence: {proofs: [knowledge]}, expect: {allowed: false}}\n"
    assert load_policy_text(text).document.cases[0].evidence.proofs == [ProofMethod.KNOWLEDGE]


def test_lint_reports_every_error() -> None:
    text = MINIMAL + RULE + RULE.replace("rules:\n", "").replace("target.privileged", "target.x")
    _, errors = lint_policy_text(text, source="p.yml")
    assert len(errors) == 2
    assert {e.message.split(": ", 1)[1].split(" ")[0] for e in errors} == {"duplicate", "rule"}


@pytest.mark.parametrize("text", ["", "- just\n- a list\n"])
def test_not_a_mapping(text: str) -> None:
    assert "must be a mapping" in error_for(text).message


def test_missing_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PolicyError) as info:
        load_policy(tmp_path / "nope.yml")
    assert info.value.line is None
    assert "cannot read" in info.value.message
    assert lint_policy(tmp_path / "nope.yml")[0] is None


def test_default_facts_cover_exactly_the_fact_schema() -> None:
    facts = default_facts()
    assert facts.keys() == FACTS.keys()
    for name, value in facts.items():
        assert coerce_fact(name, value=value) == value


def test_coerce_fact() -> None:
    assert coerce_fact("target.risk_score", value=70) == 70.0
    assert coerce_fact("target.groups", value=("a",)) == ["a"]
    with pytest.raises(TypeError):
        coerce_fact("context.local_hour", value=True)
    with pytest.raises(TypeError):
        coerce_fact("target.privileged", value=1)
    with pytest.raises(KeyError):
        coerce_fact("target.nope", value=1)
