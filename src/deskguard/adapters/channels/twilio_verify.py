"""One-time codes by Twilio Verify v2: the ``OtpDelivery`` port (httpx, no SDK).

- ``send``: ``POST https://verify.twilio.com/v2/Services/{ServiceSid}/Verifications``, form-encoded
  ``To`` (E.164), ``Channel`` (``sms`` or ``call``); ``201 {sid: "VE...", status: "pending"}``.
- ``check``: ``POST /v2/Services/{ServiceSid}/VerificationCheck``, ``VerificationSid`` (or ``To``
  when the send's answer was lost) and ``Code``; ``200 {status: "approved" | "pending" |
  "canceled", valid}``. Twilio deletes a verification once approved, expired (10 minutes) or after
  too many checks: a check then answers ``404`` with error ``20404`` (``GONE``); the check that
  hits the limit answers ``429`` with ``60202`` (``LOCKED``).
- ``health``: ``GET /v2/Services/{ServiceSid}`` (name and code length).
Basic auth: Account SID and auth token (a ``SecretRef``). Error bodies ``{code, message,
more_info, status}`` give the ``ConnectorError``'s words.

Retries (ADR 0013). Only a plain 429 (``20429``, too many requests) is tried again, after its
``Retry-After``: Twilio refused before sending or checking anything. Nothing else is repeated:
- a second ``Verifications`` POST while one is open sends the same code again (a second SMS), so a
  timeout, a 5xx or an unreadable 2xx is ``ConnectorTimeout`` ("a code may have been sent");
- a ``VerificationCheck`` is not idempotent in effect: each counts toward Twilio's five attempts,
  and a repeat of a check that approved answers 404. A timeout, a 5xx or an unreadable 2xx is
  ``ConnectorTimeout`` ("the check may have been counted"); ``app.verification_otp`` keeps the proof
  pending and does not count the agent's retry of the same code twice.
``60203`` (too many sends to this number) is a definite ``ConnectorError``, as are other 4xx.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict, Field

from deskguard.adapters.connectors.http import error_summary, json_body, retry_after, send
from deskguard.adapters.connectors.retry import Backoff, Retryable, with_retries
from deskguard.adapters.connectors.secrets import SecretRef, resolve
from deskguard.domain.errors import ConnectorError, ConnectorTimeout
from deskguard.domain.ports import Health
from deskguard.domain.ports_otp import OtpSent, OtpVerdict

VENDOR = "Twilio Verify"
API = "https://verify.twilio.com"
MAX_CHECKS_REACHED = 60202
MAX_SENDS_REACHED = 60203
NOT_FOUND = 20404
DEFAULT_BACKOFF = Backoff()
_VERDICTS = {
    "approved": OtpVerdict.APPROVED,
    "pending": OtpVerdict.WRONG,
    "canceled": OtpVerdict.GONE,
    "expired": OtpVerdict.GONE,
    "deleted": OtpVerdict.GONE,
    "failed": OtpVerdict.GONE,
    "max_attempts_reached": OtpVerdict.LOCKED,
}


class TwilioVerifySettings(BaseModel):
    """A tenant's (or the deployment's) Verify service. The auth token is a reference only."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    account_sid: str = Field(pattern=r"^AC[0-9a-fA-F]{32}$", description="the Account SID (AC...)")
    auth_token: SecretRef
    service_sid: str = Field(pattern=r"^VA[0-9a-fA-F]{32}$", description="the Verify Service SID (VA...)")
    channel: Literal["sms", "call"] = "sms"
    timeout_s: float = Field(default=10.0, gt=0, le=30, description="per HTTP call")


class _Final(Exception):
    """Carries an error out of ``with_retries`` without a retry."""

    def __init__(self, error: Exception) -> None:
        self.error = error


def _code(response: httpx.Response) -> int | None:
    try:
        body = response.json()
    except ValueError:
        return None
    code = body.get("code") if isinstance(body, dict) else None
    return code if isinstance(code, int) else None


