"""The adapters a tenant can configure (part of the composition root, beside ``bootstrap.py``): each
kind's typed settings model, and how an adapter is built from a stored ``TenantConnector``.

The models are the adapters' own where they have one (``LdapSettings``, ``OktaSettings`` and
``EntraSettings`` with their credential modes, ``TicketingSettings``,
``SmtpSettings``, ``SlackSettings``, ``TeamsSettings``, ``WebhookSettings``,
``TwilioVerifySettings``); the kinds whose adapters take keyword arguments get a small model here
with the same fields (``twilio``, ``ari``, ``veriff``, ``keycloak``, ``google``). An adapter that
vendors call back (Twilio) is told its row's tenant, so it gives the vendor that tenant's webhook
URLs. Every model forbids unknown fields and takes secrets as ``SecretRef`` only, so an inline
password is refused with its field's name, before anything is written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from deskguard.adapters.channels.slack import SlackNotifier, SlackSettings
from deskguard.adapters.channels.smtp import SmtpNotifier, SmtpSettings
from deskguard.adapters.channels.teams import TeamsNotifier, TeamsSettings
from deskguard.adapters.channels.twilio_verify import TwilioVerifyDelivery, TwilioVerifySettings
from deskguard.adapters.channels.veriff import API as VERIFF_API
from deskguard.adapters.channels.veriff import VeriffIdentityVerification
from deskguard.adapters.channels.webhooks import WebhookNotifier, WebhookSettings
from deskguard.adapters.connectors.secrets import SecretRef
from deskguard.adapters.idp.entra import EntraIdentityProvider, graph_client
from deskguard.adapters.idp.entra_auth import EntraSettings
from deskguard.adapters.idp.google import GoogleClient, GoogleWorkspaceIdentityProvider
from deskguard.adapters.idp.keycloak import KeycloakClient, KeycloakIdentityProvider
from deskguard.adapters.idp.ldap import LdapIdentityProvider
from deskguard.adapters.idp.ldap_settings import LdapSettings
from deskguard.adapters.idp.okta import OktaIdentityProvider
from deskguard.adapters.idp.okta_oauth import OktaSettings
from deskguard.adapters.telephony.ari import AriTelephony
from deskguard.adapters.telephony.twilio import TwilioTelephony
from deskguard.adapters.ticketing._base import TicketingSettings
from deskguard.bootstrap_ticketing import ADAPTERS as TICKETING
from deskguard.domain.connectors import PORT_KINDS, TenantConnector
from deskguard.domain.errors import ConfigurationError, ValidationFailed
from deskguard.domain.ports import Clock, Randomness


class _Kwargs(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KeycloakSettings(_Kwargs):
    url: str = Field(pattern=r"^https?://")
    realm: str = Field(min_length=1)
    client_id: str = Field(min_length=1)
    client_secret: SecretRef


class GoogleSettings(_Kwargs):
    service_account_key: SecretRef = Field(description="a reference to the JSON key file")
    admin_subject: str = Field(pattern=r"^[^@\s]+@[^@\s]+$", description="the administrator acted as")
    customer: str = "my_customer"


class TwilioSettings(_Kwargs):
    account_sid: str = Field(pattern=r"^AC", description="the Account SID (AC...)")
    auth_token: SecretRef
    from_number: str = Field(pattern=r"^\+[0-9]{6,20}$", description="E.164 caller number")
    callback_base_url: str = Field(pattern=r"^https://", description="deskguard's public base URL")


class VeriffSettings(_Kwargs):
    api_key: SecretRef = Field(description="the integration's API key (X-AUTH-CLIENT)")
    shared_secret: SecretRef = Field(description="its shared secret key: signs the decision webhooks")
    api_url: str = Field(default=VERIFF_API, pattern=r"^https://")
    callback_url: str = Field(default="", pattern=r"^(|https://.+)$", description="the person's return page")


class AriSettings(_Kwargs):
    url: str = Field(pattern=r"^https?://", description="http(s)://asterisk:8088")
    user: str = Field(min_length=1)
    password: SecretRef
    endpoint_template: str = Field(pattern=r"\{number\}", description="e.g. PJSIP/{number}@trunk")
    app: str = "deskguard"


@dataclass(frozen=True, slots=True)
class Deps:
    clock: Clock
    randomness: Randomness
    tenant_id: str | None = None  # the row's tenant, set by ``build``: its adapters' webhook URLs


@dataclass(frozen=True, slots=True)
class Kind:
    model: type[BaseModel]
    build: Callable[[Any, Deps], Any]


def _ticketing(vendor: str) -> Kind:
    return Kind(TicketingSettings, lambda s, _d: TICKETING[vendor](s))


def _graph(s: EntraSettings, d: Deps) -> EntraIdentityProvider:
    return EntraIdentityProvider(graph=graph_client(s, now=d.clock.now), randomness=d.randomness)


def _okta(s: OktaSettings, d: Deps) -> OktaIdentityProvider:
    return OktaIdentityProvider(org_url=s.org_url, api_token=s.api_token, oauth=s.oauth, now=d.clock.now)


def _keycloak(s: KeycloakSettings, d: Deps) -> KeycloakIdentityProvider:
    client = KeycloakClient(
        url=s.url, realm=s.realm, client_id=s.client_id, client_secret=s.client_secret, now=d.clock.now
    )
    return KeycloakIdentityProvider(keycloak=client)


def _google(s: GoogleSettings, d: Deps) -> GoogleWorkspaceIdentityProvider:
    client = GoogleClient(
        service_account_key=s.service_account_key,
        admin_subject=s.admin_subject,
        customer=s.customer,
        now=d.clock.now,
    )
    return GoogleWorkspaceIdentityProvider(google=client, randomness=d.randomness)


def _veriff(s: VeriffSettings) -> dict[str, str]:
    fields = s.model_dump()
    fields["api_base"] = fields.pop("api_url")
    return fields


KINDS: Mapping[str, Kind] = {
    "ldap": Kind(LdapSettings, lambda s, d: LdapIdentityProvider(s, randomness=d.randomness)),
    "okta": Kind(OktaSettings, _okta),
    "entra": Kind(EntraSettings, _graph),
    "keycloak": Kind(KeycloakSettings, _keycloak),
    "google": Kind(GoogleSettings, _google),
    **{vendor: _ticketing(vendor) for vendor in TICKETING},
    "twilio": Kind(TwilioSettings, lambda s, d: TwilioTelephony(**s.model_dump(), tenant_id=d.tenant_id)),
    "ari": Kind(AriSettings, lambda s, _d: AriTelephony(**s.model_dump())),
    "twilio_verify": Kind(TwilioVerifySettings, lambda s, _d: TwilioVerifyDelivery(s)),
    "veriff": Kind(VeriffSettings, lambda s, _d: VeriffIdentityVerification(**_veriff(s))),
    "smtp": Kind(SmtpSettings, lambda s, _d: SmtpNotifier(s)),
    "slack": Kind(SlackSettings, lambda s, _d: SlackNotifier(s)),
    "teams": Kind(TeamsSettings, lambda s, _d: TeamsNotifier(s)),
    "webhook": Kind(WebhookSettings, lambda s, _d: WebhookNotifier(s)),
}


def _parsed(kind: str, settings: Mapping[str, Any]) -> BaseModel:
    """The kind's model over ``settings``; ``ValidationFailed`` naming the first wrong field."""
    if kind in TICKETING:
        if "vendor" in settings:
            raise ValidationFailed(
                f"settings.vendor: unknown field for {kind} (the kind names the vendor)",
                field="settings.vendor",
            )
        settings = {**settings, "vendor": kind}
    try:
        return KINDS[kind].model.model_validate(dict(settings))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = "settings" + "".join(f".{part}" for part in first["loc"])
        if first["type"] == "extra_forbidden":
            message = f"unknown field for {kind}"
        elif first["type"] == "missing":
            message = f"required by {kind}"
        else:
            message = first["msg"].removeprefix("Value error, ")
        raise ValidationFailed(f"{where}: {message}", field=where) from None


