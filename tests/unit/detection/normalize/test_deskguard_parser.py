"""deskguard's own outbox envelopes, normalised: activities, actor and subject, decision facts, quarantine."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import parser_fixtures
import pytest
from parser_fixtures import FIXTURES

from deskguard.detection.event import ACTIVITIES, CLASSES
from deskguard.detection.normalize import deskguard as parser
from deskguard.detection.normalize import detect_source
from deskguard.detection.parsing import Quarantined
from deskguard.domain.events import Actor, ActorKind, DomainEvent, EventType

load = partial(parser_fixtures.load, "deskguard")
one = partial(parser_fixtures.one, parser)


def envelope(type: str, data: dict[str, Any] | None = None, **changes: Any) -> dict[str, Any]:
    raw = load("request_opened.json")
    raw["type"] = type
    raw["data"] = data or {}
    raw.update(changes)
    return raw


@pytest.mark.parametrize(
    ("fixture", "activity", "class_name", "outcome"),
    [
        ("request_opened.json", "request_opened", "helpdesk_action", "unknown"),
        ("request_decided.json", "request_decided", "helpdesk_action", "unknown"),
        ("request_cancelled.json", "request_cancelled", "helpdesk_action", "unknown"),
        ("request_executed.json", "request_executed", "helpdesk_action", "success"),
        ("proof_failed.json", "proof_failed", "helpdesk_action", "failure"),
        ("proof_recorded.json", "knowledge_recorded", "helpdesk_action", "unknown"),
        ("approval_granted.json", "approval_granted", "helpdesk_action", "success"),
        ("grant_used.json", "grant_used", "helpdesk_action", "unknown"),
        ("ticket_opened.json", "ticket_opened", "ticket_activity", "unknown"),
    ],
)
def test_each_fixture_maps_to_its_activity(
    fixture: str, activity: str, class_name: str, outcome: str
) -> None:
    raw = load(fixture)
    event = one(raw)
    assert (event.activity, event.class_name, event.outcome) == (activity, class_name, outcome)
    assert event.activity in ACTIVITIES and event.class_name in CLASSES
    assert (event.source, event.product, event.service) == ("deskguard", "deskguard", "outbox")
    assert event.type == raw["type"] and event.id == raw["id"]
    assert event.tenant == "tnt_acme"


@pytest.mark.parametrize(
    ("type", "activity", "outcome"),
    [
        ("request.opened", "request_opened", "unknown"),
        ("request.decided", "request_decided", "unknown"),
        ("request.executed", "request_executed", "success"),
        ("request.failed", "request_failed", "failure"),
        ("request.execution_started", "request_executing", "unknown"),
        ("request.execution_unknown", "other", "unknown"),
        ("proof.started", "proof_started", "unknown"),
        ("proof.succeeded", "proof_succeeded", "success"),
        ("proof.failed", "proof_failed", "failure"),
        ("proof.recorded", "knowledge_recorded", "unknown"),
        ("approval.granted", "approval_granted", "success"),
        ("approval.denied", "approval_denied", "failure"),
        ("grant.requested", "grant_requested", "unknown"),
        ("grant.approved", "grant_approved", "success"),
        ("grant.denied", "other", "failure"),
        ("grant.used", "grant_used", "unknown"),
        ("grant.revoked", "other", "unknown"),
        ("secret.delivered", "other", "success"),
        ("secret.delivery_failed", "other", "failure"),
        ("ticket.opened", "ticket_opened", "unknown"),
        ("something.new_in_v1", "other", "unknown"),
    ],
)
def test_every_event_type_has_an_activity_and_an_outcome(type: str, activity: str, outcome: str) -> None:
    event = one(envelope(type))
    assert (event.activity, event.outcome) == (activity, outcome)


def test_every_documented_event_type_is_read() -> None:
    for kind in EventType:
        event = one(envelope(kind.value))
        assert event.type == kind.value and event.activity in ACTIVITIES


@pytest.mark.parametrize(
    ("to", "activity"),
    [("cancelled", "request_cancelled"), ("denied", "request_cancelled"), ("expired", "request_cancelled")]
    + [("ready", "other"), ("pending_approval", "other"), ("executed", "other")],
)
def test_a_state_change_is_a_cancellation_only_when_the_request_ends_unexecuted(
    to: str, activity: str
) -> None:
    event = one(envelope("request.state_changed", {"from": "pending_verification", "to": to}))
    assert event.activity == activity
    assert event.extra["to_state"] == to and event.extra["from_state"] == "pending_verification"


def test_request_opened_carries_actor_subject_and_action() -> None:
    event = one(load("request_opened.json"))
    assert event.time == datetime(2026, 12, 1, 9, tzinfo=UTC).timestamp()
    assert (event.actor_user, event.actor_id, event.actor_type) == ("op_alice", "op_alice", "operator")
    assert event.src_ip == "10.1.2.3"
    assert event.user_agent.startswith("Mozilla/5.0 (Windows NT 10.0")
    assert event.device_id == "DESK-PAR-014"
    assert (event.target_id, event.target_user) == ("per_acme_000", "per_acme_000")
    assert event.ticket_id == "tkt_01HX3K9P00AA1B2C3D4E5F6G7H"
    assert event.extra["kind"] == "reset_mfa"
    assert event.extra["tier"] == "critical"
    assert event.extra["origin"] == "agent"
    assert event.extra["params_hash"].startswith("5f0c3a9e")
    assert event.extra["provider_id"] == "prv_outsourced_eu"
    assert event.extra["provider_kind"] == "outsourced"
    assert event.extra["actor_role"] == "agent"
    assert event.extra["request_id"] == "req_01HX3K9Q80BB2C3D4E5F6G7H8J"
    assert event.get("actor.user") == "op_alice" and event.get("src_endpoint.ip") == "10.1.2.3"


def test_a_person_login_when_present_is_the_target_user_lower_cased() -> None:
    event = one(load("request_executed.json"))
    assert event.target_user == "jeanne.martin@acme.example"
    assert event.target_id == "per_acme_000"
    raw = envelope("request.opened", {"kind": "reset_password", "person_login": "J.Doe@Acme.Example"})
    assert one(raw).target_user == "j.doe@acme.example"


def test_request_decided_copies_the_decision_and_the_facts_the_rules_saw() -> None:
    event = one(load("request_decided.json"))
    extra = event.extra
    assert extra["kind"] == "reset_mfa" and extra["tier"] == "critical"
    assert extra["allowed"] is False and extra["blocked"] is False
    assert extra["phone_changed_days"] == 2.0
    assert extra["privileged"] is False
    assert extra["operator_outsourced"] is True
    assert extra["local_hour"] == 22 and extra["weekday"] == 1
    assert extra["facts"]["action.tier"] == 4
    assert extra["rules_matched"] == ["recent_phone_change", "outsourced_out_of_hours"]
    assert extra["approvals_required"] == 1 and extra["approvals_missing"] == 1
    assert extra["policy"] == "acme-default"
    assert event.get("extra.phone_changed_days") == 2.0 and event.get("phone_changed_days") == 2.0


def test_a_decision_with_odd_parts_is_still_read() -> None:
    raw = envelope(
        "request.decided",
        {"decision": {"trace": ["x", {"values": "nope"}, {"rule": 3, "matched": True}], "approvals": []}},
    )
    event = one(raw)
    assert event.activity == "request_decided"
    assert "facts" not in event.extra and "rules_matched" not in event.extra


def test_ticket_opened_is_ticket_activity_with_channel_claim_and_number() -> None:
    event = one(load("ticket_opened.json"))
    assert event.class_name == "ticket_activity"
    assert event.channel == "phone"
    assert event.claimed_identity == "jeanne.martin@acme.example"
    assert event.target_user == "jeanne.martin@acme.example"  # no person yet: the claimed identity
    assert event.target_id == ""
    assert event.caller_number == "+33612345678"
    assert event.ticket_id == "tkt_01HX3K9P00AA1B2C3D4E5F6G7H"
    assert event.extra["external_ref"] == "INC0010042"


def test_proof_events_carry_the_method() -> None:
    failed = one(load("proof_failed.json"))
    assert failed.extra["method"] == "push_number_match"
    assert failed.extra["attempts"] == 2 and failed.reason == "the number did not match"
    assert failed.actor_type == "person" and failed.src_ip == "203.0.113.45"
    started = one(envelope("proof.started", {"method": "callback_automated", "channel": "voice"}))
    assert started.extra["method"] == "callback_automated"
    assert started.extra["proof_channel"] == "voice" and started.channel == ""
    recorded = one(load("proof_recorded.json"))
    assert recorded.extra["method"] == "knowledge" and recorded.extra["counts"] is False


def test_approval_names_approver_and_requester() -> None:
    event = one(load("approval_granted.json"))
    assert event.extra["approver_id"] == "op_bob"
    assert event.extra["approver_role"] == "supervisor"
    assert event.extra["requester_id"] == "op_alice"
    assert event.actor_user == "op_bob"


def test_a_secret_delivery_kind_is_not_the_action_kind() -> None:
    raw = envelope(
        "secret.delivered", {"delivered_to": "sms", "kind": "temporary_password", "reference": "r1"}
    )
    event = one(raw)
    assert event.extra["secret_kind"] == "temporary_password"
    assert "kind" not in event.extra
    assert event.extra["delivered_to"] == "sms"


def test_the_raw_envelope_is_kept_as_given() -> None:
    raw = load("request_decided.json")
    before = copy.deepcopy(raw)
    event = one(raw)
    assert event.raw is raw and raw == before
    assert event.raw_field("data.decision.policy.name") == "acme-default"


def test_an_envelope_built_by_the_domain_is_read() -> None:
    actor = Actor(kind=ActorKind.OPERATOR, id="op_z", role="agent", client_ip="192.0.2.7", workstation="W1")
    domain = DomainEvent(
        id="evt_x",
        tenant_id="tnt_z",
        type=EventType.TICKET_OPENED,
        occurred_at=datetime(2026, 12, 1, 8, 30, tzinfo=UTC),
        actor=actor,
        data={"ticket_id": "tkt_1", "channel": "chat", "claimed_identity": "A@B.C", "caller_number": None},
    )
    event = one(json.loads(json.dumps(domain.envelope())))
    assert event.time == datetime(2026, 12, 1, 8, 30, tzinfo=UTC).timestamp()
    assert (event.activity, event.channel, event.claimed_identity) == ("ticket_opened", "chat", "a@b.c")
    assert (event.src_ip, event.device_id, event.tenant) == ("192.0.2.7", "W1", "tnt_z")


def test_a_flattened_envelope_is_read() -> None:
    raw = {
        "schema": "deskguard.event",
        "id": "evt_f",
        "type": "request.opened",
        "occurred_at": 1796115600,
        "actor.kind": "operator",
        "actor.id": "op_a",
        "actor.client_ip": "10.0.0.1",
        "subject.person_id": "per_1",
        "data": {"kind": "unlock_account"},
    }
    event = one(raw)
    assert (event.actor_id, event.src_ip, event.target_id) == ("op_a", "10.0.0.1", "per_1")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"id": None}, "missing_field"),
        ({"id": ""}, "missing_field"),
        ({"id": ["evt"]}, "wrong_type"),
        ({"type": None}, "missing_field"),
        ({"type": 7}, "wrong_type"),
        ({"occurred_at": None}, "bad_timestamp"),
        ({"occurred_at": "yesterday"}, "bad_timestamp"),
        ({"occurred_at": {"at": 1}}, "bad_timestamp"),
        ({"actor": "op_alice"}, "wrong_shape"),
        ({"subject": ["per"]}, "wrong_shape"),
        ({"data": [1, 2]}, "wrong_shape"),
        ({"version": 2}, "unsupported_version"),
        ({"schema": "something.else"}, "wrong_shape"),
    ],
)
def test_a_broken_envelope_is_quarantined_with_a_reason(change: dict[str, Any], reason: str) -> None:
    raw = load("request_opened.json")
    raw.update(change)
    with pytest.raises(Quarantined) as caught:
        parser.parse(raw)
    assert caught.value.reason == reason


def test_a_missing_actor_subject_or_data_is_tolerated() -> None:
    raw = {
        "schema": "deskguard.event",
        "id": "e1",
        "type": "grant.used",
        "occurred_at": "2026-12-01T09:00:00Z",
    }
    event = one(raw)
    assert event.actor_id == "" and event.target_user == "" and event.extra == {}


def _fixtures(*, exclude: str) -> list[Path]:
    return sorted(path for path in FIXTURES.glob("*/*.json") if path.parent.name != exclude)


def test_detect_claims_every_envelope_and_nothing_else() -> None:
    for path in sorted((FIXTURES / "deskguard").glob("*.json")):
        raw = json.loads(path.read_text())
        assert parser.detect(raw), path.name
        assert detect_source(raw) == "deskguard", path.name
    others = _fixtures(exclude="deskguard")
    assert others
    for path in others:
        raw = json.loads(path.read_text())
        if isinstance(raw, dict):
            assert not parser.detect(raw), f"{path.parent.name}/{path.name}"
