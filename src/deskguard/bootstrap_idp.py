"""The composition of the identity-provider connector (part of the composition root, beside
``bootstrap.py``): which ``IdentityProvider`` executes actions, and which logs are polled.

One identity provider per deployment: Okta when ``okta_org_url`` is set, Entra when
``entra_tenant_id`` is, LDAP, Keycloak (``keycloak_url``), Google Workspace
(``google_service_account_key``), else none (``bootstrap`` keeps the fake). Two configured is an error.
Log polling starts only when ``idp_logs_tenant`` names the deskguard tenant the logs belong to.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from deskguard.adapters.idp.entra import EntraIdentityProvider, GraphClient
from deskguard.adapters.idp.entra_logs import AUDITS, SIGN_INS, EntraLog
from deskguard.adapters.idp.google import GoogleClient, GoogleWorkspaceIdentityProvider
from deskguard.adapters.idp.keycloak import KeycloakClient, KeycloakIdentityProvider
from deskguard.adapters.idp.ldap import LdapIdentityProvider
from deskguard.adapters.idp.ldap_settings import LdapSettings
from deskguard.adapters.idp.okta import OktaIdentityProvider
from deskguard.adapters.idp.okta_logs import OktaSystemLog
from deskguard.domain.errors import ConfigurationError
from deskguard.domain.ports import Clock, IdentityProvider, Randomness
from deskguard.domain.ports_poll import LogSource
from deskguard.settings import Settings


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
        if not settings.okta_api_token:
            raise ConfigurationError(
                "DESKGUARD_OKTA_API_TOKEN is required with DESKGUARD_OKTA_ORG_URL", field="okta_api_token"
            )
        adapter = OktaIdentityProvider(org_url=settings.okta_org_url, api_token=settings.okta_api_token)
        sources: tuple[tuple[str, LogSource], ...] = (
            ((tenant, OktaSystemLog(adapter, now=clock.now)),) if tenant else ()
        )
        return IdpConnector(idp=adapter, log_sources=sources)
    if entra:
        if not settings.entra_client_secret:
            raise ConfigurationError("DESKGUARD_ENTRA_CLIENT_SECRET is required", field="entra_client_secret")
        graph = GraphClient(
            tenant_id=settings.entra_tenant_id,
            client_id=settings.entra_client_id,
            client_secret=settings.entra_client_secret,
            now=clock.now,
        )
        logs = (EntraLog(graph, kind=AUDITS, now=clock.now), EntraLog(graph, kind=SIGN_INS, now=clock.now))
        return IdpConnector(
            idp=EntraIdentityProvider(graph=graph, randomness=randomness),
            log_sources=tuple((tenant, log) for log in logs) if tenant else (),
        )
    return None


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