def validate(*, name: str, kind: str, settings: Mapping[str, Any]) -> dict[str, Any]:
    """The settings as stored: what was given, checked by the kind's model (defaults left out)."""
    if name not in PORT_KINDS:
        raise ValidationFailed(
            f"name: unknown connector {name!r}; one of {', '.join(PORT_KINDS)}", field="name"
        )
    if kind not in PORT_KINDS[name]:
        raise ValidationFailed(
            f"kind: {kind!r} cannot serve {name}; one of {', '.join(PORT_KINDS[name])}", field="kind"
        )
    if not isinstance(settings, Mapping):
        raise ValidationFailed("settings: an object of the adapter's fields", field="settings")
    model = _parsed(kind, settings)
    return model.model_dump(mode="json", exclude_unset=True, exclude={"vendor"})


def build(connector: TenantConnector, *, deps: Deps) -> Any:
    """The adapter a stored row describes; ``ConfigurationError`` naming the tenant, port and cause
    (a secret that cannot be read, settings an upgrade no longer accepts)."""
    where = f"tenant {connector.tenant_id} connector {connector.name} ({connector.kind})"
    try:
        if connector.kind not in KINDS:
            raise ValidationFailed(f"kind: {connector.kind!r} is not an adapter", field="kind")
        model = _parsed(connector.kind, connector.settings)
        return KINDS[connector.kind].build(model, replace(deps, tenant_id=connector.tenant_id))
    except (ConfigurationError, ValidationFailed) as exc:
        raise ConfigurationError(f"{where}: {exc.message}", field=exc.field) from None
