"""The LDAP connector against a real, private OpenLDAP (slapd with the ppolicy overlay).

A session fixture writes a slapd.conf in a temporary folder, seeds it offline with slapadd, runs
``slapd -d 0`` in the foreground on a free loopback port, and stops it at the end. Without slapd the
module is skipped, unless CI=true (``.ci/run`` installs slapd and ldap-utils), where it fails.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from ldap3 import BASE, Connection, Server

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "contract"))

from idp_contract import (  # noqa: E402, F401 - the shared contract runs here too
    IdpHarness,
    test_contract_a_replayed_key_returns_the_first_result_and_acts_once,
    test_contract_an_unknown_action_is_a_connector_error,
    test_contract_health_returns_health,
    test_contract_reset_returns_a_secret_never_in_the_summary,
)

from deskguard.adapters.idp.ldap import PASSWORD_MODIFY_OID, LdapIdentityProvider  # noqa: E402
from deskguard.adapters.idp.ldap_settings import LdapSettings  # noqa: E402
from deskguard.adapters.system import SystemRandomness  # noqa: E402
from deskguard.domain.actions import ActionKind, ResponseAction  # noqa: E402
from deskguard.domain.errors import ConnectorError, ConnectorTimeout  # noqa: E402
from deskguard.domain.model import Person  # noqa: E402
from slapd_server import (  # noqa: E402
    ADMIN_DN,
    ADMIN_PW,
    ALICE_DN,
    ALICE_PW,
    BOB_DN,
    GROUPS,
    PEOPLE,
    Slapd,
    free_port,
    running_slapd,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slapd]:
    with running_slapd(tmp_path_factory.mktemp("slapd")) as server:
        yield server


def _settings(
    slapd: Slapd, *, password: str = ADMIN_PW, url: str | None = None, name: str = "pw"
) -> LdapSettings:
    secret = slapd.folder / f"{name}.secret"
    secret.write_text(password + "\n")
    return LdapSettings(
        url=url or slapd.url,
        bind_dn=ADMIN_DN,
        bind_password=f"file://{secret}",
        base_dn=PEOPLE,
        group_base_dn=GROUPS,
        connect_timeout_s=1,
        operation_timeout_s=5,
    )


@pytest.fixture(scope="session")
def ldap(slapd: Slapd) -> LdapIdentityProvider:
    return LdapIdentityProvider(_settings(slapd), randomness=SystemRandomness())


def _person(email: str) -> Person:
    return Person(id=f"p-{email}", tenant_id="t-1", employee_id=email, email=email, display_name=email)


ALICE, BOB = _person("alice@example.org"), _person("bob@example.org")


def _binds(slapd: Slapd, dn: str, password: str) -> bool:
    conn = Connection(Server(slapd.url, connect_timeout=1), user=dn, password=password)
    try:
        return bool(conn.bind())
    finally:
        conn.unbind()


def _admin(slapd: Slapd) -> Connection:
    return Connection(Server(slapd.url), user=ADMIN_DN, password=ADMIN_PW, auto_bind=True)


def _run(
    ldap: LdapIdentityProvider, person: Person, kind: ActionKind | ResponseAction, key: str, **params: object
):
    return ldap.execute(tenant_id="t-1", person=person, kind=kind, params=dict(params), idempotency_key=key)


def _reset(ldap: LdapIdentityProvider, person: Person, key: str):
    return _run(ldap, person, ActionKind.RESET_PASSWORD, key, force_change_at_next_sign_in=True)


@pytest.fixture
def idp_harness(ldap: LdapIdentityProvider, slapd: Slapd) -> IdpHarness:
    return IdpHarness(
        provider=ldap,
        person=BOB,
        secret_is_current=lambda result: _binds(slapd, BOB_DN, result.secret or ""),
    )


def test_reset_sets_a_password_that_binds_and_the_old_one_no_longer_does(
    ldap: LdapIdentityProvider, slapd: Slapd
) -> None:
    assert _binds(slapd, ALICE_DN, ALICE_PW)
    result = _reset(ldap, ALICE, "reset-1")
    assert result.secret and result.secret_kind == "temporary_password"
    assert result.summary["password_changed"] is True and result.summary["method"] == "rfc3062"
    assert result.secret not in repr(result.summary)
    assert _binds(slapd, ALICE_DN, result.secret)
    assert not _binds(slapd, ALICE_DN, ALICE_PW)
    conn = _admin(slapd)  # pwdMustChange: ppolicy marks an administrative change for a change at sign-in
    conn.search(ALICE_DN, "(objectClass=*)", BASE, attributes=["pwdReset"])
    assert conn.entries[0].pwdReset.value is True
    conn.unbind()


def test_a_repeated_key_does_not_change_the_password_twice(ldap: LdapIdentityProvider, slapd: Slapd) -> None:
    first = _reset(ldap, ALICE, "reset-twice")
    again = _reset(ldap, ALICE, "reset-twice")
    assert again.secret == first.secret
    assert _binds(slapd, ALICE_DN, first.secret or "")
    other = _reset(ldap, ALICE, "reset-other")  # a new key acts again
    assert other.secret != first.secret and _binds(slapd, ALICE_DN, other.secret or "")
    assert not _binds(slapd, ALICE_DN, first.secret or "")


def test_lock_makes_the_bind_fail_and_unlock_clears_it(ldap: LdapIdentityProvider, slapd: Slapd) -> None:
    password = _reset(ldap, ALICE, "reset-before-lock").secret or ""
    assert _run(ldap, ALICE, ResponseAction.SUSPEND_ACCOUNT, "lock-1").summary["suspended"] is True
    assert not _binds(slapd, ALICE_DN, password)  # the right password, refused while locked
    unlocked = _run(ldap, ALICE, ActionKind.UNLOCK_ACCOUNT, "unlock-1")
    assert unlocked.summary == {"unlocked": True, "was_locked": True, "dn": ALICE_DN}
    assert _binds(slapd, ALICE_DN, password)
    again = _run(ldap, ALICE, ActionKind.UNLOCK_ACCOUNT, "unlock-2")  # nothing to unlock: still fine
    assert again.summary["was_locked"] is False


def test_unlock_clears_a_lock_from_failed_binds(ldap: LdapIdentityProvider, slapd: Slapd) -> None:
    password = _reset(ldap, ALICE, "reset-before-failures").secret or ""
    for _ in range(3):
        assert not _binds(slapd, ALICE_DN, "wrong")
    assert not _binds(slapd, ALICE_DN, password)  # ppolicy locked it after pwdMaxFailure
    _run(ldap, ALICE, ActionKind.UNLOCK_ACCOUNT, "unlock-failures")
    assert _binds(slapd, ALICE_DN, password)


def test_grant_adds_the_person_to_the_group_and_records_the_duration(
    ldap: LdapIdentityProvider, slapd: Slapd
) -> None:
    result = _run(ldap, ALICE, ActionKind.GRANT_PRIVILEGE, "grant-1", group="admins", duration_minutes=60)
    assert result.summary["group_added"] == "admins" and result.summary["duration_minutes"] == 60
    conn = _admin(slapd)
    conn.search(f"cn=admins,{GROUPS}", "(objectClass=*)", BASE, attributes=["member"])
    assert ALICE_DN in conn.entries[0].member.values
    conn.unbind()
    again = _run(ldap, ALICE, ActionKind.GRANT_PRIVILEGE, "grant-2", group="admins", duration_minutes=30)
    assert again.summary["already_member"] is True
    with pytest.raises(ConnectorError):
        _run(ldap, ALICE, ActionKind.GRANT_PRIVILEGE, "grant-3", group="no-such-group", duration_minutes=30)


def test_expiry_revokes_what_the_grant_added_and_a_second_revocation_is_a_success(
    ldap: LdapIdentityProvider, slapd: Slapd
) -> None:
    def members() -> set[str]:
        conn = _admin(slapd)
        conn.search(f"cn=dba,{GROUPS}", "(objectClass=*)", BASE, attributes=["member"])
        found = set(conn.entries[0].member.values)
        conn.unbind()
        return found

    _run(ldap, ALICE, ActionKind.GRANT_PRIVILEGE, "grant-dba", group="dba", duration_minutes=15)
    assert ALICE_DN in members()
    ended = _run(ldap, ALICE, ResponseAction.REVOKE_PRIVILEGE, "grant-dba:revoke_privilege", group="dba")
    assert ended.summary == {"group_removed": "dba", "group_dn": f"cn=dba,{GROUPS}", "was_member": True}
    assert ALICE_DN not in members() and BOB_DN in members()
    gone = _run(ldap, ALICE, ResponseAction.REVOKE_PRIVILEGE, "other-key", group="dba")
    assert gone.summary["was_member"] is False  # not a member any more: the revocation is done
    missing = _run(ldap, ALICE, ResponseAction.REVOKE_PRIVILEGE, "k-missing", group="no-such-group")
    assert missing.summary["was_member"] is False


def test_read_person_gives_phones_manager_and_privileged_groups(ldap: LdapIdentityProvider) -> None:
    bob = ldap.read_person("bob@example.org")
    assert bob.dn == BOB_DN and bob.privileged
    assert set(bob.privileged_groups) == {f"cn=admins,{GROUPS}", f"cn=dba,{GROUPS}"}
    alice = ldap.read_person("alice@example.org")
    assert alice.display_name == "Alice Martin" and alice.manager_dn == BOB_DN
    assert set(alice.phones) == {("office", "+33140000001"), ("mobile", "+33612345678")}


def test_an_unknown_person_is_a_connector_error(ldap: LdapIdentityProvider) -> None:
    with pytest.raises(ConnectorError, match="no directory entry"):
        _reset(ldap, _person("nobody@example.org"), "reset-nobody")
    with pytest.raises(ConnectorError, match="no directory entry"):
        ldap.read_person("nobody@example.org")


def test_a_wrong_service_password_is_a_connector_error(slapd: Slapd) -> None:
    wrong = LdapIdentityProvider(
        _settings(slapd, password="wrong", name="wrong"), randomness=SystemRandomness()
    )
    with pytest.raises(ConnectorError, match="service account bind refused") as caught:
        _reset(wrong, ALICE, "reset-wrong-service")
    assert not isinstance(caught.value, ConnectorTimeout)
    assert not wrong.health().ok


def test_an_unreachable_directory_is_a_timeout_fast(slapd: Slapd) -> None:
    dead = LdapIdentityProvider(
        _settings(slapd, url=f"ldap://127.0.0.1:{free_port()}"), randomness=SystemRandomness()
    )
    started = time.monotonic()
    with pytest.raises(ConnectorTimeout):
        _reset(dead, ALICE, "reset-dead")
    assert time.monotonic() - started < 3
    assert not dead.health().ok


def test_revoke_sessions_and_other_actions_are_refused_by_name(ldap: LdapIdentityProvider) -> None:
    with pytest.raises(ConnectorError, match="LDAP has no sessions") as caught:
        _run(ldap, ALICE, ActionKind.REVOKE_SESSIONS, "revoke-1")
    assert caught.value.code == "action_unsupported"
    with pytest.raises(ConnectorError, match="reset_mfa"):
        _run(ldap, ALICE, ActionKind.RESET_MFA, "mfa-1")


def test_health_reports_password_modify(ldap: LdapIdentityProvider) -> None:
    health = ldap.health()
    assert health.ok and PASSWORD_MODIFY_OID in health.detail and "supported" in health.detail
