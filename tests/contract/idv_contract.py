"""The contract every ``IdentityVerification`` honours, run for the fake and for Veriff.

A ``Harness`` wraps one implementation: the adapter, the sessions the far end holds (session id,
tenant), and ``timing_out``, an adapter whose far end never answers in time, with the number of
attempts it made. Creating a session is not idempotent: a timeout is never repeated. Each session
comes with the person's own link (``IdvSession.url``), never shown by its ``repr``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from samples import person

from deskguard.domain.errors import ConnectorTimeout
from deskguard.domain.ports import IdentityVerification


@dataclass
class Harness:
    idv: IdentityVerification
    sessions: Callable[[], list[tuple[str, str]]]  # (session id, tenant) the far end holds
    timing_out: IdentityVerification
    attempts: Callable[[], int]  # how many times ``timing_out`` reached its far end


def returns_the_session_the_far_end_holds(h: Harness) -> None:
    session = h.idv.start(tenant_id="t-acme", person=person(), reference="req_1")
    sid = session.session_id
    assert isinstance(sid, str) and 0 < len(sid) <= 64  # fits the webhook's session_id
    assert h.sessions() == [(sid, "t-acme")]


def gives_the_persons_link_and_keeps_it_out_of_the_repr(h: Harness) -> None:
    session = h.idv.start(tenant_id="t-acme", person=person(), reference="req_1")
    assert session.url.startswith(("https://", "/demo/idv/"))  # Veriff's hosted flow; the fake's page
    assert session.url not in repr(session)  # a log line of the session never carries the link
    assert session.expires_at is None or session.expires_at.tzinfo is not None


def each_start_is_a_new_session(h: Harness) -> None:
    first = h.idv.start(tenant_id="t-acme", person=person(), reference="req_1")
    second = h.idv.start(tenant_id="t-acme", person=person(), reference="req_1")
    assert first.session_id != second.session_id
    assert first.url != second.url  # each link is its own bearer secret
    assert [s for s, _ in h.sessions()] == [first.session_id, second.session_id]


def a_timeout_is_a_connector_timeout_and_is_not_repeated(h: Harness) -> None:
    with pytest.raises(ConnectorTimeout):
        h.timing_out.start(tenant_id="t-acme", person=person(), reference="req_1")
    assert h.attempts() == 1


CHECKS = [
    returns_the_session_the_far_end_holds,
    gives_the_persons_link_and_keeps_it_out_of_the_repr,
    each_start_is_a_new_session,
    a_timeout_is_a_connector_timeout_and_is_not_repeated,
]
