"""deskguard's own outbox events (``docs/events.md``): the envelope ``{"schema": "deskguard.event", ...}``.

One envelope is one event. The actor is who performed the gesture (an operator, a person in the
portal, or the system); the subject is the person the request is about. ``target_user`` is the
person's login when the event carries one (``data.person_login`` or ``subject.person_login``, as an
enrichment step may add), else the person id; a ticket with no person yet is about its claimed
identity.

A ``request.*`` event names the action kind (``extra["action_kind"]``), which alerts on it carry as
their ``action`` entity (response runbooks trigger on it). A ``request.decided`` event carries the
whole Decision; the values the policy rules saw (the trace) are copied into ``extra`` under short
names (``phone_changed_days``, ``privileged``, ``local_hour``...) with the whole set under
``extra["facts"]``.
"""

from __future__ import annotations

from typing import Any

from deskguard.detection.event import Event
from deskguard.detection.normalize._common import compact, ident, mapping, scalar, when
from deskguard.detection.parsing import Quarantined, Record, e164, lower

SOURCE = "deskguard"
SCHEMA = "deskguard.event"

_ACTIVITIES: dict[str, str] = {
    "request.opened": "request_opened",
    "request.decided": "request_decided",
    "request.execution_started": "request_executing",
    "request.executed": "request_executed",
    "request.failed": "request_failed",
    "proof.started": "proof_started",
    "proof.succeeded": "proof_succeeded",
    "proof.failed": "proof_failed",
    "proof.recorded": "knowledge_recorded",
    "approval.granted": "approval_granted",
    "approval.denied": "approval_denied",
    "grant.requested": "grant_requested",
    "grant.approved": "grant_approved",
    "grant.used": "grant_used",
    "ticket.opened": "ticket_opened",
    "action.disputed": "action_disputed",
}
_ENDED = frozenset({"cancelled", "denied", "expired"})  # request.state_changed to these: cancelled
_SUCCESS = frozenset({"request.executed", "proof.succeeded", "approval.granted", "grant.approved"})
_SUCCESS |= {"secret.delivered"}
_FAILURE = frozenset(
    {"request.failed", "proof.failed", "approval.denied", "grant.denied", "secret.delivery_failed"}
)

# Decision facts (``deskguard.domain.decision.FACTS``) copied flat into ``extra`` when a rule saw them.
FACT_NAMES: dict[str, str] = {
    "target.privileged": "privileged",
    "target.watchlisted": "watchlisted",
    "target.risk_score": "risk_score",
    "target.manager_validation_required": "manager_validation_required",
    "target.phone_changed_days": "phone_changed_days",
    "target.has_phone": "has_phone",
    "target.has_push_device": "has_push_device",
    "target.has_totp": "has_totp",
    "target.has_manager": "has_manager",
    "target.department": "department",
    "operator.role": "operator_role",
    "operator.outsourced": "operator_outsourced",
    "operator.provider": "operator_provider",
    "operator.has_live_grant": "operator_has_live_grant",
    "operator.risk_score": "operator_risk_score",
    "request.risk_score": "request_risk_score",
    "request.origin": "origin",
    "request.channel": "request_channel",
    "request.has_ticket": "has_ticket",
    "context.local_hour": "local_hour",
    "context.weekday": "weekday",
    "context.failed_verifications_24h": "failed_verifications_24h",
    "context.minutes_since_last_sensitive": "minutes_since_last_sensitive",
}

# ``data`` fields copied as they are (``kind`` is the action kind, except on secret.* events).
_DATA_FIELDS = (
    "tier",
    "origin",
    "method",
    "params_hash",
    "proof_id",
    "attempts",
    "status",
    "connector",
    "grant_id",
    "action_kinds",
    "duration_minutes",
    "expires_at",
    "external_ref",
    "delivered_to",
    "reference",
    "topic",
    "matched",
    "counts",
    "comment",
    "justification",
    "idempotency_key",
    "retry",
)


def detect(raw: dict[str, Any]) -> bool:
    return isinstance(raw, dict) and raw.get("schema") == SCHEMA


def parse(raw: dict[str, Any]) -> list[Event]:
    record = Record(raw)
    if record.get("schema") != SCHEMA:
        raise Quarantined("wrong_shape", f"schema is not {SCHEMA!r}")
    version = record.get("version")
    if version not in (None, 1, "1"):
        raise Quarantined("unsupported_version", f"deskguard event version {version!r}; this reads 1")
    event_id = ident(record.get("id"), "id")
    kind = record.get("type")
    if not isinstance(kind, str):
        raise Quarantined("missing_field" if kind in (None, "") else "wrong_type", "type is missing")
    if not kind.strip():
        raise Quarantined("missing_field", "type is missing")
    time = when(record.get("occurred_at"), "occurred_at")
    for part in ("actor", "subject"):
        mapping(record.get(part), part)
    data = mapping(record.get("data"), "data")

    extra = _extra(kind, data, record)
    if kind.startswith("request.") and isinstance(extra.get("kind"), str) and extra["kind"]:
        extra["action_kind"] = extra["kind"]  # alerts on this event name it (entity ``action``)
    privileged = record.get("subject.person_privileged")  # added by the outbox consumer's enrichment
    if isinstance(privileged, bool):
        extra.setdefault("privileged", privileged)
    activity, outcome = _activity(kind, data)
    person_id = scalar(record.get("subject.person_id"))
    login = lower(record.first("data.person_login", "subject.person_login")).strip()
    claimed = lower(data.get("claimed_identity")).strip() if kind == "ticket.opened" else ""
    actor_id = scalar(record.get("actor.id"))
    event = Event(
        id=event_id,
        time=time,
        source=SOURCE,
        product="deskguard",
        service="outbox",
        class_name="ticket_activity" if kind == "ticket.opened" else "helpdesk_action",
        activity=activity,
        type=kind,
        raw=raw,
        tenant=scalar(record.get("tenant_id")),
        outcome=outcome,
        reason=scalar(data.get("reason")),
        actor_user=actor_id,
        actor_id=actor_id,
        actor_type=scalar(record.get("actor.kind")),
        target_user=login or person_id or claimed,
        target_id=person_id,
        src_ip=scalar(record.get("actor.client_ip")),
        user_agent=scalar(record.get("actor.user_agent")),
        device_id=scalar(record.get("actor.workstation")),
        ticket_id=scalar(data.get("ticket_id")),
        channel=scalar(data.get("channel")) if kind == "ticket.opened" else "",
        caller_number=e164(data.get("caller_number")),
        claimed_identity=claimed,
        extra=compact(extra),
    )
    return [event]


