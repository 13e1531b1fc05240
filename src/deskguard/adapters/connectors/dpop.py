"""DPoP proofs (RFC 9449): tokens bound to a key deskguard holds, so a stolen token is useless.

``DPoP`` holds a key pair generated in memory when the connector is built (EC P-256, never written
anywhere) and signs one proof JWT per HTTP request: header ``typ: dpop+jwt``, ``alg``, ``jwk`` (the
public key); claims ``jti`` (unique), ``htm`` (the method), ``htu`` (the URL without query or
fragment), ``iat``, plus ``ath`` (base64url SHA-256 of the access token) on resource requests and
``nonce`` once a server asked for one. A server asks with ``DPoP-Nonce`` and the error
``use_dpop_nonce`` (a 400 from a token endpoint, a 401 with ``WWW-Authenticate: DPoP
error="use_dpop_nonce"`` from a resource): the nonce is remembered per origin and the request is
sent again once (``asks_nonce`` + ``remember``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import httpx

from deskguard.adapters.connectors.client_assertion import SigningKey, b64url, new_jti

NONCE_HEADER = "DPoP-Nonce"
USE_NONCE = "use_dpop_nonce"


def htu(url: str) -> str:
    """The URL a proof names: scheme, host and path, without query or fragment (RFC 9449 4.2)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class DPoP:
    def __init__(
        self,
        *,
        now: Callable[[], datetime],
        key: SigningKey | None = None,
        jti: Callable[[], str] = new_jti,
    ) -> None:
        self.key = key or SigningKey.generate()
        self._now = now
        self._jti = jti
        self._jwk = self.key.public_jwk()
        self._nonces: dict[str, str] = {}

    def proof(self, method: str, url: str, *, access_token: str | None = None) -> str:
        claims: dict[str, object] = {
            "jti": self._jti(),
            "htm": method.upper(),
            "htu": htu(url),
            "iat": int(self._now().astimezone(UTC).timestamp()),
        }
        if access_token is not None:
            claims["ath"] = b64url(hashlib.sha256(access_token.encode("ascii")).digest())
        nonce = self._nonces.get(_origin(url))
        if nonce:
            claims["nonce"] = nonce
        return self.key.sign({"typ": "dpop+jwt", "jwk": self._jwk}, claims)

    def remember(self, response: httpx.Response) -> bool:
        """Keeps the ``DPoP-Nonce`` a server sent (on any answer); True when it is a new one."""
        nonce = response.headers.get(NONCE_HEADER, "").strip()
        origin = _origin(str(response.request.url))
        if not nonce or self._nonces.get(origin) == nonce:
            return False
        self._nonces[origin] = nonce
        return True

    @staticmethod
    def asks_nonce(response: httpx.Response) -> bool:
        """The server refused the proof for want of (a fresh) nonce and sent one."""
        if NONCE_HEADER.lower() not in response.headers:
            return False
        if response.status_code == 401:
            return USE_NONCE in response.headers.get("www-authenticate", "")
        if response.status_code != 400:
            return False
        try:
            body = response.json()
        except ValueError:
            return False
        return isinstance(body, dict) and body.get("error") == USE_NONCE
