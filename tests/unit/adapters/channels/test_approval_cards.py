"""Approval notices beyond Slack's first post: the Teams approval card (an Adaptive Card whose one
action opens the console's approval page) and Slack's ``chat.update`` of a posted message."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import httpx
import pytest
import respx
from approval_notice_kit import NOTICE

from deskguard.adapters.channels.slack import (
    API,
    DECISION_BLOCK,
    SlackNotifier,
    SlackSettings,
    approval_blocks,
    parse_message_ref,
)
from deskguard.adapters.channels.teams import CARD_TYPE, TeamsNotifier, TeamsSettings
from deskguard.domain.errors import ConfigurationError, ConnectorError, ConnectorTimeout
from deskguard.domain.ports_approvals import ApprovalMessenger, ApprovalUpdater

SOC_HOOK = "https://prod-01.westeurope.logic.azure.com/workflows/soc/triggers/manual/paths/invoke?sig=SOCSIG"
APPROVALS_HOOK = (
    "https://prod-01.westeurope.logic.azure.com/workflows/apr/triggers/manual/paths/invoke?sig=APRSIG"
)
UPDATE = "https://slack.com/api/chat.update"


def _teams(monkeypatch: pytest.MonkeyPatch, approvals: str | None = APPROVALS_HOOK) -> TeamsNotifier:
    monkeypatch.setenv("DG_TEST_TEAMS_SOC", SOC_HOOK)
    if approvals is not None:
        monkeypatch.setenv("DG_TEST_TEAMS_APR", approvals)
    settings = TeamsSettings(
        webhook_url="env://DG_TEST_TEAMS_SOC",
        approval_base_url="https://deskguard.example.org/",
        approvals_webhook="env://DG_TEST_TEAMS_APR" if approvals is not None else None,
    )
    return TeamsNotifier(settings, client=httpx.Client())


def _post(notifier: TeamsNotifier, key: str = "apn_req_42:1", tenant_id: str = "acme") -> str:
    return notifier.post_approval(
        tenant_id=tenant_id, channel="teams", to="approvals_webhook", notice=NOTICE, idempotency_key=key
    )


@respx.mock
def test_the_teams_approval_card_links_to_the_request_s_approval_page(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    approvals = respx.post(APPROVALS_HOOK).mock(return_value=httpx.Response(202))
    soc = respx.post(SOC_HOOK).mock(return_value=httpx.Response(202))
    notifier = _teams(monkeypatch)
    assert isinstance(notifier, ApprovalMessenger)
    ref = _post(notifier)
    assert ref.startswith("teams:") and _post(notifier) == ref  # once per key
    assert approvals.call_count == 1 and soc.call_count == 0  # the approvers' webhook, not the SOC's
    message = json.loads(approvals.calls.last.request.content)
    assert message["type"] == "message"
    [attachment] = message["attachments"]
    card = attachment["content"]
    assert attachment["contentType"] == CARD_TYPE
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    assert card["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    assert all(b["type"] in ("TextBlock", "FactSet") for b in card["body"])
    [facts] = [b for b in card["body"] if b["type"] == "FactSet"]
    assert {f["title"]: f["value"] for f in facts["facts"]} == {
        "Asked by": NOTICE.requester,
        "For": NOTICE.person,
        "Action": "Reset MFA factors",
        "Ticket": "INC0010001 (phone)",
        "Needs": "a supervisor",
        "Expires": "2026-12-01T13:00+00:00",
    }
    texts = [b["text"] for b in card["body"] if b["type"] == "TextBlock"]
    assert texts[0] == "Approval needed: Reset MFA factors"
    assert "- push with number matching to the person's enrolled device (strong)" in texts
    assert NOTICE.risk in texts and NOTICE.justification in texts
    # one action, which only opens the console's page: no approve-by-GET link, no submit
    [action] = card["actions"]
    assert action == {
        "type": "Action.OpenUrl",
        "title": "Review and decide",
        "url": "https://deskguard.example.org/t/acme/approvals#req-req_42",
    }
    url = urlsplit(action["url"])
    assert url.query == "" and "approve" not in url.path.removesuffix("/approvals")
    assert "ab" * 32 not in json.dumps(message)  # the parameters hash binds Slack buttons only


def test_a_teams_connector_without_approvals_webhook_posts_no_card(monkeypatch: pytest.MonkeyPatch) -> None:
    notifier = _teams(monkeypatch, approvals=None)
    with pytest.raises(ConnectorError, match="no approvals_webhook"):
        _post(notifier)
    with pytest.raises(ConnectorError, match="tenant acme"):
        _teams(monkeypatch).post_approval(
            tenant_id="other", channel="teams", to="x", notice=NOTICE, idempotency_key="k"
        )
    with pytest.raises(ConfigurationError, match="teams_approvals_webhook must point to an https"):
        _teams(monkeypatch, approvals="http://example.org/hook")


@respx.mock
def test_a_teams_outage_never_shows_the_signed_url(monkeypatch: pytest.MonkeyPatch) -> None:
    route = respx.post(APPROVALS_HOOK).mock(side_effect=httpx.ConnectError("unreachable"))
    notifier = _teams(monkeypatch)
    with pytest.raises(ConnectorTimeout) as failed:
        _post(notifier)
    assert "APRSIG" not in str(failed.value) and route.call_count >= 1


def _slack(monkeypatch: pytest.MonkeyPatch) -> SlackNotifier:
    monkeypatch.setenv("DG_TEST_SLACK_TOKEN", "xoxb-test-token")
    return SlackNotifier(SlackSettings(bot_token="env://DG_TEST_SLACK_TOKEN"), client=httpx.Client())


def _update(notifier: SlackNotifier, ref: str = "slack:C0APR:172.5", key: str = "apn_req_42:2") -> str:
    return notifier.update_approval(
        tenant_id="acme",
        channel="slack",
        message_ref=ref,
        notice=NOTICE,
        outcome="Expired at 2026-12-01 13:00 UTC: request req_42 is now expired, undecided.",
        idempotency_key=key,
    )


@respx.mock
def test_chat_update_rewrites_the_message_without_its_buttons(monkeypatch: pytest.MonkeyPatch) -> None:
    route = respx.post(UPDATE).mock(
        return_value=httpx.Response(200, json={"ok": True, "channel": "C0APR", "ts": "172.5", "text": "x"})
    )
    posted = respx.post(API)
    notifier = _slack(monkeypatch)
    assert isinstance(notifier, ApprovalUpdater)
    assert _update(notifier) == "slack:C0APR:172.5" == _update(notifier)
    assert route.call_count == 1 and posted.call_count == 0
    request = route.calls.last.request
    assert request.headers["authorization"] == "Bearer xoxb-test-token"
    body = json.loads(request.content)
    assert (body["channel"], body["ts"]) == ("C0APR", "172.5")
    assert body["text"].startswith("Expired at 2026-12-01 13:00 UTC")
    assert [b for b in body["blocks"] if b["type"] == "actions" or b.get("block_id") == DECISION_BLOCK] == []
    assert "deskguard.approve" not in request.content.decode()
    kept = [b for b in approval_blocks(NOTICE) if b["type"] != "actions"]
    assert body["blocks"][:-1] == kept  # the same message, the outcome where the buttons were
    assert body["blocks"][-1]["text"]["text"] == body["text"]


@respx.mock
def test_chat_update_refusals_and_bad_references(monkeypatch: pytest.MonkeyPatch) -> None:
    respx.post(UPDATE).mock(
        return_value=httpx.Response(200, json={"ok": False, "error": "message_not_found"})
    )
    notifier = _slack(monkeypatch)
    with pytest.raises(ConnectorError, match="message_not_found"):
        _update(notifier)
    with pytest.raises(ConnectorError, match="not a Slack message reference"):
        _update(notifier, ref="teams:abc", key="other")
    with pytest.raises(ConnectorError, match="channel 'teams'"):
        notifier.update_approval(
            tenant_id="acme",
            channel="teams",
            message_ref="slack:C:1",
            notice=NOTICE,
            outcome="x",
            idempotency_key="k",
        )
    assert parse_message_ref("slack:C0APR:1764583200.000100") == ("C0APR", "1764583200.000100")
