"""What the ticketing adapters share: their settings, one HTTP call on the instance, and
idempotency by key.

- ``TicketingSettings``: the instance URL (https only, no query), who authenticates, and the
  credentials as ``SecretRef`` (``env://NAME`` or ``file:///path``), resolved when the adapter is
  built and never logged.
- ``Instance.call``: ``connectors.http.send`` (errors mapped to ``ConnectorError`` /
  ``ConnectorTimeout``) wrapped in ``connectors.retry.with_retries``, retried only when the caller
  says the call is idempotent. A comment or a new ticket is not idempotent at any of these vendors
  (each POST adds a journal entry): it is tried once, and a timeout stays a ``ConnectorTimeout``.
  Reads (finding the ticket) and setting a field to a value are retried on 429/5xx/timeouts.
- ``Resolving``: the optional ``TicketResolver.resolve``, one ``set_state`` to the resolved state.
- ``KeyedOnce``: a repeated idempotency key answers the first reference without calling the vendor
  (``channels.delivery.DeliveryMemo``, keyed by tenant and key). In process only, like the IdP's.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any, Literal
from urllib.parse import quote, urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator

from deskguard.adapters.channels.delivery import DeliveryMemo
from deskguard.adapters.connectors.http import DEFAULT_TIMEOUT, json_body, send
from deskguard.adapters.connectors.retry import Backoff, with_retries
from deskguard.adapters.connectors.secrets import SecretRef, resolve
from deskguard.domain.errors import ConfigurationError, ConnectorError, ConnectorTimeout
from deskguard.domain.ports import Health

Vendor = Literal["servicenow", "jsm", "zendesk", "glpi"]
DEFAULT_BACKOFF = Backoff()


def instance_base(url: str, *, field: str = "ticketing_url") -> str:
    """``https://host[:port][/path]`` without a trailing slash; http, a query or user info are refused."""
    parts = urlsplit(url.strip())
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError(f"{field}: the instance URL must be https://…, not {url!r}")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(f"{field}: give the instance URL without query, fragment or user: {url!r}")
    return f"https://{parts.netloc}{parts.path.rstrip('/')}"


class TicketingSettings(BaseModel):
    """One ITSM instance per deployment (``DESKGUARD_TICKETING_*``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    vendor: Vendor
    url: str = Field(description="https instance URL (GLPI: the folder holding apirest.php)")
    username: str = Field(default="", description="ServiceNow user (basic), JSM or Zendesk e-mail")
    token: SecretRef = Field(
        description="ServiceNow password or OAuth bearer token, JSM/Zendesk API token, GLPI user_token"
    )
    app_token: SecretRef | None = Field(default=None, description="GLPI App-Token")
    auth: Literal["basic", "bearer"] = Field(default="basic", description="ServiceNow: basic or OAuth bearer")
    comment_field: Literal["work_notes", "comments"] = "work_notes"  # ServiceNow journal field
    service_desk_id: str = ""  # JSM: where open() raises requests
    request_type_id: str = ""  # JSM: the request type of opened requests
    resolved_state: str = ""  # resolve(): the state to set; "" is the vendor's (RESOLVED in each module)

    @field_validator("url")
    @classmethod
    def _https(cls, value: str) -> str:
        return instance_base(value)


def secret(reference: str, *, field: str) -> str:
    """The secret behind a ``SecretRef``; ``ConfigurationError`` naming ``field`` otherwise."""
    try:
        return resolve(reference, field=field)
    except ValueError as exc:
        raise ConfigurationError(f"{field}: {exc}", field=field) from None


def basic_auth(settings: TicketingSettings, token: str, *, needs: str, login: str = "{user}") -> str:
    """``Basic`` credentials from ``ticketing_username`` (shaped by ``login``) and the token;
    ``ConfigurationError`` saying what ``needs`` names when no username is set."""
    if not settings.username:
        raise ConfigurationError(f"ticketing_username: {needs}", field="ticketing_username")
    pair = f"{login.format(user=settings.username)}:{token}"
    return "Basic " + base64.b64encode(pair.encode()).decode()


def seg(value: str) -> str:
    """One path segment, fully escaped: a ticket reference never reaches another path."""
    return quote(value, safe="")


class Instance:
    """HTTP on one vendor instance: the base URL, the auth headers, retries only when idempotent."""

    def __init__(
        self,
        *,
        vendor: str,
        base: str,
        headers: dict[str, str],
        client: httpx.Client | None,
        backoff: Backoff,
        sleep: Callable[[float], None] | None,
    ) -> None:
        self.vendor, self.base = vendor, base
        self._headers = {"Accept": "application/json", **headers}
        self._client = client or httpx.Client(timeout=DEFAULT_TIMEOUT)
        self._backoff, self._sleep = backoff, sleep

    def call(self, method: str, path: str, *, idempotent: bool, **kwargs: Any) -> httpx.Response:
        url = self.base + path
        headers = {**self._headers, **kwargs.pop("headers", {})}

        def once() -> httpx.Response:
            return send(self._client, method, url, vendor=self.vendor, headers=headers, **kwargs)

        extra = {"sleep": self._sleep} if self._sleep is not None else {}
        return with_retries(once, idempotent=idempotent, backoff=self._backoff, **extra)

    def json(self, method: str, path: str, *, idempotent: bool, **kwargs: Any) -> Any:
        return json_body(self.call(method, path, idempotent=idempotent, **kwargs), vendor=self.vendor)

    def field(self, body: Any, *path: str) -> Any:
        """``body[path[0]][path[1]]…``, present and not empty, else ``ConnectorError`` (malformed)."""
        value = body
        for name in path:
            if not isinstance(value, dict) or value.get(name) in (None, ""):
                raise ConnectorError(f"{self.vendor} answered without {'.'.join(path)} (malformed)")
            value = value[name]
        return value


class KeyedOnce:
    """A repeated (tenant, idempotency key) answers the first reference; failures are not kept."""

    def __init__(self) -> None:
        self._memo = DeliveryMemo()

    def run(self, *, tenant_id: str, key: str, act: Callable[[], str]) -> str:
        return self._memo.once(tenant_id=tenant_id, idempotency_key=key, deliver=act)


class Resolving:
    """``TicketResolver`` for the adapters: ``set_state`` to ``resolved`` (the settings'
    ``resolved_state``, else the vendor module's ``RESOLVED``)."""

    resolved: str
    set_state: Callable[..., str]

    def resolve(self, *, tenant_id: str, ticket_ref: str, idempotency_key: str) -> str:
        return self.set_state(
            tenant_id=tenant_id, ticket_ref=ticket_ref, state=self.resolved, idempotency_key=idempotency_key
        )


def probe(vendor: str, base: str, read: Callable[[], str]) -> Health:
    """``deskguard connectors check``: one authenticated read; a failure is a Health, not a raise."""
    try:
        detail = read()
    except (ConnectorError, ConnectorTimeout) as exc:
        return Health(ok=False, detail=str(exc))
    return Health(ok=True, detail=f"{base} reachable; {detail}")
