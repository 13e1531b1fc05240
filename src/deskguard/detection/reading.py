"""Reading batches of records: a JSON array, one JSON object, or NDJSON (one object per line).

A line that is not JSON is returned as ``Unreadable`` in its place, so the caller can quarantine
it with its position and keep the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson


@dataclass(frozen=True, slots=True)
class Unreadable:
    line: int
    detail: str
    text: str  # the line as received (cut at 64 KiB)


def read_batch(data: bytes) -> list[tuple[Any, int]]:
    """(record, line number) pairs; a record is ``Unreadable`` when its line is not JSON."""
    try:
        whole = orjson.loads(data)
    except orjson.JSONDecodeError:
        pass
    else:
        return [(record, 1) for record in (whole if isinstance(whole, list) else [whole])]
    out: list[tuple[Any, int]] = []
    for number, line in enumerate(data.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            out.append((orjson.loads(line), number))
        except orjson.JSONDecodeError as exc:
            text = line[:65536].decode("utf-8", "replace")
            out.append((Unreadable(number, f"line {number} is not JSON: {exc}", text), number))
    return out
