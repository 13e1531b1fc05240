"""A respx stand-in for Veriff's ``POST /v1/sessions``, following Veriff's published API reference
(devdocs.veriff.com "Create session", "Common HTTP status codes"): ``X-AUTH-CLIENT`` required,
201 ``{"status": "success", "verification": {"id", "url", "vendorData", "host", "status":
"created", "sessionToken"}}``, errors as ``{"status": "fail", "code", "message"}``. Not a live
integration."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from typing import Any

import httpx

BASE = "https://stationapi.veriff.com"
SESSIONS = f"{BASE}/v1/sessions"
API_KEY = "veriff-api-key-0001"
SHARED_SECRET = "veriff-shared-secret-0001"


def signature(body: bytes, secret: str = SHARED_SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Station:
    """Creates a session per accepted POST and keeps what it was sent."""

    def __init__(self, *, keys: tuple[str, ...] = (API_KEY,)) -> None:
        self.keys = keys  # the integrations' API keys it knows (one per tenant's own integration)
        self.created: list[dict[str, Any]] = []  # the request bodies, with the id given
        self.requests: list[httpx.Request] = []
        self.timing_out = False  # the next requests get no answer in time (a session may be made)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.timing_out:
            raise httpx.ReadTimeout("no answer in time", request=request)
        if request.headers.get("x-auth-client") not in self.keys:
            return httpx.Response(
                401,
                json={
                    "status": "fail",
                    "code": "1102",
                    "message": "Mandatory X-AUTH-CLIENT header containing the API key is missing.",
                },
            )
        body = json.loads(request.content)
        if not isinstance(body.get("verification"), dict):
            return httpx.Response(
                400, json={"status": "fail", "code": "1104", "message": "Mandatory parameters are missing."}
            )
        sid = str(uuid.UUID(int=len(self.created) + 1))
        self.created.append({"id": sid, **body["verification"]})
        return httpx.Response(201, json=created(sid, body["verification"].get("vendorData")))

    def sessions(self) -> list[tuple[str, str]]:
        return [(s["id"], s["vendorData"].split(":", 1)[0]) for s in self.created]


def session_token(sid: str) -> str:
    """A JWT-shaped token per session: Veriff's person link is ``https://<host>/v/<token>``."""
    return f"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.{hashlib.sha256(sid.encode()).hexdigest()[:40]}.sig"


def person_url(sid: str) -> str:
    """The ``verification.url`` the station answers for session ``sid`` (the person's bearer link)."""
    return f"https://alchemy.veriff.com/v/{session_token(sid)}"


def created(sid: str, vendor_data: str | None) -> dict[str, Any]:
    return {
        "status": "success",
        "verification": {
            "id": sid,
            "url": person_url(sid),
            "vendorData": vendor_data,
            "host": "https://alchemy.veriff.com",
            "status": "created",
            "sessionToken": session_token(sid),
        },
    }


def decision(sid: str, status: str, code: int, *, reason: str | None = None) -> bytes:
    """A decision webhook body (devdocs.veriff.com "Decision webhook"), as Veriff sends it."""
    payload = {
        "status": "success",
        "verification": {
            "id": sid,
            "attemptId": "f5c0e5f1-0d2e-4d4b-9c5c-5b1b0e1a2c3d",
            "vendorData": "t_a:req",
            "endUserId": None,
            "status": status,
            "code": code,
            "reason": reason,
            "reasonCode": None if reason is None else 102,
            "decisionTime": "2026-12-01T10:05:00.000Z",
            "acceptanceTime": "2026-12-01T10:00:00.000Z",
            "person": {"firstName": "ALICE", "lastName": "MARTIN"},
        },
        "technicalData": {"ip": "198.51.100.7"},
    }
    return json.dumps(payload).encode()
