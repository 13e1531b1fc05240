"""The per-tenant connector repository on SQLite and PostgreSQL: upsert, scoping, removal."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from deskguard.domain.connectors import TenantConnector
from deskguard.domain.ports import UnitOfWorkFactory

AT = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


def _row(tenant: str, name: str = "idp", kind: str = "ldap", **settings: str) -> TenantConnector:
    return TenantConnector(
        tenant_id=tenant, name=name, kind=kind, settings=settings, updated_at=AT, updated_by="op"
    )


def test_put_replaces_and_reads_are_scoped_by_tenant(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        uow.connectors.put(_row("t_a", url="ldap://a"))
        uow.connectors.put(_row("t_b", kind="okta", org_url="https://b.okta.com"))
        uow.connectors.put(_row("t_a", name="ticketing", kind="glpi", url="https://glpi.a"))
        uow.commit()
    later = datetime(2026, 12, 3, 11, 0, tzinfo=UTC)
    with uow_factory() as uow:
        uow.connectors.put(replace(_row("t_a", url="ldap://a2"), updated_at=later))
        uow.commit()
    with uow_factory() as uow:
        got = uow.connectors.get(tenant_id="t_a", name="idp")
        assert got is not None and got.settings == {"url": "ldap://a2"} and got.updated_at == later
        assert [c.name for c in uow.connectors.list(tenant_id="t_a")] == ["idp", "ticketing"]
        assert [c.kind for c in uow.connectors.list(tenant_id="t_b")] == ["okta"]
        assert uow.connectors.get(tenant_id="t_b", name="ticketing") is None
        assert list(uow.connectors.tenants()) == ["t_a", "t_b"]


def test_remove_says_whether_there_was_a_row(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        uow.connectors.put(_row("t_a"))
        uow.commit()
    with uow_factory() as uow:
        assert uow.connectors.remove(tenant_id="t_b", name="idp") is False  # another tenant's: untouched
        assert uow.connectors.remove(tenant_id="t_a", name="idp") is True
        uow.commit()
    with uow_factory() as uow:
        assert uow.connectors.get(tenant_id="t_a", name="idp") is None
