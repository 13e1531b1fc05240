"""Standard Webhooks notifications: signature (the spec's test vector and an independent known
answer), delivery with respx, retries with one webhook-id, give-up, timeout, malformed input."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import httpx
import pytest
import respx

from deskguard.adapters.channels.webhooks import (
    WebhookNotifier,
    WebhookSettings,
    WebhookVerificationError,
    secret_key,
    sign,
    verify,
)
from deskguard.domain.errors import ConfigurationError, ConnectorError, ConnectorTimeout

URL = "https://soar.example.org/hooks/deskguard"
SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()
NOW = 1_780_000_000

# The Standard Webhooks reference test vector (standard-webhooks / svix-webhooks test suites);
# not in /work/shared/reference, so the independent known answer below checks the scheme as well.
SPEC = {
    "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
    "timestamp": 1614265330,
    "body": b'{"test": 2432232314}',
    "signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
}


def _independent(secret: str, msg_id: str, stamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.split("_", 1)[1])
    return (
        "v1,"
        + base64.b64encode(
            hmac.new(key, b"%s.%d.%s" % (msg_id.encode(), stamp, body), hashlib.sha256).digest()
        ).decode()
    )


def test_signing_matches_the_spec_vector_and_an_independent_answer() -> None:
    key = secret_key(SPEC["secret"])
    assert sign(key, msg_id=SPEC["id"], timestamp=SPEC["timestamp"], body=SPEC["body"]) == SPEC["signature"]
    assert _independent(SPEC["secret"], SPEC["id"], SPEC["timestamp"], SPEC["body"]) == SPEC["signature"]
    body = b'{"x":"\xc3\xa9"}'
    assert sign(secret_key(SECRET), msg_id="msg_1", timestamp=NOW, body=body) == _independent(
        SECRET, "msg_1", NOW, body
    )


def test_verify_accepts_the_spec_vector_and_refuses_tampering_and_stale() -> None:
    headers = {
        "Webhook-Id": SPEC["id"],
        "Webhook-Timestamp": str(SPEC["timestamp"]),
        "Webhook-Signature": SPEC["signature"],
    }
    at = float(SPEC["timestamp"])
    assert verify(SPEC["secret"], headers=headers, body=SPEC["body"], now=at) == SPEC["id"]
    rotated = {**headers, "Webhook-Signature": "v1,bm90IGl0 " + SPEC["signature"]}
    assert verify(SPEC["secret"], headers=rotated, body=SPEC["body"], now=at) == SPEC["id"]
    with pytest.raises(WebhookVerificationError, match="no webhook-signature"):
        verify(SPEC["secret"], headers=headers, body=b'{"test": 2432232315}', now=at)
    with pytest.raises(WebhookVerificationError, match="tolerance"):
        verify(SPEC["secret"], headers=headers, body=SPEC["body"], now=at + 301)
    with pytest.raises(WebhookVerificationError, match="missing"):
        verify(SPEC["secret"], headers={"webhook-id": "x"}, body=SPEC["body"], now=at)
    with pytest.raises(WebhookVerificationError, match="Unix seconds"):
        verify(SPEC["secret"], headers={**headers, "Webhook-Timestamp": "soon"}, body=SPEC["body"], now=at)


def _notifier(
    monkeypatch: pytest.MonkeyPatch, *, slept: list[float] | None = None, secret: str = SECRET
) -> WebhookNotifier:
    monkeypatch.setenv("DG_TEST_WEBHOOK_SECRET", secret)
    return WebhookNotifier(
        WebhookSettings(url=URL, secret="env://DG_TEST_WEBHOOK_SECRET"),
        client=httpx.Client(),
        clock=lambda: NOW,
        sleep=(slept.append if slept is not None else lambda s: None),
    )


def _send(notifier: WebhookNotifier, key: str = "rsp_1:0") -> str:
    return notifier.send(
        tenant_id="acme", channel="webhook", to="soar", subject="Takeover", text="j.doe", idempotency_key=key
    )


@respx.mock
def test_a_200_delivers_a_signed_payload_once(monkeypatch: pytest.MonkeyPatch) -> None:
    route = respx.post(URL).mock(return_value=httpx.Response(200))
    notifier = _notifier(monkeypatch)
    ref = _send(notifier)
    assert _send(notifier) == ref and route.call_count == 1
    request = route.calls.last.request
    assert request.headers["webhook-id"] == ref and request.headers["webhook-timestamp"] == str(NOW)
    verify(SECRET, headers=dict(request.headers), body=request.content, now=NOW)
    assert json.loads(request.content)["data"] == {
        "tenant_id": "acme",
        "to": "soar",
        "subject": "Takeover",
        "text": "j.doe",
    }


@respx.mock
def test_a_429_is_retried_after_retry_after_with_the_same_id(monkeypatch: pytest.MonkeyPatch) -> None:
    route = respx.post(URL).mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200)]
    )
    slept: list[float] = []
    ref = _send(_notifier(monkeypatch, slept=slept))
    assert route.call_count == 2 and slept and slept[0] >= 7
    assert {call.request.headers["webhook-id"] for call in route.calls} == {ref}


@respx.mock
def test_500s_until_give_up_are_a_connector_error(monkeypatch: pytest.MonkeyPatch) -> None:
    route = respx.post(URL).mock(return_value=httpx.Response(503, text="down"))
    with pytest.raises(ConnectorError, match="503"):
        _send(_notifier(monkeypatch))
    assert route.call_count == 3


@respx.mock
def test_a_4xx_is_refused_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    route = respx.post(URL).mock(return_value=httpx.Response(410, json={"error": "gone"}))
    with pytest.raises(ConnectorError, match="410"):
        _send(_notifier(monkeypatch))
    assert route.call_count == 1


@respx.mock
def test_a_timeout_on_every_attempt_is_a_connector_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    route = respx.post(URL).mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(ConnectorTimeout):
        _send(_notifier(monkeypatch))
    assert route.call_count == 3
    assert len({call.request.headers["webhook-id"] for call in route.calls}) == 1


def test_malformed_secrets_and_settings_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError, match="base64"):
        _notifier(monkeypatch, secret="whsec_not*base64")
    with pytest.raises(ConfigurationError, match="16 bytes"):
        _notifier(monkeypatch, secret="whsec_" + base64.b64encode(b"short").decode())
    with pytest.raises(ValueError, match="reference"):
        WebhookSettings(url=URL, secret=SECRET)
    with pytest.raises(ValueError):
        WebhookSettings(url="ftp://x", secret="env://X")
