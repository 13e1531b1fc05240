"""The composition of the verification and secret-delivery channels (part of the composition root,
beside ``bootstrap.py``): Web Push to the portal devices, and secret delivery by Twilio SMS.

``webpush_vapid_private_key`` set: ``WebPushChannel`` serves ``PushChannel``. ``twilio_sms_from``
set: ``TwilioSmsNotifier`` serves ``Notifier`` (with ``twilio_account_sid`` / ``twilio_auth_token``).
``veriff_api_key`` set: ``VeriffIdentityVerification`` serves ``IdentityVerification`` (with
``veriff_shared_secret``). ``twilio_verify_service_sid`` set: ``TwilioVerifyDelivery`` serves
``OtpDelivery`` (the ``otp_sms`` proof; ``twilio_account_sid`` / ``twilio_auth_token``,
``twilio_verify_channel``). Unset, ``bootstrap`` keeps the fakes. A missing companion setting is an
error naming it.

``TenantOtpDelivery`` routes ``OtpDelivery`` per tenant: a tenant's enabled ``otp`` connector
(``twilio_verify``, its own Verify service) else the deployment's (ADR 0010).
``TenantIdentityVerification`` routes ``IdentityVerification`` likewise (an ``idv`` connector:
``veriff``, the tenant's own integration, whose decision webhooks reach
``/api/v1/webhooks/idv/<tenant>/veriff`` and are checked with its shared secret, ADR 0017).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import ValidationError

from deskguard.adapters.channels.twilio_sms import TwilioSmsNotifier
from deskguard.adapters.channels.twilio_verify import TwilioVerifyDelivery, TwilioVerifySettings
from deskguard.adapters.channels.veriff import VeriffIdentityVerification
from deskguard.adapters.channels.webpush import WebPushChannel, WebPushSettings
from deskguard.domain.errors import ConfigurationError
from deskguard.domain.model import Person
from deskguard.domain.ports import Health, IdentityVerification, Notifier, PushChannel, UnitOfWorkFactory
from deskguard.domain.ports_idv import IdvSession
from deskguard.domain.ports_otp import OtpDelivery, OtpSent, OtpVerdict
from deskguard.settings import Settings

if TYPE_CHECKING:
    from deskguard.bootstrap_routing import TenantAdapters


def push_channel(
    settings: Settings, *, uow: UnitOfWorkFactory, now: Callable[[], datetime]
) -> PushChannel | None:
    if not settings.webpush_vapid_private_key:
        return None
    try:
        web = WebPushSettings(
            vapid_private_key=settings.webpush_vapid_private_key,
            subject=settings.webpush_subject,
            ttl_s=settings.webpush_ttl_seconds,
        )
    except ValidationError as exc:
        raise ConfigurationError(f"DESKGUARD_WEBPUSH_*: {exc.errors()[0]['msg']}", field="webpush") from None
    return WebPushChannel(web, uow=uow, now=now)


def secret_notifier(settings: Settings) -> Notifier | None:
    if not settings.twilio_sms_from:
        return None
    for field in ("twilio_account_sid", "twilio_auth_token"):
        if not getattr(settings, field):
            raise ConfigurationError(
                f"DESKGUARD_{field.upper()} is required with DESKGUARD_TWILIO_SMS_FROM", field=field
            )
    return TwilioSmsNotifier(
        account_sid=settings.twilio_account_sid,
        auth_token=settings.twilio_auth_token,
        from_number=settings.twilio_sms_from,
    )


def identity_verification(settings: Settings) -> IdentityVerification | None:
    if not settings.veriff_api_key:
        return None
    if not settings.veriff_shared_secret:
        raise ConfigurationError(
            "DESKGUARD_VERIFF_SHARED_SECRET is required with DESKGUARD_VERIFF_API_KEY",
            field="veriff_shared_secret",
        )
    return VeriffIdentityVerification(
        api_key=settings.veriff_api_key,
        shared_secret=settings.veriff_shared_secret,
        api_base=settings.veriff_api_url,
        callback_url=settings.veriff_callback_url,
    )


_VERIFY_FIELDS = {
    "account_sid": "twilio_account_sid",
    "auth_token": "twilio_auth_token",
    "service_sid": "twilio_verify_service_sid",
    "channel": "twilio_verify_channel",
}


def otp_delivery(settings: Settings) -> OtpDelivery | None:
    """The deployment's Twilio Verify service, when ``twilio_verify_service_sid`` is set."""
    if not settings.twilio_verify_service_sid:
        return None
    for field in ("twilio_account_sid", "twilio_auth_token"):
        if not getattr(settings, field):
            raise ConfigurationError(
                f"DESKGUARD_{field.upper()} is required with DESKGUARD_TWILIO_VERIFY_SERVICE_SID", field=field
            )
    try:
        verify = TwilioVerifySettings(
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token,
            service_sid=settings.twilio_verify_service_sid,
            channel=settings.twilio_verify_channel,  # type: ignore[arg-type]  # checked by Settings
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        field = _VERIFY_FIELDS.get(str(first["loc"][0]), "twilio_verify")
        raise ConfigurationError(f"DESKGUARD_{field.upper()}: {first['msg']}", field=field) from None
    return TwilioVerifyDelivery(verify)


class TenantOtpDelivery:
    """``OtpDelivery`` by tenant: the tenant's ``otp`` connector, else ``fallback`` (the deployment's,
    itself the fake when nothing is configured). A check goes to the service that sent the code as
    long as the tenant's row is unchanged; a tenant that switches services mid-proof sees ``GONE``."""

    def __init__(self, adapters: TenantAdapters, *, fallback: OtpDelivery) -> None:
        self._adapters, self.fallback = adapters, fallback

    @property
    def name(self) -> str:
        return self.fallback.name

    def _for(self, tenant_id: str) -> OtpDelivery:
        return self._adapters.configured(tenant_id, "otp") or self.fallback

    def send(self, *, tenant_id: str, to_number: str, reference: str) -> OtpSent:
        return self._for(tenant_id).send(tenant_id=tenant_id, to_number=to_number, reference=reference)

    def check(self, *, tenant_id: str, to_number: str, verification_id: str, code: str) -> OtpVerdict:
        return self._for(tenant_id).check(
            tenant_id=tenant_id, to_number=to_number, verification_id=verification_id, code=code
        )

    def health(self) -> Health:
        return self.fallback.health()


class TenantIdentityVerification:
    """``IdentityVerification`` by tenant: the tenant's ``idv`` connector, else ``fallback`` (the
    deployment's, itself the fake when nothing is configured)."""

    def __init__(self, adapters: TenantAdapters, *, fallback: IdentityVerification) -> None:
        self._adapters, self.fallback = adapters, fallback

    def own(self, tenant_id: str) -> IdentityVerification | None:
        """The tenant's own integration (its webhooks' secret); None: the deployment's."""
        return self._adapters.configured(tenant_id, "idv")

    def start(self, *, tenant_id: str, person: Person, reference: str) -> IdvSession:
        chosen = self.own(tenant_id) or self.fallback
        return chosen.start(tenant_id=tenant_id, person=person, reference=reference)
