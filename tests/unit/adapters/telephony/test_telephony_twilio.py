"""Twilio call-back: the Calls API request (form fields, auth), its answers (201, 400 with Twilio's
error body, 429, timeout, malformed), the TwiML, and the signed callbacks (X-Twilio-Signature).

The signature vector is Twilio's own (auth token ``12345``, as in the twilio SDKs' request-validator
tests); it was also recomputed independently with ``openssl dgst -sha1 -hmac 12345 | base64``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import parse_qs, parse_qsl, urlsplit

import httpx
import pytest
import respx

from deskguard.adapters.telephony.twilio import (
    GATHER_PATH,
    STATUS_PATH,
    TwilioTelephony,
    verify_twilio_signature,
)
from deskguard.domain.errors import ConfigurationError, ConnectorError, ConnectorTimeout, Unauthenticated

SID = "AC" + "1" * 32
TOKEN = "twilio-auth-token"
CALLS = f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Calls.json"
URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+14158675309",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
}


def test_twilio_documented_signature_example() -> None:
    assert verify_twilio_signature(URL, PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", "12345")
    assert verify_twilio_signature(
        URL, list(reversed(PARAMS.items())), "RSOYDt4T1cUTdK1PDd93/VVr8B8=", "12345"
    )
    assert not verify_twilio_signature(
        URL, {**PARAMS, "Digits": "9999"}, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", "12345"
    )
    assert not verify_twilio_signature(URL + "&x=1", PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", "12345")
    assert not verify_twilio_signature(URL, PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", "54321")
    assert not verify_twilio_signature(URL, PARAMS, "", "12345")


def test_repeated_parameters_sign_each_distinct_value_sorted() -> None:
    repeated = [
        ("Sid", "CA123"),
        ("SidAccount", "AC123"),
        ("Digits", "5678"),
        ("Digits", "1234"),
        ("Digits", "1234"),
    ]
    assert verify_twilio_signature(URL, repeated, "IK+Dwps556ElfBT0I3Rgjkr1wJU=", "12345")


def sign(url: str, params: dict[str, str]) -> str:
    data = url + "".join(k + params[k] for k in sorted(params))
    return base64.b64encode(hmac.new(TOKEN.encode(), data.encode(), hashlib.sha1).digest()).decode()


@pytest.fixture
def twilio(monkeypatch: pytest.MonkeyPatch) -> TwilioTelephony:
    monkeypatch.setenv("TWILIO_TOKEN", TOKEN)
    return TwilioTelephony(
        account_sid=SID,
        auth_token="env://TWILIO_TOKEN",
        from_number="+15005550006",
        callback_base_url="https://deskguard.example.com/",
    )


def _call(twilio: TwilioTelephony) -> str:
    return twilio.place_verification_call(
        tenant_id="acme", to_number="+33612345678", reference="prf_1", spoken_code="42"
    )


@respx.mock
def test_the_call_is_form_encoded_with_basic_auth(twilio: TwilioTelephony) -> None:
    route = respx.post(CALLS).respond(201, json={"sid": "CA" + "a" * 32, "status": "queued"})
    assert _call(twilio) == "CA" + "a" * 32
    request = route.calls.last.request
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.headers["authorization"] == "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
    assert form["To"] == "+33612345678" and form["From"] == "+15005550006"
    assert form["StatusCallback"] == "https://deskguard.example.com" + STATUS_PATH
    twiml = form["Twiml"]
    assert '<Gather input="dtmf" numDigits="2"' in twiml and "4, 2" in twiml
    assert f"https://deskguard.example.com{GATHER_PATH}?ref=prf_1&amp;k=" in twiml


@respx.mock
def test_a_400_carries_twilios_error_message(twilio: TwilioTelephony) -> None:
    body = {
        "code": 21211,
        "message": "The 'To' number +336 is not a valid phone number.",
        "more_info": "https://www.twilio.com/docs/errors/21211",
        "status": 400,
    }
    respx.post(CALLS).respond(400, json=body)
    with pytest.raises(ConnectorError, match="not a valid phone number.*21211"):
        _call(twilio)


@respx.mock
def test_a_429_is_tried_once_and_refused(twilio: TwilioTelephony) -> None:
    route = respx.post(CALLS).respond(
        429, json={"code": 20429, "message": "Too Many Requests", "more_info": "", "status": 429}
    )
    with pytest.raises(ConnectorError, match="429") as caught:
        _call(twilio)
    assert not isinstance(caught.value, ConnectorTimeout) and route.call_count == 1


@respx.mock
def test_a_timeout_is_connector_timeout_and_not_retried(twilio: TwilioTelephony) -> None:
    route = respx.post(CALLS).mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(ConnectorTimeout):
        _call(twilio)
    assert route.call_count == 1


@respx.mock
@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(201, text="<html>"),
        httpx.Response(201, json={"status": "queued"}),
        httpx.Response(201, json=[]),
    ],
)
def test_a_malformed_answer_is_a_connector_error(twilio: TwilioTelephony, response: httpx.Response) -> None:
    respx.post(CALLS).mock(return_value=response)
    with pytest.raises(ConnectorError):
        _call(twilio)


def _gather_url(twilio: TwilioTelephony) -> str:
    twiml = twilio.twiml(reference="prf_1", spoken_code="42")
    return twiml.split('action="', 1)[1].split('"', 1)[0].replace("&amp;", "&")


def test_a_signed_gather_with_the_code_confirms(twilio: TwilioTelephony) -> None:
    url = _gather_url(twilio)
    params = {"CallSid": "CA9", "Digits": "42", "CallStatus": "in-progress"}
    outcome = twilio.gather_outcome(url=url, params=list(params.items()), signature=sign(url, params))
    assert outcome.call_id == "CA9" and outcome.confirmed is True


@pytest.mark.parametrize("digits", ["41", "", "24"])
def test_other_digits_do_not_confirm(twilio: TwilioTelephony, digits: str) -> None:
    url = _gather_url(twilio)
    params = {"CallSid": "CA9", "Digits": digits}
    assert (
        twilio.gather_outcome(url=url, params=list(params.items()), signature=sign(url, params)).confirmed
        is False
    )


def test_an_unsigned_or_altered_callback_is_refused(twilio: TwilioTelephony) -> None:
    url = _gather_url(twilio)
    params = {"CallSid": "CA9", "Digits": "42"}
    with pytest.raises(Unauthenticated):
        twilio.gather_outcome(url=url, params=list(params.items()), signature="")
    forged = url.replace("ref=prf_1", "ref=prf_2")
    with pytest.raises(Unauthenticated):
        twilio.gather_outcome(url=forged, params=list(params.items()), signature=sign(url, params))


def test_callback_url_is_the_public_origin(twilio: TwilioTelephony) -> None:
    url = _gather_url(twilio)
    parts = urlsplit(url)
    assert twilio.callback_url(parts.path, parts.query) == url
    assert dict(parse_qsl(parts.query))["ref"] == "prf_1"


@pytest.mark.parametrize(
    ("status", "confirmed"), [("busy", False), ("no-answer", False), ("completed", None)]
)
def test_status_callbacks(twilio: TwilioTelephony, status: str, confirmed: bool | None) -> None:
    url = "https://deskguard.example.com" + STATUS_PATH
    params = {"CallSid": "CA9", "CallStatus": status}
    outcome = twilio.status_outcome(url=url, params=list(params.items()), signature=sign(url, params))
    assert outcome.confirmed is confirmed


def test_settings_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWILIO_TOKEN", TOKEN)
    ok = {
        "account_sid": SID,
        "auth_token": "env://TWILIO_TOKEN",
        "from_number": "+15005550006",
        "callback_base_url": "https://d.example.com",
    }
    for field, bad in [
        ("account_sid", "SK1"),
        ("auth_token", "inline-token"),
        ("from_number", "5005550006"),
        ("callback_base_url", "http://d.example.com"),
    ]:
        with pytest.raises(ConfigurationError):
            TwilioTelephony(**{**ok, field: bad})
