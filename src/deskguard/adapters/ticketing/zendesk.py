"""Zendesk: the ``Ticketing`` port over the Support API (``/api/v2/tickets``), httpx, no SDK.

Auth: Basic ``{email}/token:{api_token}`` (``username`` is the agent's e-mail, ``token`` the API
token as a ``SecretRef``).

- ``open``: ``POST /api/v2/tickets`` with ``{ticket: {subject, comment: {body, public: false}}}``;
  the reference is the ticket id. Tried once.
- ``comment``: the ticket is read first (``GET /api/v2/tickets/{id}``, retried), then one ``PUT
  /api/v2/tickets/{id}`` with ``{ticket: {comment: {body, public: false}}}`` (an internal note).
  Every such PUT adds a comment: tried once. The reference is ``<id>/audit/<audit id>``.
- ``set_state``: ``PUT`` of ``status`` (``open``, ``pending``, ``solved``…): retried, it only sets.

Zendesk's errors (``{"error", "description"}``) reach the ``ConnectorError`` through
``connectors.http``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from deskguard.adapters.connectors.retry import Backoff
from deskguard.adapters.ticketing._base import (
    DEFAULT_BACKOFF,
    Instance,
    KeyedOnce,
    Resolving,
    TicketingSettings,
    basic_auth,
    probe,
    secret,
    seg,
)
from deskguard.domain.errors import ConnectorError
from deskguard.domain.ports import Health

VENDOR = "Zendesk"
TICKETS = "/api/v2/tickets"
STATUSES = ("new", "open", "pending", "hold", "solved", "closed")
RESOLVED = "solved"


class ZendeskTicketing(Resolving):
    name = "zendesk"

    def __init__(
        self,
        settings: TicketingSettings,
        *,
        client: httpx.Client | None = None,
        backoff: Backoff = DEFAULT_BACKOFF,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        token = secret(settings.token, field="ticketing_token")
        auth = basic_auth(settings, token, needs="Zendesk needs the agent's e-mail", login="{user}/token")
        self.http = Instance(
            vendor=VENDOR,
            base=settings.url,
            headers={"Authorization": auth},
            client=client,
            backoff=backoff,
            sleep=sleep,
        )
        self._once = KeyedOnce()
        self.resolved = settings.resolved_state or RESOLVED

    def open(self, *, tenant_id: str, title: str, text: str, idempotency_key: str) -> str:
        def act() -> str:
            payload = {"ticket": {"subject": title, "comment": {"body": text, "public": False}}}
            body = self.http.json("POST", TICKETS, idempotent=False, json=payload)
            return str(self.http.field(body, "ticket", "id"))

        return self._once.run(tenant_id=tenant_id, key=idempotency_key, act=act)

    def comment(self, *, tenant_id: str, ticket_ref: str, text: str, idempotency_key: str) -> str:
        def act() -> str:
            ticket_id = self.ticket_id(ticket_ref)
            body = self._put(ticket_id, {"comment": {"body": text, "public": False}}, idempotent=False)
            return f"{ticket_id}/audit/{self.http.field(body, 'audit', 'id')}"

        return self._once.run(tenant_id=tenant_id, key=idempotency_key, act=act)

    def set_state(self, *, tenant_id: str, ticket_ref: str, state: str, idempotency_key: str) -> str:
        """Sets the ticket's ``status`` (new, open, pending, hold, solved, closed)."""
        if state not in STATUSES:
            raise ConnectorError(f"{VENDOR}: {state!r} is not a ticket status ({', '.join(STATUSES)})")

        def act() -> str:
            ticket_id = self.ticket_id(ticket_ref)
            body = self._put(ticket_id, {"status": state}, idempotent=True)
            return f"{ticket_id}/status/{self.http.field(body, 'ticket', 'status')}"

        return self._once.run(tenant_id=tenant_id, key=idempotency_key, act=act)

    def health(self) -> Health:
        def read() -> str:
            user = self.http.field(self.http.json("GET", "/api/v2/users/me", idempotent=True), "user")
            return f"token acts as {user.get('email', '?')} ({user.get('role', '?')})"

        return probe(VENDOR, self.http.base, read)

    def ticket_id(self, ticket_ref: str) -> str:
        """The ticket's id, read back from Zendesk; ``ConnectorError`` when it is unknown."""
        if not ticket_ref.isdigit():
            raise ConnectorError(f"{VENDOR}: {ticket_ref!r} is not a ticket id")
        body = self.http.json("GET", f"{TICKETS}/{seg(ticket_ref)}", idempotent=True)
        return str(self.http.field(body, "ticket", "id"))

    def _put(self, ticket_id: str, ticket: dict[str, Any], *, idempotent: bool) -> Any:
        path = f"{TICKETS}/{seg(ticket_id)}"
        return self.http.json("PUT", path, idempotent=idempotent, json={"ticket": ticket})
