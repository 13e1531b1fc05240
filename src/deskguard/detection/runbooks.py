"""Response runbooks: which alerts trigger which protective steps (the model and its loader).

A runbook file (``content/runbooks/*.yml``) names a trigger and steps::

    id: Respond.Recovery.NewCountrySignIn
    title: ...
    description: ...
    trigger:
      rules: [Identity.Recovery.NewCountryOrProxy]   # required
      min_severity: high        # default informational
      min_risk: 70              # the person's risk score (0-100) once the alert counted; optional
      action_kinds: [reset_mfa] # alerts about a helpdesk request of these kinds; optional
      privileged: true          # only privileged people (false: only the others); optional
    dry_run: false              # true: every step is recorded as what it would do, nothing acts
    steps:
      - revoke_sessions                        # sign the person out everywhere (identity provider)
      - watchlist: {hours: 24}                 # deskguard's watch list: one approval more
      - suspend_account                        # identity provider; always waits for an approval
      - require_manager_validation: {hours: 24}   # sensitive requests need the manager's confirmation
      - notify: {channel: slack, to: "#soc", text: "{severity}: {title} for {user}"}
      - ticket: {action: comment, text: "..."} # comment the alert's ticket, or open one if it has none

Any step takes ``approval: required`` (wait for an analyst or admin of the tenant); destructive
steps (``DESTRUCTIVE``) always wait, and ``approval: none`` on one is a load error. ``text`` may
name the alert's fields in braces (``PLACEHOLDERS``).

The steps run as soon as the alert is stored (``app.respond``), each recorded in the evidence
ledger. Pure: this module reads files given to it and matches alerts; it acts on nothing.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from deskguard.detection.alerts import SEVERITIES, Alert
from deskguard.domain.actions import EMAIL, ActionKind

ID = re.compile(r"^Respond(\.[A-Z][A-Za-z0-9]*){2,}$")
STEP_KINDS = (
    "revoke_sessions",
    "watchlist",
    "suspend_account",
    "require_manager_validation",
    "notify",
    "ticket",
)
#: Steps that act on the person the alert names; without one in the directory they are skipped.
PERSON_STEPS = frozenset({"revoke_sessions", "watchlist", "suspend_account", "require_manager_validation"})
#: Steps that lock a person out: a detection can be wrong, so a human approves them, always.
DESTRUCTIVE = frozenset({"suspend_account"})
NOTIFY_CHANNELS = ("webhook", "email", "slack")
TICKET_ACTIONS = ("open", "comment")
PLACEHOLDERS = ("rule_id", "title", "severity", "user", "actor", "explanation", "runbook", "alert_id")
MAX_HOURS = 24 * 30
MAX_TEXT = 2000
SLACK = re.compile(r"^#[a-z0-9][a-z0-9._-]{0,79}$")
DEFAULT_TEXT = "{severity} alert {rule_id} ({title}) about {user}: {explanation} [runbook {runbook}]"
_FIELDS = ("id", "title", "description", "trigger", "dry_run", "steps")
_TRIGGER_FIELDS = ("rules", "min_severity", "min_risk", "action_kinds", "privileged")


class RunbookError(ValueError):
    """A runbook file is wrong; the message starts with the file and names the field."""


@dataclass(frozen=True, slots=True)
class Step:
    kind: str
    params: dict[str, Any]
    approval: bool = False  # wait for an analyst's or admin's approval before acting

    def describe(self) -> str:
        p = self.params
        match self.kind:
            case "watchlist":
                what = f"watch-list the person for {p['hours']} h"
            case "suspend_account":
                what = "suspend the person's account"
            case "require_manager_validation":
                what = f"require the manager's confirmation of sensitive requests for {p['hours']} h"
            case "notify":
                what = f"notify {p['to']} by {p['channel']}"
            case "ticket":
                what = (
                    "comment the alert's ticket (or open one)"
                    if p["action"] == "comment"
                    else "open a ticket"
                )
            case _:
                what = "sign the person out everywhere"
        return f"wait for an analyst's approval, then {what}" if self.approval else what


@dataclass(frozen=True, slots=True)
class Subject:
    """What the app knows of the alert's person and request when it weighs a trigger."""

    risk: float | None = None  # the person's risk score now (0-100); None: no person in the directory
    privileged: bool | None = None
    action_kind: str = ""  # the kind of the helpdesk request the alert is about, "" when none


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
    min_risk: float | None = None
    action_kinds: frozenset[str] = frozenset()
    privileged: bool | None = None

    def triggered_by(self, alert: Alert) -> bool:
        """Alerts of the trigger's rules at or above its severity; never monitor-mode alerts."""
        return (
            alert.mode == "alert"
            and alert.rule_id in self.rules
            and SEVERITIES.index(alert.severity) >= SEVERITIES.index(self.min_severity)
        )

    def admits(self, subject: Subject) -> bool:
        """The trigger's conditions on the person and the request (all of them must hold)."""
        if self.min_risk is not None and (subject.risk is None or subject.risk < self.min_risk):
            return False
        if self.action_kinds and subject.action_kind not in self.action_kinds:
            return False
        return self.privileged is None or subject.privileged == self.privileged


