"""Signs ledger checkpoints on schedule: every N records or T seconds per tenant (settings).

A daemon thread beside the API: it polls once a second, signs what is due
(``app.ledger.sign_due_checkpoints``) and publishes each checkpoint to the witness. A failure is
logged and retried on the next tick; the log itself never depends on this thread (records are
appended in the transactions that create them), only the freshness of the signed checkpoints does.
"""

from __future__ import annotations

import structlog

from deskguard.app.context import AppContext
from deskguard.app.ledger import sign_due_checkpoints
from deskguard.workers.ticker import Ticker

log = structlog.get_logger("deskguard.checkpointer")


class Checkpointer(Ticker):
    name = "deskguard-checkpointer"
    failure = "checkpoint_failed"

    def __init__(
        self, ctx: AppContext, *, every_records: int, every_seconds: float, tick_s: float = 1.0
    ) -> None:
        super().__init__(tick_s=tick_s)
        self._ctx, self._records, self._seconds = ctx, every_records, every_seconds

    def tick(self) -> int:
        """One pass; returns how many checkpoints it signed."""
        signed = sign_due_checkpoints(self._ctx, every_records=self._records, every_seconds=self._seconds)
        for cp in signed:
            log.info("checkpoint_signed", tenant_id=cp.tenant_id, size=cp.size)
        return len(signed)
