"""GLPI: the ``Ticketing`` port over the legacy REST API (``/apirest.php``), httpx, no SDK.

Auth: every call sends the ``App-Token`` (``app_token``); a session is opened for each operation
with ``GET /initSession`` and ``Authorization: user_token <token>`` (both ``SecretRef``), its
``session_token`` sent as ``Session-Token``, and closed with ``GET /killSession`` whatever happened.

- ``open``: ``POST /Ticket`` with ``{input: {name, content}}``; the reference is the ticket id.
- ``comment``: the ticket is read first (``GET /Ticket/{id}``, retried: 404 is an unknown ticket),
  then one ``POST /ITILFollowup`` with ``{input: {itemtype: "Ticket", items_id, content,
  is_private: 1}}``. Every POST adds an item: tried once. The reference is ``<id>/followup/<fid>``.
- ``set_state``: ``PUT /Ticket/{id}`` with ``{input: {status}}`` (1 New … 6 Closed): retried.

GLPI's errors (``["ERROR_…", "message"]``) reach the ``ConnectorError`` through ``connectors.http``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

import httpx

from deskguard.adapters.connectors.retry import Backoff
from deskguard.adapters.ticketing._base import (
    DEFAULT_BACKOFF,
    Instance,
    KeyedOnce,
    Resolving,
    TicketingSettings,
    probe,
    secret,
    seg,
)
from deskguard.domain.errors import ConfigurationError, ConnectorError, ConnectorTimeout
from deskguard.domain.ports import Health

VENDOR = "GLPI"
STATUSES = {"1", "2", "3", "4", "5", "6"}  # new, assigned, planned, waiting, solved, closed
RESOLVED = "5"  # Solved


class GlpiTicketing(Resolving):
    name = "glpi"

    def __init__(
        self,
        settings: TicketingSettings,
        *,
        client: httpx.Client | None = None,
        backoff: Backoff = DEFAULT_BACKOFF,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        if settings.app_token is None:
            raise ConfigurationError(
                "ticketing_app_token: GLPI needs the API client's App-Token", field="ticketing_app_token"
            )
        self._user_token = secret(settings.token, field="ticketing_token")
        app_token = secret(settings.app_token, field="ticketing_app_token")
        base = settings.url if settings.url.endswith("/apirest.php") else settings.url + "/apirest.php"
        self.http = Instance(
            vendor=VENDOR,
            base=base,
            headers={"App-Token": app_token},
            client=client,
            backoff=backoff,
            sleep=sleep,
        )
        self._once = KeyedOnce()
        self.resolved = settings.resolved_state or RESOLVED

    @contextmanager
    def session(self) -> Iterator[dict[str, str]]:
        """The headers of a fresh session, killed on the way out (a failed kill changes nothing)."""
        body = self.http.json(
            "GET",
            "/initSession",
            idempotent=True,
            headers={"Authorization": f"user_token {self._user_token}"},
        )
        headers = {"Session-Token": str(self.http.field(body, "session_token"))}
        try:
            yield headers
        finally:
            with suppress(ConnectorError, ConnectorTimeout):
                self.http.call("GET", "/killSession", idempotent=False, headers=headers)

    def open(self, *, tenant_id: str, title: str, text: str, idempotency_key: str) -> str:
        def act() -> str:
            with self.session() as headers:
                body = self.http.json(
                    "POST",
                    "/Ticket",
                    idempotent=False,
                    headers=headers,
                    json={"input": {"name": title, "content": text}},
                )
                return str(self.http.field(body, "id"))

        return self._once.run(tenant_id=tenant_id, key=idempotency_key, act=act)

    def comment(self, *, tenant_id: str, ticket_ref: str, text: str, idempotency_key: str) -> str:
        def act() -> str:
            with self.session() as headers:
                ticket_id = self.ticket_id(ticket_ref, headers)
                followup = {
                    "itemtype": "Ticket",
                    "items_id": int(ticket_id),
                    "content": text,
                    "is_private": 1,
                }
                body = self.http.json(
                    "POST", "/ITILFollowup", idempotent=False, headers=headers, json={"input": followup}
                )
                return f"{ticket_id}/followup/{self.http.field(body, 'id')}"

        return self._once.run(tenant_id=tenant_id, key=idempotency_key, act=act)

    def set_state(self, *, tenant_id: str, ticket_ref: str, state: str, idempotency_key: str) -> str:
        """Sets the ticket's ``status`` (1 New, 2 Assigned, 3 Planned, 4 Waiting, 5 Solved, 6 Closed)."""
        if state not in STATUSES:
            raise ConnectorError(f"{VENDOR}: {state!r} is not a ticket status (1 to 6)")

        def act() -> str:
            with self.session() as headers:
                ticket_id = self.ticket_id(ticket_ref, headers)
                payload: dict[str, Any] = {"input": {"status": int(state)}}
                self.http.call(
                    "PUT", f"/Ticket/{seg(ticket_id)}", idempotent=True, headers=headers, json=payload
                )
                return f"{ticket_id}/status/{state}"

        return self._once.run(tenant_id=tenant_id, key=idempotency_key, act=act)

    def health(self) -> Health:
        def read() -> str:
            with self.session():
                return "a session opens with the App-Token and user_token"

        return probe(VENDOR, self.http.base, read)

    def ticket_id(self, ticket_ref: str, headers: dict[str, str]) -> str:
        """The ticket's id, read back from GLPI; ``ConnectorError`` when it is unknown."""
        if not ticket_ref.isdigit():
            raise ConnectorError(f"{VENDOR}: {ticket_ref!r} is not a ticket id")
        body = self.http.json("GET", f"/Ticket/{seg(ticket_ref)}", idempotent=True, headers=headers)
        return str(self.http.field(body, "id"))
