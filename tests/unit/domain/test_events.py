"""The outbox event envelope: documented schema in sync, every emitted event valid against it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from deskguard.domain.events import SYSTEM, DomainEvent, EventEnvelope, EventType

SCHEMA = Path(__file__).resolve().parents[3] / "docs" / "events.v1.schema.json"


def test_the_committed_json_schema_is_the_models_schema() -> None:
    committed = json.loads(SCHEMA.read_text())
    assert committed == EventEnvelope.model_json_schema(by_alias=True), (
        "docs/events.v1.schema.json is stale: regenerate it from "
        "EventEnvelope.model_json_schema(by_alias=True)"
    )


def test_an_event_envelope_validates_and_round_trips() -> None:
    event = DomainEvent(
        id="evt_1",
        tenant_id="t",
        type=EventType.REQUEST_OPENED,
        occurred_at=datetime(2026, 12, 1, tzinfo=UTC),
        actor=SYSTEM,
        request_id="req_1",
        person_id="p",
        data={"kind": "reset_mfa"},
    )
    envelope = EventEnvelope.from_event(event)
    assert envelope.model_dump(mode="json", by_alias=True)["schema"] == "deskguard.event"
    assert envelope.type == EventType.REQUEST_OPENED and envelope.subject.request_id == "req_1"
