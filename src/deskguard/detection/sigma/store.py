"""Where correlation state lives: the ``CorrelationStore`` port and its in-memory implementation.

State is kept per (correlation id, group key): a list of entries ``[time, event id, rule index]``
(value_count adds the counted value), sorted by time. Only ids and times are kept, never events.
The store also keeps the watermark (the newest event time seen), so a snapshot taken mid-stream
restores the same windows and the same lateness horizon.

``MemoryCorrelationStore`` bounds its memory: groups are kept in least-recently-updated order, the
oldest updates are expired from the front (O(1) when nothing is due), and past ``max_groups`` the
least recently updated group is evicted (counted in ``stats["evicted"]``). Snapshots are compact
JSON that ``restore`` reads back exactly (floats round-trip through ``repr``).
"""

from __future__ import annotations

import json
import sys
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any, Protocol

GroupKey = tuple[str, ...]
Entry = list[Any]  # [time, event id, rule index] or [time, event id, rule index, value]
State = list[Entry]
_SNAPSHOT_VERSION = 1


class CorrelationStore(Protocol):
    watermark: float | None  # the newest event time seen, None before the first
    stats: dict[str, int]

    def get(self, correlation_id: str, key: GroupKey) -> State | None: ...

    def put(self, correlation_id: str, key: GroupKey, state: State, updated: float) -> None:
        """Keep ``state``; ``updated`` is its newest event time (what expiry looks at)."""

    def delete(self, correlation_id: str, key: GroupKey) -> None: ...

    def expire(self, before: float) -> int:
        """Drop groups whose newest event is older than ``before``; how many were dropped."""

    def items(self) -> Iterator[tuple[str, GroupKey, State]]: ...

    def snapshot(self) -> bytes: ...

    def restore(self, data: bytes) -> None: ...


class MemoryCorrelationStore:
    def __init__(self, max_groups: int = 100_000) -> None:
        if max_groups < 1:
            raise ValueError("max_groups must be at least 1")
        self.max_groups = max_groups
        self.watermark: float | None = None
        self.stats: dict[str, int] = {"evicted": 0, "expired": 0}
        self._groups: OrderedDict[tuple[str, GroupKey], list[Any]] = OrderedDict()  # -> [updated, state]

    def __len__(self) -> int:
        return len(self._groups)

    def get(self, correlation_id: str, key: GroupKey) -> State | None:
        slot = self._groups.get((correlation_id, key))
        return None if slot is None else slot[1]

    def put(self, correlation_id: str, key: GroupKey, state: State, updated: float) -> None:
        name = (correlation_id, key)
        slot = self._groups.get(name)
        if slot is not None:
            slot[0], slot[1] = updated, state
            self._groups.move_to_end(name)
            return
        self._groups[name] = [updated, state]
        if len(self._groups) > self.max_groups:
            self._groups.popitem(last=False)
            self.stats["evicted"] += 1

    def delete(self, correlation_id: str, key: GroupKey) -> None:
        self._groups.pop((correlation_id, key), None)

    def expire(self, before: float) -> int:
        dropped = 0
        groups = self._groups
        while groups:
            name = next(iter(groups))
            if groups[name][0] >= before:
                break
            del groups[name]
            dropped += 1
        self.stats["expired"] += dropped
        return dropped

    def items(self) -> Iterator[tuple[str, GroupKey, State]]:
        for (correlation_id, key), slot in list(self._groups.items()):
            yield correlation_id, key, slot[1]

    def snapshot(self) -> bytes:
        groups = [[cid, list(key), slot[0], slot[1]] for (cid, key), slot in self._groups.items()]
        document = {"version": _SNAPSHOT_VERSION, "watermark": self.watermark, "groups": groups}
        return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()

    def restore(self, data: bytes) -> None:
        document = json.loads(data)
        if document.get("version") != _SNAPSHOT_VERSION:
            raise ValueError(f"unknown correlation snapshot version {document.get('version')!r}")
        self._groups.clear()
        self.watermark = document["watermark"]
        for cid, key, updated, state in document["groups"]:
            self._groups[(cid, tuple(key))] = [updated, state]
        while len(self._groups) > self.max_groups:
            self._groups.popitem(last=False)
            self.stats["evicted"] += 1

    def approx_bytes(self) -> int:
        """Deep ``sys.getsizeof`` of the state (an estimate; tracemalloc measures exactly)."""
        return sys.getsizeof(self._groups) + sum(
            sys.getsizeof(name) + sum(sys.getsizeof(part) for part in name[1]) + _deep_size(slot)
            for name, slot in self._groups.items()
        )

    def bytes_per_group(self) -> float:
        return self.approx_bytes() / len(self._groups) if self._groups else 0.0


def _deep_size(value: Any) -> int:
    size = sys.getsizeof(value)
    if isinstance(value, list | tuple):
        size += sum(_deep_size(item) for item in value)
    return size
