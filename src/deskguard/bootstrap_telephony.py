"""The composition of the telephony connector (part of the composition root, beside
``bootstrap.py``): which ``Telephony`` places the automated call-backs.

``telephony_vendor`` picks it: ``twilio`` (``TWILIO_*`` and the public callback URL), ``ari``
(``ARI_*``), or unset for none (``bootstrap`` keeps the fake). A missing setting is an error naming it.
"""

from __future__ import annotations

from deskguard.adapters.telephony.ari import AriTelephony
from deskguard.adapters.telephony.twilio import TwilioTelephony
from deskguard.domain.errors import ConfigurationError
from deskguard.domain.ports import Telephony
from deskguard.settings import Settings

REQUIRED = {
    "twilio": (
        "twilio_account_sid",
        "twilio_auth_token",
        "twilio_from_number",
        "telephony_callback_base_url",
    ),
    "ari": ("ari_url", "ari_user", "ari_password", "ari_endpoint_template"),
}


def telephony(settings: Settings) -> Telephony | None:
    vendor = settings.telephony_vendor
    if not vendor:
        return None
    for field in REQUIRED[vendor]:
        if not getattr(settings, field):
            raise ConfigurationError(
                f"DESKGUARD_{field.upper()} is required with DESKGUARD_TELEPHONY_VENDOR={vendor}", field=field
            )
    if vendor == "twilio":
        return TwilioTelephony(
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token,
            from_number=settings.twilio_from_number,
            callback_base_url=settings.telephony_callback_base_url,
        )
    return AriTelephony(
        url=settings.ari_url,
        user=settings.ari_user,
        password=settings.ari_password,
        endpoint_template=settings.ari_endpoint_template,
        app=settings.ari_app,
    )
