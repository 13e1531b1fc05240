"""Contract of the runbooks' outbound ports (``ResponseNotifier``, ``Ticketing``, the identity
provider's ``ResponseAction``s): idempotent by key, a timeout acts on nothing (or, when the answer is
lost, a retry returns the first result), a refusal is a ``ConnectorError``. The fakes pass it;
real connectors will run the same functions."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from samples import person as sample_person

from deskguard.adapters.channels.fake import FakeResponseNotifier, FakeTicketing
from deskguard.adapters.idp.fake import FakeIdentityProvider
from deskguard.adapters.system import SeededRandomness
from deskguard.domain.actions import ResponseAction
from deskguard.domain.errors import ConnectorError, ConnectorTimeout
from deskguard.domain.ports import IdentityProvider, ResponseNotifier, Ticketing


def fake_notifier() -> tuple[FakeResponseNotifier, Callable[[], int]]:
    fake = FakeResponseNotifier(randomness=SeededRandomness(1))
    return fake, lambda: len(fake.sent)


def fake_ticketing() -> tuple[FakeTicketing, Callable[[], int]]:
    fake = FakeTicketing(randomness=SeededRandomness(1))
    return fake, lambda: len(fake.tickets) + len(fake.comments)


def _send(notifier: ResponseNotifier, key: str = "rsp_1:0") -> str:
    return notifier.send(
        tenant_id="t", channel="slack", to="#soc", subject="s", text="t", idempotency_key=key
    )


@pytest.mark.parametrize("make", [fake_notifier], ids=["fake"])
def test_a_notification_is_sent_once_per_key(make: Callable) -> None:
    notifier, effects = make()
    first = _send(notifier)
    assert first and _send(notifier) == first and effects() == 1
    assert _send(notifier, key="rsp_1:1") != first and effects() == 2


@pytest.mark.parametrize("make", [fake_notifier], ids=["fake"])
def test_a_notifier_timeout_or_refusal_sends_nothing(make: Callable) -> None:
    notifier, effects = make()
    notifier.timeouts = 1
    with pytest.raises(ConnectorTimeout):
        _send(notifier)
    notifier.fail_next = "channel_not_found"
    with pytest.raises(ConnectorError, match="channel_not_found"):
        _send(notifier)
    assert effects() == 0 and _send(notifier) and effects() == 1


@pytest.mark.parametrize("make", [fake_ticketing], ids=["fake"])
def test_tickets_are_opened_and_commented_once_per_key(make: Callable) -> None:
    ticketing, effects = make()
    opened: Ticketing = ticketing
    ref = opened.open(tenant_id="t", title="T", text="x", idempotency_key="k1")
    assert opened.open(tenant_id="t", title="T", text="x", idempotency_key="k1") == ref and effects() == 1
    note = opened.comment(tenant_id="t", ticket_ref=ref, text="y", idempotency_key="k2")
    assert opened.comment(tenant_id="t", ticket_ref=ref, text="y", idempotency_key="k2") == note
    assert effects() == 2
    opened.comment(tenant_id="t", ticket_ref="INC-4711", text="z", idempotency_key="k3")  # an ITSM ticket
    assert effects() == 3
    with pytest.raises(ConnectorError):  # another tenant's ticket is not found
        opened.comment(tenant_id="other", ticket_ref=ref, text="w", idempotency_key="k4")
    ticketing.timeouts = 1
    with pytest.raises(ConnectorTimeout):
        opened.open(tenant_id="t", title="T", text="x", idempotency_key="k5")
    assert effects() == 3


def test_a_suspension_acts_once_per_key_even_when_its_answer_is_lost() -> None:
    fake = FakeIdentityProvider(randomness=SeededRandomness(1))
    idp: IdentityProvider = fake
    person = sample_person()

    def suspend() -> dict:
        result = idp.execute(
            tenant_id=person.tenant_id,
            person=person,
            kind=ResponseAction.SUSPEND_ACCOUNT,
            params={},
            idempotency_key="rsp_1:1",
        )
        return result.summary

    fake.lost_answers = 1
    with pytest.raises(ConnectorTimeout):
        suspend()
    assert suspend() == {"suspended": True}
    account = fake.account(tenant_id=person.tenant_id, person_id=person.id)
    assert account.suspended and account.suspensions == 1
