"""TheHive 5: each alert becomes a TheHive alert, ``POST <url>/api/v1/alert`` with a Bearer key.

Body: ``type`` "deskguard", ``source`` "deskguard:<tenant>", ``sourceRef`` the alert id (TheHive
keeps (type, source, sourceRef) unique, which makes a resend harmless: an "already exists" refusal
counts as delivered), ``title``, ``description`` (markdown with the explanation), ``severity`` 1-4,
``date`` (epoch ms), ``tags``, ``tlp``/``pap`` 2 (amber), ``observables``. ``X-Organisation`` names
the organisation when the key serves several. Ledger records are not sent (TheHive takes alerts).
"""

from __future__ import annotations

from typing import Any

import httpx

from deskguard.adapters.connectors.http import DEFAULT_TIMEOUT, error_summary, send
from deskguard.adapters.connectors.retry import Retryable
from deskguard.adapters.connectors.secrets import resolve
from deskguard.detection.alerts import epoch
from deskguard.domain.errors import ConnectorError
from deskguard.domain.ports_export import ExportItem, ExportKind

VENDOR = "TheHive"
SEVERITY = {"informational": 1, "low": 1, "medium": 2, "high": 3, "critical": 4}
DATA_TYPES = {"ip": "ip", "src_ip": "ip", "caller": "phone_number"}


def _observable(name: str, value: str) -> dict[str, Any]:
    data_type = DATA_TYPES.get(name) or ("mail" if "@" in value else "other")
    return {"dataType": data_type, "data": value, "message": name, "tags": [f"deskguard:{name}"]}


class TheHiveSink:
    """An ``ExportSink``: alerts to TheHive 5."""

    kinds = frozenset({ExportKind.ALERT})

    def __init__(
        self,
        *,
        url: str,
        key_ref: str,
        name: str = "thehive",
        organisation: str | None = None,
        client: httpx.Client | None = None,
    ) -> None:
        self.name = name
        self._url = url.rstrip("/") + "/api/v1/alert"
        self._headers = {"Authorization": f"Bearer {resolve(key_ref, field='export_thehive_key')}"}
        if organisation:
            self._headers["X-Organisation"] = organisation
        self._client = client or httpx.Client(timeout=DEFAULT_TIMEOUT)

    @staticmethod
    def body(item: ExportItem) -> dict[str, Any]:
        alert = item.payload
        entities: dict[str, str] = alert.get("entities") or {}
        lines = [
            alert.get("explanation", ""),
            "",
            f"**Rule:** `{alert['rule_id']}`  **Tenant:** `{alert['tenant']}`",
            f"**Occurrences:** {alert.get('count', 1)}",
            *(f"- {k}: `{v}`" for k, v in sorted(entities.items())),
        ]
        return {
            "type": "deskguard",
            "source": f"deskguard:{alert['tenant']}",
            "sourceRef": alert["id"],
            "title": alert["title"],
            "description": "\n".join(lines),
            "severity": SEVERITY.get(alert.get("severity", "medium"), 2),
            "date": int(epoch(alert["first_seen"]) * 1000),
            "tags": [alert["rule_id"], *alert.get("attack", ())],
            "tlp": 2,
            "pap": 2,
            "observables": [_observable(k, v) for k, v in sorted(entities.items())],
        }

    def send(self, item: ExportItem) -> None:
        if item.kind != ExportKind.ALERT:
            return
        try:
            response = send(
                self._client, "POST", self._url, vendor=VENDOR, json=self.body(item), headers=self._headers
            )
        except ConnectorError as exc:
            if not isinstance(exc, Retryable) and "already exists" in str(exc).lower():
                return  # sent before (sourceRef is unique): delivered
            raise
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict) or "_id" not in answer:
            # the alert may exist now; a resend is answered "already exists" and counts as delivered
            raise Retryable(
                f"{VENDOR} answered {response.status_code} without an alert: {error_summary(response)}"
            )

    def close(self) -> None:
        self._client.close()
