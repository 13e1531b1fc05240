"""Delivers the SIEM/SOAR export queue: each tick queues new ledger records, then sends what is due.

A daemon thread beside the API, like the responder: every tick, for each configured destination,
it queues the ledger records after the destination's cursor (``app.export.queue_ledger``) and
sends the due items (``app.export.deliver``), with back-off and dead letters. Time comes from the
context's clock, so tests drive it with a fixed clock and call ``tick()`` themselves. Started by
``deskguard serve`` only when a destination is configured.
"""

from __future__ import annotations

from collections.abc import Sequence

from deskguard.app.context import AppContext
from deskguard.app.export import deliver, queue_ledger
from deskguard.domain.ports_export import ExportSink
from deskguard.workers.ticker import Ticker


class Exporter(Ticker):
    name = "deskguard-exporter"
    failure = "export_failed"

    def __init__(
        self, ctx: AppContext, sinks: Sequence[ExportSink], *, tick_s: float = 1.0, batch: int = 100
    ) -> None:
        super().__init__(tick_s=tick_s)
        self._ctx, self._sinks, self._batch = ctx, tuple(sinks), batch

    def tick(self) -> int:
        """One pass over every destination; returns how many items were sent."""
        sent = 0
        for sink in self._sinks:
            queue_ledger(self._ctx, destination=sink.name, limit=self._batch * 5)
            sent += deliver(self._ctx, sink, limit=self._batch).sent
        return sent

    def stop(self) -> None:
        super().stop()
        for sink in self._sinks:
            sink.close()
