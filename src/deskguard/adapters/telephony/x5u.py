"""Fetching STIR/SHAKEN certificates from their ``x5u`` URL over HTTPS, with a cache.

RFC 8224 section 6.2.1 expects verifiers to cache certificates: a carrier signs every call with the
same one. Only ``https`` URLs are fetched, with a short timeout and a size cap (a certificate chain
is a few kilobytes); a failure is a ``ConnectorError`` or ``ConnectorTimeout`` and is not cached.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections import OrderedDict

import httpx

from deskguard.domain.errors import ConnectorError, ConnectorTimeout

MAX_BYTES = 64 * 1024


class HttpCertificateFetcher:
    def __init__(
        self,
        *,
        timeout_s: float = 2.0,
        ttl_s: float = 3600.0,
        max_entries: int = 1024,
        verify: ssl.SSLContext | bool = True,  # a context trusting a private CA, in tests
    ) -> None:
        self._client = httpx.Client(timeout=timeout_s, verify=verify, follow_redirects=False)
        self._ttl, self._max = ttl_s, max_entries
        self._cache: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def fetch(self, url: str) -> bytes:
        if not url.startswith("https://"):
            raise ConnectorError(f"x5u must be an https URL, not {url[:80]!r}")
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(url)
            if hit is not None and now - hit[0] < self._ttl:
                return hit[1]
        body = self._get(url)
        with self._lock:
            self._cache[url] = (now, body)
            self._cache.move_to_end(url)
            if len(self._cache) > self._max:
                self._cache.popitem(last=False)
        return body

    def _get(self, url: str) -> bytes:
        try:
            with self._client.stream("GET", url) as response:
                if response.status_code != 200:
                    raise ConnectorError(f"{url} answered {response.status_code}")
                body = b""
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > MAX_BYTES:
                        raise ConnectorError(f"{url} served more than {MAX_BYTES} bytes")
                return body
        except httpx.TimeoutException as exc:
            raise ConnectorTimeout(f"{url} did not answer in time") from exc
        except httpx.HTTPError as exc:
            raise ConnectorError(f"{url}: {type(exc).__name__}: {exc}") from exc
