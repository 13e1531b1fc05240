"""The ``OtpDelivery`` contract (``otp_contract``) for the fake and for Twilio Verify, whose far end
is a respx fixture following Twilio's published Verify v2 API (``twilio_verify_kit``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import respx
from otp_contract import CHECKS, NUMBER, Harness

from deskguard.adapters.channels.fake import FakeOtpDelivery
from deskguard.adapters.channels.twilio_verify import TwilioVerifyDelivery, TwilioVerifySettings
from deskguard.adapters.connectors.retry import Backoff
from deskguard.adapters.system import SeededRandomness
from twilio_verify_kit import SERVICE, SID, TOKEN, VerifySim


def _fake(_: pytest.MonkeyPatch) -> Iterator[Harness]:
    fake = FakeOtpDelivery(randomness=SeededRandomness(3))

    def refuse() -> None:
        fake.fail_next = "invalid parameter To"

    def lose() -> None:
        fake.lose_next_answer = True

    yield Harness(fake, lambda: fake.sent[-1].code, lambda: len(fake.sent), refuse, lose, fake.expire_all)


def _twilio(monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    monkeypatch.setenv("DG_VERIFY_TOKEN", TOKEN)
    sim = VerifySim()
    settings = TwilioVerifySettings(account_sid=SID, auth_token="env://DG_VERIFY_TOKEN", service_sid=SERVICE)

    def refuse() -> None:
        sim.refuse_next = (400, 60200, "Invalid parameter `To`")

    def lose() -> None:
        sim.then_next = "timeout"

    with respx.mock(assert_all_called=False) as mock:
        sim.install(mock)
        otp = TwilioVerifyDelivery(settings, backoff=Backoff(base_s=0.001), sleep=lambda s: None)
        yield Harness(otp, lambda: sim.code_for(NUMBER), lambda: len(sim.sms_sent), refuse, lose, sim.expire)


IMPLEMENTATIONS: dict[str, Callable[[pytest.MonkeyPatch], Iterator[Harness]]] = {
    "fake": _fake,
    "twilio_verify": _twilio,
}


@pytest.fixture(params=sorted(IMPLEMENTATIONS))
def harness(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    yield from IMPLEMENTATIONS[request.param](monkeypatch)


@pytest.mark.parametrize("check", CHECKS, ids=[c.__name__ for c in CHECKS])
def test_otp_contract(harness: Harness, check: Callable[[Harness], None]) -> None:
    check(harness)
