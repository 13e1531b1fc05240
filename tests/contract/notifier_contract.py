"""The contract every ``ResponseNotifier`` honours, run for the fake and for each real adapter.

A ``Harness`` wraps one implementation: the notifier, the channel and recipient it serves, what has
arrived at the far end, and two switches: ``refuse_next()`` makes the far end refuse the next
delivery, ``timing_out`` is a notifier whose far end never answers in time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from deskguard.domain.errors import ConnectorError, ConnectorTimeout
from deskguard.domain.ports import ResponseNotifier


@dataclass(frozen=True)
class Arrived:
    to: str
    subject: str
    text: str


@dataclass
class Harness:
    notifier: ResponseNotifier
    channel: str
    to: str
    arrived: Callable[[], list[Arrived]]
    refuse_next: Callable[[], None]
    timing_out: ResponseNotifier
    exclusive: bool = True  # refuses other channels (the fake, standing for all, serves every one)


def _send(h: Harness, notifier: ResponseNotifier | None = None, *, key: str = "rsp_1:0") -> str:
    return (notifier or h.notifier).send(
        tenant_id="acme",
        channel=h.channel,
        to=h.to,
        subject="Takeover chain on j.doe",
        text="Sessions revoked; review the case.",
        idempotency_key=key,
    )


def delivers_to_the_recipient_and_returns_a_reference(h: Harness) -> None:
    ref = _send(h)
    assert isinstance(ref, str) and ref
    assert h.arrived() == [Arrived(h.to, "Takeover chain on j.doe", "Sessions revoked; review the case.")]


def is_idempotent_by_key(h: Harness) -> None:
    first = _send(h)
    assert _send(h) == first and len(h.arrived()) == 1
    assert _send(h, key="rsp_1:1") != first and len(h.arrived()) == 2


def a_refusal_is_a_connector_error_and_is_not_remembered(h: Harness) -> None:
    h.refuse_next()
    with pytest.raises(ConnectorError):
        _send(h)
    assert h.arrived() == []
    assert _send(h) and len(h.arrived()) == 1


def a_timeout_is_a_connector_timeout(h: Harness) -> None:
    with pytest.raises(ConnectorTimeout):
        _send(h, h.timing_out)


def refuses_a_channel_it_does_not_serve(h: Harness) -> None:
    if not h.exclusive:
        return
    with pytest.raises(ConnectorError):
        h.notifier.send(
            tenant_id="acme", channel="pager", to=h.to, subject="s", text="t", idempotency_key="k"
        )


CHECKS = [
    delivers_to_the_recipient_and_returns_a_reference,
    is_idempotent_by_key,
    a_refusal_is_a_connector_error_and_is_not_remembered,
    a_timeout_is_a_connector_timeout,
    refuses_a_channel_it_does_not_serve,
]
