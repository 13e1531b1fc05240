"""Slack: Block Kit with Approve/Deny, ``ok: false`` refusals, and the inbound signature check
against Slack's documented worked example and independent known answers."""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx
import pytest
import respx

from deskguard.adapters.channels.slack import (
    API,
    SlackNotifier,
    SlackSettings,
    SlackSignatureError,
    parse_action,
    signature,
    verify_signature,
)
from deskguard.domain.errors import ConnectorError, ConnectorTimeout

# docs.slack.dev "Verifying requests from Slack", the worked example (not in /work/shared/reference).
DOC_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
DOC_TS = "1531420618"
DOC_BODY = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
    b"&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
    b"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
    b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
DOC_SIG = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"


def test_signature_matches_slacks_worked_example_and_an_independent_answer() -> None:
    assert signature(DOC_SECRET, timestamp=DOC_TS, body=DOC_BODY) == DOC_SIG
    body = b'payload={"type":"block_actions"}'
    expected = "v0=" + hmac.new(b"other", b"v0:1700000000:" + body, hashlib.sha256).hexdigest()
    assert signature("other", timestamp="1700000000", body=body) == expected


def test_verify_accepts_the_example_within_five_minutes_only() -> None:
    headers = {"X-Slack-Request-Timestamp": DOC_TS, "X-Slack-Signature": DOC_SIG}
    verify_signature(DOC_SECRET, headers=headers, body=DOC_BODY, now=int(DOC_TS) + 299)
    with pytest.raises(SlackSignatureError, match="5-minute"):
        verify_signature(DOC_SECRET, headers=headers, body=DOC_BODY, now=int(DOC_TS) + 301)
    with pytest.raises(SlackSignatureError, match="does not match"):
        verify_signature(DOC_SECRET, headers=headers, body=DOC_BODY + b"x", now=int(DOC_TS))
    with pytest.raises(SlackSignatureError, match="does not match"):
        verify_signature("wrong", headers=headers, body=DOC_BODY, now=int(DOC_TS))
    with pytest.raises(SlackSignatureError, match="malformed"):
        verify_signature(DOC_SECRET, headers={"X-Slack-Signature": DOC_SIG}, body=DOC_BODY, now=int(DOC_TS))


def _notifier(monkeypatch: pytest.MonkeyPatch) -> SlackNotifier:
    monkeypatch.setenv("DG_TEST_SLACK_TOKEN", "xoxb-test-token")
    return SlackNotifier(SlackSettings(bot_token="env://DG_TEST_SLACK_TOKEN"), client=httpx.Client())


def _send(notifier: SlackNotifier, key: str = "rsp_7:2") -> str:
    return notifier.send(
        tenant_id="acme",
        channel="slack",
        to="#soc",
        subject="Takeover chain",
        text="j.doe",
        idempotency_key=key,
    )


@respx.mock
def test_a_message_with_approve_and_deny_is_posted_once(monkeypatch: pytest.MonkeyPatch) -> None:
    route = respx.post(API).mock(
        return_value=httpx.Response(200, json={"ok": True, "channel": "C1", "ts": "171.01"})
    )
    notifier = _notifier(monkeypatch)
    assert _send(notifier) == "slack:C1:171.01" == _send(notifier) and route.call_count == 1
    request = route.calls.last.request
    assert request.headers["authorization"] == "Bearer xoxb-test-token"
    body = json.loads(request.content)
    assert body["channel"] == "#soc" and "Takeover chain" in body["text"]
    buttons = body["blocks"][-1]["elements"]
    assert [parse_action(b["action_id"]) for b in buttons] == [("approve", "rsp_7:2"), ("deny", "rsp_7:2")]
    assert [b["style"] for b in buttons] == ["primary", "danger"] and {b["value"] for b in buttons} == {
        "rsp_7:2"
    }


@respx.mock
def test_ok_false_is_a_connector_error_with_slacks_error(monkeypatch: pytest.MonkeyPatch) -> None:
    respx.post(API).mock(return_value=httpx.Response(200, json={"ok": False, "error": "channel_not_found"}))
    with pytest.raises(ConnectorError, match="channel_not_found"):
        _send(_notifier(monkeypatch))


@respx.mock
def test_malformed_answers_rate_limits_and_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    route = respx.post(API)
    notifier = _notifier(monkeypatch)
    route.mock(return_value=httpx.Response(200, text="<html>"))
    with pytest.raises(ConnectorError, match="not JSON"):
        _send(notifier, key="a")
    route.mock(return_value=httpx.Response(200, json={"ok": True}))
    with pytest.raises(ConnectorError, match="malformed"):
        _send(notifier, key="b")
    route.mock(return_value=httpx.Response(429, headers={"Retry-After": "3"}))
    with pytest.raises(ConnectorError, match="429"):
        _send(notifier, key="c")
    route.mock(side_effect=httpx.ConnectTimeout("slow"))
    with pytest.raises(ConnectorTimeout):
        _send(notifier, key="d")
    assert route.call_count == 4  # a post is never retried blindly


def test_parse_action_refuses_foreign_actions() -> None:
    with pytest.raises(ValueError):
        parse_action("someone.else:rsp_1:0")
    with pytest.raises(ValueError):
        parse_action("deskguard.approve:")
