"""Splunk HEC and TheHive 5 sinks against respx fixtures that follow the published references:
auth headers, bodies, HEC ack codes, 429 with Retry-After, 5xx, timeouts, malformed bodies, and
TheHive's "already exists" on a resend counted as delivered."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest
import respx

from deskguard.adapters.connectors.retry import Retryable
from deskguard.adapters.export.splunk import SplunkHecSink
from deskguard.adapters.export.thehive import TheHiveSink
from deskguard.domain.errors import ConnectorError, ConnectorTimeout
from deskguard.domain.ports_export import ExportItem, ExportKind

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
HEC = "https://splunk.example:8088/services/collector/event"
HIVE = "https://hive.example/api/v1/alert"
ALERT = {
    "id": "alr_1",
    "rule_id": "Okta.Chain.ResetMfaNewFactor",
    "title": "MFA reset then a new factor",
    "severity": "high",
    "tenant": "t_a",
    "entities": {"user": "vip@t_a.example", "ip": "203.0.113.7"},
    "first_seen": "2026-12-01T08:59:00Z",
    "last_seen": "2026-12-01T09:00:00Z",
    "event_ids": ["e1"],
    "explanation": "reset, then a new factor a minute later",
    "attack": ["T1556.006"],
    "count": 1,
}
LEDGER = {
    "index": 0,
    "tenant_id": "t_a",
    "event_id": "evt_1",
    "type": "ticket.opened",
    "occurred_at": "2026-12-01T09:00:00+00:00",
    "actor_id": "op_1",
    "person_id": None,
    "request_id": None,
    "ticket_id": "tkt_1",
    "record": {"actor": {"kind": "operator", "workstation": "WS-1"}, "data": {}},
}


def item(kind: ExportKind = ExportKind.ALERT) -> ExportItem:
    payload = ALERT if kind == ExportKind.ALERT else LEDGER
    return ExportItem(
        id=1,
        destination="x",
        tenant_id="t_a",
        kind=kind,
        key=str(payload.get("id") or payload["event_id"]),
        payload=payload,
        created_at=NOW,
        next_attempt_at=NOW,
    )


@pytest.fixture(autouse=True)
def _secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEC_TOKEN", "11111111-2222-3333-4444-555555555555")
    monkeypatch.setenv("HIVE_KEY", "hive-api-key")


def splunk() -> SplunkHecSink:
    return SplunkHecSink(
        url="https://splunk.example:8088/", token_ref="env://HEC_TOKEN", index="security", host="desk1"
    )


def hive() -> TheHiveSink:
    return TheHiveSink(url="https://hive.example", key_ref="env://HIVE_KEY", organisation="soc")


# --- Splunk HEC ---------------------------------------------------------------------------------
@respx.mock
def test_hec_receives_ocsf_events_with_the_splunk_token() -> None:
    route = respx.post(HEC).respond(200, json={"text": "Success", "code": 0})
    sink = splunk()
    sink.send(item())
    sink.send(item(ExportKind.LEDGER_RECORD))
    first, second = (call.request for call in route.calls)
    assert first.headers["authorization"] == "Splunk 11111111-2222-3333-4444-555555555555"
    body = json.loads(first.content)
    assert body["sourcetype"] == "ocsf:detection_finding" and body["index"] == "security"
    assert body["event"]["class_uid"] == 2004 and body["fields"]["tenant"] == "t_a"
    assert body["time"] == 1_796_115_600.0 and body["host"] == "desk1"
    assert json.loads(second.content)["event"]["class_uid"] == 6003


@respx.mock
def test_hec_429_is_retried_after_what_it_said() -> None:
    respx.post(HEC).respond(429, headers={"Retry-After": "30"}, json={"text": "Server is busy", "code": 9})
    with pytest.raises(Retryable) as caught:
        splunk().send(item())
    assert caught.value.retry_after == 30.0


@respx.mock
@pytest.mark.parametrize("status", [500, 503])
def test_hec_5xx_is_retryable(status: int) -> None:
    respx.post(HEC).respond(status, json={"text": "Internal server error", "code": 8})
    with pytest.raises(Retryable, match=str(status)):
        splunk().send(item())


@respx.mock
def test_a_bad_token_is_a_refusal_for_good() -> None:
    respx.post(HEC).respond(403, json={"text": "Invalid token", "code": 4})
    with pytest.raises(ConnectorError, match="403") as caught:
        splunk().send(item())
    assert not isinstance(caught.value, Retryable)


@respx.mock
def test_a_2xx_with_a_hec_error_code_is_read() -> None:
    respx.post(HEC).mock(
        side_effect=[
            httpx.Response(200, json={"text": "Incorrect index", "code": 7, "invalid-event-number": 0}),
            httpx.Response(200, json={"text": "Server is busy", "code": 9}),
        ]
    )
    with pytest.raises(ConnectorError, match="code 7") as caught:
        splunk().send(item())
    assert not isinstance(caught.value, Retryable)
    with pytest.raises(Retryable, match="code 9"):
        splunk().send(item())


@respx.mock
@pytest.mark.parametrize("body", [b"<html>proxy</html>", b'{"text": "Success"}', b"[]"])
def test_a_malformed_answer_is_retried_not_taken_for_success(body: bytes) -> None:
    respx.post(HEC).respond(200, content=body)
    with pytest.raises(Retryable, match="malformed"):
        splunk().send(item())


@respx.mock
def test_a_timeout_is_a_connector_timeout() -> None:
    respx.post(HEC).mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(ConnectorTimeout, match="did not answer in time"):
        splunk().send(item())


def test_the_token_is_a_reference_never_inline() -> None:
    with pytest.raises(Exception, match="export_splunk_token|reference"):
        SplunkHecSink(url="https://s", token_ref="inline-token")


# --- TheHive 5 ----------------------------------------------------------------------------------
@respx.mock
def test_thehive_receives_an_alert_with_the_bearer_key() -> None:
    route = respx.post(HIVE).respond(201, json={"_id": "~4096", "_type": "Alert", "sourceRef": "alr_1"})
    hive().send(item())
    request = route.calls.last.request
    assert request.headers["authorization"] == "Bearer hive-api-key"
    assert request.headers["x-organisation"] == "soc"
    body = json.loads(request.content)
    assert (body["type"], body["source"], body["sourceRef"]) == ("deskguard", "deskguard:t_a", "alr_1")
    assert body["severity"] == 3 and body["tlp"] == 2 and body["pap"] == 2
    assert body["date"] == 1_796_115_540_000
    assert body["tags"] == ["Okta.Chain.ResetMfaNewFactor", "T1556.006"]
    assert {(o["dataType"], o["data"]) for o in body["observables"]} == {
        ("ip", "203.0.113.7"),
        ("mail", "vip@t_a.example"),
    }


@respx.mock
def test_thehive_takes_alerts_only() -> None:
    route = respx.post(HIVE).respond(201, json={"_id": "~1"})
    hive().send(item(ExportKind.LEDGER_RECORD))
    assert not route.called


@respx.mock
def test_a_resend_answered_already_exists_counts_as_delivered() -> None:
    respx.post(HIVE).respond(400, json={"type": "CreateError", "message": "Alert alr_1 already exists"})
    hive().send(item())  # no error


@respx.mock
def test_thehive_refusals_429_5xx_timeout_and_malformed() -> None:
    route = respx.post(HIVE)
    route.respond(429, headers={"Retry-After": "12"}, json={"type": "RateLimit", "message": "slow down"})
    with pytest.raises(Retryable) as caught:
        hive().send(item())
    assert caught.value.retry_after == 12.0
    route.respond(502, text="bad gateway")
    with pytest.raises(Retryable, match="502"):
        hive().send(item())
    route.mock(side_effect=httpx.ConnectTimeout("no route"))
    with pytest.raises(ConnectorTimeout):
        hive().send(item())
    route.mock(side_effect=None)
    route.respond(201, text="not json")
    with pytest.raises(Retryable, match="without an alert"):
        hive().send(item())
    route.respond(401, json={"type": "AuthenticationError", "message": "Authentication failure"})
    with pytest.raises(ConnectorError, match="401") as refused:
        hive().send(item())
    assert not isinstance(refused.value, Retryable)
