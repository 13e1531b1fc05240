"""The one composition root: settings -> adapters -> the application context.

Only this module (and the transports) know which adapter implements which port. Tests and the demo
build a ``Runtime`` here too, with a fixed clock or seeded randomness when they need to replay.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from cryptography import x509
from fastapi import FastAPI
from pydantic import ValidationError
from sqlalchemy.engine import Engine

from deskguard.adapters.channels.delivery import ChannelRouter
from deskguard.adapters.channels.fake import (
    FakeIdentityVerification,
    FakeNotifier,
    FakeOtpDelivery,
    FakePushChannel,
    FakeResponseNotifier,
    FakeTelephony,
    FakeTicketing,
)
from deskguard.adapters.channels.slack import (
    SlackInteractions,
    SlackNotifier,
    SlackSettings,
    parse_operator_map,
)
from deskguard.adapters.channels.smtp import SmtpNotifier, SmtpSettings
from deskguard.adapters.channels.teams import TeamsNotifier, TeamsSettings
from deskguard.adapters.channels.webhooks import WebhookNotifier, WebhookSettings
from deskguard.adapters.connectors.secrets import check_reference
from deskguard.adapters.db.decision_reads import SqlDecisionReader
from deskguard.adapters.db.engine import make_engine
from deskguard.adapters.db.health import readiness
from deskguard.adapters.db.migrate import upgrade
from deskguard.adapters.db.uow import SqlUnitOfWorkFactory
from deskguard.adapters.idp.fake import FakeIdentityProvider
from deskguard.adapters.oidc_signin import OidcSignIn
from deskguard.adapters.system import AesGcmSecretBox, SystemClock, SystemRandomness
from deskguard.adapters.telephony.x5u import HttpCertificateFetcher
from deskguard.adapters.witness import FileWitness, SyslogWitness, WebhookWitness, Witnesses
from deskguard.api.app import create_app
from deskguard.app.console_auth import Timeouts
from deskguard.app.context import AppContext
from deskguard.app.detection import Detector
from deskguard.app.stir import StirVerifier
from deskguard.bootstrap_channels import (
    TenantIdentityVerification,
    TenantOtpDelivery,
    identity_verification,
    otp_delivery,
    push_channel,
    secret_notifier,
)
from deskguard.bootstrap_connectors import Deps
from deskguard.bootstrap_connectors import build as build_connector
from deskguard.bootstrap_connectors import validate as validate_connector
from deskguard.bootstrap_export import export_plan
from deskguard.bootstrap_idp import identity_provider
from deskguard.bootstrap_routing import (
    Registry,
    TenantAdapters,
    TenantIdentityProvider,
    TenantResponseNotifier,
    TenantTelephony,
    TenantTicketing,
)
from deskguard.bootstrap_telephony import telephony as real_telephony
from deskguard.bootstrap_ticketing import ticketing as real_ticketing
from deskguard.console.web import ConsoleConfig
from deskguard.console.web import install as install_console
from deskguard.detection.content import load_content
from deskguard.detection.geo import GeoError, GeoResolver, resolver
from deskguard.detection.networks import NO_NETWORKS, NetworksError, load_networks
from deskguard.detection.runbooks import load_runbooks
from deskguard.domain.errors import ConfigurationError
from deskguard.domain.ports import Channels, Clock, Randomness, ResponseNotifier, Witness
from deskguard.domain.ports_poll import LogSource
from deskguard.policy.loader import load_policy
from deskguard.settings import Settings


@dataclass(frozen=True, slots=True)
class Runtime:
    settings: Settings
    engine: Engine
    ctx: AppContext
    idp: FakeIdentityProvider
    telephony: FakeTelephony
    push: FakePushChannel
    idv: FakeIdentityVerification
    notifier: FakeNotifier
    response_notifier: FakeResponseNotifier
    ticketing: FakeTicketing
    log_sources: tuple[tuple[str, LogSource], ...] = ()  # (tenant, IdP log) pairs to poll
    tenant_adapters: TenantAdapters | None = None  # the tenants' own adapters (their IdP logs too)
    otp: FakeOtpDelivery | None = None  # the fake OTP service (the codes it "sent"), for demo and tests


def build(
    settings: Settings,
    *,
    clock: Clock | None = None,
    randomness: Randomness | None = None,
    migrate: bool = False,
) -> Runtime:
    """Wire everything. Real connectors arrive with their own issue; until then every deployment runs
    the fakes, which is why ``serve`` refuses to start outside demo mode without connectors."""
    engine = make_engine(settings.database_url)
    if migrate:
        upgrade(settings.database_url)
    rnd = randomness or SystemRandomness()
    idp = FakeIdentityProvider(randomness=rnd)
    telephony, push = FakeTelephony(randomness=rnd), FakePushChannel()
    # the fake's person links point at the demo's fake-provider page (console/routes_demo_idv.py)
    idv = FakeIdentityVerification(randomness=rnd, base_url=settings.approval_base_url)
    notifier = FakeNotifier(randomness=rnd)
    response_notifier, ticketing = FakeResponseNotifier(randomness=rnd), FakeTicketing(randomness=rnd)
    otp = FakeOtpDelivery(randomness=rnd)
    real_idp = identity_provider(settings, clock=clock or SystemClock(), randomness=rnd)
    reads = SqlUnitOfWorkFactory(engine, read_only=True)
    # Each port: the tenant's own adapter (tenant_connectors), else the deployment's, else the fake.
    tenants = TenantAdapters(
        reads=reads, build=partial(build_connector, deps=Deps(clock=clock or SystemClock(), randomness=rnd))
    )
    notify_routes = _notify_routes(settings)
    deployment: dict[str, Any] = {
        "idp": real_idp.idp if real_idp else idp,  # runtime.idp stays the fake for demo and tests
        "telephony": real_telephony(settings) or telephony,  # runtime.telephony stays the fake
        "ticketing": real_ticketing(settings) or ticketing,  # runtime.ticketing stays the fake
        "otp": otp_delivery(settings) or otp,  # runtime.otp stays the fake (bootstrap_channels)
        "idv": identity_verification(settings) or idv,  # runtime.idv stays the fake
        **{
            f"notify.{c}": notify_routes.get(c, response_notifier)
            for c in ("email", "slack", "teams", "webhook")
        },
    }
    deployment_notifier = (
        ChannelRouter(routes=notify_routes, fallback=response_notifier)
        if notify_routes
        else response_notifier
    )
    ctx = AppContext(
        uow=SqlUnitOfWorkFactory(engine),
        reads=reads,
        decisions=SqlDecisionReader(engine),
        clock=clock or SystemClock(),
        random=rnd,
        secrets=AesGcmSecretBox(settings.master_key_bytes()),
        channels=Channels(
            idp=TenantIdentityProvider(tenants, fallback=deployment["idp"]),
            telephony=TenantTelephony(tenants, fallback=deployment["telephony"]),
            # runtime.push and runtime.notifier stay the fakes (bootstrap_channels)
            push=push_channel(settings, uow=SqlUnitOfWorkFactory(engine), now=(clock or SystemClock()).now)
            or push,
            idv=TenantIdentityVerification(tenants, fallback=deployment["idv"]),
            notifier=secret_notifier(settings) or notifier,
            response_notifier=TenantResponseNotifier(tenants, fallback=deployment_notifier),
            ticketing=TenantTicketing(tenants, fallback=deployment["ticketing"]),
            otp=TenantOtpDelivery(tenants, fallback=deployment["otp"]),
        ),
        connectors=Registry(tenants, deployment=deployment, validate=validate_connector),
        policy=load_policy(settings.policy_path),
        ledger_origin=settings.ledger_origin,
        witness=_witnesses(settings, clock=clock or SystemClock()),
        detector=_detector(settings),
        exports=export_plan(settings),  # SIEM/SOAR: alerts queued where stored (bootstrap_export)
        resolve_tickets=settings.ticketing_resolve_executed,  # app.ticket_evidence (default off)
    )
    return Runtime(
        settings=settings,
        engine=engine,
        ctx=ctx,
        idp=idp,
        telephony=telephony,
        push=push,
        idv=idv,
        notifier=notifier,
        response_notifier=response_notifier,
        ticketing=ticketing,
        log_sources=real_idp.log_sources if real_idp else (),
        tenant_adapters=tenants,
        otp=otp,
    )


def _response_notifier(settings: Settings, *, fallback: ResponseNotifier) -> ResponseNotifier:
    """The runbooks' notifier: by channel, the real adapter of each configured one, else ``fallback``."""
    routes = _notify_routes(settings)
    return ChannelRouter(routes=routes, fallback=fallback) if routes else fallback


