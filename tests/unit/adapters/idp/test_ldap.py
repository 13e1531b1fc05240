"""The LDAP connector's Active Directory branch (against ldap3's MOCK_SYNC strategy: no AD runs here)
and its settings. The OpenLDAP branch runs against a real slapd in tests/integration."""

from __future__ import annotations

from pathlib import Path

import pytest
from ldap3 import MOCK_SYNC, OFFLINE_AD_2012_R2, Connection, Server
from pydantic import ValidationError

from deskguard.adapters.idp.ldap import LdapIdentityProvider, temporary_password
from deskguard.adapters.idp.ldap_settings import LdapFlavour, LdapSettings
from deskguard.adapters.system import SeededRandomness, SystemClock
from deskguard.bootstrap_idp import identity_provider
from deskguard.domain.actions import ActionKind, ResponseAction
from deskguard.domain.errors import ConfigurationError, ConnectorError
from deskguard.domain.model import Person
from deskguard.settings import load_settings

SVC, ANA = "CN=svc,DC=corp,DC=example", "CN=Ana,OU=People,DC=corp,DC=example"
PERSON = Person(id="p-1", tenant_id="t-1", employee_id="E1", email="ana@corp.example", display_name="Ana")


def _settings(tmp_path: Path, **overrides: object) -> LdapSettings:
    secret = tmp_path / "svc.secret"
    secret.write_text("svcpw\n")
    values: dict[str, object] = {
        "url": "ldaps://dc1.corp.example",
        "bind_dn": SVC,
        "bind_password": f"file://{secret}",
        "base_dn": "DC=corp,DC=example",
        "group_base_dn": "OU=Groups,DC=corp,DC=example",
        "flavour": LdapFlavour.ACTIVE_DIRECTORY,
    } | overrides
    return LdapSettings.model_validate(values)


@pytest.fixture
def ad(tmp_path: Path) -> tuple[LdapIdentityProvider, Connection]:
    conn = Connection(
        Server("dc1", get_info=OFFLINE_AD_2012_R2),
        user=SVC,
        password="svcpw",
        client_strategy=MOCK_SYNC,
        raise_exceptions=False,
    )
    conn.strategy.add_entry(SVC, {"objectClass": "user", "userPassword": "svcpw", "sAMAccountName": "svc"})
    conn.strategy.add_entry(
        ANA,
        {
            "objectClass": ["top", "person", "user"],
            "mail": "ana@corp.example",
            "sAMAccountName": "ana",
            "cn": "Ana",
            "userAccountControl": "512",
            "lockoutTime": "133000000000000000",
        },
    )
    provider = LdapIdentityProvider(
        _settings(tmp_path), randomness=SeededRandomness(3), connection_factory=lambda: conn
    )
    return provider, conn


def _attrs(conn: Connection, names: list[str]) -> dict[str, list[bytes]]:
    conn.bind()  # the connector unbinds after each action
    conn.search(ANA, "(objectClass=*)", attributes=names)
    return conn.response[0]["raw_attributes"]


def test_ad_reset_writes_unicode_pwd_quoted_utf16_and_forces_a_change(
    ad: tuple[LdapIdentityProvider, Connection],
) -> None:
    provider, conn = ad
    result = provider.execute(
        tenant_id="t-1",
        person=PERSON,
        kind=ActionKind.RESET_PASSWORD,
        params={"force_change_at_next_sign_in": True},
        idempotency_key="k1",
    )
    assert result.secret and result.secret_kind == "temporary_password"
    assert result.summary["method"] == "unicodePwd" and result.secret not in repr(result.summary)
    raw = _attrs(conn, ["unicodePwd", "pwdLastSet"])
    assert raw["unicodePwd"] == [f'"{result.secret}"'.encode("utf-16-le")]
    assert raw["pwdLastSet"] == [b"0"]


