"""The composition of the identity-provider connector (part of the composition root, beside
``bootstrap.py``): which ``IdentityProvider`` executes actions, and which logs are polled.

One identity provider per deployment: Okta when ``okta_org_url`` is set (an OAuth service app with
``okta_client_id`` + ``okta_private_key``, else the API token), Entra when
``entra_tenant_id`` is (a certificate credential with ``entra_client_certificate_key``, else the
client secret), LDAP, Keycloak (``keycloak_url``), Google Workspace
(``google_service_account_key``), else none (``bootstrap`` keeps the fake). Two configured is an error.
Log polling starts only when ``idp_logs_tenant`` names the deskguard tenant the logs belong to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from deskguard.adapters.idp.entra import EntraIdentityProvider, GraphClient, graph_client
from deskguard.adapters.idp.entra_auth import EntraSettings
from deskguard.adapters.idp.entra_logs import AUDITS, SIGN_INS, EntraLog
from deskguard.adapters.idp.google import GoogleClient, GoogleWorkspaceIdentityProvider
from deskguard.adapters.idp.keycloak import KeycloakClient, KeycloakIdentityProvider
from deskguard.adapters.idp.ldap import LdapIdentityProvider
from deskguard.adapters.idp.ldap_settings import LdapSettings
from deskguard.adapters.idp.okta import OktaIdentityProvider
from deskguard.adapters.idp.okta_logs import OktaSystemLog
from deskguard.adapters.idp.okta_oauth import OktaSettings
from deskguard.domain.errors import ConfigurationError
from deskguard.domain.ports import Clock, IdentityProvider, Randomness
from deskguard.domain.ports_poll import LogSource
from deskguard.settings import Settings

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class IdpConnector:
    idp: IdentityProvider
    log_sources: tuple[tuple[str, LogSource], ...]  # (deskguard tenant id, source)


def identity_provider(settings: Settings, *, clock: Clock, randomness: Randomness) -> IdpConnector | None:
    okta, entra = bool(settings.okta_org_url), bool(settings.entra_tenant_id or settings.entra_client_id)
    keycloak = bool(settings.keycloak_url)
    google = bool(settings.google_service_account_key or settings.google_admin_subject)
    if (keycloak or google) and sum((okta, entra, bool(settings.ldap_url), keycloak, google)) > 1:
        raise ConfigurationError(
            "configure one identity provider: DESKGUARD_OKTA_*, _ENTRA_*, _LDAP_*, _KEYCLOAK_* or _GOOGLE_*"
        )
    if keycloak:
        return IdpConnector(idp=_keycloak(settings, clock=clock), log_sources=())
    if google:
        return IdpConnector(idp=_google(settings, clock=clock, randomness=randomness), log_sources=())
    if okta and entra:
        raise ConfigurationError(
            "configure one identity provider: DESKGUARD_OKTA_* or DESKGUARD_ENTRA_*, not both"
        )
    if settings.ldap_url:
        if okta or entra:
            raise ConfigurationError("configure one identity provider: DESKGUARD_LDAP_URL or OKTA/ENTRA")
        return IdpConnector(idp=_ldap(settings, randomness=randomness), log_sources=())
    tenant = settings.idp_logs_tenant
    if okta:
        adapter = _okta(settings, clock=clock)
        sources: tuple[tuple[str, LogSource], ...] = (
            ((tenant, OktaSystemLog(adapter, now=clock.now)),) if tenant else ()
        )
        return IdpConnector(idp=adapter, log_sources=sources)
    if entra:
        graph = _graph(settings, clock=clock)
        logs = (EntraLog(graph, kind=AUDITS, now=clock.now), EntraLog(graph, kind=SIGN_INS, now=clock.now))
        return IdpConnector(
            idp=EntraIdentityProvider(graph=graph, randomness=randomness),
            log_sources=tuple((tenant, log) for log in logs) if tenant else (),
        )
    return None


def _checked(model: type[M], values: dict[str, Any], *, names: dict[tuple[str, ...], str], whole: str) -> M:
    """``model`` over ``values``; a ``ConfigurationError`` naming the ``DESKGUARD_`` variable."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(str(part) for part in first["loc"])
        if not loc:
            field = next(iter(names.values()))
            raise ConfigurationError(whole, field=field) from None
        field = names.get(loc) or names.get(loc[:1]) or next(iter(names.values()))
        message = "required" if first["type"] == "missing" else first["msg"].removeprefix("Value error, ")
        raise ConfigurationError(f"DESKGUARD_{field.upper()}: {message}", field=field) from None


OKTA_NAMES = {
    ("api_token",): "okta_api_token",
    ("org_url",): "okta_org_url",
    ("oauth", "client_id"): "okta_client_id",
    ("oauth", "private_key"): "okta_private_key",
    ("oauth", "key_id"): "okta_key_id",
    ("oauth", "scopes"): "okta_scopes",
    ("oauth",): "okta_client_id",
}