def action_kind_of(alert: Alert) -> str:
    """The helpdesk action kind an alert names (its ``action`` entity, from deskguard's events)."""
    return alert.entities.get("action", "")


def placeholders_of(alert: Alert, runbook: Runbook) -> dict[str, str]:
    return {
        "rule_id": alert.rule_id,
        "title": alert.title,
        "severity": alert.severity,
        "user": alert.entities.get("user", ""),
        "actor": alert.entities.get("actor", ""),
        "explanation": alert.explanation,
        "runbook": runbook.id,
        "alert_id": alert.id,
    }


def render(text: str, values: Mapping[str, str]) -> str:
    """``text`` with its placeholders filled (the loader checked that it names only known ones)."""
    return text.format_map({name: values.get(name, "") for name in PLACEHOLDERS})[:MAX_TEXT]


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
    unknown = sorted(set(body) - set(_FIELDS))
    if unknown:
        raise RunbookError(f"{path}: unknown field(s) {', '.join(unknown)}")
    runbook_id = body.get("id")
    if not isinstance(runbook_id, str) or not ID.match(runbook_id):
        raise RunbookError(f"{path}: id must read Respond.Area.Behavior, got {runbook_id!r}")
    trigger = body.get("trigger")
    if not isinstance(trigger, dict) or not isinstance(trigger.get("rules"), list) or not trigger["rules"]:
        raise RunbookError(f"{path}: trigger.rules must be a non-empty list of rule ids")
    unknown = sorted(set(trigger) - set(_TRIGGER_FIELDS))
    if unknown:
        raise RunbookError(f"{path}: unknown trigger field(s) {', '.join(unknown)}")
    rules = frozenset(str(rule) for rule in trigger["rules"])
    if known is not None and rules - known:
        raise RunbookError(f"{path}: trigger.rules names unknown rule(s) {', '.join(sorted(rules - known))}")
    severity = str(trigger.get("min_severity", "informational"))
    if severity not in SEVERITIES:
        raise RunbookError(f"{path}: trigger.min_severity must be one of {', '.join(SEVERITIES)}")
    dry_run = body.get("dry_run", False)
    if not isinstance(dry_run, bool):
        raise RunbookError(f"{path}: dry_run must be true or false")
    raw_steps = body.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise RunbookError(f"{path}: steps must be a non-empty list")
    return Runbook(
        id=runbook_id,
        title=str(body.get("title") or runbook_id),
        description=str(body.get("description") or ""),
        rules=rules,
        min_severity=severity,
        dry_run=dry_run,
        steps=tuple(_step(path, index, raw) for index, raw in enumerate(raw_steps)),
        path=str(path),
        min_risk=_min_risk(path, trigger),
        action_kinds=_action_kinds(path, trigger),
        privileged=_privileged(path, trigger),
    )


def _min_risk(path: Path, trigger: dict[str, Any]) -> float | None:
    value = trigger.get("min_risk")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
        raise RunbookError(f"{path}: trigger.min_risk must be a risk score from 0 to 100, got {value!r}")
    return float(value)


def _action_kinds(path: Path, trigger: dict[str, Any]) -> frozenset[str]:
    value = trigger.get("action_kinds")
    if value is None:
        return frozenset()
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise RunbookError(f"{path}: trigger.action_kinds must be a non-empty list of action kinds")
    known = {k.value for k in ActionKind}
    wrong = sorted(set(value) - known)
    if wrong:
        raise RunbookError(
            f"{path}: trigger.action_kinds names unknown action(s) {', '.join(wrong)}; "
            f"known: {', '.join(sorted(known))}"
        )
    return frozenset(value)


