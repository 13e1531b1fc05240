"""Okta System Log, polled: ``GET /api/v1/logs?since=…&sortOrder=ASCENDING&limit=…``, then the
``Link: <…>; rel="next"`` of each answer.

The checkpoint (``domain.ports_poll.PollCursor``) is the ``next`` link Okta gave with the last
ingested page, plus that page's last ``published`` and ``uuid``. Okta always returns a ``next``
link when polling in ascending order, even on an empty page: following it later yields the events
published since. Without a link (a first start, or a link Okta refused) the source starts from
``since`` = the last ``published`` (or ``lookback`` ago) and drops the one event already ingested.

The pages are read through ``OktaIdentityProvider.call``: the same token, retries on 429/5xx
(these are reads), and a link that names another host is refused (the token never leaves the org).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from deskguard.adapters.connectors.http import json_body
from deskguard.adapters.idp.okta import VENDOR, OktaIdentityProvider
from deskguard.domain.errors import ConnectorError
from deskguard.domain.ports_poll import LogPage, PollCursor

STREAM = "okta.system_log"


class OktaSystemLog:
    source = "okta"
    stream = STREAM

    def __init__(
        self,
        okta: OktaIdentityProvider,
        *,
        now: Callable[[], datetime],
        limit: int = 1000,
        lookback: timedelta = timedelta(hours=1),
    ) -> None:
        if not 1 <= limit <= 1000:
            raise ValueError("limit is 1 to 1000 events a page")
        self._okta = okta
        self._now = now
        self._limit = limit
        self._lookback = lookback

    def fetch(self, *, tenant_id: str, cursor: PollCursor | None) -> LogPage:
        if cursor is not None and cursor.next_url:
            response = self._okta.call("GET", cursor.next_url, idempotent=True)
        else:
            since = cursor.last_time if cursor is not None and cursor.last_time else self._start()
            query = {"since": since, "sortOrder": "ASCENDING", "limit": str(self._limit)}
            response = self._okta.call("GET", "/api/v1/logs", idempotent=True, params=query)
        body = json_body(response, vendor=VENDOR)
        if not isinstance(body, list):
            raise ConnectorError(
                f"{VENDOR} System Log answered a {type(body).__name__}, not a list of events"
            )
        records = [r for r in body if not _already(r, cursor)]
        next_url = response.links.get("next", {}).get("url", "")
        if next_url:
            self._okta.check_own(next_url)  # never checkpoint a link that would carry the token away
        last_time, last_id = _last(records, cursor)
        here = str(response.request.url)
        after = PollCursor(
            tenant_id=tenant_id,
            stream=self.stream,
            next_url=next_url,
            last_time=last_time,
            last_id=last_id,
            updated_at=self._now(),
        )
        # An empty page, or a link back to where we are, means we are caught up until the next tick.
        return LogPage(records=records, after=after, more=bool(body) and bool(next_url) and next_url != here)

    def _start(self) -> str:
        return (self._now() - self._lookback).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _already(record: Any, cursor: PollCursor | None) -> bool:
    """The event the checkpoint names (``since`` is inclusive when resuming without a link)."""
    if cursor is None or not cursor.last_id or not isinstance(record, dict):
        return False
    return record.get("uuid") == cursor.last_id and record.get("published") == cursor.last_time


def _last(records: list[Any], cursor: PollCursor | None) -> tuple[str, str]:
    for record in reversed(records):
        if isinstance(record, dict) and isinstance(record.get("published"), str) and record.get("uuid"):
            return record["published"], str(record["uuid"])
    return (cursor.last_time, cursor.last_id) if cursor is not None else ("", "")
