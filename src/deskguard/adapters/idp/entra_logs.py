"""Entra directory audits and sign-ins, polled through Microsoft Graph with ``@odata.nextLink``.

Graph offers no cursor for audit logs, so the source reads them in sweeps over a closed time
window: ``$filter=<time> ge {since} and <time> lt {until}``, with ``until`` = now minus ``lag``
(Entra publishes its logs minutes late; what arrives later than ``lag`` would be missed, so keep
it generous). While a sweep pages, the checkpoint is the ``@odata.nextLink`` (it carries the
window); when the last page has no link, the checkpoint becomes "next sweep from ``until``". Windows
touch without overlapping, so a restart neither skips nor repeats, whatever order Graph pages in.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from deskguard.adapters.connectors.http import json_body
from deskguard.adapters.idp.entra import VENDOR, GraphClient
from deskguard.domain.errors import ConnectorError
from deskguard.domain.ports_poll import LogPage, PollCursor

AUDITS = ("entra.directory_audits", "/auditLogs/directoryAudits", "activityDateTime")
SIGN_INS = ("entra.sign_ins", "/auditLogs/signIns", "createdDateTime")  # needs Entra ID P1/P2


def stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class EntraLog:
    source = "entra"

    def __init__(
        self,
        graph: GraphClient,
        *,
        kind: tuple[str, str, str],
        now: Callable[[], datetime],
        limit: int = 500,
        lag: timedelta = timedelta(minutes=5),
        lookback: timedelta = timedelta(hours=1),
    ) -> None:
        if not 1 <= limit <= 1000:
            raise ValueError("limit is 1 to 1000 records a page")
        self.stream, self._path, self._field = kind
        self._graph = graph
        self._now = now
        self._limit = limit
        self._lag = lag
        self._lookback = lookback

    def fetch(self, *, tenant_id: str, cursor: PollCursor | None) -> LogPage:
        now = self._now()
        since = cursor.last_time if cursor is not None and cursor.last_time else stamp(now - self._lookback)
        if cursor is not None and cursor.next_url:
            response = self._graph.call("GET", cursor.next_url, idempotent=True)
            until = cursor.last_id  # the sweep's upper bound, kept beside its link
        else:
            until = stamp(now - self._lag)
            if until <= since:  # nothing settled since the last sweep
                after = cursor or PollCursor(tenant_id=tenant_id, stream=self.stream, last_time=since)
                return LogPage(records=[], after=_at(after, now), more=False)
            window = f"{self._field} ge {since} and {self._field} lt {until}"
            query = {"$filter": window, "$top": str(self._limit)}
            response = self._graph.call("GET", self._path, idempotent=True, params=query)
        body = json_body(response, vendor=VENDOR)
        items = body.get("value") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise ConnectorError(f"{VENDOR} {self._path} answered without a value list (malformed)")
        link = body.get("@odata.nextLink")
        if link is not None and (not isinstance(link, str) or not link):
            raise ConnectorError(
                f"{VENDOR} {self._path} answered an @odata.nextLink that is not a URL (malformed)"
            )
        if link:
            self._graph.check_own(link)
            after = PollCursor(
                tenant_id=tenant_id, stream=self.stream, next_url=link, last_time=since, last_id=until
            )
        else:  # the sweep is complete: the next one starts where this one ended
            after = PollCursor(tenant_id=tenant_id, stream=self.stream, last_time=until)
        return LogPage(records=items, after=_at(after, now), more=bool(link))


def _at(cursor: PollCursor, now: datetime) -> PollCursor:
    return PollCursor(
        tenant_id=cursor.tenant_id,
        stream=cursor.stream,
        next_url=cursor.next_url,
        last_time=cursor.last_time,
        last_id=cursor.last_id,
        updated_at=now,
    )