def test_ad_suspend_sets_accountdisable_and_unlock_clears_lockout(
    ad: tuple[LdapIdentityProvider, Connection],
) -> None:
    provider, conn = ad
    provider.execute(
        tenant_id="t-1", person=PERSON, kind=ResponseAction.SUSPEND_ACCOUNT, params={}, idempotency_key="s"
    )
    assert _attrs(conn, ["userAccountControl"])["userAccountControl"] == [b"514"]
    provider.execute(
        tenant_id="t-1", person=PERSON, kind=ActionKind.UNLOCK_ACCOUNT, params={}, idempotency_key="u"
    )
    assert _attrs(conn, ["lockoutTime"])["lockoutTime"] == [b"0"]


def test_ad_unknown_person_is_a_connector_error(ad: tuple[LdapIdentityProvider, Connection]) -> None:
    provider, _ = ad
    stranger = Person(id="p-2", tenant_id="t-1", employee_id="E2", email="x@corp.example", display_name="X")
    with pytest.raises(ConnectorError, match="no directory entry"):
        provider.execute(
            tenant_id="t-1", person=stranger, kind=ActionKind.UNLOCK_ACCOUNT, params={}, idempotency_key="x"
        )


def test_settings_refuse_an_inline_password_and_ad_without_encryption(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="reference"):
        _settings(tmp_path, bind_password="hunter2")
    with pytest.raises(ValidationError, match="ldaps"):
        _settings(tmp_path, url="ldap://dc1.corp.example")
    assert _settings(tmp_path, url="ldap://dc1.corp.example", start_tls=True).start_tls
    with pytest.raises(ValidationError, match="ldap://"):
        _settings(tmp_path, url="http://dc1")
    with pytest.raises(ValidationError, match="attribute"):
        _settings(tmp_path, user_attribute="mail)(uid=*")
    assert _settings(tmp_path, url="ldaps://dc1:636/").url == "ldaps://dc1:636"


def test_an_unset_secret_fails_when_the_connector_is_built(tmp_path: Path) -> None:
    settings = _settings(tmp_path, bind_password="env://DESKGUARD_TEST_UNSET_LDAP_PW")
    with pytest.raises(ConfigurationError, match="ldap.bind_password"):
        LdapIdentityProvider(settings, randomness=SeededRandomness(1))


def test_temporary_passwords_hold_every_class_and_differ() -> None:
    rnd = SeededRandomness(11)
    passwords = {temporary_password(rnd) for _ in range(200)}
    assert len(passwords) == 200
    for p in passwords:
        assert len(p) == 20
        assert any(c.isupper() for c in p) and any(c.islower() for c in p)
        assert any(c.isdigit() for c in p) and any(not c.isalnum() for c in p)


def test_the_composition_root_uses_ldap_when_its_url_is_set(tmp_path: Path) -> None:
    secret = tmp_path / "svc.secret"
    secret.write_text("svcpw\n")
    values = {
        "demo": True,
        "ldap_url": "ldap://127.0.0.1:1389",
        "ldap_bind_dn": "cn=admin,dc=example,dc=org",
        "ldap_bind_password": f"file://{secret}",
        "ldap_base_dn": "ou=people,dc=example,dc=org",
    }
    rnd = SeededRandomness(1)
    connector = identity_provider(load_settings(**values), clock=SystemClock(), randomness=rnd)
    assert connector is not None and isinstance(connector.idp, LdapIdentityProvider)
    assert identity_provider(load_settings(demo=True), clock=SystemClock(), randomness=rnd) is None
    with pytest.raises(ConfigurationError, match="DESKGUARD_LDAP_URL"):
        identity_provider(
            load_settings(**values | {"ldap_url": "http://x"}), clock=SystemClock(), randomness=rnd
        )
    with pytest.raises(ConfigurationError, match="DESKGUARD_LDAP_BIND_PASSWORD"):
        identity_provider(
            load_settings(**values | {"ldap_bind_password": "inline"}), clock=SystemClock(), randomness=rnd
        )
