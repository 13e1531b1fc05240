"""The assurance-policy schema: what a policy YAML file may say, as pydantic v2 models.

``loader.py`` parses YAML (keeping line numbers), validates it against ``PolicyDocument`` and
compiles it; ``evaluator.py`` only ever sees the compiled form. Every model forbids unknown keys so a
typo in a policy is a load error, never a silently ignored requirement.

Approver roles are ranked (``DEFAULT_APPROVAL_ROLES``): an approval by a role of rank >= the rank of
the required role counts, so a ``supervisor`` requirement is met by a supervisor or an admin. Roles
absent from the ranking (agent, analyst, auditor) never count as approvers.

``default_facts()`` is the single definition of benign fact values (an internal agent, 10:00 on a
Tuesday, a quiet ordinary person); policy cases and ``deskguard policy explain`` start from it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from deskguard.domain.actions import CATALOGUE, ActionKind, RiskTier
from deskguard.domain.decision import FACTS
from deskguard.domain.requests import ProofMethod

#: role -> rank; an approval counts when its role ranks at least as high as the required one.
DEFAULT_APPROVAL_ROLES: dict[str, int] = {"supervisor": 1, "admin": 2}

KNOWLEDGE_NEVER_PROOF = "knowledge-based answers never count as proof"


def _not_knowledge(method: ProofMethod) -> ProofMethod:
    # NIST SP 800-63B-4 forbids knowledge-based verification; refuse it where it could satisfy
    # a requirement, so no policy can ever make "mother's maiden name" count.
    if method is ProofMethod.KNOWLEDGE:
        raise ValueError(KNOWLEDGE_NEVER_PROOF)
    return method


#: a proof method that may appear in a requirement (anything but ``knowledge``).
RequiredMethod = Annotated[ProofMethod, AfterValidator(_not_knowledge)]
TierName = Literal["low", "medium", "high", "critical"]
RuleId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,79}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ApprovalSpec(_Strict):
    count: int = Field(default=0, ge=0, le=10)
    role: str = "supervisor"


class ActionPolicy(_Strict):
    """The base requirement for one action kind, before any rule applies."""

    description: str = ""
    # any-of a list of all-of sets
    proofs: list[Annotated[list[RequiredMethod], Field(min_length=1)]] = Field(min_length=1)
    approvals: ApprovalSpec = ApprovalSpec()
    secret_to_agent: bool = False
    requires_grant: bool = False


class TierScope(_Strict):
    min_tier: TierName

    @property
    def tier(self) -> RiskTier:
        return RiskTier[self.min_tier.upper()]


class Rule(_Strict):
    id: RuleId
    description: str = ""
    when: str = Field(min_length=1)
    applies_to: list[ActionKind] | TierScope | Literal["all"] = "all"
    message: str = Field(min_length=1)
    reason: str = ""
    disallow_proofs: list[RequiredMethod] = []
    require_any_of: list[RequiredMethod] = []
    add_approvals: int = Field(default=0, ge=0, le=10)
    approval_role: str | None = None
    require_grant: bool = False
    block: bool = False

    @model_validator(mode="after")
    def _has_effect(self) -> Rule:
        if not (
            self.disallow_proofs
            or self.require_any_of
            or self.add_approvals
            or self.require_grant
            or self.block
        ):
            raise ValueError(
                "a rule needs at least one effect: disallow_proofs, require_any_of, "
                "add_approvals, require_grant or block"
            )
        if (self.disallow_proofs or self.block) and not self.reason:
            raise ValueError("disallow_proofs and block need a 'reason' saying why")
        return self

    def applies(self, kind: ActionKind) -> bool:
        if self.applies_to == "all":
            return True
        if isinstance(self.applies_to, TierScope):
            return CATALOGUE[kind].tier >= self.applies_to.tier
        return kind in self.applies_to


class CaseEvidence(_Strict):
    # plain ProofMethod: a case may record knowledge to show it changes nothing
    proofs: list[ProofMethod] = []
    approvals: list[str] = []


class CaseExpect(_Strict):
    allowed: bool | None = None
    blocked: bool | None = None
    proofs_satisfied: bool | None = None
    approvals_required: int | None = None
    approval_role: str | None = None
    requires_grant: bool | None = None
    secret_to_agent_allowed: bool | None = None
    missing_includes: list[list[ProofMethod]] | None = None
    acceptable_includes: list[list[ProofMethod]] | None = None
    disallowed_includes: list[ProofMethod] | None = None
    acceptable_all_contain_any_of: list[ProofMethod] | None = None
    blocking_codes_include: list[str] | None = None

    @model_validator(mode="after")
    def _expects_something(self) -> CaseExpect:
        if not self.model_fields_set:
            raise ValueError("a case must expect at least one thing")
        return self


class Case(_Strict):
    name: str = Field(min_length=1)
    description: str = ""
    facts: dict[str, Any] = {}  # dotted fact -> value; default_facts() fills the rest
    evidence: CaseEvidence = CaseEvidence()
    expect: CaseExpect


class PolicyDocument(_Strict):
    policy: str = Field(min_length=1)
    version: int = 1
    description: str = ""
    approval_roles: dict[str, Annotated[int, Field(ge=1)]] = Field(
        default_factory=lambda: dict(DEFAULT_APPROVAL_ROLES)
    )
    actions: dict[ActionKind, ActionPolicy]
    rules: list[Rule] = []
    cases: list[Case] = []


def default_facts() -> dict[str, Any]:
    """Benign values for every key of ``FACTS``: an internal agent, Tuesday 10:00, a quiet person."""
    # tests/unit/policy/test_loader.py checks that the keys are exactly those of FACTS
    return {
        "action.kind": ActionKind.UNLOCK_ACCOUNT.value,
        "action.tier": int(RiskTier.LOW),
        "target.privileged": False,
        "target.watchlisted": False,
        "target.risk_score": 0.0,
        "target.risk_reasons": "",
        "target.manager_validation_required": False,
        "target.phone_changed_days": 36500.0,
        "target.has_phone": True,
        "target.has_push_device": True,
        "target.has_totp": True,
        "target.has_manager": True,
        "target.department": "sales",
        "target.groups": [],
        "operator.role": "agent",
        "operator.outsourced": False,
        "operator.provider": "internal",
        "operator.has_live_grant": False,
        "operator.risk_score": 0.0,
        "operator.risk_reasons": "",
        "request.origin": "agent",
        "request.channel": "phone",
        "request.has_ticket": True,
        "request.risk_score": 0.0,
        "request.risk_reasons": "",
        "context.local_hour": 10,
        "context.weekday": 1,
        "context.failed_verifications_24h": 0,
        "context.minutes_since_last_sensitive": 1e9,
    }


def coerce_fact(name: str, *, value: Any) -> Any:
    """Check ``value`` against the declared type of fact ``name``; ints are accepted for floats.

    Raises ``KeyError`` for an unknown fact and ``TypeError`` for a value of the wrong type.
    """
    expected = FACTS[name][0]
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    # bool is an int subclass: refuse True where a number is expected, and 1 where a bool is
    if type(value) is not expected and not (expected is list and isinstance(value, list | tuple)):
        raise TypeError(f"fact {name} must be {expected.__name__}, got {type(value).__name__} {value!r}")
    return list(value) if expected is list else value