def _okta(settings: Settings, *, clock: Clock) -> OktaIdentityProvider:
    """The API token, or the OAuth service app when ``DESKGUARD_OKTA_CLIENT_ID`` or ``_PRIVATE_KEY``
    is set: exactly one."""
    oauth: dict[str, Any] | None = None
    if settings.okta_client_id or settings.okta_private_key:
        oauth = {
            "client_id": settings.okta_client_id,
            "private_key": settings.okta_private_key,
            "key_id": settings.okta_key_id,
            "dpop": settings.okta_dpop,
            **({"scopes": settings.okta_scopes} if settings.okta_scopes else {}),
        }
        if not settings.okta_client_id or not settings.okta_private_key:
            missing = "okta_private_key" if settings.okta_client_id else "okta_client_id"
            raise ConfigurationError(
                f"DESKGUARD_{missing.upper()} is required for an Okta service app", field=missing
            )
    values = {"org_url": settings.okta_org_url, "api_token": settings.okta_api_token or None, "oauth": oauth}
    model = _checked(
        OktaSettings,
        values,
        names=OKTA_NAMES,
        whole="DESKGUARD_OKTA_API_TOKEN, or DESKGUARD_OKTA_CLIENT_ID with DESKGUARD_OKTA_PRIVATE_KEY: "
        "give exactly one Okta credential (the service app is recommended)",
    )
    return OktaIdentityProvider(
        org_url=model.org_url, api_token=model.api_token, oauth=model.oauth, now=clock.now
    )


ENTRA_NAMES = {
    ("client_secret",): "entra_client_secret",
    ("tenant_id",): "entra_tenant_id",
    ("client_id",): "entra_client_id",
    ("client_certificate", "private_key"): "entra_client_certificate_key",
    ("client_certificate", "certificate"): "entra_client_certificate",
    ("client_certificate", "thumbprint"): "entra_client_certificate_thumbprint",
    ("client_certificate",): "entra_client_certificate",
}


def _graph(settings: Settings, *, clock: Clock) -> GraphClient:
    """The client secret, or the certificate credential when one of
    ``DESKGUARD_ENTRA_CLIENT_CERTIFICATE*`` is set: exactly one."""
    certificate: dict[str, Any] | None = None
    parts = {
        "private_key": settings.entra_client_certificate_key,
        "certificate": settings.entra_client_certificate,
        "thumbprint": settings.entra_client_certificate_thumbprint,
    }
    if any(parts.values()):
        certificate = {name: value for name, value in parts.items() if value}
        if "private_key" not in certificate:
            raise ConfigurationError(
                "DESKGUARD_ENTRA_CLIENT_CERTIFICATE_KEY is required for a certificate credential",
                field="entra_client_certificate_key",
            )
    values = {
        "tenant_id": settings.entra_tenant_id,
        "client_id": settings.entra_client_id,
        "client_secret": settings.entra_client_secret or None,
        "client_certificate": certificate,
    }
    model = _checked(
        EntraSettings,
        values,
        names=ENTRA_NAMES,
        whole="DESKGUARD_ENTRA_CLIENT_SECRET or DESKGUARD_ENTRA_CLIENT_CERTIFICATE_KEY: give exactly one "
        "Entra credential (a certificate is recommended)",
    )
    return graph_client(model, now=clock.now)


def _ldap(settings: Settings, *, randomness: Randomness) -> LdapIdentityProvider:
    """The LDAP directory (``DESKGUARD_LDAP_*``); its settings are checked here, its secret resolved."""
    try:
        ldap = LdapSettings(
            url=settings.ldap_url,
            bind_dn=settings.ldap_bind_dn,
            bind_password=settings.ldap_bind_password,
            base_dn=settings.ldap_base_dn,
            user_attribute=settings.ldap_user_attribute,
            group_base_dn=settings.ldap_group_base_dn,
            flavour=settings.ldap_flavour,
            start_tls=settings.ldap_start_tls,
            ca_file=settings.ldap_ca_file,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        field = f"ldap_{first['loc'][0]}" if first["loc"] else "ldap_url"
        raise ConfigurationError(f"DESKGUARD_{field.upper()}: {first['msg']}", field=field) from None
    return LdapIdentityProvider(ldap, randomness=randomness)


def _keycloak(settings: Settings, *, clock: Clock) -> KeycloakIdentityProvider:
    for field in ("keycloak_realm", "keycloak_client_id", "keycloak_client_secret"):
        if not getattr(settings, field):
            raise ConfigurationError(
                f"DESKGUARD_{field.upper()} is required with DESKGUARD_KEYCLOAK_URL", field=field
            )
    client = KeycloakClient(
        url=settings.keycloak_url,
        realm=settings.keycloak_realm,
        client_id=settings.keycloak_client_id,
        client_secret=settings.keycloak_client_secret,
        now=clock.now,
    )
    return KeycloakIdentityProvider(keycloak=client)


def _google(settings: Settings, *, clock: Clock, randomness: Randomness) -> GoogleWorkspaceIdentityProvider:
    for field in ("google_service_account_key", "google_admin_subject"):
        if not getattr(settings, field):
            raise ConfigurationError(
                f"DESKGUARD_{field.upper()} is required for Google Workspace", field=field
            )
    client = GoogleClient(
        service_account_key=settings.google_service_account_key,
        admin_subject=settings.google_admin_subject,
        customer=settings.google_customer,
        now=clock.now,
    )
    return GoogleWorkspaceIdentityProvider(google=client, randomness=randomness)
