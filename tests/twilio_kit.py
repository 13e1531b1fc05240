"""Twilio's side of an automated call-back, for tests: its Calls API as a respx side effect, and its
signed callbacks.

``Calls`` answers ``POST /2010-04-01/Accounts/{AccountSid}/Calls.json`` (basic auth AccountSid +
auth token, as Twilio checks it) with a fresh ``CA…`` sid and keeps what each account was sent, so
a test reads back the ``StatusCallback`` and the TwiML's gather ``action`` Twilio was given.
``sign`` is Twilio's request validation (base64 HMAC-SHA1 of the URL and the sorted POST params).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from html import unescape
from urllib.parse import parse_qs, urlsplit

import httpx

CALLS = re.compile(r"^https://api\.twilio\.com/2010-04-01/Accounts/(AC[0-9a-f]{32})/Calls\.json$")


def sign(url: str, params: dict[str, str], token: str) -> str:
    data = url + "".join(k + params[k] for k in sorted(params))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


@dataclass(frozen=True)
class PlacedCall:
    account_sid: str
    sid: str
    status_callback: str
    gather_action: str  # the full URL Twilio posts the digits to (ref and k in its query)
    code: str  # the digits the call reads out

    @property
    def gather_path(self) -> str:
        parts = urlsplit(self.gather_action)
        return f"{parts.path}?{parts.query}"


class Calls:
    """A respx side effect for the Calls API of several accounts (``tokens``: sid -> auth token)."""

    def __init__(self, tokens: dict[str, str]) -> None:
        self.tokens = tokens
        self.placed: list[PlacedCall] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        match = CALLS.match(str(request.url))
        assert match, request.url
        account = match.group(1)
        expected = base64.b64encode(f"{account}:{self.tokens[account]}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            return httpx.Response(401, json={"code": 20003, "message": "Authenticate", "status": 401})
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        action = unescape(re.search(r'action="([^"]+)"', form["Twiml"]).group(1))  # type: ignore[union-attr]
        said = re.search(r"keypad: ([0-9, ]+)\.", form["Twiml"]).group(1)  # type: ignore[union-attr]
        sid = "CA" + hashlib.sha256(f"{account}:{len(self.placed)}".encode()).hexdigest()[:32]
        self.placed.append(
            PlacedCall(
                account_sid=account,
                sid=sid,
                status_callback=form["StatusCallback"],
                gather_action=action,
                code=said.replace(", ", ""),
            )
        )
        return httpx.Response(201, json={"sid": sid, "status": "queued"})
