"""Twilio Verify v2 (``TwilioVerifyDelivery``) against a respx far end in the shapes of Twilio's
published API (``twilio_verify_kit``; no network): request shapes, verdicts, errors, retries only
where nothing was sent or checked, timeouts that are never repeated."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from deskguard.adapters.channels.twilio_verify import TwilioVerifyDelivery, TwilioVerifySettings
from deskguard.adapters.connectors.retry import Backoff
from deskguard.domain.errors import ConfigurationError, ConnectorError, ConnectorTimeout
from deskguard.domain.ports_otp import OtpVerdict
from twilio_verify_kit import BASE, SERVICE, SID, TOKEN, VerifySim, twilio_error

TO = "+33612345678"


@pytest.fixture
def sim() -> Iterator[VerifySim]:
    far = VerifySim()
    with respx.mock(assert_all_called=False) as mock:
        far.install(mock)
        yield far


@pytest.fixture
def slept() -> list[float]:
    return []


def _settings(**changes: str) -> TwilioVerifySettings:
    return TwilioVerifySettings(
        account_sid=SID, auth_token="env://DG_VERIFY_TOKEN", service_sid=SERVICE, **changes
    )


@pytest.fixture
def verify(monkeypatch: pytest.MonkeyPatch, slept: list[float]) -> TwilioVerifyDelivery:
    monkeypatch.setenv("DG_VERIFY_TOKEN", TOKEN)
    return TwilioVerifyDelivery(_settings(), backoff=Backoff(base_s=0.001), sleep=slept.append)


def _form(request: httpx.Request) -> dict[str, list[str]]:
    return parse_qs(request.content.decode())


def test_send_posts_the_published_form_with_basic_auth(sim: VerifySim, verify: TwilioVerifyDelivery) -> None:
    sent = verify.send(tenant_id="acme", to_number=TO, reference="prf_1")
    assert sent.verification_id.startswith("VE") and sent.channel == "sms"
    [request] = sim.requests
    assert request.url == f"{BASE}/Verifications"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.headers["authorization"] == "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    assert _form(request) == {"To": [TO], "Channel": ["sms"]}


def test_the_voice_channel_is_a_setting(sim: VerifySim, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DG_VERIFY_TOKEN", TOKEN)
    verify = TwilioVerifyDelivery(_settings(channel="call"))
    assert verify.send(tenant_id="acme", to_number=TO, reference="prf_1").channel == "call"
    assert _form(sim.requests[0])["Channel"] == ["call"]


def test_check_sends_the_verification_sid_and_code(sim: VerifySim, verify: TwilioVerifyDelivery) -> None:
    vid = verify.send(tenant_id="acme", to_number=TO, reference="prf_1").verification_id
    code = sim.code_for(TO)
    assert (
        verify.check(tenant_id="acme", to_number=TO, verification_id=vid, code="000000") == OtpVerdict.WRONG
    )
    assert verify.check(tenant_id="acme", to_number=TO, verification_id=vid, code=code) == OtpVerdict.APPROVED
    assert sim.requests[-1].url == f"{BASE}/VerificationCheck"
    assert _form(sim.requests[-1]) == {"VerificationSid": [vid], "Code": [code]}


def test_without_a_sid_the_check_goes_by_number(sim: VerifySim, verify: TwilioVerifyDelivery) -> None:
    verify.send(tenant_id="acme", to_number=TO, reference="prf_1")
    code = sim.code_for(TO)
    assert verify.check(tenant_id="acme", to_number=TO, verification_id="", code=code) == OtpVerdict.APPROVED
    assert _form(sim.requests[-1]) == {"To": [TO], "Code": [code]}


def test_an_expired_verification_is_gone_404_20404(sim: VerifySim, verify: TwilioVerifyDelivery) -> None:
    vid = verify.send(tenant_id="acme", to_number=TO, reference="prf_1").verification_id
    sim.expire()
    assert verify.check(tenant_id="acme", to_number=TO, verification_id=vid, code="123456") == OtpVerdict.GONE


def test_the_check_after_five_wrong_codes_is_locked_429_60202(
    sim: VerifySim, verify: TwilioVerifyDelivery, slept: list[float]
) -> None:
    vid = verify.send(tenant_id="acme", to_number=TO, reference="prf_1").verification_id
    for _ in range(5):
        verify.check(tenant_id="acme", to_number=TO, verification_id=vid, code="000000")
    assert (
        verify.check(tenant_id="acme", to_number=TO, verification_id=vid, code="000000") == OtpVerdict.LOCKED
    )
    assert slept == []  # 60202 is final: never waited for, never retried


def test_a_throttled_send_waits_retry_after_and_sends_once(
    sim: VerifySim, verify: TwilioVerifyDelivery, slept: list[float]
) -> None:
    sim.throttle_next = 1
    verify.send(tenant_id="acme", to_number=TO, reference="prf_1")
    assert slept == [1.0] and len(sim.sms_sent) == 1 and len(sim.requests) == 2


def test_a_throttled_check_is_retried_and_counted_once(
    sim: VerifySim, verify: TwilioVerifyDelivery, slept: list[float]
) -> None:
    vid = verify.send(tenant_id="acme", to_number=TO, reference="prf_1").verification_id
    sim.throttle_next = 2
    assert (
        verify.check(tenant_id="acme", to_number=TO, verification_id=vid, code="000000") == OtpVerdict.WRONG
    )
    assert slept == [1.0, 1.0] and sim.checks_counted == 1


def test_throttled_throughout_is_a_refusal_that_sent_nothing(
    sim: VerifySim, verify: TwilioVerifyDelivery
) -> None:
    sim.throttle_next = 3
    with pytest.raises(ConnectorError) as caught:
        verify.send(tenant_id="acme", to_number=TO, reference="prf_1")
    assert not isinstance(caught.value, ConnectorTimeout) and "429" in caught.value.message
    assert sim.sms_sent == []


def test_too_many_sends_to_a_number_is_final_60203(sim: VerifySim, verify: TwilioVerifyDelivery) -> None:
    sim.refuse_next = (429, 60203, "Max send attempts reached")
    with pytest.raises(ConnectorError, match="too many codes sent"):
        verify.send(tenant_id="acme", to_number=TO, reference="prf_1")
    assert len(sim.requests) == 1


@pytest.mark.parametrize("then", ["timeout", "503", "garbage"])
def test_a_send_with_no_readable_answer_is_never_repeated(
    sim: VerifySim, verify: TwilioVerifyDelivery, then: str
) -> None:
    sim.then_next = then
    with pytest.raises(ConnectorTimeout, match="a code may have been sent"):
        verify.send(tenant_id="acme", to_number=TO, reference="prf_1")
    assert len(sim.sms_sent) == 1 and len(sim.requests) == 1  # one SMS, no second POST


@pytest.mark.parametrize("then", ["timeout", "503", "garbage"])
def test_a_check_with_no_readable_answer_is_never_repeated(
    sim: VerifySim, verify: TwilioVerifyDelivery, then: str
) -> None:
    vid = verify.send(tenant_id="acme", to_number=TO, reference="prf_1").verification_id
    sim.then_next = then
    with pytest.raises(ConnectorTimeout, match="the check may have been counted"):
        verify.check(tenant_id="acme", to_number=TO, verification_id=vid, code="000000")
    assert sim.checks_counted == 1 and len(sim.requests) == 2  # one check reached Twilio, once


def test_a_5xx_before_acting_is_still_not_repeated(sim: VerifySim, verify: TwilioVerifyDelivery) -> None:
    sim.refuse_next = (500, 20500, "Internal Server Error")
    with pytest.raises(ConnectorTimeout, match="500"):
        verify.send(tenant_id="acme", to_number=TO, reference="prf_1")
    assert len(sim.requests) == 1


def test_an_unreadable_verdict_is_not_taken_for_an_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DG_VERIFY_TOKEN", TOKEN)
    with respx.mock() as mock:
        mock.post(f"{BASE}/VerificationCheck").mock(
            return_value=httpx.Response(200, json={"sid": "VE1", "status": "approved", "valid": False})
        )
        with pytest.raises(ConnectorTimeout, match="without a readable verdict"):
            TwilioVerifyDelivery(_settings()).check(
                tenant_id="a", to_number=TO, verification_id="VE1", code="1234"
            )
        mock.post(f"{BASE}/Verifications").mock(return_value=httpx.Response(201, json={"status": "pending"}))
        with pytest.raises(ConnectorTimeout, match="without a verification sid"):
            TwilioVerifyDelivery(_settings()).send(tenant_id="a", to_number=TO, reference="prf_1")


@pytest.mark.parametrize(
    ("status", "code", "message"),
    [(400, 60200, "Invalid parameter `To`"), (400, 60205, "SMS is not supported by landline phone number")],
)
def test_a_refusal_carries_twilios_words(
    sim: VerifySim, verify: TwilioVerifyDelivery, status: int, code: int, message: str
) -> None:
    sim.refuse_next = (status, code, message)
    with pytest.raises(ConnectorError) as caught:
        verify.send(tenant_id="acme", to_number=TO, reference="prf_1")
    assert not isinstance(caught.value, ConnectorTimeout)
    assert f"{message} (code {code})" in caught.value.message


def test_bad_credentials_are_a_refusal_not_a_verdict(sim: VerifySim, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DG_VERIFY_TOKEN", "wrong-token")
    verify = TwilioVerifyDelivery(_settings())
    with pytest.raises(ConnectorError, match="Authenticate"):
        verify.check(tenant_id="acme", to_number=TO, verification_id="VE1", code="123456")
    assert not verify.health().ok


def test_an_unknown_service_404_is_a_refusal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DG_VERIFY_TOKEN", TOKEN)
    with respx.mock() as mock:
        mock.post(f"{BASE}/Verifications").mock(return_value=twilio_error(404, 20003, "Service not found"))
        with pytest.raises(ConnectorError, match="Service not found"):
            TwilioVerifyDelivery(_settings()).send(tenant_id="a", to_number=TO, reference="prf_1")


def test_a_number_that_is_not_e164_is_refused_before_any_call(
    sim: VerifySim, verify: TwilioVerifyDelivery
) -> None:
    with pytest.raises(ConnectorError, match="E.164"):
        verify.send(tenant_id="acme", to_number="0612345678", reference="prf_1")
    assert sim.requests == []


def test_health_reads_the_service(sim: VerifySim, verify: TwilioVerifyDelivery) -> None:
    health = verify.health()
    assert health.ok and "Acme helpdesk" in health.detail and "6-digit codes by sms" in health.detail
    assert sim.requests[0].method == "GET" and sim.requests[0].url == BASE


def test_health_of_an_unreachable_service_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DG_VERIFY_TOKEN", TOKEN)
    with respx.mock() as mock:
        route = mock.get(BASE).mock(side_effect=httpx.ConnectTimeout("no route"))
        health = TwilioVerifyDelivery(
            _settings(), backoff=Backoff(base_s=0.001), sleep=lambda s: None
        ).health()
    assert not health.ok and "did not answer in time" in health.detail
    assert route.call_count == 3  # a read: retried


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"account_sid": "XX" + "0" * 32}, "account_sid"),
        ({"service_sid": "VA123"}, "service_sid"),
        ({"auth_token": "inline-token"}, "auth_token"),
        ({"channel": "email"}, "channel"),
    ],
)
def test_settings_name_the_wrong_field(changes: dict[str, str], field: str) -> None:
    values = {"account_sid": SID, "auth_token": "env://X", "service_sid": SERVICE, **changes}
    with pytest.raises(ValueError) as caught:
        TwilioVerifySettings.model_validate(values)
    assert caught.value.errors()[0]["loc"] == (field,)  # type: ignore[attr-defined]


def test_an_unreadable_token_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DG_VERIFY_TOKEN", raising=False)
    with pytest.raises(ConfigurationError, match="DG_VERIFY_TOKEN"):
        TwilioVerifyDelivery(_settings())
