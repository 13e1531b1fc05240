"""Signs ledger checkpoints on schedule: every N records or T seconds per tenant (settings).

A daemon thread beside the API: it polls once a second, signs what is due
(``app.ledger.sign_due_checkpoints``) and publishes each checkpoint to the witness. A failure is
logged and retried on the next tick; the log itself never depends on this thread (records are
appended in the transactions that create them), only the freshness of the signed checkpoints does.
"""

from __future__ import annotations

import threading

import structlog

from deskguard.app.context import AppContext
from deskguard.app.ledger import sign_due_checkpoints

log = structlog.get_logger("deskguard.checkpointer")


class Checkpointer:
    def __init__(
        self, ctx: AppContext, *, every_records: int, every_seconds: float, tick_s: float = 1.0
    ) -> None:
        self._ctx, self._records, self._seconds, self._tick = ctx, every_records, every_seconds, tick_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="deskguard-checkpointer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def tick(self) -> int:
        """One pass; returns how many checkpoints it signed."""
        signed = sign_due_checkpoints(self._ctx, every_records=self._records, every_seconds=self._seconds)
        for cp in signed:
            log.info("checkpoint_signed", tenant_id=cp.tenant_id, size=cp.size)
        return len(signed)

    def _run(self) -> None:
        while not self._stop.wait(self._tick):
            try:
                self.tick()
            except Exception as exc:  # keep ticking: the next pass retries what failed
                log.error("checkpoint_failed", error_type=type(exc).__name__, error=str(exc))
