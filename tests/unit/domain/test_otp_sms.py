"""The pure rules of the ``otp_sms`` proof: its strength, the code read back, the masked number."""

from __future__ import annotations

import pytest

from deskguard.domain.errors import ValidationFailed
from deskguard.domain.otp_sms import clean_code, masked_number
from deskguard.domain.requests import METHOD_CHANNEL, METHOD_STRENGTH, ProofMethod, Strength


def test_otp_sms_is_low_like_an_agent_attested_call_back() -> None:
    assert METHOD_STRENGTH[ProofMethod.OTP_SMS] == Strength.LOW
    assert METHOD_STRENGTH[ProofMethod.OTP_SMS] < METHOD_STRENGTH[ProofMethod.TOTP]
    assert METHOD_CHANNEL[ProofMethod.OTP_SMS] == "registered_phone"


@pytest.mark.parametrize(
    ("given", "clean"), [("123456", "123456"), (" 123 456 ", "123456"), ("12-34", "1234")]
)
def test_a_code_is_read_back_with_spaces_or_dashes(given: str, clean: str) -> None:
    assert clean_code(given) == clean


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ("12a456", "only digits"),
        ("١٢٣٤٥٦", "only digits"),  # Arabic-Indic digits are digits to Python, not to Twilio
        ("123", "4 to 10 digits, not 3"),
        ("12345678901", "4 to 10 digits, not 11"),
        ("", "4 to 10 digits, not 0"),
    ],
)
def test_a_malformed_code_names_the_field(given: str, says: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        clean_code(given)
    assert caught.value.field == "code" and says in caught.value.message


@pytest.mark.parametrize(
    ("number", "shown"),
    [
        ("+33611111178", "+33 \u2022\u2022\u2022\u2022\u2022\u2022\u2022 78"),
        ("+14155550123", "+14 \u2022\u2022\u2022\u2022\u2022\u2022\u2022 23"),
        ("0612345678", "\u2022\u2022\u2022\u2022\u2022\u2022\u2022\u2022 78"),
        ("12345", "\u2022\u2022\u202245"),
    ],
)
def test_the_number_is_shown_masked(number: str, shown: str) -> None:
    assert masked_number(number) == shown
    assert number[3:-2] not in masked_number(number) or len(number) <= 6
