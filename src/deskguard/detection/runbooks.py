"""Response runbooks: which alerts trigger which protective steps (the model and its loader).

A runbook file (``content/runbooks/*.yml``) names a trigger and steps::

    id: Respond.Recovery.NewCountrySignIn
    title: ...
    description: ...
    trigger: {rules: [Identity.Recovery.NewCountryOrProxy], min_severity: high}
    dry_run: false          # true: every step is recorded as what it would do, nothing acts
    steps:
      - revoke_sessions      # sign the person out everywhere, through the identity provider
      - watchlist: {hours: 24}   # the person is on the watch list: the policy asks more of requests

The steps run as soon as the alert is stored (``app.respond``), each recorded in the evidence
ledger. Pure: this module reads files given to it and matches alerts; it acts on nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from deskguard.detection.alerts import SEVERITIES, Alert

ID = re.compile(r"^Respond(\.[A-Z][A-Za-z0-9]*){2,}$")
STEP_KINDS = ("revoke_sessions", "watchlist")


class RunbookError(ValueError):
    """A runbook file is wrong; the message starts with the file and names the field."""


@dataclass(frozen=True, slots=True)
class Step:
    kind: str
    params: dict[str, Any]

    def describe(self) -> str:
        if self.kind == "watchlist":
            return f"watch-list the person for {self.params['hours']} h"
        return "sign the person out everywhere"


@dataclass(frozen=True, slots=True)
class Runbook:
    id: str
    title: str
    description: str
    rules: frozenset[str]
    min_severity: str
    dry_run: bool
    steps: tuple[Step, ...]
    path: str

    def triggered_by(self, alert: Alert) -> bool:
        """Alerts of the trigger's rules at or above its severity; never monitor-mode alerts."""
        return (
            alert.mode == "alert"
            and alert.rule_id in self.rules
            and SEVERITIES.index(alert.severity) >= SEVERITIES.index(self.min_severity)
        )


def load_runbooks(paths: Iterable[Path], *, known_rules: Iterable[str] | None = None) -> list[Runbook]:
    """Every runbook under ``paths``; with ``known_rules``, a trigger naming another rule is an error."""
    known = None if known_rules is None else frozenset(known_rules)
    found: list[Runbook] = []
    for path in paths:
        files = sorted(path.rglob("*.yml")) if path.is_dir() else [path]
        for file in files:
            runbook = _runbook(file, known)
            if any(other.id == runbook.id for other in found):
                raise RunbookError(f"{file}: id {runbook.id} is used twice")
            found.append(runbook)
    return found


def _runbook(path: Path, known: frozenset[str] | None) -> Runbook:
    try:
        body = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RunbookError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(body, dict):
        raise RunbookError(f"{path}: a runbook is a mapping")
    unknown = sorted(set(body) - {"id", "title", "description", "trigger", "dry_run", "steps"})
    if unknown:
        raise RunbookError(f"{path}: unknown field(s) {', '.join(unknown)}")
    runbook_id = body.get("id")
    if not isinstance(runbook_id, str) or not ID.match(runbook_id):
        raise RunbookError(f"{path}: id must read Respond.Area.Behavior, got {runbook_id!r}")
    trigger = body.get("trigger")
    if not isinstance(trigger, dict) or not isinstance(trigger.get("rules"), list) or not trigger["rules"]:
        raise RunbookError(f"{path}: trigger.rules must be a non-empty list of rule ids")
    rules = frozenset(str(rule) for rule in trigger["rules"])
    if known is not None and rules - known:
        raise RunbookError(f"{path}: trigger.rules names unknown rule(s) {', '.join(sorted(rules - known))}")
    severity = str(trigger.get("min_severity", "informational"))
    if severity not in SEVERITIES:
        raise RunbookError(f"{path}: trigger.min_severity must be one of {', '.join(SEVERITIES)}")
    raw_steps = body.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise RunbookError(f"{path}: steps must be a non-empty list")
    return Runbook(
        id=runbook_id,
        title=str(body.get("title") or runbook_id),
        description=str(body.get("description") or ""),
        rules=rules,
        min_severity=severity,
        dry_run=bool(body.get("dry_run", False)),
        steps=tuple(_step(path, index, raw) for index, raw in enumerate(raw_steps)),
        path=str(path),
    )


def _step(path: Path, index: int, raw: Any) -> Step:
    where = f"{path}: steps[{index}]"
    if isinstance(raw, str):
        kind, params = raw, {}
    elif isinstance(raw, dict) and len(raw) == 1:
        kind, params = next(iter(raw.items()))
        params = params or {}
    else:
        raise RunbookError(f"{where}: a step is a name or a mapping of one name to its parameters")
    if kind not in STEP_KINDS:
        raise RunbookError(f"{where}: unknown step {kind!r}; known: {', '.join(STEP_KINDS)}")
    if not isinstance(params, dict):
        raise RunbookError(f"{where}: the parameters of {kind} are a mapping")
    if kind == "watchlist":
        hours = params.get("hours", 24)
        if isinstance(hours, bool) or not isinstance(hours, int | float) or not 0 < hours <= 24 * 30:
            raise RunbookError(f"{where}: watchlist.hours must be a number of hours, 1 to 720")
        return Step(kind, {"hours": hours})
    if params:
        raise RunbookError(f"{where}: {kind} takes no parameters")
    return Step(kind, {})
