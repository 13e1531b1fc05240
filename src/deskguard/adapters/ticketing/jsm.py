"""Jira Service Management: the ``Ticketing`` port over the JSM REST API (``/rest/servicedeskapi``).

Auth: on Cloud, Basic ``email:api_token`` (``username`` is the e-mail, ``token`` the API token as a
``SecretRef``).

- ``open``: ``POST /rest/servicedeskapi/request`` with ``serviceDeskId``, ``requestTypeId`` and
  ``requestFieldValues {summary, description}``; the reference is the ``issueKey``. Tried once.
- ``comment``: the request is read first (``GET /rest/servicedeskapi/request/{key}``, retried), then
  one ``POST /rest/servicedeskapi/request/{key}/comment`` with ``public: false`` (an internal note,
  not mailed to the customer). Tried once; the reference is ``<key>/comment/<id>``.
- ``set_state``: the transition whose id or name is ``state`` (``GET …/transition``, retried), then
  one ``POST …/transition {"id"}``: a transition is not idempotent, tried once.

JSM's errors (``{"errorMessage": …}``) reach the ``ConnectorError`` through ``connectors.http``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

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

VENDOR = "Jira Service Management"
API = "/rest/servicedeskapi/request"
ISSUE_KEY = re.compile(r"^[A-Z][A-Z0-9_]*-[0-9]+$|^[0-9]+$")
RESOLVED = "Resolve this issue"  # the transition of JSM's stock service-request workflows


class JsmTicketing(Resolving):
    name = "jsm"

    def __init__(
        self,
        settings: TicketingSettings,
        *,
        client: httpx.Client | None = None,
        backoff: Backoff = DEFAULT_BACKOFF,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        token = secret(settings.token, field="ticketing_token")
        auth = basic_auth(settings, token, needs="JSM needs the e-mail of the API token's account")
        self._desk, self._type = settings.service_desk_id, settings.request_type_id
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
        if not self._desk or not self._type:
            raise ConnectorError(
                f"{VENDOR}: opening a request needs ticketing_service_desk_id and ticketing_request_type_id"
            )

        def act() -> str:
            payload = {
                "serviceDeskId": self._desk,
                "requestTypeId": self._type,
                "requestFieldValues": {"summary": title[:255], "description": text},
            }
            body = self.http.json("POST", API, idempotent=False, json=payload)
            return str(self.http.field(body, "issueKey"))

        return self._once.run(tenant_id=tenant_id, key=idempotency_key, act=act)

    def comment(self, *, tenant_id: str, ticket_ref: str, text: str, idempotency_key: str) -> str:
        def act() -> str:
            key = self.request_key(ticket_ref)
            body = self.http.json(
                "POST", f"{API}/{seg(key)}/comment", idempotent=False, json={"body": text, "public": False}
            )
            return f"{key}/comment/{self.http.field(body, 'id')}"

        return self._once.run(tenant_id=tenant_id, key=idempotency_key, act=act)

    def set_state(self, *, tenant_id: str, ticket_ref: str, state: str, idempotency_key: str) -> str:
        """Moves the request through the transition whose id or name (any case) is ``state``."""

        def act() -> str:
            key = self.request_key(ticket_ref)
            body = self.http.json("GET", f"{API}/{seg(key)}/transition", idempotent=True)
            values = body.get("values") if isinstance(body, dict) else None
            if not isinstance(values, list):
                raise ConnectorError(f"{VENDOR} answered transitions that are not a list (malformed)")
            ids = [
                str(t["id"])
                for t in values
                if isinstance(t, dict)
                and "id" in t
                and state.casefold() in (str(t["id"]).casefold(), str(t.get("name", "")).casefold())
            ]
            if len(ids) != 1:
                raise ConnectorError(f"{VENDOR}: request {key} has no transition {state!r} now")
            self.http.call("POST", f"{API}/{seg(key)}/transition", idempotent=False, json={"id": ids[0]})
            return f"{key}/transition/{ids[0]}"

        return self._once.run(tenant_id=tenant_id, key=idempotency_key, act=act)

    def health(self) -> Health:
        def read() -> str:
            body = self.http.json("GET", "/rest/servicedeskapi/servicedesk", idempotent=True)
            return f"{body.get('size', '?') if isinstance(body, dict) else '?'} service desk(s) visible"

        return probe(VENDOR, self.http.base, read)

    def request_key(self, ticket_ref: str) -> str:
        """The request's ``issueKey``, read back from JSM; ``ConnectorError`` when it is unknown."""
        if not ISSUE_KEY.match(ticket_ref):
            raise ConnectorError(f"{VENDOR}: {ticket_ref!r} is not an issue key")
        body = self.http.json("GET", f"{API}/{seg(ticket_ref)}", idempotent=True)
        return str(self.http.field(body, "issueKey"))
