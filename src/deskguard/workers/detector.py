"""Feeds each tenant's outbox to the detection engine, a second behind the request flow.

A daemon thread beside the API, like the checkpointer: every tick it reads each tenant's new
outbox events after the tenant's detection cursor (``app.detection.consume_outbox``), runs them
through the live pipeline and stores the alerts with the cursor, in one transaction. A failure is
logged and the same events are read again on the next tick.
"""

from __future__ import annotations

import threading

import structlog

from deskguard.app.context import AppContext
from deskguard.app.detection import consume_outbox

log = structlog.get_logger("deskguard.detector")


class OutboxDetector:
    def __init__(self, ctx: AppContext, *, tick_s: float = 1.0) -> None:
        self._ctx, self._tick = ctx, tick_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="deskguard-detector", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def tick(self) -> int:
        """One pass over every tenant; returns how many outbox events it read."""
        with self._ctx.reads() as uow:
            tenants = [tenant.id for tenant in uow.tenants.list()]
        return sum(consume_outbox(self._ctx, tenant_id=tenant) for tenant in tenants)

    def _run(self) -> None:
        while not self._stop.wait(self._tick):
            try:
                self.tick()
            except Exception as exc:  # keep ticking: the cursor did not move, the next pass retries
                log.error("detection_failed", error_type=type(exc).__name__, error=str(exc))
