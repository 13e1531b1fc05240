"""Attack scenarios: the ``content/scenarios/<name>.yml`` files, loaded and validated.

A scenario is data: who (the victim's profile, the agent's desk), when (the day and UTC hour of the
first step), the steps (each an offset, what happens, by whom, whether it is harmful), the expected
outcome (``prevented`` by the policy, or ``detected`` by one of the listed rule ids) and a benign twin
(steps that look alike and must raise nothing). The format is ``docs/simulation.md``; every error
names the file and the field (``ScenarioError``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from deskguard.domain.actions import ActionKind
from deskguard.domain.requests import ProofMethod

ROOT = Path(__file__).resolve().parents[3] / "content" / "scenarios"
ACTIONS = ("call", "ticket", "request", "okta", "entra_signin", "entra_audit", "phone_change")
ACTORS = ("victim", "attacker", "agent", "agent2", "agent3", "connector", "manager")
NETWORKS = ("home", "hosting", "travel", "agent", "connector")
NUMBERS = ("victim_phone", "attacker")
TARGETS = ("victim", "others", "none")
# others: anyone else, per repetition; colleague: someone else of the victim's tenant; namesake: the
# victim's namesake in another tenant
PERSONS = ("victim", "others", "colleague", "namesake")
ATTESTATIONS = ("A", "B", "C", "")
PROOF_OUTCOMES = ("succeeded", "failed", "recorded")
OUTCOMES = ("prevented", "detected")
_DURATION = re.compile(r"^(\d+)(s|m|h|d)$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_STEP_KEYS = {"after", "do", "by", "harmful", "repeat", "every", "number", "attestation", "summary", "kind"}
_STEP_KEYS |= {"proofs", "approvals", "person", "event", "outcome", "reason", "network", "app", "target"}
_STEP_KEYS |= {"session", "operation", "category", "role", "domain", "changed"}


class ScenarioError(ValueError):
    """A scenario file that cannot be used: ``str()`` names the file and the field."""

    def __init__(self, path: Path | str, where: str, message: str) -> None:
        super().__init__(f"{path}: {where}: {message}")
        self.path, self.where = str(path), where


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    after: timedelta
    do: str
    by: str
    harmful: bool = False
    repeat: int = 1
    every: timedelta = timedelta(0)
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Scenario:
    name: str
    issue: int
    title: str
    description: str
    privileged: bool | None  # the victim's profile; None: anyone
    outsourced: bool | None  # the agent's desk; None: either
    day: int
    hour: int
    outcome: str
    rules: tuple[str, ...]
    steps: tuple[Step, ...]
    twin: tuple[Step, ...]
    twin_description: str
    path: str


def duration(value: Any, path: Path, where: str) -> timedelta:
    text = str(value).strip()
    match = _DURATION.match(text)
    if not match:
        raise ScenarioError(path, where, f"{value!r} is not a duration like 90s, 6m, 2h or 1d")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def _choice(value: Any, allowed: tuple[str, ...], path: Path, where: str) -> str:
    if value not in allowed:
        raise ScenarioError(path, where, f"{value!r} is not one of {', '.join(map(repr, allowed))}")
    return str(value)


def _step(raw: Any, path: Path, where: str) -> Step:
    if not isinstance(raw, dict):
        raise ScenarioError(path, where, "a step is a mapping")
    unknown = sorted(set(raw) - _STEP_KEYS)
    if unknown:
        raise ScenarioError(path, f"{where}.{unknown[0]}", "unknown field")
    if "after" not in raw or "do" not in raw:
        raise ScenarioError(path, f"{where}.{'after' if 'after' not in raw else 'do'}", "required")
    do = _choice(raw["do"], ACTIONS, path, f"{where}.do")
    default_by = {"request": "agent", "ticket": "agent", "call": "victim", "phone_change": "victim"}
    by = _choice(raw.get("by", default_by.get(do, "victim")), ACTORS, path, f"{where}.by")
    repeat = raw.get("repeat", 1)
    if not isinstance(repeat, int) or isinstance(repeat, bool) or not 1 <= repeat <= 200:
        raise ScenarioError(path, f"{where}.repeat", f"{repeat!r} is not a whole number from 1 to 200")
    args = {k: v for k, v in raw.items() if k not in {"after", "do", "by", "harmful", "repeat", "every"}}
    _check_args(do, args, path, where)
    harmful = raw.get("harmful", False)
    if not isinstance(harmful, bool):
        raise ScenarioError(path, f"{where}.harmful", f"{harmful!r} is not true or false")
    every = duration(raw["every"], path, f"{where}.every") if "every" in raw else timedelta(minutes=1)
    return Step(
        after=duration(raw["after"], path, f"{where}.after"),
        do=do,
        by=by,
        harmful=harmful,
        repeat=repeat,
        every=every,
        args=args,
    )


def _check_args(do: str, args: dict[str, Any], path: Path, where: str) -> None:
    required = {"okta": ("event",), "request": ("kind", "proofs"), "entra_audit": ("operation",)}
    for name in required.get(do, ()):
        if name not in args:
            raise ScenarioError(path, f"{where}.{name}", f"required for do: {do}")
    checks = {
        "number": NUMBERS,
        "attestation": ATTESTATIONS,
        "network": NETWORKS,
        "target": TARGETS,
        "person": PERSONS,
        "session": ("victim",),
    }
    for name, allowed in checks.items():
        if name in args:
            _choice(args[name], allowed, path, f"{where}.{name}")
    if "kind" in args:
        _choice(args["kind"], tuple(ActionKind), path, f"{where}.kind")
    for index, item in enumerate(args.get("proofs", [])):
        here = f"{where}.proofs[{index}]"
        if not isinstance(item, dict) or set(item) - {"method", "outcome"}:
            raise ScenarioError(path, here, "a proof is {method: ..., outcome: ...}")
        _choice(item.get("method"), tuple(ProofMethod), path, f"{here}.method")
        _choice(item.get("outcome"), PROOF_OUTCOMES, path, f"{here}.outcome")
    for index, item in enumerate(args.get("approvals", [])):
        here = f"{where}.approvals[{index}]"
        if not isinstance(item, dict):
            raise ScenarioError(path, here, "an approval is {by: ..., decision: granted|denied}")
        _choice(item.get("by"), ACTORS, path, f"{here}.by")
        _choice(item.get("decision"), ("granted", "denied"), path, f"{here}.decision")


def _steps(raw: Any, path: Path, where: str) -> tuple[Step, ...]:
    if not isinstance(raw, list) or not raw:
        raise ScenarioError(path, where, "a non-empty list of steps is required")
    return tuple(_step(item, path, f"{where}[{index}]") for index, item in enumerate(raw))


def _text(raw: dict[str, Any], name: str, path: Path) -> str:
    value = raw.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ScenarioError(path, name, "required text")
    return value.strip()


def parse_scenario(raw: Any, path: Path, *, known_rules: set[str] | None = None) -> Scenario:
    """One scenario from its parsed YAML; ``known_rules`` checks the expected rule ids exist."""
    if not isinstance(raw, dict):
        raise ScenarioError(path, "(file)", "a scenario is a mapping")
    name = _text(raw, "name", path)
    if name != path.stem:
        raise ScenarioError(path, "name", f"{name!r} must equal the file name {path.stem!r}")
    expected = raw.get("expected")
    if not isinstance(expected, dict):
        raise ScenarioError(path, "expected", "required: {outcome: prevented|detected, rules: [...]}")
    outcome = _choice(expected.get("outcome"), OUTCOMES, path, "expected.outcome")
    rules = expected.get("rules", [])
    if not isinstance(rules, list) or not all(isinstance(rule, str) for rule in rules):
        raise ScenarioError(path, "expected.rules", "a list of rule ids")
    if outcome == "detected" and not rules:
        raise ScenarioError(path, "expected.rules", "a detected scenario names the rules that detect it")
    for rule in rules:
        if known_rules is not None and rule not in known_rules:
            raise ScenarioError(path, "expected.rules", f"{rule!r} is not a rule of the detection content")
    profile = {"victim": "privileged", "agent": "outsourced"}
    flags: dict[str, bool | None] = {}
    for key, flag in profile.items():
        section = raw.get(key, {}) or {}
        value = section.get(flag) if isinstance(section, dict) else "?"
        if value is not None and not isinstance(value, bool):
            raise ScenarioError(path, f"{key}.{flag}", f"{value!r} is not true or false")
        flags[key] = value
    day, hour = raw.get("day", 0), raw.get("hour", 9)
    if not isinstance(day, int) or day < 0:
        raise ScenarioError(path, "day", f"{day!r} is not a day number from 0")
    if not isinstance(hour, int) or not 0 <= hour <= 23:
        raise ScenarioError(path, "hour", f"{hour!r} is not a UTC hour from 0 to 23")
    steps = _steps(raw.get("steps"), path, "steps")
    if not any(step.harmful for step in steps):
        raise ScenarioError(path, "steps", "at least one step is harmful: true")
    twin = raw.get("twin")
    if not isinstance(twin, dict):
        raise ScenarioError(path, "twin", "required: the benign twin {description, steps}")
    twin_steps = _steps(twin.get("steps"), path, "twin.steps")
    if any(step.harmful for step in twin_steps):
        raise ScenarioError(path, "twin.steps", "a benign twin has no harmful step")
    issue = raw.get("issue", 0)
    return Scenario(
        name=name,
        issue=issue if isinstance(issue, int) else 0,
        title=_text(raw, "title", path),
        description=_text(raw, "description", path),
        privileged=flags["victim"],
        outsourced=flags["agent"],
        day=day,
        hour=hour,
        outcome=outcome,
        rules=tuple(rules),
        steps=steps,
        twin=twin_steps,
        twin_description=_text(twin, "description", path),
        path=str(path),
    )


def load_scenario(path: Path, *, known_rules: set[str] | None = None) -> Scenario:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScenarioError(path, "(file)", f"cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "(file)"
        raise ScenarioError(path, where, f"not valid YAML: {getattr(exc, 'problem', exc)}") from None
    return parse_scenario(raw, path, known_rules=known_rules)


def load_scenarios(
    names: str = "all", *, folder: Path = ROOT, known_rules: set[str] | None = None
) -> list[Scenario]:
    """The scenarios ``names`` picks (``all`` or ``a,b,…``), sorted by name."""
    available = {path.stem: path for path in sorted(folder.glob("*.yml"))}
    wanted = (
        sorted(available) if names.strip() == "all" else [n.strip() for n in names.split(",") if n.strip()]
    )
    missing = [name for name in wanted if name not in available]
    if missing:
        raise ScenarioError(folder, "--scenarios", f"no scenario {missing[0]!r}; have {', '.join(available)}")
    return [load_scenario(available[name], known_rules=known_rules) for name in wanted]
