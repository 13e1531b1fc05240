"""Slack: plain notifications without buttons, approval messages whose Approve/Deny carry the request
reference, ``ok: false`` refusals, and the inbound signature check against Slack's documented worked
example and independent known answers."""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx
import pytest
import respx
from approval_notice_kit import NOTICE
from pydantic import ValidationError

from deskguard.adapters.channels.slack import (
    API,
    SlackNotifier,
    SlackSettings,
    SlackSignatureError,
    approval_blocks,
    decided_blocks,
    parse_action,
    parse_request_reference,
    signature,
    verify_signature,
)
from deskguard.domain.errors import ConnectorError, ConnectorTimeout
from deskguard.domain.ports_approvals import ApprovalMessenger

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
def test_a_plain_notification_is_posted_once_without_buttons(monkeypatch: pytest.MonkeyPatch) -> None:
    route = respx.post(API).mock(
        return_value=httpx.Response(200, json={"ok": True, "channel": "C1", "ts": "171.01"})
    )
    notifier = _notifier(monkeypatch)
    assert _send(notifier) == "slack:C1:171.01" == _send(notifier) and route.call_count == 1
    request = route.calls.last.request
    assert request.headers["authorization"] == "Bearer xoxb-test-token"
    body = json.loads(request.content)
    assert body["channel"] == "#soc" and "Takeover chain" in body["text"]
    # a runbook notification decides nothing: no actions block, no button anywhere
    assert [b["type"] for b in body["blocks"]] == ["header", "section"]
    assert "deskguard.approve" not in request.content.decode()


@respx.mock
def test_an_approval_message_carries_the_request_reference_and_the_evidence(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    route = respx.post(API).mock(
        return_value=httpx.Response(200, json={"ok": True, "channel": "C0APR", "ts": "172.5"})
    )
    notifier = _notifier(monkeypatch)
    assert isinstance(notifier, ApprovalMessenger)
    ref = notifier.post_approval(
        tenant_id="acme", channel="slack", to="#approvals", notice=NOTICE, idempotency_key="apn_req_42:0"
    )
    again = notifier.post_approval(
        tenant_id="acme", channel="slack", to="#approvals", notice=NOTICE, idempotency_key="apn_req_42:0"
    )
    assert ref == again == "slack:C0APR:172.5" and route.call_count == 1
    body = json.loads(route.calls.last.request.content)
    assert body["channel"] == "#approvals" and "req_42" in body["text"]
    assert body["metadata"]["event_payload"] == {"tenant_id": "acme", "request_id": "req_42"}
    [actions] = [b for b in body["blocks"] if b["type"] == "actions"]
    verdicts = [parse_action(b["action_id"]) for b in actions["elements"]]
    reference = f"request/acme/req_42/{'ab' * 32}"
    assert verdicts == [("approve", reference), ("deny", reference)]
    assert {b["value"] for b in actions["elements"]} == {reference}
    assert parse_request_reference(reference) == ("acme", "req_42", "ab" * 32)
    assert actions["elements"][0]["confirm"]["confirm"]["text"] == "Approve"
    shown = json.dumps(body["blocks"])
    for words in ("Bruno (bruno@desk.example)", "Jane Doe", "Reset MFA factors", "INC0010001 (phone)"):
        assert words in shown
    assert "64/100" in shown and "3 failed pushes" in shown and "number matching" in shown
    # content never mentions or links anyone: mrkdwn control characters are escaped
    assert "&lt;@channel&gt; &amp; more" in shown and "<@channel>" not in shown


def test_an_approval_for_another_tenant_or_channel_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    notifier = _notifier(monkeypatch)
    with pytest.raises(ConnectorError, match="tenant acme"):
        notifier.post_approval(
            tenant_id="other", channel="slack", to="#a", notice=NOTICE, idempotency_key="k"
        )
    with pytest.raises(ConnectorError, match="channel 'teams'"):
        notifier.post_approval(tenant_id="acme", channel="teams", to="#a", notice=NOTICE, idempotency_key="k")


def test_the_approvals_channel_must_be_a_channel_name_or_id() -> None:
    assert SlackSettings(bot_token="env://X", approvals_channel="#helpdesk-approvals").approvals_channel
    assert SlackSettings(bot_token="env://X", approvals_channel="C0123ABCD").approvals_channel
    with pytest.raises(ValidationError, match="approvals_channel"):
        SlackSettings(bot_token="env://X", approvals_channel="helpdesk approvals")


def test_a_decision_replaces_the_buttons_or_keeps_them_while_more_approvals_are_needed() -> None:
    shown = approval_blocks(NOTICE)
    done = decided_blocks(shown, outcome="Approved by sup (sup@desk.example) at 2026-12-01 09:00 UTC")
    assert [b["type"] for b in done if b["type"] == "actions"] == []
    assert done[:-1] == shown[:-1] and "Approved by sup" in done[-1]["text"]["text"]
    waiting = decided_blocks(shown, outcome="Approved by sup: one more needed", keep_buttons=True)
    assert waiting[-1] == shown[-1] and "one more needed" in waiting[-2]["text"]["text"]


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
