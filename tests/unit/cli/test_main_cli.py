"""The deskguard command: demo seeding, db upgrade, configuration errors as one line and exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from deskguard.adapters.db.migrate import current_revision
from deskguard.cli.main import app

runner = CliRunner()


def test_demo_seed_only_writes_credentials_and_is_repeatable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DESKGUARD_DATABASE_URL", raising=False)
    first = runner.invoke(app, ["demo", "--seed-only"])
    assert first.exit_code == 0, first.output
    creds_path = tmp_path / "var" / "demo-credentials.json"
    creds = json.loads(creds_path.read_text())
    assert oct(creds_path.stat().st_mode & 0o777) == "0o600"
    assert len(creds["persons"]) == 50 and len(creds["operators"]) == 7
    assert {o["role"] for o in creds["operators"].values()} == {
        "agent",
        "supervisor",
        "analyst",
        "admin",
        "auditor",
    }
    assert (tmp_path / "var" / "deskguard.db").exists()
    again = runner.invoke(app, ["demo", "--seed-only"])
    assert again.exit_code == 0, again.output
    fresh = json.loads(creds_path.read_text())
    assert (
        fresh["operators"]["alice.agent@desk.example"]["token"]
        != creds["operators"]["alice.agent@desk.example"]["token"]
    )
    assert len(fresh["persons"]) == 50  # the organisation was not seeded twice


def test_db_upgrade_migrates_the_configured_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    monkeypatch.setenv("DESKGUARD_DATABASE_URL", url)
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert current_revision(url) is not None


def test_serve_refuses_placeholder_secrets_with_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DESKGUARD_MASTER_KEY", "DESKGUARD_WEBHOOK_SECRET", "DESKGUARD_DEMO"):
        monkeypatch.delenv(name, raising=False)
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == 2
    assert "DESKGUARD_MASTER_KEY is a placeholder" in result.output
    assert "Traceback" not in result.output
