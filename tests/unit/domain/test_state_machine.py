"""The request state machine: only listed transitions, terminal states are final, stable codes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deskguard.domain.actions import ActionKind
from deskguard.domain.errors import InvalidTransition
from deskguard.domain.requests import (
    TERMINAL,
    TRANSITIONS,
    ActionRequest,
    RequestOrigin,
    RequestState,
    check_transition,
    params_hash,
)

T0 = datetime(2026, 12, 1, 9, tzinfo=UTC)


def request(state: RequestState = RequestState.DRAFT) -> ActionRequest:
    return ActionRequest(
        id="req_1",
        tenant_id="t",
        kind=ActionKind.RESET_MFA,
        person_id="p",
        requester_id="o",
        origin=RequestOrigin.AGENT,
        ticket_id=None,
        justification="",
        params={},
        params_hash="h",
        state=state,
        created_at=T0,
        updated_at=T0,
        expires_at=T0 + timedelta(hours=1),
    )


def test_every_state_has_a_row_and_terminal_states_have_no_exit() -> None:
    assert set(TRANSITIONS) == set(RequestState)
    for state in TERMINAL:
        assert TRANSITIONS[state] == frozenset()


def test_the_happy_path_is_allowed() -> None:
    r = request()
    for target in (
        RequestState.PENDING_VERIFICATION,
        RequestState.PENDING_APPROVAL,
        RequestState.READY,
        RequestState.EXECUTING,
        RequestState.EXECUTED,
    ):
        r = r.moved(target, at=T0)
    assert r.state == RequestState.EXECUTED and r.version == 6 and r.terminal


def test_an_invalid_transition_names_both_states_in_a_stable_code() -> None:
    with pytest.raises(InvalidTransition) as err:
        request(RequestState.PENDING_VERIFICATION).moved(RequestState.EXECUTED, at=T0)
    assert err.value.code == "invalid_transition.pending_verification_to_executed"
    assert err.value.details == {"from": "pending_verification", "to": "executed"}


@given(st.sampled_from(list(RequestState)), st.sampled_from(list(RequestState)))
def test_check_transition_agrees_with_the_table(current: RequestState, target: RequestState) -> None:
    if target in TRANSITIONS[current]:
        check_transition(current, target)
    else:
        with pytest.raises(InvalidTransition):
            check_transition(current, target)


@given(st.lists(st.sampled_from(list(RequestState)), max_size=12))
def test_no_walk_leaves_a_terminal_state_or_skips_execution(walk: list[RequestState]) -> None:
    r = request()
    for target in walk:
        try:
            r = r.moved(target, at=T0)
        except InvalidTransition:
            continue
    if r.state == RequestState.EXECUTED:
        assert RequestState.EXECUTING in walk  # nothing reaches executed without being claimed


def test_params_hash_changes_with_any_parameter() -> None:
    base = dict(
        tenant_id="t",
        kind=ActionKind.GRANT_PRIVILEGE,
        person_id="p",
        ticket_id="k",
        params={"group": "admins", "duration_minutes": 60},
    )
    h = params_hash(**base)
    assert h == params_hash(**base)
    assert h != params_hash(**{**base, "params": {"group": "admins", "duration_minutes": 61}})
    assert h != params_hash(**{**base, "person_id": "q"})
    assert h != params_hash(**{**base, "ticket_id": None})
