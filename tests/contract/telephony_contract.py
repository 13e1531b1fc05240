"""The contract every ``Telephony`` honours, run for the fake and for each real adapter.

A ``Harness`` wraps one implementation: the telephony, what was dialled at the far end,
``refuse_next()`` (the far end refuses the next call) and ``timing_out`` (one whose far end never
answers in time).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from deskguard.domain.errors import ConnectorError, ConnectorTimeout
from deskguard.domain.ports import Telephony

NUMBER = "+33612345678"


@dataclass
class Harness:
    telephony: Telephony
    dialled: Callable[[], list[str]]  # the numbers the far end was asked to ring
    refuse_next: Callable[[], None]
    timing_out: Telephony


def _call(t: Telephony, number: str = NUMBER) -> str:
    return t.place_verification_call(tenant_id="acme", to_number=number, reference="prf_1", spoken_code="42")


def places_a_call_to_the_number_and_returns_its_id(h: Harness) -> None:
    call_id = _call(h.telephony)
    assert isinstance(call_id, str) and call_id
    assert h.dialled() == [NUMBER]


def each_call_has_its_own_id(h: Harness) -> None:
    assert _call(h.telephony) != _call(h.telephony)


def a_refusal_is_a_connector_error(h: Harness) -> None:
    h.refuse_next()
    with pytest.raises(ConnectorError) as caught:
        _call(h.telephony)
    assert not isinstance(caught.value, ConnectorTimeout)


def a_timeout_is_connector_timeout(h: Harness) -> None:
    with pytest.raises(ConnectorTimeout):
        _call(h.timing_out)


CHECKS = [
    places_a_call_to_the_number_and_returns_its_id,
    each_call_has_its_own_id,
    a_refusal_is_a_connector_error,
    a_timeout_is_connector_timeout,
]
