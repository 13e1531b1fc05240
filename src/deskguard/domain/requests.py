"""Action requests, their proofs of identity, approvals, just-in-time grants — and the state machine.

An ``ActionRequest`` is the agent's *request* for a sensitive action. It moves through
``RequestState`` only along ``TRANSITIONS``; anything else raises ``InvalidTransition`` with a stable
code. Approvals bind to ``params_hash``: the SHA-256 of the canonical request parameters, so a change
to any parameter voids every approval given before it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Any

from deskguard.domain.actions import ActionKind
from deskguard.domain.errors import InvalidTransition


class RequestState(StrEnum):
    DRAFT = "draft"
    PENDING_VERIFICATION = "pending_verification"
    PENDING_APPROVAL = "pending_approval"
    READY = "ready"
    EXECUTING = "executing"  # claimed by exactly one executor; the connector call is in flight
    EXECUTED = "executed"
    DENIED = "denied"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    FAILED = "failed"


TERMINAL = frozenset(
    {
        RequestState.EXECUTED,
        RequestState.DENIED,
        RequestState.EXPIRED,
        RequestState.CANCELLED,
        RequestState.FAILED,
    }
)

_S = RequestState
TRANSITIONS: dict[RequestState, frozenset[RequestState]] = {
    _S.DRAFT: frozenset({_S.PENDING_VERIFICATION, _S.PENDING_APPROVAL, _S.READY, _S.DENIED, _S.CANCELLED}),
    _S.PENDING_VERIFICATION: frozenset(
        {_S.PENDING_VERIFICATION, _S.PENDING_APPROVAL, _S.READY, _S.DENIED, _S.EXPIRED, _S.CANCELLED}
    ),
    _S.PENDING_APPROVAL: frozenset(
        {_S.PENDING_VERIFICATION, _S.PENDING_APPROVAL, _S.READY, _S.DENIED, _S.EXPIRED, _S.CANCELLED}
    ),
    _S.READY: frozenset(
        {_S.PENDING_VERIFICATION, _S.PENDING_APPROVAL, _S.EXECUTING, _S.DENIED, _S.EXPIRED, _S.CANCELLED}
    ),
    # A connector timeout hands the request back to READY: same idempotency key on the next try.
    _S.EXECUTING: frozenset({_S.EXECUTED, _S.FAILED, _S.READY}),
    **{s: frozenset() for s in TERMINAL},
}


def check_transition(current: RequestState, target: RequestState) -> None:
    if target not in TRANSITIONS[current]:
        raise InvalidTransition(
            f"a request cannot go from {current.value} to {target.value}",
            code=f"invalid_transition.{current.value}_to_{target.value}",
            details={"from": current.value, "to": target.value},
        )


class ProofMethod(StrEnum):
    PUSH_NUMBER_MATCH = "push_number_match"
    TOTP = "totp"
    CALLBACK_AUTOMATED = "callback_automated"
    CALLBACK_AGENT = "callback_agent"
    SELF_SERVICE_INITIATED = "self_service_initiated"
    MANAGER_CONFIRMATION = "manager_confirmation"
    EXTERNAL_IDV = "external_idv"
    OTP_SMS = "otp_sms"  # a one-time code sent to the registered phone (SMS or voice), read back
    KNOWLEDGE = "knowledge"  # recorded for the file; never satisfies a requirement


class Strength(IntEnum):
    NONE = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3


METHOD_STRENGTH: dict[ProofMethod, Strength] = {
    ProofMethod.PUSH_NUMBER_MATCH: Strength.HIGH,
    ProofMethod.TOTP: Strength.MEDIUM,
    ProofMethod.CALLBACK_AUTOMATED: Strength.MEDIUM,
    ProofMethod.CALLBACK_AGENT: Strength.LOW,  # the agent attests they dialled the shown number
    ProofMethod.SELF_SERVICE_INITIATED: Strength.HIGH,
    ProofMethod.MANAGER_CONFIRMATION: Strength.MEDIUM,
    ProofMethod.EXTERNAL_IDV: Strength.HIGH,
    # read aloud to the agent, so relayable; SMS falls to a SIM swap (ADR 0013)
    ProofMethod.OTP_SMS: Strength.LOW,
    ProofMethod.KNOWLEDGE: Strength.NONE,
}

METHOD_CHANNEL: dict[ProofMethod, str] = {
    ProofMethod.PUSH_NUMBER_MATCH: "portal",
    ProofMethod.TOTP: "authenticator",
    ProofMethod.CALLBACK_AUTOMATED: "telephony",
    ProofMethod.CALLBACK_AGENT: "agent_phone",
    ProofMethod.SELF_SERVICE_INITIATED: "portal",
    ProofMethod.MANAGER_CONFIRMATION: "portal",
    ProofMethod.EXTERNAL_IDV: "idv",
    ProofMethod.OTP_SMS: "registered_phone",
    ProofMethod.KNOWLEDGE: "agent",
}


class ProofStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    EXPIRED = "expired"
    LOCKED = "locked"  # too many attempts


class RequestOrigin(StrEnum):
    AGENT = "agent"
    SELF_SERVICE = "self_service"


def params_hash(
    *, tenant_id: str, kind: ActionKind, person_id: str, params: dict[str, Any], ticket_id: str | None
) -> str:
    """SHA-256 over the canonical JSON of exactly what would be executed."""
    canonical = json.dumps(
        {"tenant": tenant_id, "kind": kind.value, "person": person_id, "params": params, "ticket": ticket_id},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionRequest:
    id: str
    tenant_id: str
    kind: ActionKind
    person_id: str
    requester_id: str  # operator id; for self-service requests, the person's own id
    origin: RequestOrigin
    ticket_id: str | None
    justification: str
    params: dict[str, Any]
    params_hash: str
    state: RequestState
    created_at: datetime
    updated_at: datetime
    expires_at: datetime
    decision: dict[str, Any] = field(default_factory=dict)  # last Decision, as recorded
    result: dict[str, Any] = field(default_factory=dict)  # non-secret outcome of execution
    failure_reason: str = ""
    version: int = 1

    def moved(self, state: RequestState, *, at: datetime, **changes: Any) -> ActionRequest:
        check_transition(self.state, state)
        return replace(self, state=state, updated_at=at, version=self.version + 1, **changes)

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL


@dataclass(frozen=True, slots=True, kw_only=True)
class Proof:
    id: str
    tenant_id: str
    request_id: str
    method: ProofMethod
    channel: str
    strength: Strength
    status: ProofStatus
    created_at: datetime
    expires_at: datetime
    completed_at: datetime | None = None
    attempts: int = 0
    max_attempts: int = 3
    failure_reason: str = ""
    # Public challenge data shown to the agent (the number to read out, the number dialled, the
    # factor used). Never a secret: codes are checked against hashes or seeds held elsewhere.
    challenge: dict[str, Any] = field(default_factory=dict)
    secret_hash: str = ""  # e.g. HMAC of the push number; compared in constant time
    attested_by: str = ""  # operator or person who produced the evidence

    @property
    def counts(self) -> bool:
        """Whether this proof can satisfy a requirement: succeeded and not knowledge-based."""
        return self.status == ProofStatus.SUCCEEDED and self.method != ProofMethod.KNOWLEDGE


class ApprovalVerdict(StrEnum):
    APPROVE = "approve"
    DENY = "deny"


@dataclass(frozen=True, slots=True, kw_only=True)
class Approval:
    id: str
    tenant_id: str
    request_id: str
    approver_id: str
    approver_role: str
    verdict: ApprovalVerdict
    params_hash: str
    comment: str
    decided_at: datetime
    expires_at: datetime

    def valid_for(self, request: ActionRequest, *, now: datetime) -> bool:
        return (
            self.verdict == ApprovalVerdict.APPROVE
            and self.params_hash == request.params_hash
            and now < self.expires_at
        )


class GrantState(StrEnum):
    REQUESTED = "requested"
    ACTIVE = "active"
    DENIED = "denied"
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass(frozen=True, slots=True, kw_only=True)
class Grant:
    """A just-in-time, scoped (action kinds x tenant), time-boxed elevation for one operator."""

    id: str
    tenant_id: str
    operator_id: str
    action_kinds: frozenset[ActionKind]
    justification: str
    duration_minutes: int
    state: GrantState
    requested_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    starts_at: datetime | None = None
    expires_at: datetime | None = None
    uses: int = 0

    def live_for(self, kind: ActionKind, *, now: datetime) -> bool:
        return (
            self.state == GrantState.ACTIVE
            and kind in self.action_kinds
            and self.expires_at is not None
            and now < self.expires_at
        )
