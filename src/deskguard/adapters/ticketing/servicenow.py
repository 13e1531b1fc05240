"""ServiceNow: the ``Ticketing`` port over the Table API (``/api/now/table/incident``), httpx, no SDK.

Auth: Basic with an integration user (``username`` + ``token`` as its password), or an OAuth 2.0
bearer token obtained outside deskguard (``auth="bearer"``). Both are ``SecretRef``.

- ``open``: ``POST /api/now/table/incident`` with ``short_description`` and ``description``; the
  reference is the incident ``number`` (``INC0010001``). Tried once.
- ``comment``: the ticket is found by number (``GET …?sysparm_query=number=<ref>``; a 32-hex
  ``sys_id`` is read directly), a read that is retried; then one ``PATCH
  /api/now/table/incident/{sys_id}`` with ``work_notes`` (internal, the default) or ``comments``
  (seen by the caller). A journal entry is added by every PATCH: tried once. The reference is
  ``<number>@<sys_updated_on>``.
- ``set_state``: ``PATCH`` of ``state`` (the instance's code: 2 In Progress, 6 Resolved…); setting a
  field to a value is idempotent, so it is retried.

ServiceNow's errors (``{"error": {"message", "detail"}, "status": "failure"}``) reach the
``ConnectorError`` through ``connectors.http``.
"""

from __future__ import annotations

import re
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

VENDOR = "ServiceNow"
TABLE = "/api/now/table/incident"
SYS_ID = re.compile(r"^[0-9a-f]{32}$")
RESOLVED = "6"  # the incident state Resolved of a stock instance


class ServiceNowTicketing(Resolving):
    name = "servicenow"

    def __init__(
        self,
        settings: TicketingSettings,
        *,
        client: httpx.Client | None = None,
        backoff: Backoff = DEFAULT_BACKOFF,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        token = secret(settings.token, field="ticketing_token")
        if settings.auth == "bearer":
            auth = f"Bearer {token}"
        else:
            auth = basic_auth(settings, token, needs="ServiceNow basic auth needs the integration user")
        self._field = settings.comment_field
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
            body = self.http.json(
                "POST",
                TABLE,
                idempotent=False,
                json={"short_description": title[:160], "description": text},
                params={"sysparm_fields": "sys_id,number"},
            )
            return str(self.http.field(body, "result", "number"))

        return self._once.run(tenant_id=tenant_id, key=idempotency_key, act=act)

    def comment(self, *, tenant_id: str, ticket_ref: str, text: str, idempotency_key: str) -> str:
        def act() -> str:
            record = self.incident(ticket_ref)
            return self._patch(record, {self._field: text}, idempotent=False)

        return self._once.run(tenant_id=tenant_id, key=idempotency_key, act=act)

    def set_state(self, *, tenant_id: str, ticket_ref: str, state: str, idempotency_key: str) -> str:
        """Sets the incident's ``state`` (the instance's code, e.g. ``6`` Resolved)."""

        def act() -> str:
            return self._patch(self.incident(ticket_ref), {"state": state}, idempotent=True)

        return self._once.run(tenant_id=tenant_id, key=idempotency_key, act=act)

    def health(self) -> Health:
        def read() -> str:
            params = {"sysparm_limit": "1", "sysparm_fields": "sys_id"}
            self.http.json("GET", TABLE, idempotent=True, params=params)
            return "the incident table answers"

        return probe(VENDOR, self.http.base, read)

    def incident(self, ticket_ref: str) -> dict[str, Any]:
        """The incident (``sys_id``, ``number``) by number or sys_id; ``ConnectorError`` when unknown."""
        fields = {"sysparm_fields": "sys_id,number", "sysparm_exclude_reference_link": "true"}
        if SYS_ID.match(ticket_ref):
            body = self.http.json("GET", f"{TABLE}/{seg(ticket_ref)}", idempotent=True, params=fields)
            record = self.http.field(body, "result")
        else:
            if not ticket_ref or "^" in ticket_ref or "=" in ticket_ref:
                raise ConnectorError(f"{VENDOR}: {ticket_ref!r} is not an incident number")
            params = {**fields, "sysparm_query": f"number={ticket_ref}", "sysparm_limit": "1"}
            body = self.http.json("GET", TABLE, idempotent=True, params=params)
            results = body.get("result") if isinstance(body, dict) else None
            if not isinstance(results, list):
                raise ConnectorError(f"{VENDOR} answered a search that is not a list (malformed)")
            if not results:
                raise ConnectorError(f"{VENDOR}: no incident {ticket_ref}")
            record = results[0]
        if not isinstance(record, dict) or not isinstance(record.get("sys_id"), str):
            raise ConnectorError(f"{VENDOR} answered an incident without sys_id (malformed)")
        return record

    def _patch(self, record: dict[str, Any], fields: dict[str, str], *, idempotent: bool) -> str:
        body = self.http.json(
            "PATCH",
            f"{TABLE}/{seg(record['sys_id'])}",
            idempotent=idempotent,
            json=fields,
            params={"sysparm_fields": "sys_id,number,sys_updated_on"},
        )
        result = self.http.field(body, "result")
        if not isinstance(result, dict):
            raise ConnectorError(f"{VENDOR} answered an update that is not a record (malformed)")
        number = result.get("number") or record.get("number") or record["sys_id"]
        return f"{number}@{result.get('sys_updated_on', '')}"
