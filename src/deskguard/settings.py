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
    # The console's sessions: idle and absolute timeouts; Secure cookies (off only behind plain HTTP
    # that is not localhost, e.g. a test server reached by name)
    console_idle_minutes: float = Field(default=30.0, gt=0)
    console_absolute_hours: float = Field(default=10.0, gt=0)
    console_secure_cookies: bool = True
    # Console sign-in with OpenID Connect (docs/console.md "Signing in"); unset issuer: off
    oidc_issuer: str = ""  # https://login.example.org/realms/staff (its discovery document is read)
    oidc_client_id: str = ""
    oidc_client_secret: str = ""  # SecretRef: env://NAME or file:///path
    oidc_scopes: str = "openid email profile"
    oidc_require_mfa: bool = True  # the ID token's amr/acr must show MFA
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
    # Runbook notifications (docs/connectors/notifications.md). A channel left unset uses the fake.
    # Secrets are references, env://NAME or file:///path, checked when the adapter is built.
    smtp_host: str = ""  # set: e-mail notifications go out by SMTP submission with STARTTLS
    smtp_port: int = Field(default=587, gt=0, lt=65536)
    smtp_username: str = ""
    smtp_password: str = ""  # SecretRef
    smtp_from: str = ""
    smtp_ca_file: Path | None = None  # PEM CA bundle the server's certificate is verified against
    slack_bot_token: str = ""  # SecretRef; set: Slack notifications by chat.postMessage
    slack_signing_secret: str = ""  # SecretRef; checks Slack's inbound requests
    slack_operator_map: str = ""  # "U0123=op_bruno,…": Slack user id -> operator id (else the e-mail)
    teams_webhook_url: str = ""  # SecretRef (the signed Workflows URL is the credential)
    approval_base_url: str = "http://127.0.0.1:8000"  # deskguard's public URL, for approval links
    notify_webhook_url: str = ""  # set: webhook notifications, signed per Standard Webhooks
    notify_webhook_secret: str = ""  # SecretRef to whsec_<base64>
    # Identity provider (docs/connectors/okta.md, entra.md): one per deployment; unset: the fake.
    # Secrets are references, env://NAME or file:///path, resolved when the adapter is built.
    okta_org_url: str = ""  # https://{org}.okta.com
    okta_api_token: str = ""  # SecretRef to an Okta API token (SSWS); or the OAuth service app below
    okta_client_id: str = ""  # set (with okta_private_key): an OAuth 2.0 service app, private_key_jwt
    okta_private_key: str = ""  # SecretRef to the service app's PEM private key (RSA or EC P-256)
    okta_key_id: str = ""  # kid of the public key registered on the app
    okta_scopes: str = ""  # space-separated; unset: what the adapter needs (docs/connectors/okta.md)
    okta_dpop: bool = False  # the app requires DPoP-bound tokens (Okta's default for new service apps)
    entra_tenant_id: str = ""  # directory (tenant) id or its onmicrosoft.com domain
    entra_client_id: str = ""
    entra_client_secret: str = ""  # SecretRef to the app registration's client secret; or a certificate:
    entra_client_certificate_key: str = ""  # SecretRef to the certificate credential's PEM private key
    entra_client_certificate: str = ""  # SecretRef to its PEM certificate; unset: the one in the key's file
    entra_client_certificate_thumbprint: str = ""  # or, instead of the certificate, its hex thumbprint
    idp_logs_tenant: str = ""  # deskguard tenant whose detection receives the IdP's logs; unset: no polling
    idp_logs_poll_seconds: float = Field(default=30.0, gt=0)
    privilege_expiry_seconds: float = Field(default=30.0, gt=0)  # how often ended grants are revoked
    # Keycloak as the identity provider (docs/connectors/keycloak.md): set keycloak_url to use it.
    keycloak_url: str = ""  # https://sso.example.org (add /auth before Keycloak 17)
    keycloak_realm: str = ""  # the realm of the people
    keycloak_client_id: str = ""  # confidential client with a service account (manage-users)
    keycloak_client_secret: str = ""  # SecretRef to that client's secret
    # Google Workspace (docs/connectors/google.md): set google_service_account_key to use it.
    google_service_account_key: str = ""  # SecretRef to the service account's JSON key
    google_admin_subject: str = ""  # administrator e-mail the account acts as (domain-wide delegation)
    google_customer: str = "my_customer"  # Workspace customer id (C0...) or my_customer
    # LDAP directory as the identity provider (docs/connectors/ldap.md): set ldap_url to use it.
    ldap_url: str = ""  # ldap://host:389 or ldaps://host:636
    ldap_bind_dn: str = ""  # the service account
    ldap_bind_password: str = ""  # SecretRef (env://NAME or file:///path)
    ldap_base_dn: str = ""  # where people are searched
    ldap_user_attribute: str = "mail"  # compared with the person's e-mail (uid, userPrincipalName...)
    ldap_group_base_dn: str = ""  # privilege groups (grant_privilege); unset: the base DN
    ldap_flavour: str = "openldap"  # openldap | active_directory
    ldap_start_tls: bool = False
    ldap_ca_file: Path | None = None  # PEM bundle trusted for ldaps:// and StartTLS
    # Automated call-back (docs/connectors/telephony.md): twilio | ari; unset: the fake.
    telephony_vendor: str = Field(default="", pattern="^(|twilio|ari)$")
    twilio_account_sid: str = ""  # AC...
    twilio_auth_token: str = ""  # SecretRef; also the key of Twilio's callback signatures
    twilio_from_number: str = ""  # E.164 caller id of the call-back
    telephony_callback_base_url: str = ""  # deskguard's public https origin, as Twilio reaches it
    ari_url: str = ""  # http(s)://asterisk:8088 (the /ari prefix is appended)
    ari_user: str = ""
    ari_password: str = ""  # SecretRef
    ari_endpoint_template: str = "PJSIP/{number}@trunk"  # {number}: the registered number
    ari_app: str = "deskguard"  # the Stasis application the call enters
    # Web Push to the portal devices and SMS delivery of secrets (docs/connectors/push.md); unset: fakes.
    webpush_vapid_private_key: str = ""  # SecretRef to the VAPID P-256 key (PEM or raw base64url)
    webpush_subject: str = "mailto:security@example.org"  # VAPID sub: the operator's contact
    webpush_ttl_seconds: int = Field(default=180, ge=0, le=86_400)
    twilio_sms_from: str = ""  # set: secrets go by SMS (E.164 sender or MG... service); twilio_* above
    # One-time codes to the registered phone by Twilio Verify (otp_sms; docs/connectors/twilio-verify.md)
    twilio_verify_service_sid: str = ""  # VA...; set: Twilio Verify sends the codes (twilio_* above)
    twilio_verify_channel: str = Field(default="sms", pattern="^(sms|call)$")
    # External identity verification by Veriff (docs/connectors/idv.md); unset: the fake.
    veriff_api_key: str = ""  # SecretRef to the integration's API key (X-AUTH-CLIENT); set: Veriff
    veriff_shared_secret: str = ""  # SecretRef to its shared secret key (X-HMAC-SIGNATURE)
    veriff_api_url: str = "https://stationapi.veriff.com"  # the integration's base URL
    veriff_callback_url: str = ""  # https:// page the person's browser returns to; "": Veriff's default
    # SIEM/SOAR export (docs/connectors/siem.md): a destination is on when its host or URL is set
    export_syslog_host: str = ""  # RFC 5424 over TCP, CEF payload; TLS when export_syslog_tls_ca is set
    export_syslog_port: int = Field(default=6514, gt=0, lt=65536)
    export_syslog_tls_ca: Path | None = None  # PEM CA file the collector's certificate must chain to
    export_splunk_url: str = ""  # https://splunk:8088 (HEC; /services/collector/event is appended)
    export_splunk_token: str = ""  # SecretRef: env://NAME or file:///path
    export_splunk_index: str = ""
    export_thehive_url: str = ""  # TheHive 5 base URL; alerts only
    export_thehive_key: str = ""  # SecretRef of the API key
    export_thehive_organisation: str = ""
    export_max_queue: int = Field(default=10_000, ge=1)  # pending items per destination
    export_max_attempts: int = Field(default=8, ge=1)
    # ITSM write-back of the runbooks (docs/connectors/ticketing.md): servicenow | jsm | zendesk |
    # glpi; unset: the fake. Secrets are references, env://NAME or file:///path.
    ticketing_vendor: str = Field(default="", pattern="^(|servicenow|jsm|zendesk|glpi)$")
    ticketing_url: str = ""  # https instance URL (GLPI: the folder holding apirest.php)
    ticketing_username: str = ""  # ServiceNow user (basic auth); JSM / Zendesk account e-mail
    ticketing_token: str = ""  # SecretRef: SN password/bearer, JSM/Zendesk API token, GLPI user_token
    ticketing_app_token: str = ""  # SecretRef: GLPI App-Token
    ticketing_auth: str = Field(default="basic", pattern="^(basic|bearer)$")  # ServiceNow
    ticketing_comment_field: str = Field(default="work_notes", pattern="^(work_notes|comments)$")
    ticketing_service_desk_id: str = ""  # JSM: service desk of opened requests
    ticketing_request_type_id: str = ""  # JSM: their request type
    ticketing_resolved_state: str = ""  # resolve(): SN state code, JSM transition, Zendesk/GLPI status
    ticketing_resolve_executed: bool = False  # resolve a request's ticket once executed (app.ticket_evidence)
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
    def _one_identity_provider(self) -> Settings:
        if self.okta_org_url and not self.okta_org_url.startswith("https://"):
            raise ValueError("DESKGUARD_OKTA_ORG_URL must be https://{org}.okta.com")
        if self.okta_org_url and (self.entra_tenant_id or self.entra_client_id):
            raise ValueError("configure one identity provider: DESKGUARD_OKTA_* or DESKGUARD_ENTRA_*")
        if self.keycloak_url and not self.keycloak_url.startswith("https://"):
            raise ValueError("DESKGUARD_KEYCLOAK_URL must be https://")
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
