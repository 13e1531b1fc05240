"""The export formats: CEF escaping (a property: any text survives a parse back), RFC 5424 with
RFC 6587 octet counting, and OCSF 1.3.0 events valid against the pinned schema subset."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from deskguard.adapters.export.cef import cef, escape_header, escape_value
from deskguard.adapters.export.ocsf import detection_finding, ledger_event, render
from deskguard.adapters.export.syslog import octet_counted, rfc5424, sd_escape

SCHEMA = json.loads(
    (Path(__file__).parents[2] / "fixtures" / "ocsf" / "ocsf-1.3.0-subset.schema.json").read_text()
)
VALIDATOR = Draft202012Validator(SCHEMA)
ALERT = {
    "id": "alr_1",
    "rule_id": "Okta.Chain.ResetMfaNewFactor",
    "title": "MFA reset then a new factor",
    "severity": "critical",
    "tenant": "t_a",
    "entities": {"user": "vip@t_a.example", "actor": "op_1", "ip": "203.0.113.7", "caller": "+33..."},
    "first_seen": "2026-12-01T08:59:00Z",
    "last_seen": "2026-12-01T09:00:00Z",
    "event_ids": ["e1", "e2"],
    "explanation": "reset at 08:59, new factor at 09:00",
    "attack": ["T1556.006"],
    "response": "",
    "mode": "alert",
    "count": 1,
    "confidence": "high",
}


def _ledger(type_: str, kind: str | None = None) -> dict:
    return {
        "index": 3,
        "tenant_id": "t_a",
        "event_id": "evt_1",
        "type": type_,
        "occurred_at": "2026-12-01T09:00:00+00:00",
        "actor_id": "op_1",
        "person_id": "vip",
        "request_id": "req_1",
        "ticket_id": None,
        "record": {
            "type": type_,
            "actor": {"kind": "operator", "id": "op_1", "workstation": "WS-1"},
            "data": {"kind": kind} if kind else {},
            "correlation_id": "req_1",
        },
    }


# --- CEF ----------------------------------------------------------------------------------------
def parse_value(text: str) -> str:
    """Undo CEF extension escaping (the reader's side)."""
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "r": "\r"}.get(m.group(1), m.group(1)), text)


def _split_slow(line: str, separators: int = 7) -> list[str]:
    """A reader's split: the first seven unescaped pipes end the header; the rest is the extension."""
    fields, current, i = [], "", 0
    while i < len(line):
        if len(fields) == separators:
            return [*fields, line[i:]]
        c = line[i]
        if c == "\\" and i + 1 < len(line):
            current += line[i : i + 2]
            i += 2
            continue
        if c == "|":
            fields.append(current)
            current = ""
        else:
            current += c
        i += 1
    return [*fields, current]


@given(st.text(), st.text())
def test_any_extension_value_survives_escaping(name: str, value: str) -> None:
    line = cef(signature="sig", name=name, severity=5, extensions={"msg": value or "x", "cs1": "end"})
    fields = _split_slow(line)
    assert len(fields) == 8  # header pipes in the name are escaped, never field separators
    assert "\n" not in line and "\r" not in line
    ext = fields[7]
    # every '=' that separates a key is unescaped; the value's own '=' never are
    pairs = re.findall(r"(\w+)=((?:\\.|[^\\])*?)(?= \w+=|$)", ext)
    assert dict(pairs)["msg"] == escape_value(value or "x")
    assert parse_value(dict(pairs)["msg"]) == (value or "x").replace("\r\n", "\n")
    assert parse_value(dict(pairs)["cs1"]) == "end"


@given(st.text())
def test_a_header_field_never_holds_a_bare_pipe_or_line_break(value: str) -> None:
    escaped = escape_header(value)
    assert "\n" not in escaped and "\r" not in escaped
    assert len(_split_slow(escaped)) == 1


