"""Calls with a cached OAuth access token: Graph, Keycloak's admin API, Google's Directory API.

A subclass says how to ask for a token (``_request_token``: client credentials, a signed JWT
assertion...) and builds its URLs; this base caches the token until a minute before it expires,
sends it as ``Authorization: Bearer``, and forgets it after a refusal (it may have been revoked or
rotated: the next call asks again, which is cheap). A subclass with ``retry_unauthorized`` (Okta
OAuth, Graph) also sends a call refused with 401 once more with a fresh token. Asking for a token
twice changes nothing, so that request is retried; other calls only when the caller says they are
``idempotent``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx

from deskguard.adapters.connectors.http import DEFAULT_TIMEOUT, error_summary, json_body, send
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

    retry_unauthorized = False  # True: a 401 fetches a new token and sends once more (see authorized)

    def _authorization(self, method: str, url: str, token: str) -> dict[str, str]:
        """The headers that carry ``token`` on one call (DPoP adds a proof; see ``okta_oauth``)."""
        return {"Authorization": f"Bearer {token}"}

    def _nonce_asked(self, response: httpx.Response) -> bool:
        """A 401 that only asks for a DPoP nonce: the token stays, the call is sent again with it."""
        return False

    def _forget(self) -> None:
        with self._lock:
            self._token = None

    def authorized(self, method: str, url: str, *, idempotent: bool, **kwargs: Any) -> httpx.Response:
        """``url`` with the bearer token; the caller has checked that ``url`` is the vendor's own.

        With ``retry_unauthorized`` a 401 (the token expired early, was revoked or rotated) forgets
        the token and sends the call once more with a new one, even when not ``idempotent``: a 401
        means the vendor did nothing. A second 401 is the ``ConnectorError``."""
        extra = kwargs.pop("headers", {})
        accept = tuple(kwargs.pop("accept", ()))
        watch = self.retry_unauthorized and 401 not in accept

        def attempt() -> httpx.Response:
            headers = {
                "Accept": "application/json",
                **extra,
                **self._authorization(method, url, self.token()),
            }
            allowed = (*accept, 401) if watch else accept
            return send(
                self._client, method, url, vendor=self.vendor, headers=headers, accept=allowed, **kwargs
            )

        def once() -> httpx.Response:
            try:
                response = attempt()
                if watch and response.status_code == 401:
                    if not self._nonce_asked(response):
                        self._forget()
                    response = attempt()
                    if response.status_code == 401:
                        raise ConnectorError(f"{self.vendor} refused (401): {error_summary(response)}")
                return response
            except Retryable:
                raise
            except ConnectorError:
                self._forget()
                raise

        return self._retry(once, idempotent=idempotent)
