"""Teams: an Adaptive Card with Action.OpenUrl to the approval page, posted to a Workflows URL."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from deskguard.adapters.channels.teams import CARD_TYPE, TeamsNotifier, TeamsSettings
from deskguard.domain.errors import ConfigurationError, ConnectorError, ConnectorTimeout

HOOK = "https://prod-01.westeurope.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?sig=SECRETSIG"


def _notifier(monkeypatch: pytest.MonkeyPatch, url: str = HOOK) -> TeamsNotifier:
    monkeypatch.setenv("DG_TEST_TEAMS_URL", url)
    settings = TeamsSettings(
        webhook_url="env://DG_TEST_TEAMS_URL", approval_base_url="https://deskguard.example.org/"
    )
    return TeamsNotifier(settings, client=httpx.Client())


def _send(notifier: TeamsNotifier, key: str = "rsp_7:2") -> str:
    return notifier.send(
        tenant_id="acme",
        channel="teams",
        to="SOC",
        subject="Takeover chain",
        text="j.doe",
        idempotency_key=key,
    )


@respx.mock
def test_an_adaptive_card_with_the_approval_link_is_posted_once(monkeypatch: pytest.MonkeyPatch) -> None:
    route = respx.post(HOOK).mock(return_value=httpx.Response(202))
    notifier = _notifier(monkeypatch)
    ref = _send(notifier)
    assert ref.startswith("teams:") and _send(notifier) == ref and route.call_count == 1
    message = json.loads(route.calls.last.request.content)
    assert message["type"] == "message"
    [attachment] = message["attachments"]
    card = attachment["content"]
    assert attachment["contentType"] == CARD_TYPE and card["type"] == "AdaptiveCard"
    assert [b["text"] for b in card["body"]][:2] == ["Takeover chain", "j.doe"]
    [action] = card["actions"]
    assert action["type"] == "Action.OpenUrl"
    assert action["url"] == "https://deskguard.example.org/tenants/acme/responses?ref=rsp_7%3A2"


@respx.mock
def test_refusals_and_timeouts_never_show_the_signed_url(monkeypatch: pytest.MonkeyPatch) -> None:
    route = respx.post(HOOK)
    notifier = _notifier(monkeypatch)
    route.mock(
        return_value=httpx.Response(400, json={"error": {"code": "InvalidRequest", "message": "bad card"}})
    )
    with pytest.raises(ConnectorError, match="bad card") as refused:
        _send(notifier, key="a")
    route.mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(ConnectorTimeout) as timed_out:
        _send(notifier, key="b")
    assert "SECRETSIG" not in str(refused.value) + str(timed_out.value)


def test_a_webhook_url_that_is_not_https_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError, match="https"):
        _notifier(monkeypatch, url="http://example.org/hook")
    with pytest.raises(ValueError, match="reference"):
        TeamsSettings(webhook_url=HOOK, approval_base_url="https://x")
