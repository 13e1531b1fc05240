"""The contract every ``OtpDelivery`` honours, run for the fake and for Twilio Verify.

A ``Harness`` wraps one implementation: the delivery, ``code_sent()`` (what the far end sent last:
the code on the person's phone), ``sent()`` (how many codes went out), ``refuse_next()`` (the far
end refuses the next call definitely), ``lose_next()`` (the far end acts on the next call, then its
answer never arrives) and ``expire()`` (the open verifications lapse).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from deskguard.domain.errors import ConnectorError, ConnectorTimeout
from deskguard.domain.ports_otp import OtpDelivery, OtpVerdict

NUMBER = "+33612345678"


@dataclass
class Harness:
    otp: OtpDelivery
    code_sent: Callable[[], str]
    sent: Callable[[], int]
    refuse_next: Callable[[], None]
    lose_next: Callable[[], None]
    expire: Callable[[], None]


def _send(h: Harness) -> str:
    return h.otp.send(tenant_id="acme", to_number=NUMBER, reference="prf_1").verification_id


def _check(h: Harness, vid: str, code: str) -> OtpVerdict:
    return h.otp.check(tenant_id="acme", to_number=NUMBER, verification_id=vid, code=code)


def _wrong(code: str) -> str:
    return str((int(code) + 1) % 10 ** len(code)).zfill(len(code))


def sends_one_code_and_approves_it_once(h: Harness) -> None:
    vid = _send(h)
    assert vid and h.sent() == 1
    assert _check(h, vid, h.code_sent()) == OtpVerdict.APPROVED
    assert _check(h, vid, h.code_sent()) == OtpVerdict.GONE  # a used code is never accepted twice


def a_wrong_code_keeps_the_verification_open(h: Harness) -> None:
    vid = _send(h)
    assert _check(h, vid, _wrong(h.code_sent())) == OtpVerdict.WRONG
    assert _check(h, vid, h.code_sent()) == OtpVerdict.APPROVED


def five_wrong_codes_lock_it(h: Harness) -> None:
    vid = _send(h)
    for _ in range(5):
        assert _check(h, vid, _wrong(h.code_sent())) == OtpVerdict.WRONG
    assert _check(h, vid, h.code_sent()) == OtpVerdict.LOCKED


def an_expired_code_is_gone(h: Harness) -> None:
    vid = _send(h)
    h.expire()
    assert _check(h, vid, h.code_sent()) == OtpVerdict.GONE


def a_check_by_number_finds_the_open_verification(h: Harness) -> None:
    _send(h)
    assert _check(h, "", h.code_sent()) == OtpVerdict.APPROVED


def a_refused_send_is_a_connector_error_and_sends_nothing(h: Harness) -> None:
    h.refuse_next()
    with pytest.raises(ConnectorError) as caught:
        _send(h)
    assert not isinstance(caught.value, ConnectorTimeout)
    assert h.sent() == 0


def a_lost_send_is_a_timeout_and_is_not_repeated(h: Harness) -> None:
    h.lose_next()
    with pytest.raises(ConnectorTimeout):
        _send(h)
    assert h.sent() == 1  # it went out once; nothing sent it again
    assert _check(h, "", h.code_sent()) == OtpVerdict.APPROVED  # and can still be checked by number


def a_lost_check_is_a_timeout_and_is_not_repeated(h: Harness) -> None:
    vid = _send(h)
    h.lose_next()
    with pytest.raises(ConnectorTimeout):
        _check(h, vid, h.code_sent())
    # the lost check approved it; a retry finds it gone rather than approving it twice
    assert _check(h, vid, h.code_sent()) == OtpVerdict.GONE


def reports_its_health(h: Harness) -> None:
    health = h.otp.health()
    assert health.ok and health.detail


CHECKS = [
    sends_one_code_and_approves_it_once,
    a_wrong_code_keeps_the_verification_open,
    five_wrong_codes_lock_it,
    an_expired_code_is_gone,
    a_check_by_number_finds_the_open_verification,
    a_refused_send_is_a_connector_error_and_sends_nothing,
    a_lost_send_is_a_timeout_and_is_not_repeated,
    a_lost_check_is_a_timeout_and_is_not_repeated,
    reports_its_health,
]
