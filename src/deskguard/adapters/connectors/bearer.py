"""Calls with a cached OAuth access token: Graph, Keycloak's admin API, Google's Directory API.

A subclass says how to ask for a token (``_request_token``: client credentials, a signed JWT
assertion...) and builds its URLs; this base caches the token until a minute before it expires,
sends it as ``Authorization: Bearer``, and forgets it after a refusal (it may have been revoked or
rotated: the next call asks again, which is cheap). Asking for a token twice changes nothing, so
that request is retried; other calls only when the caller says they are ``idempotent``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx

from deskguard.adapters.connectors.http import DEFAULT_TIMEOUT, json_body, send
from deskguard.adapters.connectors.retry import Backoff, Retryable, with_retries
from deskguard.domain.errors import ConnectorError

EARLY_S = 60  # a token is renewed this long before it expires


class BearerClient:
    vendor: str  # names the vendor in errors
    token_vendor: str  # names its token endpoint in errors

    def __init__(
        self,
        *,
        now: Callable[[], datetime],
        client: httpx.Client | None,
        backoff: Backoff,
        sleep: Callable[[float], None] | None,
    ) -> None:
        self._now = now
        self._client = client or httpx.Client(timeout=DEFAULT_TIMEOUT)
        self._backoff = backoff
        self._sleep = sleep
        self._token: tuple[str, datetime] | None = None
        self._lock = threading.Lock()

    def _request_token(self) -> httpx.Response:  # pragma: no cover - abstract
        """One request to the token endpoint (called again on each retry)."""
        raise NotImplementedError

    def _retry(self, once: Callable[[], httpx.Response], *, idempotent: bool) -> httpx.Response:
        extra = {"sleep": self._sleep} if self._sleep is not None else {}
        return with_retries(once, idempotent=idempotent, backoff=self._backoff, **extra)

    def token(self) -> str:
        with self._lock:
            if self._token is not None and self._now() < self._token[1]:
                return self._token[0]
            body = json_body(self._retry(self._request_token, idempotent=True), vendor=self.token_vendor)
            if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
                raise ConnectorError(
                    f"{self.token_vendor} endpoint answered without an access_token (malformed)"
                )
            lifetime = body.get("expires_in", 0)
            seconds = int(lifetime) if isinstance(lifetime, int | str) and str(lifetime).isdigit() else 0
            expires = self._now() + timedelta(seconds=max(0, seconds - EARLY_S))
            self._token = (body["access_token"], expires)
            return self._token[0]

    def authorized(self, method: str, url: str, *, idempotent: bool, **kwargs: Any) -> httpx.Response:
        """``url`` with the bearer token; the caller has checked that ``url`` is the vendor's own."""

        def once() -> httpx.Response:
            headers = {"Authorization": f"Bearer {self.token()}", "Accept": "application/json"}
            try:
                return send(self._client, method, url, vendor=self.vendor, headers=headers, **kwargs)
            except Retryable:
                raise
            except ConnectorError:
                with self._lock:
                    self._token = None
                raise

        return self._retry(once, idempotent=idempotent)
