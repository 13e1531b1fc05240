"""The identity-provider log pollers' checkpoints (``domain.ports_poll``), one row per stream."""

from __future__ import annotations

from deskguard.adapters.db.repositories_people import SqlRepository
from deskguard.adapters.db.tables_detection import IdpPollCursorRow
from deskguard.domain.ports_poll import PollCursor


class SqlPollCursorRepository(SqlRepository):
    def get(self, *, tenant_id: str, stream: str) -> PollCursor | None:
        row = self._s.get(IdpPollCursorRow, (tenant_id, stream), populate_existing=True)
        if row is None:
            return None
        return PollCursor(
            tenant_id=row.tenant_id,
            stream=row.stream,
            next_url=row.next_url,
            last_time=row.last_time,
            last_id=row.last_id,
            updated_at=row.updated_at,
        )

    def put(self, cursor: PollCursor) -> None:
        if cursor.updated_at is None:
            raise ValueError("a poll cursor is stored with its updated_at")
        row = self._s.get(IdpPollCursorRow, (cursor.tenant_id, cursor.stream))
        if row is None:
            row = IdpPollCursorRow(tenant_id=cursor.tenant_id, stream=cursor.stream)
            self._s.add(row)
        row.next_url, row.last_time, row.last_id = cursor.next_url, cursor.last_time, cursor.last_id
        row.updated_at = cursor.updated_at
        self._s.flush()
