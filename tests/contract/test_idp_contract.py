"""The IdentityProvider contract, run against the in-memory fake (the LDAP run is in integration)."""

from __future__ import annotations

import pytest
from idp_contract import (  # noqa: F401 - the imported tests run here
    IdpHarness,
    test_contract_a_replayed_key_returns_the_first_result_and_acts_once,
    test_contract_an_unknown_action_is_a_connector_error,
    test_contract_health_returns_health,
    test_contract_reset_returns_a_secret_never_in_the_summary,
)

from deskguard.adapters.idp.fake import FakeIdentityProvider
from deskguard.adapters.system import SeededRandomness
from deskguard.domain.model import Person


@pytest.fixture
def idp_harness() -> IdpHarness:
    idp = FakeIdentityProvider(randomness=SeededRandomness(7))
    person = Person(id="p-1", tenant_id="t-1", employee_id="E1", email="ana@example.org", display_name="Ana")
    return IdpHarness(
        provider=idp,
        person=person,
        # the fake keeps no password, only how many times one was set: one reset, one generation
        secret_is_current=lambda _result: (
            idp.account(tenant_id="t-1", person_id="p-1").password_generation == 1
        ),
    )
