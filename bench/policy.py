"""Benchmark: policy decision time with the shipped default policy, against Cedar for the same answer.

Prints ONE JSON line. ``policy_median_us`` is the median of ``evaluate()`` over a realistic mix of
requests (actions, people, operators, hours and evidence all vary; no single cached input).
``cedar_median_us`` times ``cedarpy.is_authorized`` on an equivalent Cedar policy set generated
from the same compiled policy (a permit per action whose proof-set alternatives carry the
conditions of the rules that would remove them; a forbid per block rule), with the same facts as
entities + context. ``agreement`` is the share of inputs on which both engines give the same
allow/deny — it must be 1.0, or the comparison is meaningless. ``ratio`` = cedar / policy.

Run: ``.venv/bin/python bench/policy.py [rounds]``.
"""

from __future__ import annotations

import json
import platform
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import cedarpy

from deskguard.domain.actions import ActionKind
from deskguard.domain.decision import Evidence
from deskguard.policy.cases import facts_with_defaults
from deskguard.policy.evaluator import evaluate
from deskguard.policy.loader import CompiledPolicy, load_policy

DEFAULT = Path(__file__).resolve().parents[1] / "content" / "policies" / "default.yml"


def _dec(value: float) -> dict[str, Any]:
    return {"__extn": {"fn": "decimal", "arg": f"{value:.4f}"}}


#: the default policy's conditions in Cedar (principal = operator, resource = person)
CEDAR_CONDITIONS = {
    "privileged-target-strong-proof": "resource.privileged",
    "privileged-target-approval": "resource.privileged",
    "outsourced-out-of-hours": (
        "principal.outsourced && (context.hour < 7 || context.hour >= 20 || context.weekday >= 5)"
    ),
    "recent-phone-change": 'resource.phone_changed_days.lessThan(decimal("14.0"))',
    "repeated-failed-verifications": "context.failed >= 3",
    "watchlisted-person": "resource.watchlisted",
    "manager-validation-required": "resource.manager_validation",
    "operator-elevated-risk": 'principal.risk.greaterThanOrEqual(decimal("50.0"))',
    "elevated-risk": 'resource.risk.greaterThanOrEqual(decimal("70.0"))',
    "critical-risk-block": 'resource.risk.greaterThanOrEqual(decimal("90.0"))',
    "critical-action-cooldown": 'context.minutes.lessThan(decimal("60.0"))',
    "outsourced-privilege-needs-grant": "principal.outsourced",
}


def cedar_policies(policy: CompiledPolicy) -> str:
    """An equivalent Cedar policy set, generated from the compiled policy's structure."""
    out = []
    for kind, action in policy.actions.items():
        applicable = [rule for rule, applies, _ in action.rules if applies]
        alternatives = []
        for lookup, order in action.sets:
            guards = [f"context.proofs.containsAll([{', '.join(json.dumps(p.value) for p in order)}])"]
            for rule in applicable:
                if (rule.disallow & lookup) or (rule.require_any and not rule.require_any & lookup):
                    guards.append(f"!({CEDAR_CONDITIONS[rule.id]})")
            alternatives.append("(" + " && ".join(guards) + ")")
        needed = " + ".join(
            [str(action.approvals)]
            + [
                f"(if {CEDAR_CONDITIONS[r.id]} then {r.add_approvals} else 0)"
                for r in applicable
                if r.add_approvals
            ]
        )
        grant = [f"({CEDAR_CONDITIONS[r.id]})" for r in applicable if r.require_grant]
        grant_text = (
            "principal.has_live_grant"
            if action.requires_grant
            else f"(!({' || '.join(grant)}) || principal.has_live_grant)"
            if grant
            else "true"
        )
        out.append(
            f'permit(principal, action == Action::"{kind.value}", resource) when {{\n'
            f"  ({' || '.join(alternatives)})\n  && context.approvals >= {needed}\n  && {grant_text}\n}};"
        )
        head = f'forbid(principal, action == Action::"{kind.value}", resource) when'
        out += [f"{head} {{ {CEDAR_CONDITIONS[r.id]} }};" for r in applicable if r.block]
    return "\n".join(out)


def cedar_request(
    facts: dict[str, Any], *, evidence: Evidence, ranks: dict[str, int]
) -> tuple[dict[str, Any], list]:
    entities = [
        {
            "uid": {"type": "Operator", "id": "op"},
            "parents": [],
            "attrs": {
                "outsourced": facts["operator.outsourced"],
                "has_live_grant": facts["operator.has_live_grant"],
                "risk": _dec(facts["operator.risk_score"]),
            },
        },
        {
            "uid": {"type": "Person", "id": "p"},
            "parents": [],
            "attrs": {
                "privileged": facts["target.privileged"],
                "watchlisted": facts["target.watchlisted"],
                "manager_validation": facts["target.manager_validation_required"],
                "risk": _dec(facts["target.risk_score"]),
                "phone_changed_days": _dec(facts["target.phone_changed_days"]),
            },
        },
    ]
    context = {
        "hour": facts["context.local_hour"],
        "weekday": facts["context.weekday"],
        "failed": facts["context.failed_verifications_24h"],
        "minutes": _dec(facts["context.minutes_since_last_sensitive"]),
        "proofs": sorted(p.value for p in evidence.proofs),
        # the default policy only ever asks for supervisor-or-higher approvals
        "approvals": sum(1 for r in evidence.approvals if ranks.get(r, 0) >= ranks["supervisor"]),
    }
    request = {
        "principal": 'Operator::"op"',
        "action": f'Action::"{facts["action.kind"]}"',
        "resource": 'Person::"p"',
        "context": context,
    }
    return request, entities


