"""Twilio's callback routes: 404 unless Twilio is the telephony; a bad X-Twilio-Signature is 401
before anything is read; a verified outcome reaches ``verification.callback_result``."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import replace
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient

from deskguard.adapters.telephony.twilio import GATHER_PATH, STATUS_PATH, TwilioTelephony
from deskguard.api.app import create_app
from http_client import WEBHOOK_KEY, Api

TOKEN = "twilio-auth-token"
BASE = "https://deskguard.example.com"


def _sign(url: str, params: dict[str, str]) -> str:
    data = url + "".join(k + params[k] for k in sorted(params))
    return base64.b64encode(hmac.new(TOKEN.encode(), data.encode(), hashlib.sha1).digest()).decode()


def test_twilio_routes_are_404_without_twilio(api: Api) -> None:
    assert api.client.post(GATHER_PATH, content=b"CallSid=CA1").status_code == 404


def test_twilio_callbacks_are_verified_then_reported(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWILIO_TOKEN", TOKEN)
    twilio = TwilioTelephony(
        account_sid="AC" + "1" * 32,
        auth_token="env://TWILIO_TOKEN",
        from_number="+15005550006",
        callback_base_url=BASE,
    )
    ctx = replace(api.world.ctx, channels=replace(api.world.ctx.channels, telephony=twilio))
    client = TestClient(create_app(ctx, webhook_key=WEBHOOK_KEY))
    query = urlencode({"ref": "prf_x", "k": "00"})
    params = {"CallSid": "CA_unknown", "Digits": "42"}
    form = {"content-type": "application/x-www-form-urlencoded"}
    r = client.post(f"{GATHER_PATH}?{query}", content=urlencode(params), headers=form)
    assert r.status_code == 401
    signed = {**form, "x-twilio-signature": _sign(f"{BASE}{GATHER_PATH}?{query}", params)}
    r = client.post(f"{GATHER_PATH}?{query}", content=urlencode(params), headers=signed)
    assert r.status_code == 404 and r.json()["code"] == "not_found.call"  # verified, reported, no such call
    status = {"CallSid": "CA_unknown", "CallStatus": "completed"}
    signed = {**form, "x-twilio-signature": _sign(f"{BASE}{STATUS_PATH}", status)}
    assert client.post(STATUS_PATH, content=urlencode(status), headers=signed).status_code == 204
