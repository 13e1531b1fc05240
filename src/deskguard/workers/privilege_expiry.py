"""Ends time-boxed privileges: every tick, revokes the ``grant_privilege`` memberships whose
duration has passed (``app.privilege_expiry.expire_due``).

A daemon thread beside the API, like the responder; ``deskguard serve`` starts it every
``DESKGUARD_PRIVILEGE_EXPIRY_SECONDS`` (30 by default). Time comes from the context's clock, so
tests drive it with a fixed clock and call ``tick()`` themselves.
"""

from __future__ import annotations

from deskguard.app.context import AppContext
from deskguard.app.privilege_expiry import expire_due
from deskguard.workers.ticker import Ticker


class PrivilegeExpirer(Ticker):
    name = "deskguard-privilege-expiry"
    failure = "privilege_expiry_tick_failed"

    def __init__(self, ctx: AppContext, *, tick_s: float = 30.0, batch: int = 100) -> None:
        super().__init__(tick_s=tick_s)
        self._ctx, self._batch = ctx, batch

    def tick(self) -> int:
        """One pass; returns how many revocations it attempted (each outcome already recorded)."""
        return len(expire_due(self._ctx, limit=self._batch))