def workload(
    policy: CompiledPolicy, *, count: int, rng: random.Random
) -> list[tuple[dict[str, Any], Evidence]]:
    """Requests as a helpdesk sees them: mostly ordinary, some risky, evidence at every stage."""
    kinds = list(ActionKind)
    weights = [30, 15, 5, 5, 12, 5, 8, 6, 8, 6]
    inputs = []
    for _ in range(count):
        kind = rng.choices(kinds, weights)[0]
        facts = facts_with_defaults(
            {
                "action.kind": kind.value,
                "target.privileged": rng.random() < 0.1,
                "target.watchlisted": rng.random() < 0.03,
                "target.manager_validation_required": rng.random() < 0.03,
                "target.risk_score": rng.choice([0.0, 5.0, 12.0, 35.0, 41.5, 70.0, 88.0, 93.0])
                if rng.random() < 0.5
                else round(rng.uniform(0, 100), 1),
                "target.phone_changed_days": 36500.0 if rng.random() < 0.7 else round(rng.uniform(0, 400), 2),
                "operator.outsourced": rng.random() < 0.4,
                "operator.has_live_grant": rng.random() < 0.3,
                "context.local_hour": rng.randrange(24),
                "context.weekday": rng.randrange(7),
                "context.failed_verifications_24h": rng.choice([0, 0, 0, 1, 2, 3, 5]),
                "context.minutes_since_last_sensitive": 1e9
                if rng.random() < 0.8
                else float(rng.randrange(600)),
            }
        )
        sets = policy.actions[kind].sets
        proofs = set(rng.choice(sets)[1]) if rng.random() < 0.6 else set()
        if rng.random() < 0.3:
            proofs.add(rng.choice(list(policy.methods)))
        if rng.random() < 0.2:
            proofs.add(rng.choice(list(policy.methods | {next(iter(policy.methods))})))
        approvals = tuple(
            rng.choice(["supervisor", "admin", "agent"]) for _ in range(rng.choice([0, 0, 1, 2]))
        )
        inputs.append((facts, Evidence(proofs=frozenset(proofs), approvals=approvals)))
    return inputs


def _cedar_allows(policies: cedarpy.PolicySet, *, pair: tuple[dict[str, Any], list]) -> bool:
    request, entities = pair
    return bool(cedarpy.is_authorized(request, policies, entities).allowed)


def _median_us(samples: list[int]) -> float:
    return round(statistics.median(samples) / 1000, 2)


def _p90_us(samples: list[int]) -> float:
    return round(statistics.quantiles(samples, n=10)[-1] / 1000, 2)


def main(rounds: int = 20000, *, seed: int = 7, inputs: int = 2000) -> dict[str, Any]:
    policy = load_policy(DEFAULT)
    rng = random.Random(seed)
    requests = workload(policy, count=inputs, rng=rng)
    ranks = dict(policy.approval_roles)
    cedar_set = cedarpy.PolicySet.from_str(cedar_policies(policy))
    clock = time.perf_counter_ns

    ours: list[int] = []
    for i in range(rounds):
        facts, evidence = requests[i % len(requests)]
        start = clock()
        evaluate(policy, facts=facts, evidence=evidence)
        ours.append(clock() - start)

    theirs: list[int] = []
    for i in range(max(rounds // 4, 10)):  # Cedar is slower; a quarter of the rounds is plenty
        facts, evidence = requests[i % len(requests)]
        start = clock()
        request, entities = cedar_request(facts, evidence=evidence, ranks=ranks)
        cedarpy.is_authorized(request, cedar_set, entities)
        theirs.append(clock() - start)

    ours_allowed = [evaluate(policy, facts=f, evidence=e).allowed for f, e in requests]
    theirs_allowed = [
        _cedar_allows(cedar_set, pair=cedar_request(f, evidence=e, ranks=ranks)) for f, e in requests
    ]
    agree = sum(a == b for a, b in zip(ours_allowed, theirs_allowed, strict=True))
    allowed = sum(ours_allowed)
    result = {
        "policy_median_us": _median_us(ours),
        "cedar_median_us": _median_us(theirs),
        "ratio": round(statistics.median(theirs) / statistics.median(ours), 2),
        "policy_p90_us": _p90_us(ours),
        "cedar_p90_us": _p90_us(theirs),
        "policy_rounds": len(ours),
        "cedar_rounds": len(theirs),
        "inputs": len(requests),
        "allowed_share": round(allowed / len(requests), 3),
        "agreement": round(agree / len(requests), 4),
        "python": platform.python_version(),
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20000)
