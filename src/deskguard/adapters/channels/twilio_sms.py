"""Secret delivery by SMS through Twilio's Messages API: the ``Notifier`` port (httpx, no SDK).

A produced secret (a temporary password, a Temporary Access Pass) goes to the person's registered
phone, never by e-mail (a mailbox is what an account takeover reaches first; integrations.md §5.3):
``deliver_secret`` refuses every channel but ``sms``. One ``POST /2010-04-01/Accounts/{AccountSid}/
Messages.json``, form-encoded ``To``, ``From`` (or ``MessagingServiceSid``), ``Body``; basic auth
AccountSid + auth token (a ``SecretRef``). Twilio's answer ``{sid: "SM...", status: "queued"}``
gives the delivery reference; an error body ``{code, message, more_info}`` becomes the
``ConnectorError``'s text.

Only a 429 is tried again (after its ``Retry-After``): Twilio refused before queueing anything. A
5xx or a timeout may have queued the message, so it is not repeated: a second SMS would carry the
same secret, but "sent once" is what the ledger records.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

import httpx

from deskguard.adapters.connectors.http import DEFAULT_TIMEOUT, json_body, retry_after, send
from deskguard.adapters.connectors.retry import Backoff, Retryable, with_retries
from deskguard.adapters.connectors.secrets import resolve
from deskguard.domain.errors import ConfigurationError, ConnectorError, ConnectorTimeout
from deskguard.domain.model import Person
from deskguard.domain.ports import Health

DEFAULT_BACKOFF = Backoff()
VENDOR = "Twilio Messages"
API = "https://api.twilio.com"
CHANNEL = "sms"
KIND_WORDS = {"temporary_password": "temporary password", "temporary_access_pass": "Temporary Access Pass"}


class _Final(Exception):
    """Carries an error out of ``with_retries`` without a retry."""

    def __init__(self, error: Exception) -> None:
        self.error = error


class TwilioSmsNotifier:
    name = "twilio-sms"

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,  # SecretRef
        from_number: str,  # E.164, or a Messaging Service SID (MG...)
        api_base: str = API,
        client: httpx.Client | None = None,
        backoff: Backoff = DEFAULT_BACKOFF,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        if not account_sid.startswith("AC"):
            raise ConfigurationError(
                "twilio_account_sid: an Account SID starts with AC", field="twilio_account_sid"
            )
        if not from_number.startswith(("+", "MG")):
            raise ConfigurationError(
                "twilio_sms_from: an E.164 number (+...) or a Messaging Service SID (MG...)",
                field="twilio_sms_from",
            )
        self._sid, self._from = account_sid, from_number
        self._token = resolve(auth_token, field="twilio_auth_token")
        self._url = f"{api_base.rstrip('/')}/2010-04-01/Accounts/{quote(account_sid, safe='')}/Messages.json"
        self._client = client or httpx.Client(timeout=DEFAULT_TIMEOUT)
        self._backoff = backoff
        self._sleep = {"sleep": sleep} if sleep is not None else {}

    def deliver_secret(self, *, tenant_id: str, person: Person, channel: str, kind: str, secret: str) -> str:
        if channel != CHANNEL:
            raise ConnectorError(
                f"a {kind} is never sent to {channel!r}: deskguard delivers secrets by SMS only"
            )
        phone = person.registered_phone()
        if phone is None:
            raise ConnectorError(f"{person.display_name} has no registered phone for the SMS")
        if not secret:
            raise ConnectorError(f"no {kind} to deliver")
        sender = {"MessagingServiceSid": self._from} if self._from.startswith("MG") else {"From": self._from}
        words = KIND_WORDS.get(kind, kind.replace("_", " "))
        data = {
            "To": phone.number,
            **sender,
            "Body": f"Your IT helpdesk {words}: {secret} . Nobody from IT will ever ask you for it.",
        }
        try:
            response = with_retries(
                lambda: self._once(data), idempotent=True, backoff=self._backoff, **self._sleep
            )
        except _Final as final:
            raise final.error from None
        body = json_body(response, vendor=VENDOR)
        sid = body.get("sid") if isinstance(body, dict) else None
        if not isinstance(sid, str) or not sid.startswith(("SM", "MM")):
            raise ConnectorError(f"{VENDOR} answered {response.status_code} without a message sid")
        return sid

    def _once(self, data: dict[str, str]) -> httpx.Response:
        try:
            response = send(
                self._client,
                "POST",
                self._url,
                vendor=VENDOR,
                accept={429},
                data=data,
                auth=(self._sid, self._token),
            )
        except Retryable as exc:  # 5xx: the message may be queued; never sent twice
            raise _Final(ConnectorError(str(exc))) from None
        except ConnectorTimeout as exc:
            raise _Final(exc) from None
        if response.status_code == 429:
            raise Retryable(f"{VENDOR} answered 429 (too many requests)", retry_after=retry_after(response))
        return response

    def health(self) -> Health:
        return Health(ok=True, detail=f"sends from {self._from}")
