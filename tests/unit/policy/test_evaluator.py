"""Evaluator: base requirements, rule effects, fail-closed paths, trace, and decision properties."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deskguard.domain.actions import CATALOGUE, ActionKind
from deskguard.domain.decision import FACTS, Evidence
from deskguard.domain.errors import NotFound
from deskguard.domain.requests import ProofMethod
from deskguard.policy.cases import facts_with_defaults
from deskguard.policy.evaluator import evaluate
from deskguard.policy.loader import CompiledPolicy

P = ProofMethod
Facts = Callable[..., dict[str, Any]]
Build = Callable[[str], CompiledPolicy]


def test_scenario_a_internal_agent_privileged_reset_mfa(default_policy: CompiledPolicy, facts: Facts) -> None:
    f = facts({"action.kind": "reset_mfa", "target.privileged": True, "request.channel": "phone"})
    decision = evaluate(default_policy, facts=f, evidence=Evidence())
    assert (P.CALLBACK_AUTOMATED, P.PUSH_NUMBER_MATCH) in decision.acceptable_proof_sets
    assert (decision.approvals_required, decision.approval_role) == (1, "supervisor")
    assert not decision.blocked and not decision.allowed
    with_knowledge = evaluate(default_policy, facts=f, evidence=Evidence(proofs=frozenset({P.KNOWLEDGE})))
    assert with_knowledge == decision


def test_scenario_b_outsourced_night_phone_changed(default_policy: CompiledPolicy, facts: Facts) -> None:
    f = facts(
        {
            "action.kind": "reset_mfa",
            "target.privileged": True,
            "operator.outsourced": True,
            "context.local_hour": 3,
            "target.phone_changed_days": 1,
        }
    )
    decision = evaluate(default_policy, facts=f, evidence=Evidence())
    assert {"callback_automated", "callback_agent"} <= decision.disallowed_proofs.keys()
    assert "SIM swap" in decision.disallowed_proofs["callback_automated"]
    assert "1.0 day(s) ago" in decision.disallowed_proofs["callback_automated"]
    assert decision.acceptable_proof_sets
    for proof_set in decision.acceptable_proof_sets:
        assert {P.SELF_SERVICE_INITIATED, P.MANAGER_CONFIRMATION} & set(proof_set)
    assert not decision.blocked


def test_trace_has_base_entry_and_one_entry_per_rule(default_policy: CompiledPolicy, facts: Facts) -> None:
    decision = evaluate(
        default_policy,
        facts=facts({"action.kind": "unlock_account", "target.phone_changed_days": 2.5}),
        evidence=Evidence(),
    )
    assert decision.trace[0].rule == "action:unlock_account"
    assert [t.rule for t in decision.trace[1:]] == [r.id for r in default_policy.rules]
    by_rule = {t.rule: t for t in decision.trace}
    assert by_rule["recent-phone-change"].matched
    assert by_rule["recent-phone-change"].values == {"target.phone_changed_days": 2.5}
    assert by_rule["outsourced-out-of-hours"].effect == "does not apply to this action"
    assert by_rule["outsourced-out-of-hours"].values == {
        "operator.outsourced": False,
        "context.local_hour": 10,
        "context.weekday": 1,
    }
    json.dumps(decision.to_dict())  # the app records it as JSON


def test_effects_compose(policy_with: Build, facts: Facts) -> None:
    policy = policy_with("""\
        - id: more
          when: target.watchlisted
          message: watch-listed
          add_approvals: 2
          approval_role: admin
        - id: grant
          when: operator.outsourced
          applies_to: {min_tier: critical}
          message: outsourced
          require_grant: true
        """)
    f = facts({"action.kind": "reset_mfa", "target.watchlisted": True, "operator.outsourced": True})
    proofs = frozenset({P.CALLBACK_AUTOMATED, P.PUSH_NUMBER_MATCH})
    decision = evaluate(policy, facts=f, evidence=Evidence(proofs=proofs, approvals=("supervisor", "admin")))
    assert (decision.approvals_required, decision.approval_role, decision.approvals_present) == (
        3,
        "admin",
        1,
    )
    assert decision.requires_grant and not decision.grant_present and not decision.allowed
    assert [r.code for r in decision.step_ups] == ["more", "grant"]
    granted = evaluate(
        policy,
        facts={**f, "operator.has_live_grant": True},
        evidence=Evidence(proofs=proofs, approvals=("admin", "admin", "admin")),
    )
    assert granted.allowed
    unlock = evaluate(
        policy, facts={**f, "action.kind": "unlock_account", "action.tier": 1}, evidence=Evidence()
    )
    assert not unlock.requires_grant


def test_no_acceptable_proof_fails_closed_and_says_why(policy_with: Build, facts: Facts) -> None:
    policy = policy_with("""\
        - id: no-callbacks
          when: target.phone_changed_days < 14
          message: phone changed
          reason: SIM swap
          disallow_proofs: [callback_automated]
        - id: portal-only
          when: target.privileged
          message: privileged
          require_any_of: [self_service_initiated]
        """)
    f = facts({"action.kind": "unlock_account", "target.phone_changed_days": 3, "target.privileged": True})
    decision = evaluate(policy, facts=f, evidence=Evidence(proofs=frozenset(ProofMethod)))
    assert decision.blocked and not decision.allowed
    reason = decision.blocking_reasons[0]
    assert reason.code == "no_acceptable_proof"
    assert "no-callbacks removed [callback_automated]" in reason.message
    assert "portal-only removed [push_number_match]" in reason.message


def test_block_rule(policy_with: Build, facts: Facts) -> None:
    policy = policy_with("""\
        - id: stop
          when: target.risk_score >= 90
          message: risk {target.risk_score:.0f}
          reason: under attack
          block: true
        """)
    decision = evaluate(
        policy,
        facts=facts({"target.risk_score": 95}),
        evidence=Evidence(proofs=frozenset({P.PUSH_NUMBER_MATCH})),
    )
    assert decision.blocked and not decision.allowed and decision.proofs_satisfied
    assert decision.blocking_reasons[0].code == "blocked_by_rule"
    assert decision.blocking_reasons[0].message == "rule stop: risk 95: under attack"
    assert decision.step_ups == ()


def test_runtime_cel_error_blocks_naming_the_rule(policy_with: Build, facts: Facts) -> None:
    policy = policy_with("""\
        - id: broken
          when: target.department > 3
          message: m
          add_approvals: 1
        """)
    decision = evaluate(policy, facts=facts(), evidence=Evidence(proofs=frozenset({P.PUSH_NUMBER_MATCH})))
    assert decision.blocked and not decision.allowed
    assert decision.blocking_reasons[0].code == "condition_error"
    assert "rule broken" in decision.blocking_reasons[0].message


def test_wrongly_typed_fact_fails_closed(default_policy: CompiledPolicy, facts: Facts) -> None:
    f = facts({"action.kind": "unlock_account"})
    f["target.risk_score"] = "high"
    decision = evaluate(default_policy, facts=f, evidence=Evidence(proofs=frozenset({P.PUSH_NUMBER_MATCH})))
    assert decision.blocked and not decision.allowed
    assert {r.code for r in decision.blocking_reasons} == {"condition_error"}


def test_missing_fact_fails_closed(default_policy: CompiledPolicy, facts: Facts) -> None:
    f = facts()
    del f["target.privileged"]
    decision = evaluate(default_policy, facts=f, evidence=Evidence(proofs=frozenset({P.PUSH_NUMBER_MATCH})))
    assert decision.blocked and decision.blocking_reasons[0].code == "missing_fact"
    assert "target.privileged" in decision.blocking_reasons[0].message


def test_action_not_in_policy_and_unknown_action(policy_with: Build, facts: Facts) -> None:
    policy = policy_with("- {id: r, when: 'false', message: m, add_approvals: 1}\n")
    decision = evaluate(policy, facts=facts({"action.kind": "grant_privilege"}), evidence=Evidence())
    assert decision.blocked and decision.blocking_reasons[0].code == "action_not_in_policy"
    with pytest.raises(NotFound):
        evaluate(policy, facts={**facts(), "action.kind": "teleport"}, evidence=Evidence())


def test_approval_roles_rank(default_policy: CompiledPolicy, facts: Facts) -> None:
    f = facts({"action.kind": "reset_mfa"})
    proofs = frozenset({P.CALLBACK_AUTOMATED, P.PUSH_NUMBER_MATCH})
    for roles, present in [(("admin",), 1), (("supervisor",), 1), (("agent", "analyst", "auditor"), 0)]:
        decision = evaluate(default_policy, facts=f, evidence=Evidence(proofs=proofs, approvals=roles))
        assert decision.approvals_present == present
        assert decision.allowed is bool(present)


# --- properties ---------------------------------------------------------------------------------

_VALUES: dict[type, st.SearchStrategy[Any]] = {
    bool: st.booleans(),
    int: st.integers(0, 30),
    float: st.floats(0, 200, allow_nan=False),
    str: st.sampled_from(["", "phone", "it", "agent", "self_service"]),
    list: st.lists(st.sampled_from(["a", "b"])),
}
fact_sets = st.fixed_dictionaries({name: _VALUES[kind] for name, (kind, _) in FACTS.items()}).map(
    lambda f: {**f, "action.kind": f["action.kind"] or "unlock_account"}
)
actions = st.sampled_from(list(ActionKind))
proof_sets = st.frozensets(st.sampled_from(list(ProofMethod)))
roles = st.lists(st.sampled_from(["agent", "supervisor", "admin", "analyst"]), max_size=4).map(tuple)


def _facts(kind: ActionKind, drawn: dict[str, Any]) -> dict[str, Any]:
    return {
        **drawn,
        "action.kind": kind.value,
        "action.tier": int(CATALOGUE[kind].tier),
        "context.local_hour": drawn["context.local_hour"] % 24,
        "context.weekday": drawn["context.weekday"] % 7,
    }


@settings(max_examples=300, deadline=None)
@given(kind=actions, drawn=fact_sets, proofs=proof_sets, approvals=roles)
def test_knowledge_never_changes_the_decision(
    default_policy: CompiledPolicy,
    kind: ActionKind,
    drawn: dict[str, Any],
    proofs: frozenset[ProofMethod],
    approvals: tuple[str, ...],
) -> None:
    f = _facts(kind, drawn)
    without = evaluate(default_policy, facts=f, evidence=Evidence(proofs - {P.KNOWLEDGE}, approvals))
    with_ = evaluate(default_policy, facts=f, evidence=Evidence(proofs | {P.KNOWLEDGE}, approvals))
    assert without == with_


@settings(max_examples=300, deadline=None)
@given(kind=actions, drawn=fact_sets, proofs=proof_sets, more=proof_sets, approvals=roles, extra=roles)
def test_more_evidence_never_revokes_allowed(
    default_policy: CompiledPolicy,
    kind: ActionKind,
    drawn: dict[str, Any],
    proofs: frozenset[ProofMethod],
    more: frozenset[ProofMethod],
    approvals: tuple[str, ...],
    extra: tuple[str, ...],
) -> None:
    f = _facts(kind, drawn)
    before = evaluate(default_policy, facts=f, evidence=Evidence(proofs, approvals))
    after = evaluate(default_policy, facts=f, evidence=Evidence(proofs | more, approvals + extra))
    assert after.approvals_present >= before.approvals_present
    if before.allowed:
        assert after.allowed


@settings(max_examples=300, deadline=None)
@given(kind=actions, drawn=fact_sets, proofs=proof_sets, approvals=roles)
def test_decision_invariants(
    default_policy: CompiledPolicy,
    kind: ActionKind,
    drawn: dict[str, Any],
    proofs: frozenset[ProofMethod],
    approvals: tuple[str, ...],
) -> None:
    decision = evaluate(default_policy, facts=_facts(kind, drawn), evidence=Evidence(proofs, approvals))
    base = {s for s, _ in default_policy.actions[kind].sets}
    if decision.blocked:
        assert not decision.allowed and decision.blocking_reasons
    if decision.allowed:
        assert decision.proofs_satisfied and decision.approvals_present >= decision.approvals_required
    assert all(frozenset(s) in base and P.KNOWLEDGE not in s for s in decision.acceptable_proof_sets)
    assert not set(decision.disallowed_proofs) & {m.value for s in decision.acceptable_proof_sets for m in s}
    assert len(decision.trace) == len(default_policy.rules) + 1
    assert bool(decision.acceptable_proof_sets) or decision.blocked


@settings(max_examples=100, deadline=None)
@given(
    kind=st.sampled_from([ActionKind.UNLOCK_ACCOUNT, ActionKind.RESET_MFA]),
    drawn=fact_sets,
    proofs=proof_sets,
    approvals=roles,
    bad=st.one_of(st.text(max_size=3), st.none(), st.lists(st.integers())),
)
def test_runtime_error_always_blocks(
    policy_with: Build,
    kind: ActionKind,
    drawn: dict[str, Any],
    proofs: frozenset[ProofMethod],
    approvals: tuple[str, ...],
    bad: Any,
) -> None:
    policy = policy_with("- {id: risky, when: target.risk_score >= 70.0, message: m, add_approvals: 1}\n")
    f = {**_facts(kind, drawn), "target.risk_score": bad}
    decision = evaluate(policy, facts=f, evidence=Evidence(proofs, approvals))
    assert decision.blocked and not decision.allowed
    assert any(r.code == "condition_error" and "risky" in r.message for r in decision.blocking_reasons)


def test_case_defaults_fill_the_tier() -> None:
    assert facts_with_defaults({"action.kind": "reset_mfa"})["action.tier"] == 4


@pytest.mark.parametrize("bad", ["0", "95", True, None, [1]])
def test_a_float_fact_of_the_wrong_type_is_never_coerced(policy_with: Build, bad: Any) -> None:
    """Regression (found by hypothesis): CEL's double() turns the string "0" into 0.0; the engine
    must not, so a mistyped fact blocks instead of being read as a number."""
    policy = policy_with("- {id: risky, when: target.risk_score >= 70.0, message: m, add_approvals: 1}\n")
    f = {**facts_with_defaults({"action.kind": "unlock_account"}), "target.risk_score": bad}
    decision = evaluate(policy, facts=f, evidence=Evidence(frozenset({P.PUSH_NUMBER_MATCH}), ()))
    assert decision.blocked and not decision.allowed
