"""Parsers, one module per source, and the detection of a record's format.

Each parser module has ``SOURCE`` (its name), ``detect(raw) -> bool`` (cheap, on the record's shape)
and ``parse(raw) -> list[Event]`` (raises ``Quarantined``). A record may hold several events (an Okta
event-hook delivery, an Azure Monitor ``records`` batch, a Google activity with several events).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from deskguard.detection.event import Event
from deskguard.detection.normalize import (
    deskguard,
    entra,
    glpi,
    gworkspace,
    jsm,
    okta,
    servicenow,
    telephony,
    twilio,
    voice,
    zendesk,
)
from deskguard.detection.parsing import Quarantined

# Most specific shapes first: the generic telephony format is the most forgiving.
PARSERS: dict[str, ModuleType] = {
    module.SOURCE: module
    for module in (
        deskguard,
        okta,
        entra,
        gworkspace,
        glpi,
        servicenow,
        jsm,
        zendesk,
        twilio,
        voice,
        telephony,
    )
}
SOURCES: tuple[str, ...] = tuple(PARSERS)


def detect_source(raw: dict[str, Any]) -> str:
    for name, module in PARSERS.items():
        if module.detect(raw):
            return name
    raise Quarantined("unknown_format", "no parser recognises this record: " + _keys(raw))


def normalize(raw: Any, *, source: str | None = None, tenant: str = "") -> list[Event]:
    """The normalised events of one raw record; ``source`` forces the parser."""
    if not isinstance(raw, dict):
        raise Quarantined("not_an_object", f"a record must be a JSON object, not {type(raw).__name__}")
    if source is None:
        source = detect_source(raw)
    module = PARSERS.get(source)
    if module is None:
        raise Quarantined("unknown_source", f"{source!r} is not one of {', '.join(SOURCES)}")
    events = module.parse(raw)
    for event in events:
        if tenant:
            event.tenant = tenant
        if not event.target_user and event.class_name == "authentication":
            # a sign-in is about the person signing in: the same entity as a reset of that person
            event.target_user = event.actor_user
    return events


def _keys(raw: dict[str, Any]) -> str:
    keys = sorted(str(key) for key in raw)[:8]
    return "keys " + ", ".join(keys) if keys else "an empty object"
