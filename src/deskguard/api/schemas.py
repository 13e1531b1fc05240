"""Request and response bodies of the HTTP API (and so of its OpenAPI document).

Responses are built from domain objects by the ``of`` constructors; nothing secret is ever a field
here (no seed, no code, no token hash, no produced password).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from deskguard.domain.model import Person, Ticket
from deskguard.domain.requests import ActionRequest, Grant, Proof


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RequestIn(Body):
    kind: str = Field(description="an action of the catalogue, e.g. reset_mfa", max_length=64)
    person_id: str = Field(max_length=64)
    params: dict[str, Any] = Field(default_factory=dict)
    ticket_id: str | None = Field(default=None, max_length=64)
    justification: str = Field(default="", max_length=2000)


class PreviewIn(RequestIn):
    proofs: list[str] = Field(default_factory=list, description="proof methods to assume satisfied")
    approvals: list[str] = Field(default_factory=list, description="approver roles to assume present")


class TicketIn(Body):
    external_ref: str = Field(max_length=128)
    channel: Literal["phone", "chat", "email", "walk_in", "portal"]
    claimed_identity: str = Field(default="", max_length=200)
    caller_number: str = Field(default="", max_length=32)


class ProofIn(Body):
    method: str = Field(max_length=64)


class TotpIn(Body):
    code: str = Field(min_length=6, max_length=8, pattern=r"^\d+$")


class OtpIn(Body):
    code: str = Field(min_length=4, max_length=16, description="the code read back from the SMS or call")


class AttestIn(Body):
    reached: bool
    note: str = Field(default="", max_length=500)


class KnowledgeIn(Body):
    topic: str = Field(max_length=80, description="what was asked, e.g. 'date of birth' — not the answer")
    matched: bool


class ApprovalIn(Body):
    verdict: Literal["approve", "deny"]
    comment: str = Field(default="", max_length=2000)
    params_hash: str | None = Field(default=None, max_length=64)


class CancelIn(Body):
    reason: str = Field(min_length=1, max_length=500)


class GrantIn(Body):
    action_kinds: list[str] = Field(min_length=1, max_length=10)
    duration_minutes: int = Field(ge=5, le=480)
    justification: str = Field(min_length=10, max_length=2000)


class GrantDecisionIn(Body):
    approve: bool
    comment: str = Field(default="", max_length=2000)


class PushAnswerIn(Body):
    approve: bool
    number: int | None = Field(default=None, ge=0, le=999)


class ConfirmIn(Body):
    confirm: bool


class SelfServiceIn(Body):
    kind: str = Field(max_length=64)
    params: dict[str, Any] = Field(default_factory=dict)
    justification: str = Field(default="", max_length=2000)


class TelephonyWebhookIn(Body):
    call_id: str = Field(max_length=64)
    confirmed: bool


class IdvWebhookIn(Body):
    session_id: str = Field(max_length=64)
    verified: bool


class DecisionOut(BaseModel):
    """A policy decision with its reasons (``deskguard.domain.decision.Decision.to_dict``)."""

    action: str
    tier: str
    allowed: bool
    blocked: bool
    acceptable_proof_sets: list[list[str]]
    missing_proof_sets: list[list[str]]
    proofs_satisfied: bool
    disallowed_proofs: dict[str, str]
    approvals: dict[str, Any]
    grant: dict[str, bool]
    secret_to_agent_allowed: bool
    blocking_reasons: list[dict[str, str]]
    step_ups: list[dict[str, str]]
    trace: list[dict[str, Any]]
    policy: dict[str, str]
    notes: list[str]


class ProofOut(BaseModel):
    id: str
    request_id: str
    method: str
    channel: str
    strength: str
    status: str
    counts: bool
    created_at: datetime
    expires_at: datetime
    completed_at: datetime | None
    attempts: int
    max_attempts: int
    failure_reason: str
    challenge: dict[str, Any]

    @classmethod
    def of(cls, p: Proof) -> ProofOut:
        return cls(
            id=p.id,
            request_id=p.request_id,
            method=p.method.value,
            channel=p.channel,
            strength=p.strength.name.lower(),
            status=p.status.value,
            counts=p.counts,
            created_at=p.created_at,
            expires_at=p.expires_at,
            completed_at=p.completed_at,
            attempts=p.attempts,
            max_attempts=p.max_attempts,
            failure_reason=p.failure_reason,
            challenge=p.challenge,
        )


class RequestOut(BaseModel):
    id: str
    tenant_id: str
    kind: str
    person_id: str
    requester_id: str
    origin: str
    ticket_id: str | None
    justification: str
    params: dict[str, Any]
    params_hash: str
    state: str
    created_at: datetime
    updated_at: datetime
    expires_at: datetime
    decision: dict[str, Any]
    result: dict[str, Any]
    failure_reason: str
    proofs: list[ProofOut] | None = None

    @classmethod
    def of(cls, r: ActionRequest, proofs: list[Proof] | None = None) -> RequestOut:
        return cls(
            id=r.id,
            tenant_id=r.tenant_id,
            kind=r.kind.value,
            person_id=r.person_id,
            requester_id=r.requester_id,
            origin=r.origin.value,
            ticket_id=r.ticket_id,
            justification=r.justification,
            params=r.params,
            params_hash=r.params_hash,
            state=r.state.value,
            created_at=r.created_at,
            updated_at=r.updated_at,
            expires_at=r.expires_at,
            decision=r.decision,
            result=r.result,
            failure_reason=r.failure_reason,
            proofs=[ProofOut.of(p) for p in proofs] if proofs is not None else None,
        )


class ExecutionOut(BaseModel):
    request: RequestOut
    secret: str | None = Field(default=None, description="only when the policy lets the agent see it")


class PersonOut(BaseModel):
    id: str
    employee_id: str
    email: str
    display_name: str
    department: str
    manager_id: str | None
    privileged: bool
    groups: list[str]
    watchlisted: bool
    risk_score: float
    locked: bool
    phones: list[dict[str, Any]]
    factors: list[dict[str, Any]]

    @classmethod
    def of(cls, p: Person) -> PersonOut:
        return cls(
            id=p.id,
            employee_id=p.employee_id,
            email=p.email,
            display_name=p.display_name,
            department=p.department,
            manager_id=p.manager_id,
            privileged=p.privileged,
            groups=sorted(p.groups),
            watchlisted=p.watchlisted,
            risk_score=p.risk_score,
            locked=p.locked,
            phones=[
                {
                    "number": ph.number,
                    "kind": ph.kind,
                    "source": ph.source.value,
                    "changed_at": ph.changed_at.isoformat(),
                }
                for ph in p.phones
            ],
            factors=[
                {"id": f.id, "kind": f.kind.value, "label": f.label, "enrolled_at": f.enrolled_at.isoformat()}
                for f in p.factors
            ],
        )


class TicketOut(BaseModel):
    id: str
    external_ref: str
    channel: str
    claimed_identity: str
    caller_number: str
    opened_at: datetime
    opened_by: str

    @classmethod
    def of(cls, t: Ticket) -> TicketOut:
        return cls(
            id=t.id,
            external_ref=t.external_ref,
            channel=t.channel.value,
            claimed_identity=t.claimed_identity,
            caller_number=t.caller_number,
            opened_at=t.opened_at,
            opened_by=t.opened_by,
        )


class GrantOut(BaseModel):
    id: str
    operator_id: str
    action_kinds: list[str]
    justification: str
    duration_minutes: int
    state: str
    requested_at: datetime
    decided_by: str | None
    starts_at: datetime | None
    expires_at: datetime | None
    uses: int

    @classmethod
    def of(cls, g: Grant) -> GrantOut:
        return cls(
            id=g.id,
            operator_id=g.operator_id,
            action_kinds=sorted(k.value for k in g.action_kinds),
            justification=g.justification,
            duration_minutes=g.duration_minutes,
            state=g.state.value,
            requested_at=g.requested_at,
            decided_by=g.decided_by,
            starts_at=g.starts_at,
            expires_at=g.expires_at,
            uses=g.uses,
        )