def _notify_routes(settings: Settings) -> dict[str, ResponseNotifier]:
    """The deployment's notification adapters by channel (``DESKGUARD_SMTP_*``, ``_SLACK_*``...)."""
    try:
        routes: dict[str, ResponseNotifier] = {}
        if settings.smtp_host:
            smtp = SmtpSettings(
                host=settings.smtp_host,
                port=settings.smtp_port,
                sender=settings.smtp_from,
                username=settings.smtp_username or None,
                password=settings.smtp_password or None,
                ca_file=settings.smtp_ca_file,
            )
            routes["email"] = SmtpNotifier(smtp)
        if settings.slack_bot_token:
            routes["slack"] = SlackNotifier(
                SlackSettings(
                    bot_token=settings.slack_bot_token, signing_secret=settings.slack_signing_secret or None
                )
            )
        if settings.teams_webhook_url:
            teams = TeamsSettings(
                webhook_url=settings.teams_webhook_url, approval_base_url=settings.approval_base_url
            )
            routes["teams"] = TeamsNotifier(teams)
        if settings.notify_webhook_url:
            hook = WebhookSettings(url=settings.notify_webhook_url, secret=settings.notify_webhook_secret)
            routes["webhook"] = WebhookNotifier(hook)
    except ValidationError as exc:
        raise ConfigurationError(f"notification settings: {exc}") from None
    return routes


