"""HTTP for the SaaS connectors: timeouts, and vendor answers mapped to domain errors.

- A timeout or a dropped connection is ``ConnectorTimeout``: the vendor may have acted.
- 429 and 5xx are ``Retryable`` (with the ``Retry-After`` they gave); ``with_retries`` tries an
  idempotent call again.
- Other 4xx are ``ConnectorError`` with the vendor's own error summary when the body has one.
- A 2xx whose body is not the JSON the caller expects is ``ConnectorError`` ("malformed").
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Collection
from typing import Any

import httpx

from deskguard.adapters.connectors.retry import Retryable
from deskguard.domain.errors import ConnectorError, ConnectorTimeout

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


def send(
    client: httpx.Client, method: str, url: str, *, vendor: str, accept: Collection[int] = (), **kwargs: Any
) -> httpx.Response:
    """One request; the response when it is 2xx (or a status in ``accept``), else the mapped error."""
    try:
        response = client.request(method, url, **kwargs)
    except httpx.TimeoutException as exc:
        raise ConnectorTimeout(f"{vendor} did not answer in time ({type(exc).__name__})") from None
    except httpx.TransportError as exc:
        raise ConnectorTimeout(f"{vendor} could not be reached or dropped the connection ({exc})") from None
    if response.is_success or response.status_code in accept:
        return response
    summary = error_summary(response)
    if response.status_code == 429 or response.status_code >= 500:
        raise Retryable(
            f"{vendor} answered {response.status_code}: {summary}", retry_after=retry_after(response)
        )
    raise ConnectorError(f"{vendor} refused ({response.status_code}): {summary}")


def json_body(response: httpx.Response, *, vendor: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise ConnectorError(f"{vendor} answered {response.status_code} with a body not JSON") from None


def error_summary(response: httpx.Response) -> str:
    """The vendor's own words: Okta ``errorSummary``, Keycloak ``errorMessage``, Graph/Google
    ``error.message``, else the start of the body."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    if isinstance(body, dict):
        if isinstance(body.get("errorSummary"), str):
            return body["errorSummary"]
        if isinstance(body.get("errorMessage"), str):  # Keycloak admin API
            return body["errorMessage"]
        error = body.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return error["message"]
        if isinstance(error, str):
            return str(body.get("error_description") or error)
        if isinstance(body.get("message"), str) and "code" in body:  # Twilio: code, message, more_info
            return f"{body['message']} (code {body['code']})"
    return response.text[:200]


def retry_after(response: httpx.Response) -> float | None:
    """Seconds from ``Retry-After`` (delta or HTTP date), or Okta's ``X-Rate-Limit-Reset`` (epoch)."""
    value = response.headers.get("retry-after")
    if value:
        if value.strip().isdigit():
            return float(value.strip())
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, when.timestamp() - time.time())
    reset = response.headers.get("x-rate-limit-reset")
    if reset and reset.strip().isdigit():
        return max(0.0, float(reset) - time.time())
    return None
