"""Synthetic-voice scores posted by a third-party detector (docs/formats/voice.md)."""

from __future__ import annotations

import pytest
from parser_properties import arbitrary_objects_test, replaced_fields_test

from deskguard.detection.normalize import detect_source, normalize
from deskguard.detection.normalize import voice as parser
from deskguard.detection.parsing import Quarantined

SCORE = {
    "type": "voice_score",
    "call_id": "call-77",
    "scored_at": "2026-11-30T09:01:30Z",
    "score": 0.91,
    "detector": "voiceguard",
    "caller_number": "+44 7700 900123",
    "claimed_identity": "CFO@acme.example",
    "ticket_id": "INC0012345",
}


def test_a_score_is_a_voice_scored_event_about_the_claimed_person() -> None:
    assert detect_source(SCORE) == "voice"
    (event,) = normalize(SCORE)
    assert (event.activity, event.class_name, event.source) == ("voice_scored", "call_activity", "voice")
    assert event.id == "call-77:voice:voiceguard" and event.raw is SCORE
    assert event.target_user == event.claimed_identity == "cfo@acme.example"
    assert event.caller_number == "+447700900123" and event.ticket_id == "INC0012345"
    assert event.extra == {"voice_synthetic_score": 0.91, "detector": "voiceguard", "call_id": "call-77"}


@pytest.mark.parametrize(
    ("change", "reason"),
    [({"score": 1.5}, "bad_value"), ({"score": "high"}, "bad_value"), ({"call_id": None}, "missing_field")],
)
def test_a_bad_score_is_quarantined(change: dict, reason: str) -> None:
    with pytest.raises(Quarantined) as caught:
        parser.parse({**SCORE, **change})
    assert caught.value.reason == reason


KEYS = list(SCORE)
test_arbitrary_objects_parse_or_are_quarantined = arbitrary_objects_test(parser, KEYS)
test_replaced_fields_parse_or_are_quarantined = replaced_fields_test(parser, [SCORE])