class TwilioVerifyDelivery:
    name = "twilio-verify"

    def __init__(
        self,
        settings: TwilioVerifySettings,
        *,
        api_base: str = API,
        client: httpx.Client | None = None,
        backoff: Backoff = DEFAULT_BACKOFF,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self._settings = settings
        self._sid = settings.account_sid
        self._token = resolve(settings.auth_token, field="auth_token")
        self._service = f"{api_base.rstrip('/')}/v2/Services/{quote(settings.service_sid, safe='')}"
        self._client = client or httpx.Client(timeout=httpx.Timeout(settings.timeout_s, connect=5.0))
        self._backoff = backoff
        self._sleep = {"sleep": sleep} if sleep is not None else {}

    # --- the port --------------------------------------------------------------------------------
    def send(self, *, tenant_id: str, to_number: str, reference: str) -> OtpSent:
        if not to_number.startswith("+"):
            raise ConnectorError(f"{VENDOR} sends to an E.164 number (+...), not {to_number!r}")
        data = {"To": to_number, "Channel": self._settings.channel}
        response = self._post("/Verifications", data, unknown="a code may have been sent")
        if response.status_code == 429:
            raise ConnectorError(
                f"{VENDOR} refused: too many codes sent to this number (code {MAX_SENDS_REACHED}); "
                "wait ten minutes or use another proof"
            )
        if response.status_code == 404:
            raise ConnectorError(f"{VENDOR} refused (404): {error_summary(response)}")
        body = self._body(response, unknown="a code may have been sent")
        sid, status = body.get("sid"), body.get("status")
        if not isinstance(sid, str) or not sid.startswith("VE"):
            raise ConnectorTimeout(
                f"{VENDOR} answered {response.status_code} without a verification sid: "
                "a code may have been sent"
            )
        if status != "pending":
            raise ConnectorError(f"{VENDOR} created verification {sid} as {status!r}, not pending")
        channel = body.get("channel")
        return OtpSent(
            verification_id=sid, channel=channel if isinstance(channel, str) else self._settings.channel
        )

    def check(self, *, tenant_id: str, to_number: str, verification_id: str, code: str) -> OtpVerdict:
        target = {"VerificationSid": verification_id} if verification_id else {"To": to_number}
        response = self._post(
            "/VerificationCheck", {**target, "Code": code}, unknown="the check may have been counted"
        )
        if response.status_code == 404:
            return OtpVerdict.GONE  # 20404: expired, approved already, or too many checks
        if response.status_code == 429:
            return OtpVerdict.LOCKED  # 60202: max check attempts reached
        body = self._body(response, unknown="the check may have been counted")
        verdict = _VERDICTS.get(str(body.get("status")))
        valid = body.get("valid")
        if verdict is None or (valid is not None and (valid is True) != (verdict == OtpVerdict.APPROVED)):
            raise ConnectorTimeout(
                f"{VENDOR} answered {response.status_code} without a readable verdict "
                f"(status {body.get('status')!r}, valid {valid!r}): the check may have been counted"
            )
        return verdict

    def health(self) -> Health:
        """``GET`` the service: its name and code length, or why it cannot be read."""
        try:
            response = with_retries(
                lambda: send(
                    self._client, "GET", self._service, vendor=VENDOR, auth=(self._sid, self._token)
                ),
                idempotent=True,
                backoff=self._backoff,
                **self._sleep,
            )
            body = json_body(response, vendor=VENDOR)
        except (ConnectorError, ConnectorTimeout) as exc:
            return Health(ok=False, detail=exc.message)
        if not isinstance(body, dict) or body.get("sid") != self._settings.service_sid:
            return Health(ok=False, detail=f"{VENDOR} answered without service {self._settings.service_sid}")
        return Health(
            ok=True,
            detail=f"service {body.get('friendly_name', '?')!s} ({body['sid']}): "
            f"{body.get('code_length', '?')}-digit codes by {self._settings.channel}",
        )

    # --- HTTP ------------------------------------------------------------------------------------
    def _post(self, path: str, data: dict[str, str], *, unknown: str) -> httpx.Response:
        """One POST, tried again only on a plain 429; 404 and the final 429s come back to the caller."""
        try:
            return with_retries(
                lambda: self._once(path, data, unknown=unknown),
                idempotent=True,  # only Retryable reaches with_retries: Twilio refused before acting
                backoff=self._backoff,
                **self._sleep,
            )
        except _Final as final:
            raise final.error from None

    def _once(self, path: str, data: dict[str, str], *, unknown: str) -> httpx.Response:
        try:
            response = send(
                self._client,
                "POST",
                self._service + path,
                vendor=VENDOR,
                accept={404, 429},
                data=data,
                auth=(self._sid, self._token),
            )
        except Retryable as exc:  # a 5xx: Twilio may have acted
            raise _Final(ConnectorTimeout(f"{exc}: {unknown}")) from None
        except ConnectorTimeout as exc:
            raise _Final(ConnectorTimeout(f"{exc.message}: {unknown}")) from None
        except ConnectorError as exc:
            raise _Final(exc) from None
        if response.status_code == 429 and _code(response) not in (MAX_CHECKS_REACHED, MAX_SENDS_REACHED):
            raise Retryable(
                f"{VENDOR} answered 429: {error_summary(response)}", retry_after=retry_after(response)
            )
        if response.status_code == 404 and _code(response) != NOT_FOUND:
            raise _Final(ConnectorError(f"{VENDOR} refused (404): {error_summary(response)}"))
        return response

    def _body(self, response: httpx.Response, *, unknown: str) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise ConnectorTimeout(
                f"{VENDOR} answered {response.status_code} with a body not JSON: {unknown}"
            )
        return body
