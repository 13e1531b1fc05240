"""Bootstrap's composite notifier: each configured channel to its adapter, the rest to the fake."""

from __future__ import annotations

import base64

import httpx
import pytest
import respx

from deskguard.adapters.channels.delivery import ChannelRouter, delivery_id
from deskguard.adapters.channels.fake import FakeResponseNotifier
from deskguard.adapters.system import SeededRandomness
from deskguard.bootstrap import _response_notifier
from deskguard.domain.errors import ConfigurationError
from deskguard.settings import load_settings

HOOK = "https://soar.example.org/in"


def _send(notifier: object, channel: str) -> str:
    return notifier.send(  # type: ignore[attr-defined]
        tenant_id="acme", channel=channel, to="x", subject="s", text="t", idempotency_key=f"k-{channel}"
    )


def test_nothing_configured_keeps_the_fake() -> None:
    fake = FakeResponseNotifier(randomness=SeededRandomness(1))
    assert _response_notifier(load_settings(demo=True), fallback=fake) is fake


@respx.mock
def test_a_configured_webhook_is_routed_and_other_channels_go_to_the_fake(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DG_TEST_HOOK_SECRET", "whsec_" + base64.b64encode(b"r" * 32).decode())
    route = respx.post(HOOK).mock(return_value=httpx.Response(200))
    fake = FakeResponseNotifier(randomness=SeededRandomness(1))
    settings = load_settings(
        demo=True, notify_webhook_url=HOOK, notify_webhook_secret="env://DG_TEST_HOOK_SECRET"
    )
    notifier = _response_notifier(settings, fallback=fake)
    assert isinstance(notifier, ChannelRouter)
    assert _send(notifier, "webhook") == delivery_id(tenant_id="acme", idempotency_key="k-webhook")
    _send(notifier, "slack")
    assert route.call_count == 1 and [s.channel for s in fake.sent] == ["slack"]


def test_a_bad_notification_setting_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeResponseNotifier(randomness=SeededRandomness(1))
    inline = load_settings(demo=True, notify_webhook_url=HOOK, notify_webhook_secret="whsec_inline")
    with pytest.raises(ConfigurationError, match="reference"):
        _response_notifier(inline, fallback=fake)
    monkeypatch.delenv("DG_UNSET_TOKEN", raising=False)
    unset = load_settings(demo=True, slack_bot_token="env://DG_UNSET_TOKEN")
    with pytest.raises(ConfigurationError, match="slack_bot_token"):
        _response_notifier(unset, fallback=fake)
