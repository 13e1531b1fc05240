"""Twilio: the ``Telephony`` port over the Programmable Voice Calls API (httpx, no SDK).

A call-back is one ``POST /2010-04-01/Accounts/{AccountSid}/Calls.json`` (form-encoded ``To``,
``From``, ``Twiml``, ``StatusCallback``; basic auth AccountSid + auth token, the token read from a
``SecretRef``). The TwiML reads the code out and ``<Gather input="dtmf" numDigits=...>`` collects
it on the keypad; Twilio then posts the digits to deskguard's ``/api/v1/webhooks/twilio/gather``,
and the final call status to ``/api/v1/webhooks/twilio/status``. A tenant's own Twilio account
(``tenant_id`` given: a ``telephony`` connector of that tenant) gives Twilio the tenant's URLs,
``/api/v1/webhooks/twilio/<tenant>/gather|status``, whose route checks the signature with that
account's token (``webhook_paths``).

The expected code is not stored anywhere: the gather ``action`` URL carries ``ref`` (the proof id)
and ``k``, an HMAC-SHA256 of ``ref:code`` keyed by the auth token. Twilio signs the whole URL with
``X-Twilio-Signature`` (``verify_twilio_signature``), so ``k`` cannot be altered, and the digits the
person typed are checked against it in constant time.

Creating a call is not idempotent (a second POST rings the phone again): it is tried once. A 429
or 5xx is a ``ConnectorError``; a timeout is ``ConnectorTimeout`` and the proof stays pending.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, urlencode, urlsplit
from xml.sax.saxutils import escape, quoteattr

import httpx

from deskguard.adapters.connectors.http import DEFAULT_TIMEOUT, json_body, send
from deskguard.adapters.connectors.retry import with_retries
from deskguard.adapters.connectors.secrets import resolve
from deskguard.domain.errors import ConfigurationError, ConnectorError, Unauthenticated

VENDOR = "Twilio"
API = "https://api.twilio.com"
GATHER_PATH = "/api/v1/webhooks/twilio/gather"
STATUS_PATH = "/api/v1/webhooks/twilio/status"
WEBHOOKS = "/api/v1/webhooks/twilio"
FAILED_STATUSES = frozenset({"busy", "no-answer", "failed", "canceled"})

Params = Mapping[str, str] | Iterable[tuple[str, str]]


def verify_twilio_signature(url: str, params: Params, signature: str, auth_token: str) -> bool:
    """Twilio's request validation: base64(HMAC-SHA1(auth token, URL + each POST param's name and
    value, sorted by name)). A repeated name contributes each distinct value, sorted, as Twilio's
    own validators do. Compared in constant time."""
    pairs = list(params.items()) if isinstance(params, Mapping) else list(params)
    values: dict[str, set[str]] = {}
    for name, value in pairs:
        values.setdefault(name, set()).add(value)
    data = url + "".join(name + value for name in sorted(values) for value in sorted(values[name]))
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    expected = base64.b64encode(digest).decode()
    return bool(signature) and hmac.compare_digest(expected.encode(), signature.encode())


def webhook_paths(tenant_id: str | None) -> tuple[str, str]:
    """(gather, status) paths Twilio is given: the deployment's, or a tenant's own account's."""
    if tenant_id is None:
        return GATHER_PATH, STATUS_PATH
    base = f"{WEBHOOKS}/{quote(tenant_id, safe='')}"
    return f"{base}/gather", f"{base}/status"


@dataclass(frozen=True, slots=True)
class CallOutcome:
    """What a verified callback says: the call, and whether the person confirmed (``None``: nothing
    to report yet, e.g. a status callback of a call that completed)."""

    call_id: str
    confirmed: bool | None


def _secret(reference: str, *, field: str) -> str:
    try:
        return resolve(reference, field=field)
    except ValueError as exc:
        raise ConfigurationError(f"{field}: {exc}", field=field) from None


def public_base(url: str, *, field: str = "telephony_callback_base_url") -> str:
    """deskguard's public origin as Twilio reaches it: ``https://host[:port]``, no path or query."""
    parts = urlsplit(url.strip())
    if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment:
        raise ConfigurationError(
            f"{field}: Twilio calls deskguard back at a public https:// origin, not {url!r}", field=field
        )
    return f"https://{parts.netloc}{parts.path.rstrip('/')}"