def _detector(settings: Settings) -> Detector:
    content = load_content(settings.rules_dirs(), pressure_model=settings.pressure_model_path)
    content.geo = _geo(settings)
    return Detector(
        content,
        lateness_s=settings.detection_lateness_seconds,
        monitor=frozenset(r.strip() for r in settings.detection_monitor_rules.split(",") if r.strip()),
        runbooks=load_runbooks([settings.runbooks_path], known_rules=content.ids()),
        stir=_stir(settings),
    )


def _geo(settings: Settings) -> GeoResolver | None:
    """The geo-IP resolver of the pipeline: MaxMind when a database is set, else geoip2fast's data
    (loaded at the first lookup)."""
    if not settings.geo_enabled:
        return None
    try:
        networks = load_networks(settings.networks_path) if settings.networks_path else NO_NETWORKS
    except NetworksError as exc:
        raise ConfigurationError(f"DESKGUARD_NETWORKS_PATH: {exc}") from None
    try:
        return resolver(
            country_mmdb=settings.geoip_country_mmdb, asn_mmdb=settings.geoip_asn_mmdb, networks=networks
        )
    except GeoError as exc:
        raise ConfigurationError(f"DESKGUARD_GEOIP_COUNTRY_MMDB / _ASN_MMDB: {exc}") from None


def _stir(settings: Settings) -> StirVerifier | None:
    if settings.stir_trust_anchors is None:
        return None
    try:
        anchors = x509.load_pem_x509_certificates(settings.stir_trust_anchors.read_bytes())
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"DESKGUARD_STIR_TRUST_ANCHORS: {exc}") from None
    return StirVerifier(fetcher=HttpCertificateFetcher(), anchors=tuple(anchors))


def _witnesses(settings: Settings, *, clock: Clock) -> Witnesses:
    chosen: list[Witness] = [FileWitness(settings.witness_dir)]
    if settings.witness_syslog:
        host, _, port = settings.witness_syslog.rpartition(":")
        chosen.append(SyslogWitness(host=host, port=int(port), clock=clock))
    if settings.witness_webhook_url:
        chosen.append(WebhookWitness(url=settings.witness_webhook_url, key=settings.webhook_key()))
    return Witnesses(chosen)


def console_config(settings: Settings) -> ConsoleConfig:
    return ConsoleConfig(
        secure_cookies=settings.console_secure_cookies,
        timeouts=Timeouts(
            idle=timedelta(minutes=settings.console_idle_minutes),
            absolute=timedelta(hours=settings.console_absolute_hours),
        ),
        demo=settings.demo,
    )


def oidc_signin(settings: Settings, clock: Clock | None = None) -> OidcSignIn | None:
    """The console's OpenID Connect sign-in, when an issuer is set (docs/console.md); ID tokens are
    checked against ``clock`` (the application's) when given."""
    if not settings.oidc_issuer:
        return None
    if not settings.oidc_client_id or not settings.oidc_client_secret:
        raise ConfigurationError(
            "oidc_client_id and oidc_client_secret are needed with oidc_issuer", field="oidc_client_id"
        )
    try:
        check_reference(settings.oidc_client_secret)
    except ValueError as exc:
        raise ConfigurationError(f"oidc_client_secret: {exc}", field="oidc_client_secret") from None
    return OidcSignIn(
        issuer=settings.oidc_issuer,
        client_id=settings.oidc_client_id,
        client_secret_ref=settings.oidc_client_secret,
        scopes=settings.oidc_scopes,
        require_mfa=settings.oidc_require_mfa,
        now=lambda: (clock or SystemClock()).now().timestamp(),
    )


def slack_interactions(settings: Settings) -> SlackInteractions | None:
    """Slack's Interactivity Request URL, when a signing secret is set (docs/connectors/notifications.md)."""
    if not settings.slack_signing_secret:
        return None
    return SlackInteractions(
        signing_secret=settings.slack_signing_secret,
        bot_token=settings.slack_bot_token or None,
        operator_map=parse_operator_map(settings.slack_operator_map),
    )


def http_app(runtime: Runtime) -> FastAPI:
    """The API as ``deskguard serve`` runs it. Call once, just before serving."""
    app = create_app(
        runtime.ctx,
        webhook_key=runtime.settings.webhook_key(),
        max_body_bytes=runtime.settings.max_body_bytes,
        ingest_max_bytes=runtime.settings.ingest_max_bytes,
        replay_window_s=runtime.settings.ingest_replay_window_seconds,
        readiness=lambda: readiness(runtime.engine),
    )
    install_console(app, console_config(runtime.settings))
    app.state.slack = slack_interactions(runtime.settings)  # the Slack Approve/Deny clicks
    # console sign-in with OpenID Connect, if set; ID tokens checked against the application clock
    app.state.oidc = oidc_signin(runtime.settings, runtime.ctx.clock)
    # Everything built so far lives as long as the process: keep it out of the collector's full
    # passes, which otherwise scan the whole start-up heap and show up as latency spikes.
    gc.collect()
    gc.freeze()
    return app
