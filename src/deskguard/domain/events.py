"""Domain events: the versioned JSON records every state change writes to the outbox.

The outbox row is written in the same transaction as the state change. The evidence ledger and the
detection engine consume it. ``EventEnvelope`` is the documented schema (``docs/events.md``; the
JSON Schema in ``docs/events.v1.schema.json`` is generated from it and checked by a test).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1


class EventType(StrEnum):
    REQUEST_OPENED = "request.opened"
    REQUEST_DECIDED = "request.decided"
    REQUEST_STATE_CHANGED = "request.state_changed"
    REQUEST_EXECUTION_STARTED = "request.execution_started"
    REQUEST_EXECUTED = "request.executed"
    REQUEST_FAILED = "request.failed"
    REQUEST_EXECUTION_UNKNOWN = "request.execution_unknown"
    PROOF_STARTED = "proof.started"
    PROOF_SUCCEEDED = "proof.succeeded"
    PROOF_FAILED = "proof.failed"
    PROOF_RECORDED = "proof.recorded"  # knowledge answers: kept for the file, never counted
    APPROVAL_GRANTED = "approval.granted"
    APPROVAL_DENIED = "approval.denied"
    SECRET_DELIVERED = "secret.delivered"
    SECRET_DELIVERY_FAILED = "secret.delivery_failed"
    GRANT_REQUESTED = "grant.requested"
    GRANT_APPROVED = "grant.approved"
    GRANT_DENIED = "grant.denied"
    GRANT_USED = "grant.used"
    GRANT_REVOKED = "grant.revoked"
    PRIVILEGE_EXPIRED = "privilege.expired"  # a time-boxed grant_privilege ended (app.privilege_expiry)
    PRIVILEGE_EXPIRY_FAILED = "privilege.expiry_failed"  # the connector refused; retried with back-off
    TICKET_OPENED = "ticket.opened"
    RESPONSE_STEP = "response.step"  # a runbook step's outcome (app.respond)
    ALERT_VERDICT = "alert.verdict"  # an analyst's verdict on an alert (app.triage)
    CASE_CLOSED = "case.closed"  # a triage case closed: every alert judged, or by an analyst
    PUSH_DEVICE_SUBSCRIBED = "push.device_subscribed"  # a portal device registered for Web Push
    PUSH_DEVICE_UNSUBSCRIBED = "push.device_unsubscribed"
    CONNECTOR_CONFIGURED = "connector.configured"  # a tenant's port given an adapter (app.connectors)
    CONNECTOR_REMOVED = "connector.removed"  # back to the deployment's adapter
    RULE_MODE_CHANGED = "detection.rule_mode_changed"  # a tenant's rule on/off/monitor (app.rule_modes)
    ASSURANCE_ASSESSED = "assurance.assessed"  # a provider checklist item assessed (app.assurance)
    ASSURANCE_EVIDENCE_ATTACHED = "assurance.evidence_attached"  # a file attached to an item
    ACTION_DISPUTED = "action.disputed"  # the person says a helpdesk action on their account was not them
    EXERCISE_CAMPAIGN_PLANNED = "exercise.campaign_planned"  # a vishing exercise campaign (app.exercises)
    EXERCISE_CALL_RECORDED = "exercise.call_recorded"  # a test call's outcome
    EXERCISE_FEEDBACK_SENT = "exercise.feedback_sent"  # the agent's blameless feedback, sent


class ActorKind(StrEnum):
    OPERATOR = "operator"
    PERSON = "person"
    SYSTEM = "system"


@dataclass(frozen=True, slots=True, kw_only=True)
class Actor:
    """Who performs a gesture, and from where. Built by the transport after authentication."""

    kind: ActorKind
    id: str
    role: str = ""  # operator role; "person" for a portal user
    provider_id: str = ""
    provider_kind: str = ""
    tenant_ids: frozenset[str] = frozenset()
    client_ip: str = ""
    user_agent: str = ""
    workstation: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "id": self.id,
            "role": self.role,
            "provider_id": self.provider_id,
            "provider_kind": self.provider_kind,
            "client_ip": self.client_ip,
            "user_agent": self.user_agent,
            "workstation": self.workstation,
        }


SYSTEM = Actor(kind=ActorKind.SYSTEM, id="deskguard", role="system")


@dataclass(frozen=True, slots=True, kw_only=True)
class DomainEvent:
    id: str
    tenant_id: str
    type: EventType
    occurred_at: datetime
    actor: Actor
    request_id: str | None = None
    person_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    correlation_id: str | None = None
    seq: int | None = None  # assigned by the outbox on write

    def envelope(self) -> dict[str, Any]:
        return {
            "schema": "deskguard.event",
            "version": SCHEMA_VERSION,
            "id": self.id,
            "type": self.type.value,
            "tenant_id": self.tenant_id,
            "occurred_at": self.occurred_at.isoformat(),
            "actor": self.actor.to_dict(),
            "subject": {"request_id": self.request_id, "person_id": self.person_id},
            "correlation_id": self.correlation_id,
            "data": self.data,
        }


class _ActorModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: ActorKind
    id: str
    role: str
    provider_id: str
    provider_kind: str
    client_ip: str
    user_agent: str
    workstation: str


class _SubjectModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    request_id: str | None
    person_id: str | None


class EventEnvelope(BaseModel):
    """Version 1 of the event envelope as it lands in the outbox and leaves through exports."""

    model_config = ConfigDict(extra="forbid", title="deskguard event v1", populate_by_name=True)
    schema_: Literal["deskguard.event"] = Field("deskguard.event", alias="schema")
    version: Literal[1]
    id: str
    type: EventType
    tenant_id: str
    occurred_at: datetime
    actor: _ActorModel
    subject: _SubjectModel
    correlation_id: str | None
    data: dict[str, Any]

    @classmethod
    def from_event(cls, event: DomainEvent) -> EventEnvelope:
        return cls.model_validate(event.envelope())
