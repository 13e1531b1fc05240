"""Per-tenant modes of the detection rules: which rules of the pack are on, off or in monitor mode.

The rule pack ships each rule with its own mode (``alert`` or ``monitor``, ``detection.content``);
an administrator may override it for one tenant: ``on`` (alerts, whatever the pack says), ``off``
(no alerts for that tenant) or ``monitor`` (alerts stored and listed, never notified, no risk).
The Detector reads the overrides of a tenant before each batch it runs (``app.detection``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class RuleMode(StrEnum):
    ON = "on"
    OFF = "off"
    MONITOR = "monitor"


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleModeOverride:
    tenant_id: str
    rule_id: str
    mode: RuleMode
    changed_by: str
    changed_at: datetime


class RuleModeRepository(Protocol):
    def list(self, *, tenant_id: str) -> Mapping[str, RuleModeOverride]:
        """The tenant's overrides, by rule id."""
        ...

    def put(self, override: RuleModeOverride) -> None:
        """Store (or replace) the tenant's override of one rule."""
        ...

    def remove(self, *, tenant_id: str, rule_id: str) -> bool:
        """Back to the pack's own mode; True when an override was removed."""
        ...
