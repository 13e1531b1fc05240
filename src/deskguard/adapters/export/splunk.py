"""Splunk HTTP Event Collector: OCSF events to ``POST <url>/services/collector/event``.

``Authorization: Splunk <token>`` (a ``SecretRef``). The body is one HEC event: ``time`` (epoch
seconds, millisecond precision), ``host``, ``source``, ``sourcetype`` (``ocsf:<class name>``),
optional ``index``, ``event`` (the OCSF JSON, ``adapters.export.ocsf``) and ``fields`` (the tenant,
indexed). HEC answers ``{"text": "Success", "code": 0}``; another code is a refusal, retried when
HEC says it is busy or failing (codes 8, 9, and 429 / 5xx), dead-lettered otherwise (bad token,
bad format, unknown index). A 2xx whose body is not HEC's JSON is retried: the event may have been
indexed, and at-least-once prefers a duplicate to a loss.
"""

from __future__ import annotations

import socket
from typing import Any

import httpx

from deskguard.adapters.connectors.http import DEFAULT_TIMEOUT, send
from deskguard.adapters.connectors.retry import Retryable
from deskguard.adapters.connectors.secrets import resolve
from deskguard.adapters.export.ocsf import render
from deskguard.domain.errors import ConnectorError
from deskguard.domain.ports_export import ExportItem, ExportKind

VENDOR = "Splunk HEC"
#: HEC status codes (Splunk "HTTP Event Collector REST API endpoints"): 8 internal error, 9 busy
RETRYABLE_CODES = frozenset({8, 9})


class SplunkHecSink:
    """An ``ExportSink``: alerts and ledger records to Splunk HEC, as OCSF."""

    kinds = frozenset({ExportKind.ALERT, ExportKind.LEDGER_RECORD})

    def __init__(
        self,
        *,
        url: str,
        token_ref: str,
        name: str = "splunk",
        index: str | None = None,
        host: str | None = None,
        client: httpx.Client | None = None,
    ) -> None:
        self.name = name
        self._url = url.rstrip("/") + "/services/collector/event"
        self._token = resolve(token_ref, field="export_splunk_token")
        self._index, self._host = index, host or socket.gethostname()
        self._client = client or httpx.Client(timeout=DEFAULT_TIMEOUT)

    def body(self, item: ExportItem) -> dict[str, Any]:
        event = render(item.kind.value, item.payload)
        body: dict[str, Any] = {
            "time": event["time"] / 1000,
            "host": self._host,
            "source": "deskguard",
            "sourcetype": "ocsf:" + event["class_name"].lower().replace(" ", "_"),
            "event": event,
            "fields": {"tenant": item.tenant_id, "deskguard_kind": item.kind.value},
        }
        if self._index:
            body["index"] = self._index
        return body

    def send(self, item: ExportItem) -> None:
        response = send(
            self._client,
            "POST",
            self._url,
            vendor=VENDOR,
            json=self.body(item),
            headers={"Authorization": f"Splunk {self._token}"},
        )
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict) or not isinstance(answer.get("code"), int):
            raise Retryable(f"{VENDOR} answered {response.status_code} with a malformed body")
        code = answer["code"]
        if code == 0:
            return
        message = f"{VENDOR} code {code}: {answer.get('text', '')}"
        if code in RETRYABLE_CODES:
            raise Retryable(message)
        raise ConnectorError(message)

    def close(self) -> None:
        self._client.close()
