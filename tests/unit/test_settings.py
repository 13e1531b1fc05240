"""Settings: placeholders refused outside demo mode, keys validated, the embedded default."""

from __future__ import annotations

import base64

import pytest

from deskguard.domain.errors import ConfigurationError
from deskguard.settings import DEMO_MASTER_KEY, load_settings

REAL_KEY = base64.urlsafe_b64encode(bytes(range(32))).decode()


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "DESKGUARD_MASTER_KEY",
        "DESKGUARD_WEBHOOK_SECRET",
        "DESKGUARD_DEMO",
        "DESKGUARD_DATABASE_URL",
    ):
        monkeypatch.delenv(name, raising=False)


def test_placeholders_are_refused_outside_demo_mode() -> None:
    with pytest.raises(ConfigurationError) as err:
        load_settings()
    assert "DESKGUARD_MASTER_KEY" in err.value.message
    with pytest.raises(ConfigurationError):
        load_settings(master_key=DEMO_MASTER_KEY, webhook_secret="s3cret-webhook")  # the demo key is public
    with pytest.raises(ConfigurationError) as webhook:
        load_settings(master_key=REAL_KEY)
    assert "DESKGUARD_WEBHOOK_SECRET" in webhook.value.message


def test_demo_mode_accepts_placeholders_and_defaults_to_embedded_sqlite() -> None:
    settings = load_settings(demo=True)
    assert settings.database_url == "sqlite:///./var/deskguard.db"
    assert len(settings.master_key_bytes()) == 32


def test_real_secrets_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DESKGUARD_MASTER_KEY", REAL_KEY)
    monkeypatch.setenv("DESKGUARD_WEBHOOK_SECRET", "a-long-webhook-secret")
    monkeypatch.setenv("DESKGUARD_DATABASE_URL", "postgresql://postgres@127.0.0.1/test")
    settings = load_settings()
    assert settings.master_key_bytes() == bytes(range(32))
    assert settings.database_url.startswith("postgresql://")


def test_a_short_or_malformed_master_key_is_a_clear_error() -> None:
    short = base64.urlsafe_b64encode(b"too short").decode()
    with pytest.raises(ConfigurationError) as err:
        load_settings(master_key=short, webhook_secret="x" * 20).master_key_bytes()
    assert "32 bytes" in err.value.message
    with pytest.raises(ConfigurationError):
        load_settings(master_key="not base64 !!!", webhook_secret="x" * 20).master_key_bytes()
