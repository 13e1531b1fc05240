"""The ``Telephony`` contract (``telephony_contract``) for the fake, Twilio (respx fixtures in the
shapes of Twilio's published Calls API) and Asterisk ARI (a fake ARI HTTP server, ``fake_ari``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from urllib.parse import parse_qs

import httpx
import pytest
import respx
from fake_ari import PASSWORD, USER, fake_ari
from telephony_contract import CHECKS, Harness

from deskguard.adapters.channels.fake import FakeTelephony
from deskguard.adapters.system import SeededRandomness
from deskguard.adapters.telephony.ari import AriTelephony
from deskguard.adapters.telephony.twilio import TwilioTelephony

SID = "AC" + "0" * 32
CALLS = f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Calls.json"


def _fake() -> Iterator[Harness]:
    fake, slow = FakeTelephony(randomness=SeededRandomness(1)), FakeTelephony(randomness=SeededRandomness(2))
    slow.timeouts = 99

    def refuse() -> None:
        fake.fail_next = "refused"

    yield Harness(fake, lambda: [c.to_number for c in fake.calls], refuse, slow)


def twilio(monkeypatch: pytest.MonkeyPatch, client: httpx.Client | None = None) -> TwilioTelephony:
    monkeypatch.setenv("TWILIO_TOKEN", "twilio-auth-token")
    return TwilioTelephony(
        account_sid=SID,
        auth_token="env://TWILIO_TOKEN",
        from_number="+15005550006",
        callback_base_url="https://deskguard.example.com",
        client=client,
    )


def _twilio(monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    dialled: list[str] = []
    refusing = [False]

    def answer(request: httpx.Request) -> httpx.Response:
        if refusing[0]:
            refusing[0] = False
            return httpx.Response(400, json={"code": 21211, "message": "Invalid 'To' Phone Number"})
        dialled.append(parse_qs(request.content.decode())["To"][0])
        return httpx.Response(201, json={"sid": f"CA{len(dialled):032x}", "status": "queued"})

    with respx.mock(assert_all_called=False) as mock:
        mock.post(CALLS).mock(side_effect=answer)
        mock.post("https://slow.twilio.test/2010-04-01/Accounts/" + SID + "/Calls.json").mock(
            side_effect=httpx.ReadTimeout("slow")
        )
        slow = twilio(monkeypatch)
        slow._api = "https://slow.twilio.test"
        yield Harness(twilio(monkeypatch), lambda: dialled, lambda: refusing.__setitem__(0, True), slow)


def ari(url: str, monkeypatch: pytest.MonkeyPatch, *, timeout: float = 5.0) -> AriTelephony:
    monkeypatch.setenv("ARI_PASSWORD", PASSWORD)
    return AriTelephony(
        url=url,
        user=USER,
        password="env://ARI_PASSWORD",
        endpoint_template="PJSIP/{number}@trunk",
        client=httpx.Client(timeout=timeout),
    )


def _ari(monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    with fake_ari() as far, fake_ari() as stalled:
        stalled.stall = 0.5

        def dialled() -> list[str]:
            return [
                q["endpoint"][0].split("/")[1].split("@")[0]
                for m, p, q in far.requests
                if p == "/ari/channels"
            ]

        def refuse() -> None:
            far.refuse = "Allocation failed"

        yield Harness(ari(far.url, monkeypatch), dialled, refuse, ari(stalled.url, monkeypatch, timeout=0.1))


IMPLEMENTATIONS: dict[str, Callable[..., Iterator[Harness]]] = {
    "fake": lambda mp: _fake(),
    "twilio": _twilio,
    "ari": _ari,
}


@pytest.fixture(params=sorted(IMPLEMENTATIONS))
def harness(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    yield from IMPLEMENTATIONS[request.param](monkeypatch)


@pytest.mark.parametrize("check", CHECKS, ids=[c.__name__ for c in CHECKS])
def test_telephony_contract(harness: Harness, check: Callable[[Harness], None]) -> None:
    check(harness)
