"""Calls (Twilio webhooks and the generic call record) normalised to call_activity, with attestation."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

import pytest
from parser_fixtures import FIXTURES, load, one, utc

from deskguard.detection.normalize import detect_source, normalize, telephony, twilio
from deskguard.detection.normalize._calls import attestation_from_verstat, decode_identity
from deskguard.detection.parsing import Quarantined


def b64(value: Any) -> str:
    data = value if isinstance(value, bytes) else json.dumps(value).encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def identity(claims: Any, *, params: str = ";info=<https://cert.example/c.pem>;alg=ES256;ppt=shaken") -> str:
    jose = {"alg": "ES256", "ppt": "shaken", "typ": "passport", "x5u": "https://cert.example/c.pem"}
    return f"{b64(jose)}.{b64(claims)}.{b64(b'not-a-real-signature')}{params}"


# --- Twilio ----------------------------------------------------------------------------------------


def test_incoming_call_with_a_verified_number() -> None:
    raw = load("twilio", "incoming_call_verified.json")
    event = one(twilio, raw)
    assert (event.source, event.product, event.service) == ("twilio", "telephony", "twilio")
    assert (event.class_name, event.activity) == ("call_activity", "call_received")
    assert event.id == "CA5f2e8a1b9c3d4e5f60718293a4b5c6d7"
    assert event.time == utc(2024, 5, 1, 9)  # the forwarder's received_at
    assert event.caller_number == "+14155550142"
    assert event.attestation == "A"
    assert event.extra["attestation_source"] == "verstat"
    assert event.extra["called_number"] == "+14155550100"
    assert event.extra["call_status"] == "ringing" and event.extra["direction"] == "inbound"
    assert event.extra["caller_name"] == "MARTIN JEANNE"
    assert event.extra["passport_attest"] == "A" and event.extra["passport_orig_matches"] is True
    assert event.raw is raw


def test_status_callback_with_rfc_2822_timestamp_and_duration() -> None:
    event = one(twilio, load("twilio", "status_completed.json"))
    assert event.time == utc(2024, 5, 1, 9, 3, 7)
    assert event.extra["duration"] == 187 and event.extra["sequence_number"] == 3
    assert event.outcome == "success" and event.type == "completed"
    assert event.attestation == "C"


def test_lower_cased_keys_and_a_failed_verification() -> None:
    event = one(twilio, load("twilio", "incoming_call_lowercase.json"))
    assert event.id == "CA0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e"
    assert event.time == utc(2024, 5, 2, 12, 30)  # +0200
    assert event.caller_number == "+33180000000"
    assert event.attestation == "failed"
    assert event.extra["caller_country"] == "FR"


def test_an_outbound_call_back_is_not_a_received_call() -> None:
    event = one(twilio, load("twilio", "outbound_callback.json"))
    assert event.activity == "other" and event.class_name == "call_activity"
    assert event.outcome == "failure" and event.extra["direction"] == "outbound-api"


def test_without_verstat_the_sip_identity_header_gives_the_claimed_attestation() -> None:
    event = one(twilio, load("twilio", "sip_trunk_identity.json"))
    assert event.time == utc(2024, 5, 1, 10)  # epoch milliseconds
    assert event.attestation == "B"
    assert event.extra["attestation_source"] == "passport"
    assert event.extra["passport_verified"] is False
    assert event.extra["passport_orig_tn"] == "+14155550142"


def test_a_verstat_without_a_level_is_not_overridden_by_the_passport() -> None:
    raw = load("twilio", "incoming_call_verified.json")
    raw["StirVerstat"] = "No-TN-Validation"
    event = one(twilio, raw)
    assert event.attestation == "" and event.extra["stir_verstat"] == "No-TN-Validation"


@pytest.mark.parametrize(
    ("verstat", "attestation"),
    [
        ("TN-Validation-Passed-A", "A"),
        ("TN-Validation-Passed-B", "B"),
        ("TN-Validation-Passed-C", "C"),
        ("tn-validation-passed-a", "A"),
        ("TN-Validation-Passed", ""),
        ("TN-Validation-Failed", "failed"),
        ("TN-Validation-Failed-A", "failed"),
        ("TN-Validation-Failed-C", "failed"),
        ("No-TN-Validation", ""),
        ("", ""),
        (None, ""),
        ("something", ""),
    ],
)
def test_attestation_from_verstat(verstat: Any, attestation: str) -> None:
    assert attestation_from_verstat(verstat) == attestation


@pytest.mark.parametrize(
    ("timestamp", "expected"),
    [
        ("Wed, 01 May 2024 09:00:00 +0000", utc(2024, 5, 1, 9)),
        ("Wed, 01 May 2024 11:00:00 +0200", utc(2024, 5, 1, 9)),
        ("01 May 2024 09:00:00 -0000", utc(2024, 5, 1, 9)),
        ("2024-05-01T09:00:00Z", utc(2024, 5, 1, 9)),
        (1714554000, utc(2024, 5, 1, 9)),
        ("1714554000000", utc(2024, 5, 1, 9)),
    ],
)
def test_twilio_timestamps(timestamp: Any, expected: float) -> None:
    raw = load("twilio", "status_completed.json")
    raw["Timestamp"] = timestamp
    assert one(twilio, raw).time == expected


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"CallSid": None}, "missing_field"),
        ({"CallSid": ["CA1"]}, "wrong_type"),
        ({"Timestamp": None}, "bad_timestamp"),
        ({"Timestamp": "Someday, 99 Foo 2024"}, "bad_timestamp"),
        ({"Timestamp": {"at": 1}}, "bad_timestamp"),
    ],
)
def test_broken_twilio_webhooks_are_quarantined(change: dict[str, Any], reason: str) -> None:
    raw = load("twilio", "status_completed.json")
    raw.update(change)
    with pytest.raises(Quarantined) as caught:
        twilio.parse(raw)
    assert caught.value.reason == reason


def test_an_incoming_call_without_any_time_is_quarantined() -> None:
    raw = load("twilio", "incoming_call_verified.json")
    del raw["received_at"]
    with pytest.raises(Quarantined) as caught:
        twilio.parse(raw)
    assert caught.value.reason == "bad_timestamp"


# --- the generic call record -----------------------------------------------------------------------


def test_generic_call_with_a_verified_attestation() -> None:
    raw = load("telephony", "call_attested.json")
    event = one(telephony, raw)
    assert (event.source, event.product, event.service) == ("telephony", "telephony", "telephony")
    assert (event.class_name, event.activity, event.type) == ("call_activity", "call_received", "call")
    assert event.id == "pbx-par-1-1714554000.4711" and event.time == utc(2024, 5, 1, 9)
    assert event.caller_number == "+33612345678"
    assert event.attestation == "A" and event.extra["attestation_source"] == "record"
    assert event.claimed_identity == "jeanne.martin@acme.example" == event.target_user
    assert (event.ticket_id, event.tenant) == ("INC0010042", "tnt_acme")
    assert event.extra == {
        "called_number": "+33180000000",
        "direction": "inbound",
        "agent": "op_alice",
        "duration_s": 312.0,
        "voice_synthetic_score": 0.08,
        "attestation_source": "record",
    }
    assert event.raw is raw


def test_generic_call_attestation_read_from_the_sip_identity_header() -> None:
    event = one(telephony, load("telephony", "call_sip_identity.json"))
    assert event.time == utc(2024, 5, 1, 9)  # epoch milliseconds
    assert event.attestation == "C"
    assert event.extra["attestation_source"] == "passport"
    assert event.extra["passport_orig_tn"] == "+33612345678"
    assert event.extra["passport_dest_tn"] == ["+33180000000"]
    assert event.extra["passport_orig_matches"] is True
    assert event.extra["passport_verified"] is False
    assert event.extra["passport_x5u"] == "https://cert.carrier.example/sti/ca1.pem"
    assert "sip_identity_error" not in event.extra


def test_a_malformed_identity_header_leaves_the_attestation_unknown() -> None:
    event = one(telephony, load("telephony", "call_malformed_identity.json"))
    assert event.attestation == ""
    assert "JWS" in event.extra["sip_identity_error"]
    assert event.time == utc(2024, 5, 1, 7, 30)


def test_the_smallest_record() -> None:
    event = one(telephony, load("telephony", "call_minimal.json"))
    assert (event.id, event.time, event.caller_number, event.attestation) == (
        "asterisk-1714640400.118",
        1714640400.0,
        "",
        "",
    )
    assert event.extra == {"direction": "inbound"}


def test_notes_and_transcript_become_the_text_scored_for_pressure() -> None:
    raw = load("telephony", "call_minimal.json")
    raw |= {"notes": "  caller in a hurry ", "transcript": "x" * 30_000}
    event = one(telephony, raw)
    assert event.extra["text"].startswith("caller in a hurry\nxxx")
    assert len(event.extra["text"]) == 20_000  # a long call's start, not all of it


def test_notes_that_are_not_text_are_quarantined() -> None:
    raw = load("telephony", "call_minimal.json") | {"transcript": ["a", "list"]}
    with pytest.raises(Quarantined, match="transcript must be a string"):
        telephony.parse(raw)


def test_an_explicit_attestation_wins_over_the_header() -> None:
    raw = load("telephony", "call_sip_identity.json")
    raw["attestation"] = "b"
    event = one(telephony, raw)
    assert event.attestation == "B" and event.extra["attestation_source"] == "record"
    assert event.extra["passport_attest"] == "C"


@pytest.mark.parametrize(
    ("header", "error"),
    [
        ("garbage", "JWS"),
        ("a.b;info=<https://x>", "JWS"),
        (f"{b64({'alg': 'ES256'})}..{b64(b'sig')};ppt=shaken", "compact form"),
        (f"{b64({'alg': 'ES256'})}.!!!.{b64(b'sig')}", "base64url"),
        (f"{b64({'alg': 'ES256'})}.{b64(b'not json')}.{b64(b'sig')}", "base64url JSON"),
        (f"{b64({'alg': 'ES256'})}.{b64([1, 2])}.{b64(b'sig')}", "objects"),
        (identity({"orig": {"tn": "33612345678"}, "iat": 1}), "attest"),
        (identity({"attest": "Z", "orig": {"tn": "33612345678"}}), "attest"),
    ],
)
def test_unreadable_passports_give_an_error_not_a_quarantine(header: str, error: str) -> None:
    raw = load("telephony", "call_sip_identity.json")
    raw["sip_identity"] = header
    event = one(telephony, raw)
    assert event.attestation == ""
    assert error in event.extra["sip_identity_error"]


def test_a_passport_for_another_number_is_flagged() -> None:
    raw = load("telephony", "call_sip_identity.json")
    raw["sip_identity"] = identity(
        {"attest": "A", "orig": {"tn": "14155550142"}, "dest": {"tn": "33180000000"}}
    )
    event = one(telephony, raw)
    assert event.attestation == "A"
    assert event.extra["passport_orig_matches"] is False
    assert event.extra["passport_dest_tn"] == ["+33180000000"]


def test_decode_identity_tolerates_brackets_and_bare_tokens() -> None:
    claims = {"attest": "B", "orig": {"tn": "1"}}
    for header in (identity(claims, params=""), "<" + identity(claims) + ">", identity(claims)):
        jose, decoded = decode_identity(header)
        assert decoded == claims and jose["ppt"] == "shaken"


def test_an_outbound_call_is_other() -> None:
    raw = load("telephony", "call_attested.json")
    raw["direction"] = "OUTBOUND"
    assert one(telephony, raw).activity == "other"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"call_id": None}, "missing_field"),
        ({"call_id": ""}, "missing_field"),
        ({"call_id": {"id": 1}}, "wrong_type"),
        ({"started_at": None}, "bad_timestamp"),
        ({"started_at": "2024-13-45T99:00:00Z"}, "bad_timestamp"),
        ({"started_at": -5}, "bad_timestamp"),
        ({"started_at": True}, "bad_timestamp"),
        ({"type": "sms"}, "wrong_shape"),
        ({"caller_number": ["+33"]}, "wrong_type"),
        ({"claimed_identity": {"login": "x"}}, "wrong_type"),
        ({"sip_identity": 42}, "wrong_type"),
        ({"duration_s": "312"}, "wrong_type"),
        ({"duration_s": -1}, "bad_value"),
        ({"voice_synthetic_score": 1.5}, "bad_value"),
        ({"voice_synthetic_score": -0.1}, "bad_value"),
        ({"voice_synthetic_score": True}, "wrong_type"),
        ({"attestation": "D"}, "bad_value"),
        ({"attestation": 1}, "wrong_type"),
        ({"direction": "sideways"}, "bad_value"),
        ({"ticket_id": ["INC1"]}, "wrong_type"),
    ],
)
def test_broken_call_records_are_quarantined(change: dict[str, Any], reason: str) -> None:
    raw = load("telephony", "call_attested.json")
    raw.update(change)
    with pytest.raises(Quarantined) as caught:
        telephony.parse(raw)
    assert caught.value.reason == reason


def test_a_record_without_type_is_still_recognised_by_its_fields() -> None:
    raw = {"call_id": "c1", "started_at": "2024-05-01T09:00:00Z", "caller_number": "+33612345678"}
    assert telephony.detect(raw) and detect_source(raw) == "telephony"
    assert normalize(raw, tenant="tnt_x")[0].tenant == "tnt_x"
    assert not telephony.detect({"call_id": "c1"})
    assert not telephony.detect({"type": "ticket", "call_id": "c1", "caller_number": "1"})


def test_raw_records_are_not_changed() -> None:
    for source, module in (("twilio", twilio), ("telephony", telephony)):
        for path in sorted((FIXTURES / source).glob("*.json")):
            raw = json.loads(path.read_text())
            before = copy.deepcopy(raw)
            event = one(module, raw)
            assert event.raw is raw and raw == before, path.name


def _others(source: str) -> list[Path]:
    return sorted(path for path in FIXTURES.glob("*/*.json") if path.parent.name != source)


@pytest.mark.parametrize("module", [twilio, telephony], ids=["twilio", "telephony"])
def test_call_parsers_do_not_claim_other_vendors_records(module: Any) -> None:
    for path in _others(module.SOURCE):
        raw = json.loads(path.read_text())
        if isinstance(raw, dict):
            assert not module.detect(raw), f"{module.SOURCE} claims {path.parent.name}/{path.name}"
    for path in sorted((FIXTURES / module.SOURCE).glob("*.json")):
        assert detect_source(json.loads(path.read_text())) == module.SOURCE, path.name
