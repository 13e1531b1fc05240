"""A Twilio Verify v2 far end for respx, built from Twilio's published API reference (no network).

``VerifySim`` answers what the adapter calls, in Twilio's own shapes:

- ``POST /v2/Services/{VA}/Verifications`` (form ``To``, ``Channel``): ``201 {sid: VE..., status:
  "pending", channel, to, send_code_attempts}``; while a verification of the same ``To`` is open,
  Twilio resends *the same code* on the same sid — each POST is another SMS, which ``sms_sent``
  counts;
- ``POST /v2/Services/{VA}/VerificationCheck`` (form ``VerificationSid`` or ``To``, ``Code``):
  ``200 {status: "approved", valid: true}`` (the verification is then deleted) or ``200 {status:
  "pending", valid: false}``; ``404`` error ``20404`` for a verification that expired, was approved
  or was locked; ``429`` error ``60202`` once five wrong codes were checked;
- ``GET /v2/Services/{VA}``: the service (``friendly_name``, ``code_length``).
Basic auth with the Account SID and auth token, else ``401`` error ``20003``. Error bodies are
``{code, message, more_info, status}``.

Switches for the tests: ``refuse_next`` (a 400 before acting), ``throttle_next`` (a 429 ``20429``
with ``Retry-After``, before acting), ``then_next`` — ``"timeout"``, ``"503"`` or ``"garbage"`` —
the far end acts, then the answer is lost, a 5xx, or not JSON.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs

import httpx
import respx

SID = "AC" + "a1" * 16
TOKEN = "verify-test-token"
SERVICE = "VA" + "b2" * 16
BASE = f"https://verify.twilio.com/v2/Services/{SERVICE}"
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


def twilio_error(status: int, code: int, message: str) -> httpx.Response:
    more = f"https://www.twilio.com/docs/errors/{code}"
    return httpx.Response(
        status, json={"code": code, "message": message, "more_info": more, "status": status}
    )


@dataclass
class _Open:
    sid: str
    to: str
    channel: str
    code: str
    checks: int = 0
    sends: int = 1


@dataclass
class VerifySim:
    open: dict[str, _Open] = field(default_factory=dict)
    sms_sent: list[tuple[str, str]] = field(default_factory=list)  # (to, code) each time one went out
    checks_counted: int = 0  # checks Twilio processed (each counts toward its five)
    requests: list[httpx.Request] = field(default_factory=list)
    refuse_next: tuple[int, int, str] | None = None  # (status, code, message), before acting
    throttle_next: int = 0  # the next N calls answer 429 20429 (Retry-After: 1), before acting
    then_next: str = ""  # "timeout" | "503" | "garbage": after acting on the next call
    _serial: int = 0

    def install(self, mock: respx.MockRouter) -> None:
        mock.post(f"{BASE}/Verifications").mock(side_effect=self._verifications)
        mock.post(f"{BASE}/VerificationCheck").mock(side_effect=self._check)
        mock.get(BASE).mock(side_effect=self._service)

    # --- helpers for the tests -------------------------------------------------------------------
    def code_for(self, to: str) -> str:
        return (
            next(v.code for v in self.open.values() if v.to == to) if self._has(to) else self.sms_sent[-1][1]
        )

    def _has(self, to: str) -> bool:
        return any(v.to == to for v in self.open.values())

    def expire(self) -> None:
        self.open.clear()

    # --- the far end -----------------------------------------------------------------------------
    def _gate(self, request: httpx.Request) -> httpx.Response | None:
        self.requests.append(request)
        expected = "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
        if request.headers.get("authorization") != expected:
            return twilio_error(401, 20003, "Authenticate")
        if (
            request.method == "POST"
            and request.headers.get("content-type") != "application/x-www-form-urlencoded"
        ):
            return twilio_error(400, 60200, "Invalid parameter")
        if self.throttle_next:
            self.throttle_next -= 1
            response = twilio_error(429, 20429, "Too Many Requests")
            response.headers["Retry-After"] = "1"
            return response
        if self.refuse_next is not None:
            (status, code, message), self.refuse_next = self.refuse_next, None
            return twilio_error(status, code, message)
        return None

    def _after(self, response: httpx.Response) -> httpx.Response:
        then, self.then_next = self.then_next, ""
        if then == "timeout":
            raise httpx.ReadTimeout("the answer never came")
        if then == "503":
            return twilio_error(503, 20500, "Service Unavailable")
        if then == "garbage":
            return httpx.Response(200, text="<html>upstream proxy error</html>")
        return response

    @staticmethod
    def _form(request: httpx.Request) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}

    def _verifications(self, request: httpx.Request) -> httpx.Response:
        if (gated := self._gate(request)) is not None:
            return gated
        form = self._form(request)
        to, channel = form.get("To", ""), form.get("Channel", "")
        if not E164.match(to):
            return twilio_error(400, 60200, "Invalid parameter `To`")
        if channel not in ("sms", "call", "email", "whatsapp", "sna", "auto"):
            return twilio_error(400, 60200, "Invalid parameter `Channel`")
        found = next((v for v in self.open.values() if v.to == to), None)
        if found is None:
            self._serial += 1
            found = _Open(
                sid=f"VE{self._serial:032x}",
                to=to,
                channel=channel,
                code=f"{(self._serial * 7919) % 10**6:06d}",
            )
            self.open[found.sid] = found
        else:
            found.sends += 1  # Verify resends the open code
        self.sms_sent.append((to, found.code))
        body = {
            "sid": found.sid,
            "service_sid": SERVICE,
            "account_sid": SID,
            "to": to,
            "channel": channel,
            "status": "pending",
            "valid": False,
            "send_code_attempts": [{"channel": channel} for _ in range(found.sends)],
            "lookup": {"carrier": None},
        }
        return self._after(httpx.Response(201, json=body))

    def _check(self, request: httpx.Request) -> httpx.Response:
        if (gated := self._gate(request)) is not None:
            return gated
        form = self._form(request)
        if "Code" not in form or not ("VerificationSid" in form or "To" in form):
            return twilio_error(400, 60200, "Invalid parameter")
        sid = form.get("VerificationSid") or next(
            (v.sid for v in self.open.values() if v.to == form["To"]), ""
        )
        found = self.open.get(sid)
        if found is None:
            return twilio_error(
                404, 20404, f"The requested resource /Services/{SERVICE}/VerificationCheck was not found"
            )
        if found.checks >= 5:
            del self.open[sid]
            return twilio_error(429, 60202, "Max check attempts reached")
        self.checks_counted += 1
        ok = form["Code"] == found.code
        if ok:
            del self.open[sid]
        else:
            found.checks += 1
        body = {
            "sid": sid,
            "service_sid": SERVICE,
            "to": found.to,
            "channel": found.channel,
            "status": "approved" if ok else "pending",
            "valid": ok,
        }
        return self._after(httpx.Response(200, json=body))

    def _service(self, request: httpx.Request) -> httpx.Response:
        if (gated := self._gate(request)) is not None:
            return gated
        return httpx.Response(200, json={"sid": SERVICE, "friendly_name": "Acme helpdesk", "code_length": 6})
