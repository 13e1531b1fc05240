"""What the policy sees (``Facts``, ``Evidence``) and what it answers (``Decision``).

The request flow builds ``Facts`` from the request, the person, the operator, the ticket and the
current risk; ``Evidence`` is what has been proven and approved so far. ``policy.evaluate`` turns
them into a ``Decision`` that explains itself: every rule, what it saw, what it did.

``Reason``, ``TraceEntry`` and ``Decision`` are built on every decision: plain slotted dataclasses
(not frozen, which costs about three times as much to construct, measured) treated as immutable.

``FACTS`` is the schema of the fact names a policy condition may use. Names are dotted
(``target.privileged``); the policy compiler checks every name a condition references against it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from deskguard.domain.actions import ActionKind, RiskTier
from deskguard.domain.requests import ProofMethod

#: fact name -> (python type, meaning). The evaluator receives exactly these keys.
FACTS: dict[str, tuple[type, str]] = {
    "action.kind": (str, "the action requested, e.g. reset_mfa"),
    "action.tier": (int, "risk tier: 1 low, 2 medium, 3 high, 4 critical"),
    "target.privileged": (bool, "the person holds privileged access"),
    "target.watchlisted": (bool, "the person is on the security watch list"),
    "target.risk_score": (
        float,
        "the person's current risk score, 0-100, from detection's alerts (decaying)",
    ),
    "target.risk_reasons": (str, "the strongest detection signals behind the risk score, in words"),
    "target.manager_validation_required": (
        bool,
        "a response runbook asked that the manager confirm sensitive requests on the person, for now",
    ),
    "target.phone_changed_days": (float, "days since a registered phone last changed (36500 if none)"),
    "target.has_phone": (bool, "a phone number is registered"),
    "target.has_push_device": (bool, "a portal push device is enrolled"),
    "target.has_totp": (bool, "a TOTP authenticator is enrolled"),
    "target.has_manager": (bool, "the directory names a manager"),
    "target.department": (str, "the person's department"),
    "target.groups": (list, "the person's directory groups"),
    "operator.role": (str, "agent, supervisor, analyst, admin or auditor"),
    "operator.outsourced": (bool, "the operator works for an outsourced provider"),
    "operator.provider": (str, "the operator's provider id"),
    "operator.has_live_grant": (bool, "the operator holds a live just-in-time grant for this action"),
    "operator.risk_score": (
        float,
        "the requesting operator's risk score in this tenant, 0-100, from alerts naming them (decaying)",
    ),
    "operator.risk_reasons": (str, "the strongest detection signals behind the operator's risk score"),
    "request.origin": (str, "agent, or self_service when the person opened it from the portal"),
    "request.channel": (str, "the ticket channel: phone, chat, email, walk_in, portal, or empty"),
    "request.has_ticket": (bool, "the request references a ticket"),
    "request.risk_score": (
        float,
        "the request's risk, 0-100: the person's and the operator's scores combined as a noisy-or",
    ),
    "request.risk_reasons": (str, "the person's and the operator's reasons, labelled"),
    "context.local_hour": (int, "hour of day in the tenant's time zone, 0-23"),
    "context.weekday": (int, "day of week in the tenant's time zone, 0 Monday - 6 Sunday"),
    "context.failed_verifications_24h": (int, "failed proof attempts on this person in 24 h"),
    "context.minutes_since_last_sensitive": (
        float,
        "minutes since the last executed action on this person (1e9 if none)",
    ),
}


@dataclass(frozen=True, slots=True)
class Evidence:
    """What has been established for one request so far."""

    proofs: frozenset[ProofMethod] = frozenset()  # methods with a counting (succeeded) proof
    approvals: tuple[str, ...] = ()  # the roles of the distinct valid approvers


@dataclass(slots=True)
class Reason:
    code: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@dataclass(slots=True)
class TraceEntry:
    rule: str
    matched: bool
    values: dict[str, Any]
    effect: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "matched": self.matched, "values": self.values, "effect": self.effect}


@dataclass(slots=True)
class Decision:
    """The policy's answer for one request, with every reason.

    ``allowed`` means every requirement is met now and the action may execute. ``blocked`` means no
    amount of proof or approval can make it run under the present facts.
    """

    action: ActionKind
    tier: RiskTier
    allowed: bool
    blocked: bool
    acceptable_proof_sets: tuple[tuple[ProofMethod, ...], ...]
    missing_proof_sets: tuple[tuple[ProofMethod, ...], ...]
    proofs_satisfied: bool
    disallowed_proofs: dict[str, str]  # method -> why it cannot count here
    approvals_required: int
    approval_role: str
    approvals_present: int
    requires_grant: bool
    grant_present: bool
    secret_to_agent_allowed: bool
    blocking_reasons: tuple[Reason, ...]
    step_ups: tuple[Reason, ...]
    trace: tuple[TraceEntry, ...]
    policy: str
    policy_digest: str
    notes: tuple[str, ...] = field(default=())

    @property
    def approvals_missing(self) -> int:
        return max(0, self.approvals_required - self.approvals_present)

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action.value,
            "tier": self.tier.label,
            "allowed": self.allowed,
            "blocked": self.blocked,
            "acceptable_proof_sets": [[m.value for m in s] for s in self.acceptable_proof_sets],
            "missing_proof_sets": [[m.value for m in s] for s in self.missing_proof_sets],
            "proofs_satisfied": self.proofs_satisfied,
            "disallowed_proofs": dict(self.disallowed_proofs),
            "approvals": {
                "required": self.approvals_required,
                "role": self.approval_role,
                "present": self.approvals_present,
                "missing": self.approvals_missing,
            },
            "grant": {"required": self.requires_grant, "present": self.grant_present},
            "secret_to_agent_allowed": self.secret_to_agent_allowed,
            "blocking_reasons": [r.to_dict() for r in self.blocking_reasons],
            "step_ups": [r.to_dict() for r in self.step_ups],
            "trace": [t.to_dict() for t in self.trace],
            "policy": {"name": self.policy, "digest": self.policy_digest},
            "notes": list(self.notes),
        }
