"""Run the cases a policy file carries: each case's facts and evidence → decision → expectations.

Content is data with tests: every policy file lists ``cases:`` (partial facts, evidence, expected
outcome). ``tests/content/test_policies.py`` turns each case into a pytest param and
``deskguard policy test`` prints them as a table; both call ``run_cases``. A failing case says
exactly which expectation did not hold and what the decision said instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from deskguard.domain.actions import CATALOGUE, ActionKind
from deskguard.domain.decision import Decision, Evidence
from deskguard.domain.requests import ProofMethod
from deskguard.policy.evaluator import evaluate
from deskguard.policy.loader import CompiledPolicy
from deskguard.policy.model import Case, CaseExpect, coerce_fact, default_facts


@dataclass(frozen=True, slots=True)
class CaseResult:
    name: str
    line: int | None
    passed: bool
    mismatches: tuple[str, ...]
    decision: Decision


def facts_with_defaults(overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``default_facts()`` with ``overrides`` applied (type-checked); the tier follows the action."""
    facts = default_facts()
    for name, value in overrides.items():
        facts[name] = coerce_fact(name, value=value)
    if "action.tier" not in overrides:
        facts["action.tier"] = int(CATALOGUE[ActionKind(facts["action.kind"])].tier)
    return facts


def _sets(sets: tuple[tuple[ProofMethod, ...], ...]) -> str:
    return "[" + ", ".join("[" + ", ".join(p.value for p in s) + "]" for s in sets) + "]"


def check(expect: CaseExpect, *, decision: Decision) -> list[str]:
    """Every expectation that ``decision`` does not meet, in words."""
    problems: list[str] = []
    for field in (
        "allowed",
        "blocked",
        "proofs_satisfied",
        "approvals_required",
        "approval_role",
        "requires_grant",
        "secret_to_agent_allowed",
    ):
        wanted = getattr(expect, field)
        if wanted is not None and getattr(decision, field) != wanted:
            problems.append(f"{field}: expected {wanted!r}, got {getattr(decision, field)!r}")
    missing = {frozenset(s) for s in decision.missing_proof_sets}
    for wanted_set in expect.missing_includes or ():
        if frozenset(wanted_set) not in missing:
            problems.append(
                f"missing_proof_sets should include {[p.value for p in wanted_set]}, "
                f"got {_sets(decision.missing_proof_sets)}"
            )
    acceptable = {frozenset(s) for s in decision.acceptable_proof_sets}
    for wanted_set in expect.acceptable_includes or ():
        if frozenset(wanted_set) not in acceptable:
            problems.append(
                f"acceptable_proof_sets should include {[p.value for p in wanted_set]}, "
                f"got {_sets(decision.acceptable_proof_sets)}"
            )
    for method in expect.disallowed_includes or ():
        if method.value not in decision.disallowed_proofs:
            problems.append(
                f"disallowed_proofs should include {method.value}, got {sorted(decision.disallowed_proofs)}"
            )
    if expect.acceptable_all_contain_any_of is not None:
        wanted_any = frozenset(expect.acceptable_all_contain_any_of)
        offending = [s for s in decision.acceptable_proof_sets if not wanted_any & set(s)]
        if not decision.acceptable_proof_sets:
            problems.append("acceptable_all_contain_any_of: no acceptable proof set remains")
        elif offending:
            problems.append(
                f"every acceptable set should contain one of {sorted(m.value for m in wanted_any)}; "
                f"these do not: {_sets(tuple(offending))}"
            )
    codes = {r.code for r in decision.blocking_reasons}
    for code in expect.blocking_codes_include or ():
        if code not in codes:
            problems.append(f"blocking_reasons should include {code!r}, got {sorted(codes)}")
    return problems


def run_case(policy: CompiledPolicy, *, case: Case, line: int | None = None) -> CaseResult:
    decision = evaluate(
        policy,
        facts=facts_with_defaults(case.facts),
        evidence=Evidence(proofs=frozenset(case.evidence.proofs), approvals=tuple(case.evidence.approvals)),
    )
    problems = check(case.expect, decision=decision)
    if problems and decision.blocking_reasons:  # the usual "why": say what blocked it
        problems.append("blocking reasons: " + "; ".join(r.message for r in decision.blocking_reasons))
    return CaseResult(
        name=case.name, line=line, passed=not problems, mismatches=tuple(problems), decision=decision
    )


def run_cases(policy: CompiledPolicy) -> list[CaseResult]:
    """Run every case of the policy, in file order."""
    return [
        run_case(policy, case=case, line=line)
        for case, line in zip(policy.document.cases, policy.case_lines, strict=True)
    ]
