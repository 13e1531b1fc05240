"""`deskguard accounts create|reset`: the credentials it prints sign in to the console, once enrolled."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from deskguard.adapters.system import SeededRandomness
from deskguard.bootstrap import build, http_app
from deskguard.cli.main import app
from deskguard.domain.otp import totp
from deskguard.settings import load_settings
from deskguard.sim.demo import seed_demo


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'accounts.db'}"
    settings = load_settings(database_url=url, demo=True, witness_dir=tmp_path / "witness")
    runtime = build(settings, randomness=SeededRandomness(4), migrate=True)
    seed_demo(runtime.ctx)
    runtime.engine.dispose()
    monkeypatch.setenv("DESKGUARD_DATABASE_URL", url)
    monkeypatch.setenv("DESKGUARD_DEMO", "true")
    monkeypatch.setenv("DESKGUARD_WITNESS_DIR", str(tmp_path / "witness"))
    return url


def _credentials(output: str) -> tuple[str, str]:
    password = re.search(r"password: (\S+)", output)
    secret = re.search(r"secret=([A-Z2-7]+)", output)
    assert password and secret, output
    return password.group(1), secret.group(1)


def _signs_in(url: str, login: str, password: str, secret: str) -> bool:
    runtime = build(load_settings(database_url=url, demo=True))
    try:
        browser = TestClient(http_app(runtime), base_url="https://console.test", follow_redirects=False)
        if browser.post("/login", data={"login": login, "password": password}).status_code != 303:
            return False
        seed = base64.b32decode(secret + "=" * (-len(secret) % 8))
        code = totp(seed, runtime.ctx.clock.now().timestamp())
        return browser.post("/login/totp", data={"code": code}).status_code == 303
    finally:
        runtime.engine.dispose()


def test_an_enrolled_person_signs_in_with_what_was_printed(env: str) -> None:
    runner = CliRunner()
    made = runner.invoke(
        app,
        [
            "accounts",
            "create",
            "eve.person5@acme.example",
            "--person",
            "per_acme_005",
            "--tenant",
            "tnt_acme",
        ],
    )
    assert made.exit_code == 0, made.output
    password, secret = _credentials(made.output)
    assert _signs_in(env, "eve.person5@acme.example", password, secret)
    again = runner.invoke(
        app, ["accounts", "create", "other@acme.example", "--person", "per_acme_005", "--tenant", "tnt_acme"]
    )
    assert again.exit_code == 1 and "already has a console account" in again.output


def test_a_reset_replaces_the_credentials(env: str) -> None:
    runner = CliRunner()
    reset = runner.invoke(app, ["accounts", "reset", "alice.agent@desk.example"])
    assert reset.exit_code == 0, reset.output
    password, secret = _credentials(reset.output)
    assert _signs_in(env, "alice.agent@desk.example", password, secret)
    assert not _signs_in(env, "alice.agent@desk.example", "deskguard-demo", secret)


def test_bad_enrolments_are_refused_with_the_reason(env: str) -> None:
    runner = CliRunner()
    unknown = runner.invoke(app, ["accounts", "create", "x@desk.example", "--operator", "op_nobody"])
    assert unknown.exit_code == 1 and "no operator 'op_nobody'" in unknown.output
    both = runner.invoke(app, ["accounts", "create", "x@desk.example", "--operator", "a", "--person", "b"])
    assert both.exit_code == 2 and "exactly one" in both.output
