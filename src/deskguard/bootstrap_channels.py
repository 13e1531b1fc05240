"""The composition of the verification and secret-delivery channels (part of the composition root,
beside ``bootstrap.py``): Web Push to the portal devices, and secret delivery by Twilio SMS.

``webpush_vapid_private_key`` set: ``WebPushChannel`` serves ``PushChannel``. ``twilio_sms_from``
set: ``TwilioSmsNotifier`` serves ``Notifier`` (with ``twilio_account_sid`` / ``twilio_auth_token``).
``veriff_api_key`` set: ``VeriffIdentityVerification`` serves ``IdentityVerification`` (with
``veriff_shared_secret``). Unset, ``bootstrap`` keeps the fakes. A missing companion setting is an
error naming it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from pydantic import ValidationError

from deskguard.adapters.channels.twilio_sms import TwilioSmsNotifier
from deskguard.adapters.channels.veriff import VeriffIdentityVerification
from deskguard.adapters.channels.webpush import WebPushChannel, WebPushSettings
from deskguard.domain.errors import ConfigurationError
from deskguard.domain.ports import IdentityVerification, Notifier, PushChannel, UnitOfWorkFactory
from deskguard.settings import Settings


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
