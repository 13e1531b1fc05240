"""The contract every ``Ticketing`` adapter honours, run for the fake and for each real adapter.

A ``Harness`` wraps one implementation: the adapter, a ticket that exists and one it must not find
(for the fake: a ticket of another tenant), the comments that reached the far end, and two
switches: ``refuse_next()`` makes the far end refuse the next write with ``refusal`` (the vendor's
own words, which the ``ConnectorError`` must carry), ``timing_out`` is an adapter whose far end
never answers a write in time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from deskguard.domain.errors import ConnectorError, ConnectorTimeout
from deskguard.domain.ports import Ticketing

TENANT = "acme"
TEXT = "deskguard: MFA reset held; the caller failed the call-back to the registered number."


@dataclass
class Harness:
    ticketing: Ticketing
    existing: str  # a ticket reference the far end knows
    unknown: str  # one it does not (for this tenant)
    comments: Callable[[], list[tuple[str, str]]]  # (ticket as the far end names it, text)
    refuse_next: Callable[[], None]
    refusal: str  # words of the far end's refusal
    timing_out: Ticketing
    opened: Callable[[], list[tuple[str, str]]]  # (title, text) of tickets opened


def _comment(h: Harness, t: Ticketing | None = None, *, ref: str | None = None, key: str = "rsp_1:0") -> str:
    return (t or h.ticketing).comment(
        tenant_id=TENANT, ticket_ref=ref or h.existing, text=TEXT, idempotency_key=key
    )


def a_comment_reaches_the_ticket_and_returns_a_reference(h: Harness) -> None:
    ref = _comment(h)
    assert isinstance(ref, str) and ref
    assert [text for _, text in h.comments()] == [TEXT]


def the_same_key_acts_once(h: Harness) -> None:
    first = _comment(h)
    assert _comment(h) == first and len(h.comments()) == 1
    assert _comment(h, key="rsp_1:1") != first and len(h.comments()) == 2


def a_refusal_is_a_connector_error_with_the_vendors_words(h: Harness) -> None:
    h.refuse_next()
    with pytest.raises(ConnectorError) as refused:
        _comment(h)
    assert h.refusal in str(refused.value)
    assert h.comments() == []
    assert _comment(h) and len(h.comments()) == 1  # a refusal is not remembered against the key


def a_timeout_is_a_connector_timeout(h: Harness) -> None:
    with pytest.raises(ConnectorTimeout):
        _comment(h, h.timing_out)


def an_unknown_ticket_is_a_connector_error(h: Harness) -> None:
    with pytest.raises(ConnectorError):
        _comment(h, ref=h.unknown)
    assert h.comments() == []


def open_returns_a_reference_once_per_key(h: Harness) -> None:
    def open_(key: str) -> str:
        return h.ticketing.open(tenant_id=TENANT, title="Takeover chain", text=TEXT, idempotency_key=key)

    first = open_("rsp_2:0")
    assert isinstance(first, str) and first
    assert open_("rsp_2:0") == first and h.opened() == [("Takeover chain", TEXT)]


CHECKS = [
    a_comment_reaches_the_ticket_and_returns_a_reference,
    the_same_key_acts_once,
    a_refusal_is_a_connector_error_with_the_vendors_words,
    a_timeout_is_a_connector_timeout,
    an_unknown_ticket_is_a_connector_error,
    open_returns_a_reference_once_per_key,
]
