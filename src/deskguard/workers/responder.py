"""Retries runbook steps whose connector timed out, when their back-off is due.

A daemon thread beside the API, like the detector: every tick it claims the steps that are due
(``retrying`` past ``next_attempt_at``, or ``running`` past a lease their process never finished)
and runs them again with the same idempotency key (``app.response_steps.retry_due``). Time comes
from the context's clock, so tests drive it with a fixed clock and call ``tick()`` themselves.
"""

from __future__ import annotations

from deskguard.app.context import AppContext
from deskguard.app.response_steps import retry_due
from deskguard.workers.ticker import Ticker


class Responder(Ticker):
    name = "deskguard-responder"
    failure = "response_retry_failed"

    def __init__(self, ctx: AppContext, *, tick_s: float = 1.0, batch: int = 100) -> None:
        super().__init__(tick_s=tick_s)
        self._ctx, self._batch = ctx, batch

    def tick(self) -> int:
        """One pass; returns how many steps it ran (each outcome already recorded)."""
        return len(retry_due(self._ctx, limit=self._batch))
