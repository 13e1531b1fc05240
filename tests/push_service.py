"""A real local Web Push service for tests, and the browser-side keys of a subscribed device.

``PushService`` is an HTTP server on 127.0.0.1 standing for a browser vendor's push service
(RFC 8030). For each POST to ``/push/<device>`` it checks the VAPID authorization (RFC 8292: the
``vapid t=<JWT>,k=<key>`` header, the JWT's ES256 signature under ``k``, ``aud`` = this service's
origin, ``exp`` in the future and at most 24 h ahead, a ``sub`` contact) and decrypts the
``aes128gcm`` body (RFC 8291, with ``http_ece``) with the device's private key and auth secret, as
the browser would. It answers with the next scripted status (default 201).
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64u(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def unb64u(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Device:
    """A browser's subscription keys: the P-256 key pair and the 16-byte auth secret."""

    name: str
    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    auth: bytes = field(default_factory=lambda: os.urandom(16))

    @property
    def p256dh(self) -> str:
        raw = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return b64u(raw)


@dataclass(frozen=True)
class Received:
    device: str
    payload: dict[str, Any]  # the decrypted body
    claims: dict[str, Any]  # the verified VAPID claims
    vapid_key: str
    headers: dict[str, str]


class PushService:
    def __init__(self) -> None:
        self.devices: dict[str, Device] = {}
        self.received: list[Received] = []
        self.rejected: list[str] = []  # why a request failed the VAPID or decryption checks
        self.script: list[tuple[int, dict[str, str]]] = []  # next answers: (status, headers)
        self.attempts = 0
        self.origin = ""
        self._lock = threading.Lock()

    def device(self, name: str) -> tuple[Device, str]:
        """A new device and its subscription endpoint on this service."""
        self.devices[name] = Device(name)
        return self.devices[name], f"{self.origin}/push/{name}"

    def answer(self, *statuses: int | tuple[int, dict[str, str]]) -> None:
        self.script.extend(s if isinstance(s, tuple) else (s, {}) for s in statuses)

    # --- the checks a push service and a browser make ---------------------------------------------
    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str]]:
        with self._lock:
            self.attempts += 1
            if self.script:
                return self.script.pop(0)
        name = path.rsplit("/", 1)[-1]
        device = self.devices.get(name)
        if device is None:
            return 404, {}
        try:
            claims, key = self._vapid(headers.get("authorization", ""))
            if headers.get("content-encoding") != "aes128gcm" or "ttl" not in headers:
                raise ValueError("Content-Encoding aes128gcm and TTL are required")
            plain = http_ece.decrypt(
                body, private_key=device.key, auth_secret=device.auth, version="aes128gcm"
            )
            payload = json.loads(plain)
        except (ValueError, InvalidSignature) as exc:
            self.rejected.append(str(exc) or type(exc).__name__)
            return 401 if isinstance(exc, InvalidSignature) else 400, {}
        with self._lock:
            self.received.append(Received(name, payload, claims, key, headers))
        return 201, {"location": f"{self.origin}/message/{len(self.received)}"}

    def _vapid(self, authorization: str) -> tuple[dict[str, Any], str]:
        scheme, _, params = authorization.partition(" ")
        fields = dict(p.strip().split("=", 1) for p in params.split(",") if "=" in p)
        if scheme != "vapid" or "t" not in fields or "k" not in fields:
            raise ValueError("not a vapid t=...,k=... authorization")
        head, claims_b64, signature = fields["t"].split(".")
        if json.loads(unb64u(head)).get("alg") != "ES256":
            raise ValueError("VAPID JWT must be ES256")
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64u(fields["k"]))
        raw = unb64u(signature)
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        public.verify(der, f"{head}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
        claims = json.loads(unb64u(claims_b64))
        if claims.get("aud") != self.origin:
            raise ValueError(f"aud {claims.get('aud')!r} is not {self.origin}")
        if not time.time() < claims.get("exp", 0) <= time.time() + 86_400:
            raise ValueError("exp is past or more than 24 h ahead")
        if not str(claims.get("sub", "")).startswith(("mailto:", "https://")):
            raise ValueError("sub is not a contact")
        return claims, fields["k"]


@contextmanager
def push_service() -> Iterator[PushService]:
    service = PushService()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, extra = service.handle(self.path, headers, body)
            self.send_response(status)
            for name, value in extra.items():
                self.send_header(name, value)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    service.origin = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield service
    finally:
        server.shutdown()
        server.server_close()
