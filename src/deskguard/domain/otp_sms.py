"""Pure rules of the ``otp_sms`` proof: the shape of a code read back, and the number as shown.

The code is sent by a verification service (``domain.ports_otp.OtpDelivery``) to the registered
phone. The agent sees the number only masked: enough for the caller to recognise their own phone
("the one ending in 78"), not enough to learn a number the directory holds.
"""

from __future__ import annotations

from deskguard.domain.errors import ValidationFailed

CODE_MIN, CODE_MAX = 4, 10  # Twilio Verify codes are 4 to 10 digits (6 by default)
MASK = "\u2022"  # a bullet


def clean_code(code: str) -> str:
    """The code as read back, spaces and dashes removed; ``ValidationFailed`` naming ``code``."""
    cleaned = "".join(ch for ch in code if ch not in " -")
    if cleaned and not (cleaned.isascii() and cleaned.isdigit()):
        raise ValidationFailed("code: only digits, as the SMS or the call gave them", field="code")
    if not CODE_MIN <= len(cleaned) <= CODE_MAX:
        raise ValidationFailed(f"code: {CODE_MIN} to {CODE_MAX} digits, not {len(cleaned)}", field="code")
    return cleaned


def masked_number(number: str) -> str:
    """``+33611111111`` -> ``+33 ••••••• 11``: the country code and the last two digits."""
    digits = number.strip()
    if len(digits) <= 6:
        return MASK * max(len(digits) - 2, 0) + digits[-2:]
    head = digits[:3] if digits.startswith("+") else ""
    hidden = len(digits) - len(head) - 2
    return f"{head} {MASK * hidden} {digits[-2:]}".strip()
