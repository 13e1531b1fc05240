"""The ``Notifier`` (secret delivery) contract for the fake and for ``TwilioSmsNotifier``.

Twilio is not reachable here: its far end is a respx fixture that follows Twilio's published
Messages API (form body, basic auth, ``201 {sid: SM..., status: queued}``, error bodies
``{code, message, more_info, status}``, 429 with ``Retry-After``)."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from deskguard.adapters.channels.fake import FakeNotifier
from deskguard.adapters.channels.twilio_sms import TwilioSmsNotifier
from deskguard.adapters.connectors.retry import Backoff
from deskguard.adapters.system import SeededRandomness
from deskguard.domain.errors import ConnectorError, ConnectorTimeout
from deskguard.domain.model import Person, Phone
from deskguard.domain.ports import Notifier

SID, TOKEN = "AC" + "1" * 32, "twilio-test-token"
MESSAGES = f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Messages.json"
PERSON = Person(
    id="p1",
    tenant_id="acme",
    employee_id="E1",
    email="j.doe@acme.test",
    display_name="J. Doe",
    phones=(Phone(number="+33612345678", changed_at=datetime(2025, 1, 1, tzinfo=UTC)),),
)


@dataclass
class Harness:
    notifier: Notifier
    arrived: Callable[[], list[tuple[str, str]]]  # (phone or person, text containing the secret)
    refuse_next: Callable[[], None]


def _twilio_error(status: int, code: int, message: str) -> httpx.Response:
    more = f"https://www.twilio.com/docs/errors/{code}"
    return httpx.Response(
        status, json={"code": code, "message": message, "more_info": more, "status": status}
    )


@pytest.fixture(params=["fake", "twilio"])
def harness(request, monkeypatch) -> Iterator[Harness]:
    if request.param == "fake":
        fake = FakeNotifier(randomness=SeededRandomness(1))

        def refuse() -> None:
            fake.fail_next = True

        yield Harness(fake, lambda: [(d.person_id, d.secret) for d in fake.deliveries], refuse)
        return
    monkeypatch.setenv("DG_TWILIO_TOKEN", TOKEN)
    sent: list[tuple[str, str]] = []
    refusing: list[bool] = []

    def messages(req: httpx.Request) -> httpx.Response:
        expected = "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
        if req.headers.get("authorization") != expected:
            return _twilio_error(401, 20003, "Authenticate")
        form = {k: v[0] for k, v in parse_qs(req.content.decode()).items()}
        if refusing:
            refusing.pop()
            return _twilio_error(400, 21211, f"The 'To' number {form['To']} is not a valid phone number.")
        sent.append((form["To"], form["Body"]))
        return httpx.Response(201, json={"sid": f"SM{len(sent):032d}", "status": "queued", "to": form["To"]})

    with respx.mock(assert_all_called=False) as mock:
        mock.post(MESSAGES).mock(side_effect=messages)
        notifier = TwilioSmsNotifier(
            account_sid=SID,
            auth_token="env://DG_TWILIO_TOKEN",
            from_number="+33100000000",
            sleep=lambda s: None,
        )
        yield Harness(notifier, lambda: list(sent), lambda: refusing.append(True))


def _deliver(h: Harness | Notifier) -> str:
    notifier = h.notifier if isinstance(h, Harness) else h
    return notifier.deliver_secret(
        tenant_id="acme", person=PERSON, channel="sms", kind="temporary_password", secret="Tmp-7f3K-9qA"
    )


def test_delivers_the_secret_and_returns_a_reference(harness: Harness) -> None:
    ref = _deliver(harness)
    assert isinstance(ref, str) and ref
    [(to, text)] = harness.arrived()
    assert to in ("p1", "+33612345678") and "Tmp-7f3K-9qA" in text


def test_a_refusal_raises_and_delivers_nothing(harness: Harness) -> None:
    harness.refuse_next()
    with pytest.raises((ConnectorError, OSError)):
        _deliver(harness)
    assert harness.arrived() == []


# --- Twilio specifics ----------------------------------------------------------------------------
@pytest.fixture
def twilio(monkeypatch) -> TwilioSmsNotifier:
    monkeypatch.setenv("DG_TWILIO_TOKEN", TOKEN)
    return TwilioSmsNotifier(
        account_sid=SID,
        auth_token="env://DG_TWILIO_TOKEN",
        from_number="+33100000000",
        backoff=Backoff(base_s=0.01),
        sleep=lambda s: None,
    )


@respx.mock
def test_429_is_retried_after_retry_after(twilio) -> None:
    route = respx.post(MESSAGES).mock(
        side_effect=[
            httpx.Response(
                429, headers={"Retry-After": "2"}, json={"code": 20429, "message": "Too Many Requests"}
            ),
            httpx.Response(201, json={"sid": "SM" + "a" * 32, "status": "queued"}),
        ]
    )
    assert _deliver(twilio) == "SM" + "a" * 32 and route.call_count == 2


@respx.mock
def test_5xx_and_timeouts_are_not_repeated(twilio) -> None:
    route = respx.post(MESSAGES).mock(return_value=_twilio_error(503, 20503, "Service Unavailable"))
    with pytest.raises(ConnectorError, match="Service Unavailable"):
        _deliver(twilio)
    route.mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(ConnectorTimeout):
        _deliver(twilio)
    assert route.call_count == 2


@respx.mock
def test_twilio_error_body_is_reported(twilio) -> None:
    respx.post(MESSAGES).mock(
        return_value=_twilio_error(400, 21610, "Attempt to send to unsubscribed recipient")
    )
    with pytest.raises(ConnectorError, match="21610"):
        _deliver(twilio)


def test_a_secret_is_never_e_mailed(twilio) -> None:
    with pytest.raises(ConnectorError, match="SMS only"):
        twilio.deliver_secret(
            tenant_id="acme", person=PERSON, channel="recovery_email", kind="temporary_password", secret="x"
        )
