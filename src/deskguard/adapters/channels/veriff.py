"""External identity verification by Veriff: the ``IdentityVerification`` port (httpx, no SDK).

Followed from Veriff's public API reference (devdocs.veriff.com, "Create session", "Decision
webhook", "Verification session status codes", "Common HTTP status codes"):

- ``start`` is one ``POST {base}/v1/sessions`` with ``X-AUTH-CLIENT: <API key>`` and the JSON
  session body ``{"verification": {"callback", "person": {"firstName", "lastName"}, "vendorData"}}``
  (that endpoint takes no ``X-HMAC-SIGNATURE``). ``vendorData`` carries deskguard's tenant and request
  id, never personal data. The answer ``{"status": "success", "verification": {"id", "url", ...}}``
  gives the session id the verdict will name and ``verification.url``, the person's link to the
  hosted flow (an ``https://`` URL, returned in the ``IdvSession``; a bearer link, so it is never
  logged nor put in an error's text). The answer carries no expiry (Veriff ends an unused session
  itself, and says so by an ``expired`` / ``abandoned`` decision): ``expires_at`` is None and the
  proof's own lifetime bounds the link. An error body ``{"status": "fail", "code", "message"}``
  becomes the ``ConnectorError``'s text.
- Creating a session is not idempotent: only a 429 is tried again (after its ``Retry-After``), since
  Veriff refused before creating anything. A 5xx or a timeout may have created a session, so it is
  never repeated: the error reaches the use case and the proof stays unproven.
- ``decision`` reads Veriff's webhook: ``X-HMAC-SIGNATURE`` = hex HMAC-SHA256 of the raw body with the
  integration's shared secret, checked in constant time before the body is parsed. The decision
  webhook's ``verification.status`` is ``approved`` (9001), ``declined`` (9102),
  ``resubmission_requested`` (9103), ``expired`` / ``abandoned`` (9104) or ``review`` (9121);
  the event webhook's ``action`` is ``started`` (7001) or ``submitted`` (7002). Only approved,
  declined, expired and abandoned are verdicts; the others say "not yet".
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from deskguard.adapters.connectors.http import DEFAULT_TIMEOUT, json_body, retry_after, send
from deskguard.adapters.connectors.retry import Backoff, Retryable, with_retries
from deskguard.adapters.connectors.secrets import resolve
from deskguard.domain.errors import (
    ConfigurationError,
    ConnectorError,
    ConnectorTimeout,
    Unauthenticated,
    ValidationFailed,
)
from deskguard.domain.model import Person
from deskguard.domain.ports import Health
from deskguard.domain.ports_idv import IdvSession

DEFAULT_BACKOFF = Backoff()
VENDOR = "Veriff"
API = "https://stationapi.veriff.com"
SIGNATURE_HEADER = "x-hmac-signature"
VERDICTS = {"approved": True, "declined": False, "expired": False, "abandoned": False}
NOT_YET = frozenset({"started", "submitted", "resubmission_requested", "review"})
MAX_URL = 2048


@dataclass(frozen=True, slots=True)
class VeriffDecision:
    session_id: str
    status: str  # Veriff's word: approved, declined, review...
    verified: bool | None  # None: not a verdict yet (the session goes on)
    code: int | None = None
    reason: str = ""


class _Unrepeated(Exception):
    """Carries a timeout out of ``with_retries`` without a retry: the session may exist."""

    def __init__(self, error: ConnectorTimeout) -> None:
        self.error = error


class VeriffIdentityVerification:
    name = "veriff"

    def __init__(
        self,
        *,
        api_key: str,  # SecretRef
        shared_secret: str,  # SecretRef
        api_base: str = API,
        callback_url: str = "",  # where the person's browser goes once done; "" = the integration's
        client: httpx.Client | None = None,
        backoff: Backoff = DEFAULT_BACKOFF,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        if not api_base.startswith("https://"):
            raise ConfigurationError("veriff_api_url: an https:// base URL", field="veriff_api_url")
        if callback_url and not callback_url.startswith("https://"):
            raise ConfigurationError("veriff_callback_url: an https:// URL", field="veriff_callback_url")
        self._key = _secret(api_key, field="veriff_api_key")
        self._secret = _secret(shared_secret, field="veriff_shared_secret").encode()
        self._url = f"{api_base.rstrip('/')}/v1/sessions"
        self._callback = callback_url
        self._client = client or httpx.Client(timeout=DEFAULT_TIMEOUT)
        self._backoff = backoff
        self._sleep = {"sleep": sleep} if sleep is not None else {}

    def start(self, *, tenant_id: str, person: Person, reference: str) -> IdvSession:
        verification: dict[str, Any] = {"vendorData": f"{tenant_id}:{reference}"}
        first, _, last = person.display_name.strip().rpartition(" ")
        names = {"firstName": first, "lastName": last} if first else {"lastName": last}
        if last:
            verification["person"] = names
        if self._callback:
            verification["callback"] = self._callback
        try:
            response = with_retries(
                lambda: self._once({"verification": verification}),
                idempotent=True,  # only 429s reach the retry: nothing was created
                backoff=self._backoff,
                **self._sleep,
            )
        except _Unrepeated as unrepeated:
            raise unrepeated.error from None
        body = json_body(response, vendor=VENDOR)
        session = body.get("verification") if isinstance(body, dict) else None
        sid = session.get("id") if isinstance(session, dict) else None
        if not isinstance(sid, str) or not sid or len(sid) > 64:
            raise ConnectorError(f"{VENDOR} answered {response.status_code} without a session id (malformed)")
        url = session.get("url") if isinstance(session, dict) else None
        if not isinstance(url, str) or not url.startswith("https://") or len(url) > MAX_URL:
            # the text names the session, never the URL: it is the person's bearer link
            raise ConnectorError(
                f"{VENDOR} answered {response.status_code} for session {sid} without an https "
                "verification.url for the person (malformed)"
            )
        return IdvSession(session_id=sid, url=url)

    def _once(self, body: dict[str, Any]) -> httpx.Response:
        headers = {"X-AUTH-CLIENT": self._key, "Content-Type": "application/json"}
        try:
            response = send(
                self._client, "POST", self._url, vendor=VENDOR, accept={429}, json=body, headers=headers
            )
        except Retryable as exc:  # 5xx: a session may have been created; never created twice
            raise ConnectorError(f"{exc} (not repeated: the session may exist)") from None
        except ConnectorTimeout as exc:
            raise _Unrepeated(exc) from None
        if response.status_code == 429:
            raise Retryable(f"{VENDOR} answered 429 (too many requests)", retry_after=retry_after(response))
        return response

    def sign(self, body: bytes) -> str:
        """The ``X-HMAC-SIGNATURE`` Veriff computes over ``body`` (lowercase hex)."""
        return hmac.new(self._secret, body, hashlib.sha256).hexdigest()

    def decision(self, *, body: bytes, signature: str) -> VeriffDecision:
        """A signed webhook's verdict. ``Unauthenticated`` before parsing when the signature is
        missing or wrong; ``ValidationFailed`` naming the field when the body is not Veriff's."""
        if not signature or not hmac.compare_digest(signature.strip().lower(), self.sign(body)):
            raise Unauthenticated("missing or bad X-HMAC-SIGNATURE")
        try:
            payload = json.loads(body)
        except ValueError:
            raise ValidationFailed("body: not JSON", field="body") from None
        if not isinstance(payload, dict):
            raise ValidationFailed("body: a JSON object", field="body")
        if isinstance(payload.get("verification"), dict):  # the decision webhook
            v = payload["verification"]
            return _decision(v.get("id"), v.get("status"), v.get("code"), v.get("reason"), "verification")
        if "action" in payload:  # the event webhook: the session started, or media was submitted
            return _decision(payload.get("id"), payload.get("action"), payload.get("code"), "", "")
        raise ValidationFailed("verification: required (a Veriff decision or event)", field="verification")

    def health(self) -> Health:
        return Health(ok=True, detail=f"creates sessions at {self._url}")


def _secret(reference: str, *, field: str) -> str:
    """The secret a reference points to; an inline value is a ``ConfigurationError`` naming ``field``."""
    try:
        return resolve(reference, field=field)
    except ValueError as exc:
        raise ConfigurationError(f"{field}: {exc}", field=field) from None


def _decision(sid: Any, status: Any, code: Any, reason: Any, where: str) -> VeriffDecision:
    prefix = f"{where}." if where else ""
    if not isinstance(sid, str) or not sid or len(sid) > 64:
        raise ValidationFailed(f"{prefix}id: a session id of 1 to 64 characters", field=f"{prefix}id")
    field = f"{prefix}status" if where else "action"
    if status not in VERDICTS and status not in NOT_YET:
        known = ", ".join([*VERDICTS, *sorted(NOT_YET)])
        raise ValidationFailed(f"{field}: {status!r} is not a Veriff status; one of {known}", field=field)
    return VeriffDecision(
        session_id=sid,
        status=status,
        verified=VERDICTS.get(status),
        code=code if isinstance(code, int) else None,
        reason=reason if isinstance(reason, str) else "",
    )