def _activity(kind: str, data: dict[str, Any]) -> tuple[str, str]:
    outcome = "success" if kind in _SUCCESS else "failure" if kind in _FAILURE else "unknown"
    if kind == "request.state_changed":
        ended = scalar(data.get("to")) in _ENDED
        return ("request_cancelled" if ended else "other"), outcome
    return _ACTIVITIES.get(kind, "other"), outcome


def _extra(kind: str, data: dict[str, Any], record: Record) -> dict[str, Any]:
    extra: dict[str, Any] = {
        "request_id": scalar(record.get("subject.request_id")),
        "correlation_id": scalar(record.get("correlation_id")),
        "actor_role": scalar(record.get("actor.role")),
        "provider_id": scalar(record.get("actor.provider_id")),
        "provider_kind": scalar(record.get("actor.provider_kind")),
    }
    if kind.startswith("secret."):
        extra["secret_kind"] = scalar(data.get("kind"))
        extra["failed"] = scalar(data.get("failed"))
    else:
        extra["kind"] = scalar(data.get("kind"))
    for name in _DATA_FIELDS:
        value = data.get(name)
        if isinstance(value, str | int | float | bool) or (
            isinstance(value, list) and all(isinstance(item, str) for item in value)
        ):
            extra[name] = value
    if kind == "request.state_changed":
        extra["from_state"] = scalar(data.get("from"))
        extra["to_state"] = scalar(data.get("to"))
    if kind == "proof.started":
        extra["proof_channel"] = scalar(data.get("channel"))
    if isinstance(data.get("result"), dict):
        extra["result"] = data["result"]
    if kind.startswith("approval."):
        extra["approver_id"] = scalar(record.get("actor.id"))
        extra["approver_role"] = scalar(record.get("actor.role"))
        extra["requester_id"] = scalar(data.get("requester_id"))
    if kind == "action.disputed":  # the person, from the portal: the request they say was not them
        extra["requester_id"] = scalar(data.get("requester_id"))
        extra["action_kind"] = scalar(data.get("kind"))
    if kind.startswith("grant."):
        extra["requester_id"] = scalar(data.get("requester_id") or data.get("operator_id"))
    decision = data.get("decision")
    if isinstance(decision, dict):
        extra.update(compact(_decision(decision)))
    return extra


def _decision(decision: dict[str, Any]) -> dict[str, Any]:
    """The useful parts of a recorded Decision (``Decision.to_dict``), flat."""
    approvals = decision.get("approvals") if isinstance(decision.get("approvals"), dict) else {}
    grant = decision.get("grant") if isinstance(decision.get("grant"), dict) else {}
    policy = decision.get("policy") if isinstance(decision.get("policy"), dict) else {}
    blocking = decision.get("blocking_reasons")
    out: dict[str, Any] = {
        "kind": scalar(decision.get("action")),
        "tier": scalar(decision.get("tier")),
        "allowed": decision.get("allowed") if isinstance(decision.get("allowed"), bool) else None,
        "blocked": decision.get("blocked") if isinstance(decision.get("blocked"), bool) else None,
        "proofs_satisfied": decision.get("proofs_satisfied")
        if isinstance(decision.get("proofs_satisfied"), bool)
        else None,
        "approvals_required": approvals.get("required"),
        "approvals_missing": approvals.get("missing"),
        "requires_grant": grant.get("required"),
        "policy": scalar(policy.get("name")),
        "policy_digest": scalar(policy.get("digest")),
        "blocking_reasons": [
            item["code"] for item in blocking if isinstance(item, dict) and isinstance(item.get("code"), str)
        ]
        if isinstance(blocking, list)
        else [],
    }
    facts: dict[str, Any] = {}
    matched: list[str] = []
    trace = decision.get("trace")
    for entry in trace if isinstance(trace, list) else ():
        if not isinstance(entry, dict):
            continue
        values = entry.get("values")
        if isinstance(values, dict):
            facts.update({str(name): value for name, value in values.items()})
        rule = entry.get("rule")
        if entry.get("matched") is True and isinstance(rule, str) and not rule.startswith("action:"):
            matched.append(rule)
    out["rules_matched"] = matched
    out["facts"] = facts
    for fact, short in FACT_NAMES.items():
        if fact in facts:
            out[short] = facts[fact]
    return out
