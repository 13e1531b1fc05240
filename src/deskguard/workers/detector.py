"""Feeds each tenant's outbox to the detection engine, a second behind the request flow.

A daemon thread beside the API, like the checkpointer: every tick it reads each tenant's new
outbox events after the tenant's detection cursor (``app.detection.consume_outbox``), runs them
through the live pipeline and stores the alerts with the cursor, in one transaction. A failure is
logged and the same events are read again on the next tick.

Beside it, ``BaselineKeeper`` writes what the engine's analytics learned (``app.baselines``).
"""

from __future__ import annotations

from deskguard.app.baselines import persist
from deskguard.app.context import AppContext
from deskguard.app.detection import consume_outbox
from deskguard.workers.ticker import Ticker


class OutboxDetector(Ticker):
    name = "deskguard-detector"
    failure = "detection_failed"

    def __init__(self, ctx: AppContext, *, tick_s: float = 1.0) -> None:
        super().__init__(tick_s=tick_s)
        self._ctx = ctx

    def tick(self) -> int:
        """One pass over every tenant; returns how many outbox events it read."""
        with self._ctx.reads() as uow:
            tenants = [tenant.id for tenant in uow.tenants.list()]
        return sum(consume_outbox(self._ctx, tenant_id=tenant) for tenant in tenants)


class BaselineKeeper(Ticker):
    """Writes the live engine's learned baselines every ``tick_s`` when they changed, and at stop."""

    name = "deskguard-baselines"
    failure = "baselines_persist_failed"

    def __init__(self, ctx: AppContext, *, tick_s: float = 60.0) -> None:
        super().__init__(tick_s=tick_s)
        self._ctx = ctx

    def tick(self) -> int:
        saved = persist(self._ctx)
        return 0 if saved is None else saved.keys

    def stop(self) -> None:
        super().stop()
        self.tick()  # what was learned since the last tick is not lost at a clean shutdown
