"""The IdentityProvider contract: what the fake and every real identity-provider adapter honour.

Not collected by itself (no ``test_`` prefix). A test module imports these functions and defines an
``idp_harness`` fixture giving the provider, a person the provider knows, and a probe that says
whether the secret of a reset is the person's current password (so "acted once" is observable).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from deskguard.domain.actions import ActionKind
from deskguard.domain.errors import ConnectorError
from deskguard.domain.model import Person
from deskguard.domain.ports import ExecutionResult, Health, IdentityProvider

RESET: dict[str, Any] = {"force_change_at_next_sign_in": True, "deliver_to": "verified_channel"}
_keys = itertools.count()


@dataclass(frozen=True, slots=True)
class IdpHarness:
    provider: IdentityProvider
    person: Person
    secret_is_current: Callable[[ExecutionResult], bool]


def _key(prefix: str) -> str:
    return f"contract-{prefix}-{next(_keys)}"


def _reset(h: IdpHarness, key: str) -> ExecutionResult:
    return h.provider.execute(
        tenant_id=h.person.tenant_id,
        person=h.person,
        kind=ActionKind.RESET_PASSWORD,
        params=RESET,
        idempotency_key=key,
    )


def test_contract_reset_returns_a_secret_never_in_the_summary(idp_harness: IdpHarness) -> None:
    result = _reset(idp_harness, _key("reset"))
    assert result.secret and len(result.secret) >= 12
    assert result.secret_kind == "temporary_password"
    assert result.secret not in repr(result.summary)
    assert idp_harness.secret_is_current(result)


def test_contract_a_replayed_key_returns_the_first_result_and_acts_once(idp_harness: IdpHarness) -> None:
    key = _key("replay")
    first = _reset(idp_harness, key)
    again = _reset(idp_harness, key)
    assert again == first
    assert idp_harness.secret_is_current(first)  # a second reset would have set another password


def test_contract_an_unknown_action_is_a_connector_error(idp_harness: IdpHarness) -> None:
    with pytest.raises(ConnectorError):
        idp_harness.provider.execute(
            tenant_id=idp_harness.person.tenant_id,
            person=idp_harness.person,
            kind="teleport_account",  # type: ignore[arg-type]
            params={},
            idempotency_key=_key("unknown"),
        )


def test_contract_health_returns_health(idp_harness: IdpHarness) -> None:
    health = idp_harness.provider.health()
    assert isinstance(health, Health)
    assert health.ok, health.detail
    assert isinstance(idp_harness.provider.name, str) and idp_harness.provider.name


CONTRACT = (
    test_contract_reset_returns_a_secret_never_in_the_summary,
    test_contract_a_replayed_key_returns_the_first_result_and_acts_once,
    test_contract_an_unknown_action_is_a_connector_error,
    test_contract_health_returns_health,
)