def test_cef_escapes_the_documented_characters() -> None:
    assert escape_header("a|b\\c") == "a\\|b\\\\c"
    assert escape_value("a=b\\c\nd\re") == "a\\=b\\\\c\\nd\\re"
    assert escape_value("pipe | stays") == "pipe | stays"  # '|' needs no escape in extensions
    line = cef(signature="S|1", name="N", severity=42, extensions={"bad key!": "v", "empty": ""})
    assert line.startswith("CEF:0|deskguard|deskguard|") and "|S\\|1|N|10|" in line
    assert line.endswith("badkey=v")


# --- RFC 5424 + RFC 6587 -------------------------------------------------------------------------
def test_5424_header_structured_data_and_octet_counting() -> None:
    msg = rfc5424(
        facility=10,
        severity=4,
        at=datetime(2026, 12, 1, 10, 0, 0, 123456, tzinfo=UTC),
        hostname="desk 1",
        app_name="deskguard",
        procid="42",
        msgid="alert",
        sd_id="deskguard@32473",
        params={"tenant": 't"a]\\'},
        msg="CEF:0|x é",
    )
    assert (
        msg
        == (
            "<84>1 2026-12-01T10:00:00.123Z desk1 deskguard 42 alert "
            '[deskguard@32473 tenant="t\\"a\\]\\\\"] CEF:0|x é'
        ).encode()
    )
    framed = octet_counted(msg)
    length, _, rest = framed.partition(b" ")
    assert int(length) == len(rest) == len(msg)  # bytes, not characters (é is two)
    assert sd_escape('"]\\') == '\\"\\]\\\\'


def test_empty_header_fields_are_the_nil_value() -> None:
    msg = rfc5424(
        facility=1,
        severity=6,
        at=datetime(2026, 1, 1, tzinfo=UTC),
        hostname="",
        app_name="a",
        procid="",
        msgid="m",
        sd_id="x@1",
        params={},
        msg="hi",
    )
    assert msg.startswith(b"<14>1 2026-01-01T00:00:00.000Z - a - m [x@1] hi")


# --- OCSF 1.3.0 ----------------------------------------------------------------------------------
def _valid(event: dict) -> None:
    errors = sorted(VALIDATOR.iter_errors(event), key=str)
    assert not errors, [e.message for e in errors]
    assert event["class_uid"] == event["category_uid"] * 1000 + event["class_uid"] % 1000
    assert event["type_uid"] == event["class_uid"] * 100 + event["activity_id"]


def test_an_alert_is_a_detection_finding() -> None:
    event = detection_finding(ALERT)
    _valid(event)
    assert (event["class_uid"], event["severity_id"], event["confidence_id"]) == (2004, 5, 3)
    assert event["time"] == 1_796_115_600_000
    assert event["finding_info"]["attacks"] == [{"technique": {"uid": "T1556.006"}}]
    assert [o["name"] for o in event["observables"]] == ["actor", "ip", "user"]
    assert event["unmapped"]["entities"]["caller"] == "+33..."
    assert render("alert", ALERT) == event


@pytest.mark.parametrize(
    ("type_", "kind", "class_uid", "activity"),
    [
        ("request.executed", "reset_password", 3001, 4),
        ("request.executed", "reset_mfa", 3001, 11),
        ("request.executed", "grant_privilege", 6003, 3),
        ("request.opened", "reset_mfa", 6003, 1),
        ("approval.granted", None, 6003, 3),
    ],
)
def test_ledger_records_are_account_changes_or_api_activity(type_, kind, class_uid, activity) -> None:
    event = ledger_event(_ledger(type_, kind))
    _valid(event)
    assert (event["class_uid"], event["activity_id"]) == (class_uid, activity)
    assert event["metadata"]["correlation_uid"] == "req_1" and event["unmapped"]["ledger_index"] == 3


def test_the_schema_subset_rejects_what_ocsf_requires() -> None:
    event = detection_finding(ALERT)
    for missing in ("finding_info", "metadata", "time", "severity_id"):
        broken = {k: v for k, v in event.items() if k != missing}
        assert not VALIDATOR.is_valid(broken), missing
    assert not VALIDATOR.is_valid({**event, "metadata": {**event["metadata"], "version": "1.1.0"}})
    api = ledger_event(_ledger("approval.granted"))
    assert not VALIDATOR.is_valid({k: v for k, v in api.items() if k != "src_endpoint"})
