"""The fixture records the parser tests read, and the small helpers they share."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from deskguard.detection.event import Event

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "detection"


def load(source: str, name: str) -> dict[str, Any]:
    """The fixture ``name`` of ``source`` (``tests/fixtures/detection/<source>/<name>``)."""
    return json.loads((FIXTURES / source / name).read_text())


def one(module: ModuleType, raw: dict[str, Any]) -> Event:
    """The single event ``module`` parses ``raw`` into."""
    events = module.parse(raw)
    assert len(events) == 1, f"{len(events)} events"
    return events[0]


def utc(*parts: int) -> float:
    return datetime(*parts, tzinfo=UTC).timestamp()
