"""Settings from the environment (``DESKGUARD_*``), validated once at start-up.

Secrets are never defaulted to something usable: the placeholders below are refused unless the
process runs in demo mode, where a fixed, documented demo key is acceptable because the data is fake.
"""

from __future__ import annotations

import base64
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from deskguard.domain.errors import ConfigurationError

PLACEHOLDER = "change-me"
DEMO_MASTER_KEY = base64.urlsafe_b64encode(b"deskguard-demo-master-key-32byte").decode()
REPO_ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DESKGUARD_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./var/deskguard.db",
        description="SQLAlchemy URL: sqlite:///path (embedded) or postgresql://…",
    )
    master_key: str = Field(
        default=PLACEHOLDER,
        description="base64 (url-safe) of at least 32 random bytes; seals secrets at rest",
    )
    webhook_secret: str = Field(default=PLACEHOLDER, description="HMAC key that signs provider webhooks")
    policy_path: Path = Field(default=REPO_ROOT / "content" / "policies" / "default.yml")
    # Detection content: Sigma rules, correlations and analytics (comma-separated folders or files)
    rules_paths: str = (
        str(REPO_ROOT / "content" / "rules") + "," + str(REPO_ROOT / "content" / "correlations")
    )
    detection_lateness_seconds: float = 300.0  # how late an event may arrive and still join a window
    baselines_persist_seconds: float = Field(default=60.0, gt=0)  # how often learned baselines are written
    runbooks_path: Path = Field(default=REPO_ROOT / "content" / "runbooks")
    pressure_model_path: Path | None = Field(default=REPO_ROOT / "content" / "models" / "pressure.json")
    # Geo-IP of src_ip: geoip2fast's bundled data, or MaxMind databases when a path is set
    geo_enabled: bool = True
    geoip_country_mmdb: Path | None = None  # GeoLite2/GeoIP2 Country or City .mmdb
    geoip_asn_mmdb: Path | None = None  # GeoLite2/GeoIP2 ASN .mmdb
    networks_path: Path | None = Field(default=REPO_ROOT / "content" / "networks" / "networks.yml")
    # PEM bundle of STIR/SHAKEN trust anchors (the STI-PA's list); unset: SIP Identity stays unverified
    stir_trust_anchors: Path | None = None
    detection_monitor_rules: str = ""  # comma-separated rule ids whose alerts are stored as monitor-only
    ingest_replay_window_seconds: float = 300.0  # signed webhooks older or newer than this are refused
    demo: bool = Field(default=False, description="demo mode: fake connectors, placeholder secrets allowed")
    ledger_origin: str = Field(
        default="deskguard.local", description="names each tenant's log in checkpoints"
    )
    witness_dir: Path = Field(
        default=Path("var") / "witness", description="where signed checkpoints are published"
    )
    witness_syslog: str = Field(
        default="", description="host:port of an RFC 5424 UDP collector for checkpoints"
    )
    witness_webhook_url: str = Field(
        default="", description="URL that receives each signed checkpoint (POST)"
    )
    checkpoint_every_records: int = Field(
        default=256, ge=1, description="sign a checkpoint after this many records"
    )
    checkpoint_every_seconds: float = Field(
        default=60.0, gt=0, description="... or this long after the last one"
    )
    host: str = "127.0.0.1"
    port: int = 8000
    max_body_bytes: int = 64 * 1024
    ingest_max_bytes: int = 8 * 1024 * 1024  # ingest batches and vendor pushes

    @model_validator(mode="after")
    def _syslog_address(self) -> Settings:
        if self.witness_syslog:
            host, _, port = self.witness_syslog.rpartition(":")
            if not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(f"DESKGUARD_WITNESS_SYSLOG must be host:port, not {self.witness_syslog!r}")
        return self

    @model_validator(mode="after")
    def _refuse_placeholders(self) -> Settings:
        if self.demo:
            return self
        for name in ("master_key", "webhook_secret"):
            if getattr(self, name) in ("", PLACEHOLDER, DEMO_MASTER_KEY):
                raise ValueError(
                    f"DESKGUARD_{name.upper()} is a placeholder; set a real secret "
                    "(demo mode alone accepts placeholders)"
                )
        return self

    def master_key_bytes(self) -> bytes:
        raw = DEMO_MASTER_KEY if self.demo and self.master_key == PLACEHOLDER else self.master_key
        try:
            key = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
        except ValueError as exc:
            raise ConfigurationError(f"DESKGUARD_MASTER_KEY is not base64: {exc}") from None
        if len(key) < 32:
            raise ConfigurationError("DESKGUARD_MASTER_KEY must decode to at least 32 bytes")
        return key

    def webhook_key(self) -> bytes:
        return (self.webhook_secret if self.webhook_secret != PLACEHOLDER else "demo-webhook-secret").encode()

    def rules_dirs(self) -> list[Path]:
        return [Path(part.strip()) for part in self.rules_paths.split(",") if part.strip()]


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValueError as exc:
        raise ConfigurationError(str(exc)) from None
