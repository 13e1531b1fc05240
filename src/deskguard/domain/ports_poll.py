"""Where each identity-provider log poller stands: one checkpoint per (tenant, stream).

A stream is one vendor log of one tenant (``okta.system_log``, ``entra.directory_audits``,
``entra.sign_ins``). The checkpoint is written after a page has been handed to detection, so a
restart resumes after the last page ingested: no gap, and no page ingested twice except the one a
crash interrupted between the two (the engine drops its duplicate (source, id) pairs).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True, slots=True, kw_only=True)
class PollCursor:
    tenant_id: str
    stream: str
    next_url: str = ""  # the vendor's own "next page" link, when it gave one
    last_time: str = ""  # the last ingested record's timestamp, as the vendor wrote it
    last_id: str = ""  # ... and its id (Okta uuid, Graph id)
    updated_at: datetime | None = None


class PollCursorRepository(Protocol):
    def get(self, *, tenant_id: str, stream: str) -> PollCursor | None: ...

    def put(self, cursor: PollCursor) -> None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class LogPage:
    """One page a log source fetched, and where the stream stands once it is ingested."""

    records: list[Any]  # as the vendor wrote them; detection quarantines what it cannot read
    after: PollCursor  # the checkpoint to store once ``records`` were handed to detection
    more: bool  # another page is waiting now (fetch again without waiting for the next tick)


class LogSource(Protocol):
    """A vendor log read page by page from a checkpoint (``adapters.idp.okta_logs``, ``entra_logs``)."""

    source: str  # the detection normaliser that reads its records (``okta``, ``entra``)
    stream: str

    def fetch(self, *, tenant_id: str, cursor: PollCursor | None) -> LogPage:
        """The page after ``cursor`` (the first page when None). Raises ConnectorError (a malformed
        page included) or ConnectorTimeout; the caller then keeps its checkpoint."""
        ...
