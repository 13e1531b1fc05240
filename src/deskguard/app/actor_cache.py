"""A bounded, time-limited memory of resolved tokens (see ``app.auth`` for why and for how long)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime, timedelta

from deskguard.domain.events import Actor


class ActorCache:
    """A small, bounded, time-limited map from token hash to the actor it resolved to."""

    def __init__(self, *, ttl: timedelta = timedelta(seconds=5), size: int = 10_000) -> None:
        self.ttl, self.size = ttl, size
        self._entries: OrderedDict[str, tuple[Actor, datetime]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str, *, now: datetime) -> Actor | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[1] <= now:
                self._entries.pop(key, None)
                return None
            return entry[0]

    def put(self, key: str, actor: Actor, *, now: datetime, not_after: datetime | None) -> None:
        until = now + self.ttl if not_after is None else min(now + self.ttl, not_after)
        with self._lock:
            self._entries[key] = (actor, until)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
