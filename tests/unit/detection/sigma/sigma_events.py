"""Building ``Event`` objects for Sigma tests: a raw vendor record plus what the tests care about."""

from __future__ import annotations

import itertools
from typing import Any

from deskguard.detection.event import Event

_ids = itertools.count(1)


def make_event(
    raw: dict[str, Any] | None = None,
    *,
    time: float = 1_767_258_000.0,  # 2026-01-01 09:00:00 UTC
    id: str | None = None,  # noqa: A002 - the Event field's name
    product: str = "okta",
    service: str = "okta",
    source: str | None = None,
    class_name: str = "account_change",
    activity: str = "other",
    type: str | None = None,  # noqa: A002
    **fields: Any,
) -> Event:
    """An event around ``raw``; ``type`` defaults to the raw ``eventType`` when there is one."""
    raw = {} if raw is None else raw
    if type is None:
        type = str(raw.get("eventType", ""))  # noqa: A001
    return Event(
        id=id or f"evt-{next(_ids)}",
        time=time,
        source=source or product,
        product=product,
        service=service,
        class_name=class_name,
        activity=activity,
        type=type,
        raw=raw,
        **fields,
    )


def okta(event_type: str, *, user: str = "jane@acme.com", time: float = 1_767_258_000.0, **raw: Any) -> Event:
    """An Okta System Log event of this type about ``user``."""
    record = {
        "uuid": f"okta-{next(_ids)}",
        "eventType": event_type,
        "actor": {"alternateId": "admin@acme.com", "type": "User"},
        "target": [{"alternateId": user, "type": "User"}],
        "outcome": {"result": "SUCCESS"},
        **raw,
    }
    return make_event(record, time=time, id=record["uuid"], target_user=user)
