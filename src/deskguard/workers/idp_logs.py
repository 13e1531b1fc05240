"""Polls identity-provider logs (Okta System Log, Entra audits and sign-ins) into detection.

Each tick, for each configured (tenant, ``LogSource``): read the stream's checkpoint, fetch the
page after it, hand the page to ``app.detection.ingest`` as a system actor of that tenant, then
store the checkpoint the page ends at — in that order, so a crash loses nothing (the interrupted
page is fetched again; detection drops the duplicate (source, id) pairs it then sees). A failed
fetch (refusal, timeout, malformed page) leaves the checkpoint where it was; the next tick retries.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from deskguard.app.context import AppContext
from deskguard.app.detection import ingest
from deskguard.domain.events import Actor, ActorKind
from deskguard.domain.ports_poll import LogSource
from deskguard.workers.ticker import Ticker


@dataclass(frozen=True, slots=True)
class PollTarget:
    tenant_id: str
    source: LogSource


def poller_actor(tenant_id: str, stream: str) -> Actor:
    return Actor(kind=ActorKind.SYSTEM, id=f"poller:{stream}", tenant_ids=frozenset({tenant_id}))


def poll_stream(ctx: AppContext, *, tenant_id: str, source: LogSource, max_pages: int = 20) -> int:
    """Ingest up to ``max_pages`` pages after the stream's checkpoint; returns how many records."""
    actor = poller_actor(tenant_id, source.stream)
    ingested = 0
    for _ in range(max_pages):
        with ctx.reads() as uow:
            cursor = uow.idp_poll.get(tenant_id=tenant_id, stream=source.stream)
        page = source.fetch(tenant_id=tenant_id, cursor=cursor)
        if page.records:
            body = json.dumps(page.records, ensure_ascii=False, separators=(",", ":")).encode()
            ingest(ctx, actor=actor, tenant_id=tenant_id, source=source.source, body=body)
            ingested += len(page.records)
        with ctx.uow() as uow:
            uow.idp_poll.put(page.after)
            uow.commit()
        if not page.more:
            break
    return ingested


class IdpLogPoller(Ticker):
    name = "deskguard-idp-logs"
    failure = "idp_log_poll_failed"

    def __init__(self, ctx: AppContext, *, targets: list[PollTarget], tick_s: float = 30.0) -> None:
        super().__init__(tick_s=tick_s)
        self._ctx = ctx
        self._targets = list(targets)

    def tick(self) -> int:
        """One pass over every stream; a failing stream is logged and does not stop the others."""
        total = 0
        for target in self._targets:
            try:
                total += poll_stream(self._ctx, tenant_id=target.tenant_id, source=target.source)
            except Exception as exc:  # the checkpoint is unchanged: the next tick retries this stream
                self._log.error(
                    self.failure,
                    stream=target.source.stream,
                    tenant_id=target.tenant_id,
                    error_type=type(exc).__name__,
                    error=str(exc),
                )
        return total