class TwilioTelephony:
    name = "twilio"

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,  # SecretRef
        from_number: str,
        callback_base_url: str,
        api_base: str = API,
        client: httpx.Client | None = None,
        ring_timeout_s: int = 30,
        tenant_id: str | None = None,  # a tenant's own account: Twilio calls back the tenant's URLs
    ) -> None:
        if not account_sid.startswith("AC"):
            raise ConfigurationError(
                "twilio_account_sid: an Account SID starts with AC", field="twilio_account_sid"
            )
        if not from_number.startswith("+"):
            raise ConfigurationError("twilio_from_number: an E.164 number, +...", field="twilio_from_number")
        self._sid, self._from = account_sid, from_number
        self._token = _secret(auth_token, field="twilio_auth_token")
        self._base = public_base(callback_base_url)
        self._api = api_base.rstrip("/")
        self._ring = ring_timeout_s
        self.tenant_id = tenant_id
        self._gather, self._status = webhook_paths(tenant_id)
        self._client = client or httpx.Client(timeout=DEFAULT_TIMEOUT)

    # --- placing the call ------------------------------------------------------------------------
    def place_verification_call(
        self, *, tenant_id: str, to_number: str, reference: str, spoken_code: str
    ) -> str:
        data = {
            "To": to_number,
            "From": self._from,
            "Twiml": self.twiml(reference=reference, spoken_code=spoken_code),
            "StatusCallback": self._base + self._status,
            "Timeout": str(self._ring),
        }
        url = f"{self._api}/2010-04-01/Accounts/{quote(self._sid, safe='')}/Calls.json"
        response = with_retries(
            lambda: send(self._client, "POST", url, vendor=VENDOR, data=data, auth=(self._sid, self._token)),
            idempotent=False,  # a second POST would ring the phone a second time
        )
        body = json_body(response, vendor=VENDOR)
        sid = body.get("sid") if isinstance(body, dict) else None
        if not isinstance(sid, str) or not sid.startswith("CA"):
            raise ConnectorError(f"{VENDOR} answered {response.status_code} without a call sid")
        return sid

    def twiml(self, *, reference: str, spoken_code: str) -> str:
        """The call's script: the code read digit by digit (twice), then a keypad gather."""
        query = urlencode({"ref": reference, "k": self._expect(reference, spoken_code)})
        action = quoteattr(f"{self._base}{self._gather}?{query}")
        digits = escape(", ".join(spoken_code))
        say = (
            "This is your IT helpdesk security check. If you asked the helpdesk for help, "
            f"enter this code on your keypad: {digits}. Again: {digits}."
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?><Response>'
            f'<Gather input="dtmf" numDigits="{len(spoken_code)}" timeout="10" method="POST" '
            f'actionOnEmptyResult="true" action={action}><Say>{say}</Say></Gather>'
            "<Say>No code was entered. Goodbye.</Say></Response>"
        )

    def _expect(self, reference: str, code: str) -> str:
        return hmac.new(self._token.encode(), f"{reference}:{code}".encode(), hashlib.sha256).hexdigest()

    # --- the callbacks ---------------------------------------------------------------------------
    def callback_url(self, path: str, query: str) -> str:
        """The full URL Twilio signed: the configured public origin, not what a proxy forwarded."""
        return self._base + path + (f"?{query}" if query else "")

    def _verified(self, url: str, params: list[tuple[str, str]], signature: str) -> dict[str, str]:
        if not verify_twilio_signature(url, params, signature, self._token):
            raise Unauthenticated("missing or bad X-Twilio-Signature")
        return dict(params)

    def gather_outcome(self, *, url: str, params: list[tuple[str, str]], signature: str) -> CallOutcome:
        """The keypad answer: confirmed when the digits are the code the call read out."""
        form = self._verified(url, params, signature)
        query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        call_id, ref, given = form.get("CallSid", ""), query.get("ref", ""), query.get("k", "")
        if not call_id or not ref or not given:
            raise ConnectorError("Twilio gather callback without CallSid, ref or k")
        digits = form.get("Digits", "")
        ok = bool(digits) and hmac.compare_digest(self._expect(ref, digits), given)
        return CallOutcome(call_id=call_id, confirmed=ok)

    def status_outcome(self, *, url: str, params: list[tuple[str, str]], signature: str) -> CallOutcome:
        """A final call status: busy, no answer, failed or canceled is "not confirmed"; completed
        says nothing (the gather reported the answer, or the proof expires)."""
        form = self._verified(url, params, signature)
        call_id = form.get("CallSid", "")
        if not call_id:
            raise ConnectorError("Twilio status callback without CallSid")
        return CallOutcome(
            call_id=call_id, confirmed=False if form.get("CallStatus") in FAILED_STATUSES else None
        )
