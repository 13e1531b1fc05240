"""Client-credentials token requests, and the token endpoint's refusals in words.

``request_token`` posts the form (built afresh for each attempt: an assertion's ``jti`` is used
once) to the token endpoint. With a ``DPoP`` it adds a proof, and when the server answers
``use_dpop_nonce`` it sends again once with the nonce. A refusal (RFC 6749 5.2:
``{"error", "error_description"}``) becomes a ``ConnectorError`` that names the OAuth error code,
quotes the server's description and says what to check; its ``details`` carry ``oauth_error``.
Nothing the request carried (client secret, assertion, DPoP proof) is ever quoted: a server that
echoes one gets it replaced by ``[redacted]``. 429 and 5xx are ``Retryable``; a timeout is
``ConnectorTimeout`` (a token request changes nothing, so callers retry it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import httpx

from deskguard.adapters.connectors.dpop import DPoP
from deskguard.adapters.connectors.http import retry_after
from deskguard.adapters.connectors.retry import Retryable
from deskguard.domain.errors import ConnectorError, ConnectorTimeout

SECRET_FIELDS = ("client_secret", "client_assertion")
MAX_QUOTED = 300

HINTS = {
    "invalid_client": "check the client id and the credential registered for it "
    "(public key and its key id, certificate and its thumbprint, or secret; not expired)",
    "invalid_scope": "the scopes asked are not granted to the app (grant them, or ask for fewer)",
    "unauthorized_client": "the app may not use the client-credentials grant (allow it on the app)",
    "invalid_grant": "the grant was refused (check the app is active and the assertion's audience)",
    "invalid_request": "the token request was refused as malformed (check the connector's settings)",
    "invalid_dpop_proof": "the app requires DPoP-bound tokens (turn dpop on) or refused the proof",
    "access_denied": "the app or its service account is not allowed to get tokens",
}


def request_token(
    client: httpx.Client,
    url: str,
    *,
    form: Callable[[], dict[str, str]],
    vendor: str,
    dpop: DPoP | None = None,
) -> httpx.Response:
    """The token endpoint's 2xx answer, or the mapped error."""
    response, sent = _post(client, url, form=form, vendor=vendor, dpop=dpop)
    if dpop is not None and DPoP.asks_nonce(response):  # the nonce it sent is kept: once more
        response, sent = _post(client, url, form=form, vendor=vendor, dpop=dpop)
    if response.is_success:
        return response
    raise refusal(response, vendor=vendor, redact=sent)


def _post(
    client: httpx.Client, url: str, *, form: Callable[[], dict[str, str]], vendor: str, dpop: DPoP | None
) -> tuple[httpx.Response, list[str]]:
    data = form()
    sent = [data[f] for f in SECRET_FIELDS if data.get(f)]
    headers = {"Accept": "application/json"}
    if dpop is not None:
        headers["DPoP"] = proof = dpop.proof("POST", url)
        sent.append(proof)
    try:
        response = client.post(url, data=data, headers=headers)
    except httpx.TimeoutException as exc:
        raise ConnectorTimeout(f"{vendor} endpoint did not answer in time ({type(exc).__name__})") from None
    except httpx.TransportError as exc:
        raise ConnectorTimeout(f"{vendor} endpoint could not be reached ({type(exc).__name__})") from None
    if dpop is not None:
        dpop.remember(response)
    return response, sent


def oauth_error(response: httpx.Response) -> tuple[str, str]:
    """``(error, error_description)`` of an RFC 6749 error body; ``("", text)`` for another body."""
    try:
        body = response.json()
    except ValueError:
        return "", response.text[:MAX_QUOTED] or response.reason_phrase
    if not isinstance(body, dict):
        return "", response.text[:MAX_QUOTED]
    error = body.get("error")
    description = body.get("error_description")
    if isinstance(error, dict):  # Graph-style {"error": {"code", "message"}}
        return str(error.get("code") or ""), str(error.get("message") or "")
    return (
        error if isinstance(error, str) else "",
        description
        if isinstance(description, str)
        else (body.get("errorSummary") or response.text)[:MAX_QUOTED],
    )


def _redacted(text: str, secrets: Iterable[str]) -> str:
    for value in secrets:
        if value:
            text = text.replace(value, "[redacted]")
    return text[:MAX_QUOTED]


def refusal(response: httpx.Response, *, vendor: str, redact: Iterable[str]) -> ConnectorError:
    """The error a refused token request raises; ``redact`` lists what the request carried."""
    error, description = oauth_error(response)
    said = _redacted(description, list(redact)).strip() or response.reason_phrase
    status = response.status_code
    if status == 429 or status >= 500:
        return Retryable(f"{vendor} endpoint answered {status}: {said}", retry_after=retry_after(response))
    cause = f" {error}" if error else ""
    hint = HINTS.get(error)
    message = f"{vendor} endpoint refused ({status}{cause}): {said}" + (f"; {hint}" if hint else "")
    return ConnectorError(message, details={"oauth_error": error} if error else {})
