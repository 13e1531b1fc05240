"""``bootstrap_telephony``: the configured vendor's adapter, none when unset, errors naming the field."""

from __future__ import annotations

import pytest

from deskguard.adapters.telephony.ari import AriTelephony
from deskguard.adapters.telephony.twilio import TwilioTelephony
from deskguard.bootstrap_telephony import telephony
from deskguard.domain.errors import ConfigurationError
from deskguard.settings import Settings


def _settings(**kw: str) -> Settings:
    return Settings(demo=True, **kw)  # type: ignore[arg-type]


def test_the_vendor_picks_the_adapter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOK", "secret")
    assert telephony(_settings()) is None
    twilio = _settings(
        telephony_vendor="twilio",
        twilio_account_sid="AC" + "1" * 32,
        twilio_auth_token="env://TOK",
        twilio_from_number="+15005550006",
        telephony_callback_base_url="https://d.example.com",
    )
    assert isinstance(telephony(twilio), TwilioTelephony)
    ari = _settings(telephony_vendor="ari", ari_url="http://pbx:8088", ari_user="u", ari_password="env://TOK")
    assert isinstance(telephony(ari), AriTelephony)
    with pytest.raises(ConfigurationError) as caught:
        telephony(_settings(telephony_vendor="twilio"))
    assert caught.value.field == "twilio_account_sid"  # type: ignore[attr-defined]
