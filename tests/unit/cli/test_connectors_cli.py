"""``deskguard connectors list|check``: every port with its adapter, and health that fails the command."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from deskguard.cli import connectors
from deskguard.cli.main import app
from deskguard.domain.errors import ConnectorTimeout
from deskguard.domain.ports import Health

runner = CliRunner()


class _Down:
    name = "ldap"

    def health(self) -> Health:
        raise ConnectorTimeout("ldap://127.0.0.1:1 did not answer in time")


class _Up:
    def health(self) -> Health:
        return Health(ok=True, detail="bound as cn=deskguard")


def test_list_names_every_port_of_a_demo_environment(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("DESKGUARD_DEMO", "true")
    monkeypatch.setenv("DESKGUARD_DATABASE_URL", f"sqlite:///{tmp_path / 'dg.db'}")
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["connectors", "list"], terminal_width=200)
    assert result.exit_code == 0, result.output
    for port in ("idp", "telephony", "push", "idv", "notifier", "response_notifier", "ticketing"):
        assert port in result.output
    assert "FakeIdentityProvider" in result.output


def test_check_fails_when_an_adapter_does_not_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(connectors, "_adapters", lambda: [("idp", _Down()), ("notifier", _Up())])
    result = runner.invoke(app, ["connectors", "check"], terminal_width=200)
    assert result.exit_code == 1
    assert "FAILING: ldap://127.0.0.1:1 did not answer in time" in result.output
    assert "ok: bound as cn=deskguard" in result.output
    monkeypatch.setattr(connectors, "_adapters", lambda: [("notifier", _Up()), ("push", object())])
    result = runner.invoke(app, ["connectors", "check"], terminal_width=200)
    assert result.exit_code == 0 and "no health check" in result.output