def _privileged(path: Path, trigger: dict[str, Any]) -> bool | None:
    value = trigger.get("privileged")
    if value is not None and not isinstance(value, bool):
        raise RunbookError(f"{path}: trigger.privileged must be true or false, got {value!r}")
    return value


def _step(path: Path, index: int, raw: Any) -> Step:
    where = f"{path}: steps[{index}]"
    if isinstance(raw, str):
        kind, params = raw, {}
    elif isinstance(raw, dict) and len(raw) == 1:
        kind, params = next(iter(raw.items()))
        params = {} if params is None else params
    else:
        raise RunbookError(f"{where}: a step is a name or a mapping of one name to its parameters")
    if kind not in STEP_KINDS:
        raise RunbookError(f"{where}: unknown step {kind!r}; known: {', '.join(STEP_KINDS)}")
    if not isinstance(params, dict):
        raise RunbookError(f"{where}: the parameters of {kind} are a mapping")
    where = f"{where}.{kind}"
    params = dict(params)
    approval = _approval(where, kind, params.pop("approval", None))
    match kind:
        case "watchlist" | "require_manager_validation":
            checked = {"hours": _hours(where, params.pop("hours", 24))}
        case "notify":
            checked = _notify(where, params)
        case "ticket":
            checked = _ticket(where, params)
        case _:
            checked = {}
    if params:
        raise RunbookError(f"{where}: unknown parameter(s) {', '.join(sorted(map(str, params)))}")
    return Step(kind, checked, approval)


def _approval(where: str, kind: str, value: Any) -> bool:
    if value is None:
        return kind in DESTRUCTIVE
    if value not in ("required", "none"):
        raise RunbookError(f"{where}.approval must be required or none, got {value!r}")
    if value == "none" and kind in DESTRUCTIVE:
        raise RunbookError(
            f"{where}.approval: {kind} locks the person out; it always waits for an analyst's or "
            "admin's approval, so approval: none is refused"
        )
    return value == "required"


def _hours(where: str, hours: Any) -> int | float:
    if isinstance(hours, bool) or not isinstance(hours, int | float) or not 0 < hours <= MAX_HOURS:
        raise RunbookError(f"{where}.hours must be a number of hours, 1 to {MAX_HOURS}")
    return hours


def _notify(where: str, params: dict[str, Any]) -> dict[str, Any]:
    channel = params.pop("channel", None)
    if channel not in NOTIFY_CHANNELS:
        raise RunbookError(f"{where}.channel must be one of {', '.join(NOTIFY_CHANNELS)}, got {channel!r}")
    to = params.pop("to", None)
    if not isinstance(to, str) or not to.strip():
        raise RunbookError(f"{where}.to is required: the {channel} destination")
    ok = {
        "webhook": to.startswith("https://"),
        "email": bool(EMAIL.match(to)),
        "slack": bool(SLACK.match(to)) or to.startswith("https://hooks.slack.com/"),
    }[channel]
    if not ok:
        expected = {
            "webhook": "an https:// URL",
            "email": "an e-mail address",
            "slack": "a #channel or an https://hooks.slack.com/ URL",
        }[channel]
        raise RunbookError(f"{where}.to must be {expected} for {channel}, got {to!r}")
    return {"channel": channel, "to": to, "text": _text(where, params.pop("text", DEFAULT_TEXT))}


def _ticket(where: str, params: dict[str, Any]) -> dict[str, Any]:
    action = params.pop("action", "comment")
    if action not in TICKET_ACTIONS:
        raise RunbookError(f"{where}.action must be open or comment, got {action!r}")
    return {"action": action, "text": _text(where, params.pop("text", DEFAULT_TEXT))}


def _text(where: str, text: Any) -> str:
    if not isinstance(text, str) or not text.strip():
        raise RunbookError(f"{where}.text must be some text")
    if len(text) > MAX_TEXT:
        raise RunbookError(f"{where}.text is longer than {MAX_TEXT} characters")
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    except ValueError as exc:
        raise RunbookError(f"{where}.text: {exc} (write {{{{ for a literal brace)") from None
    wrong = sorted({n for n in names if n not in PLACEHOLDERS})
    if wrong:
        raise RunbookError(
            f"{where}.text names unknown placeholder(s) {', '.join('{' + n + '}' for n in wrong)}; "
            f"known: {', '.join(PLACEHOLDERS)}"
        )
    return text
