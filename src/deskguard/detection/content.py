"""Content packs: Sigma rules, Sigma correlations and analytics, loaded from folders, with tests.

A pack is a folder tree of YAML files. A file whose document has ``analytic: <kind>`` configures a
built-in analytic (``detection.analytics``); every other file is Sigma (rules and correlation
rules, one or several documents). Beside ``name.yml`` lies ``name.tests.yml``: the cases that must
raise an alert of the file's rules and the cases that must not.

An alert's ``rule_id`` is the rule's ``name`` when it has one (deskguard's content names its rules
``Source.Area.Behavior``), else its Sigma ``id``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from deskguard.detection import analytics as analytic_kinds
from deskguard.detection.alerts import CONFIDENCES, SEVERITIES, RuleMeta
from deskguard.detection.analytics import Analytic, AnalyticError
from deskguard.detection.geo import GeoResolver
from deskguard.detection.pressure import PressureModel
from deskguard.detection.sigma.compile import CompiledRule, Unsupported, load_rules
from deskguard.detection.sigma.compile import rule_files as sigma_rule_files
from deskguard.detection.sigma.correlate import CompiledCorrelation

NAME = re.compile(r"^[A-Z][A-Za-z0-9]*(\.[A-Z][A-Za-z0-9]*){2,}$")
SUFFIX = ".tests.yml"
CASE_TENANT = "tnt_test"
_DURATION = re.compile(r"^(\d+)([smhd])$")


class ContentError(ValueError):
    """A content file is wrong; the message starts with the file's path."""


def rule_files(paths: Iterable[Path]) -> list[Path]:
    """Every rule file under ``paths`` (files or folders), tests files excluded, in a stable order."""
    paths = list(paths)
    missing = [str(path) for path in paths if not path.exists()]
    if missing:
        raise ContentError(f"{', '.join(missing)}: no such file or folder")
    return [
        p for p in sigma_rule_files(paths) if p.suffix in (".yml", ".yaml") and not p.name.endswith(SUFFIX)
    ]


@dataclass(slots=True)
class Content:
    rules: list[CompiledRule] = field(default_factory=list)
    correlations: list[CompiledCorrelation] = field(default_factory=list)
    analytics: list[Analytic] = field(default_factory=list)
    unsupported: list[Unsupported] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)  # rule id -> the file it came from
    pressure: PressureModel | None = None  # scores ticket text (extra.pressure) before the rules run
    geo: GeoResolver | None = None  # country and network of src_ip (detection.geo); None: no lookup
    _meta: dict[str, RuleMeta] = field(default_factory=dict)

    def meta(self, rule_id: str) -> RuleMeta:
        return self._meta[rule_id]

    def ids(self) -> list[str]:
        return list(self._meta)

    def ids_in(self, path: Path) -> list[str]:
        return [rule_id for rule_id, file in self.files.items() if file == path]


def load_content(paths: Iterable[Path], *, pressure_model: Path | None = None) -> Content:
    content = Content(pressure=PressureModel.load(pressure_model) if pressure_model is not None else None)
    sigma_files: list[Path] = []
    for path in rule_files(paths):
        documents = _documents(path)
        if documents and isinstance(documents[0], dict) and "analytic" in documents[0]:
            for document in documents:
                _add_analytic(content, path, document)
        else:
            sigma_files.append(path)
    loaded = load_rules(sigma_files)
    content.unsupported.extend(loaded.unsupported)
    for rule in loaded.rules:
        _add(content, _sigma_meta(rule), Path(rule.path))
        content.rules.append(rule)
    for correlation in loaded.correlations:
        _add(content, _sigma_meta(correlation), Path(correlation.path))
        content.correlations.append(correlation)
    return content


def alert_rule_id(rule: CompiledRule | CompiledCorrelation) -> str:
    return rule.name or rule.id


def _documents(path: Path) -> list[Any]:
    try:
        return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise ContentError(f"{path}{where}: not valid YAML: {exc}") from None


def _add(content: Content, meta: RuleMeta, path: Path) -> None:
    if meta.rule_id in content._meta:
        raise ContentError(f"{path}: rule id {meta.rule_id} is also defined in {content.files[meta.rule_id]}")
    content._meta[meta.rule_id] = meta
    content.files[meta.rule_id] = path


def _add_analytic(content: Content, path: Path, document: dict[str, Any]) -> None:
    name = document.get("name")
    if not isinstance(name, str) or not name:
        raise ContentError(f"{path}: an analytic needs a name (Source.Area.Behavior)")
    meta = _meta(path, name, document, document)
    params = document.get("params") or {}
    if not isinstance(params, dict):
        raise ContentError(f"{path}: params must be a mapping")
    try:
        built = analytic_kinds.build(str(document["analytic"]), meta, params)
    except AnalyticError as exc:
        raise ContentError(f"{path}: {exc}") from None
    _add(content, meta, path)
    content.analytics.append(built)


def _sigma_meta(rule: CompiledRule | CompiledCorrelation) -> RuleMeta:
    document = {
        "title": rule.title,
        "description": rule.description,
        "level": rule.level,
        "falsepositives": list(rule.falsepositives),
        "tags": list(rule.tags),
    }
    return _meta(Path(rule.path), alert_rule_id(rule), document, rule.custom, attack=tuple(rule.attack))


def _meta(
    path: Path,
    rule_id: str,
    document: dict[str, Any],
    custom: dict[str, Any],
    attack: tuple[str, ...] | None = None,
) -> RuleMeta:
    level = str(document.get("level") or "medium").lower()
    if level not in SEVERITIES:
        raise ContentError(f"{path}: level {level!r} is not one of {', '.join(SEVERITIES)}")
    if attack is None:
        attack = tuple(
            str(tag)[7:].upper()
            for tag in document.get("tags") or ()
            if re.match(r"^attack\.t\d{4}", str(tag))
        )
    mode = str(custom.get("mode") or "alert")
    if mode not in ("alert", "monitor"):
        raise ContentError(f"{path}: mode {mode!r} must be alert or monitor")
    confidence = str(custom.get("confidence") or "medium").lower()
    if confidence not in CONFIDENCES:
        raise ContentError(f"{path}: confidence {confidence!r} is not one of {', '.join(CONFIDENCES)}")
    return RuleMeta(
        rule_id=rule_id,
        title=str(document.get("title") or rule_id),
        severity=level,
        description=str(document.get("description") or ""),
        attack=attack,
        falsepositives=tuple(str(item) for item in document.get("falsepositives") or ()),
        response=str(custom.get("response") or ""),
        mode=mode,
        suppress_s=_seconds(path, custom.get("suppress", "10m")),
        explanation=str(custom.get("explanation") or ""),
        confidence=confidence,
    )


def _seconds(path: Path, value: Any) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    match = _DURATION.match(str(value))
    if not match:
        raise ContentError(f"{path}: suppress {value!r} is not a duration such as 10m, 1h or 0s")
    return float(int(match.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)])


# -- lint ----------------------------------------------------------------------------------------


def lint(content: Content, *, conventions: bool = True) -> list[str]:
    """The problems found, one line each: rules that could not be loaded, and - with
    ``conventions`` (deskguard's own content) - the metadata and tests each rule must carry."""
    problems = [
        f"{item.path}: {item.title or item.rule_id}: unsupported: {item.reason}"
        for item in content.unsupported
    ]
    if not conventions:
        return problems
    for rule_id in content.ids():
        meta = content.meta(rule_id)
        where = f"{content.files[rule_id]}: {rule_id}"
        if not NAME.match(rule_id):
            problems.append(f"{where}: name must read Source.Area.Behavior")
        if not meta.description:
            problems.append(f"{where}: no description")
        if not meta.attack:
            problems.append(f"{where}: no MITRE ATT&CK technique tag (attack.tNNNN)")
        if not meta.falsepositives:
            problems.append(f"{where}: no falsepositives")
        if not meta.response:
            problems.append(f"{where}: no response hint")
    for path in sorted(set(content.files.values())):
        tests = tests_path(path)
        if not tests.exists():
            problems.append(f"{path}: no tests file {tests.name} beside it")
            continue
        cases = list(load_cases(tests))
        if not any(case.expect > 0 for case in cases):
            problems.append(f"{tests}: no positive case")
        if not any(case.expect == 0 for case in cases):
            problems.append(f"{tests}: no negative case")
    return problems


# -- test cases ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Case:
    path: Path
    name: str
    expect: int  # alerts of the file's rules the events must raise
    # (forced source or None, raw record, tenant): a case plays in tnt_test unless an event says
    # otherwise (``tenant:`` beside ``record:``), so that cross-tenant behaviour can be tested
    events: tuple[tuple[str | None, dict[str, Any], str], ...]
    rules: tuple[str, ...] = ()  # when the tests file names them: only these rules count


def tests_path(rule_file: Path) -> Path:
    return rule_file.with_name(rule_file.name.rsplit(".", 1)[0] + SUFFIX)


def load_cases(path: Path) -> Iterator[Case]:
    documents = _documents(path)
    body = documents[0] if documents else None
    if not isinstance(body, dict) or not isinstance(body.get("cases"), list):
        raise ContentError(f"{path}: a tests file holds `cases:`, a list")
    rules = tuple(str(rule) for rule in body.get("rules") or ())
    for index, case in enumerate(body["cases"]):
        where = f"{path}: case {index + 1}"
        if not isinstance(case, dict) or not isinstance(case.get("events"), list) or not case["events"]:
            raise ContentError(f"{where}: needs `events:`, a non-empty list")
        expect = case.get("expect")
        if isinstance(expect, bool):
            expect = int(expect)
        if not isinstance(expect, int) or expect < 0:
            raise ContentError(f"{where}: `expect:` is the number of alerts (0 for a negative case)")
        events: list[tuple[str | None, dict[str, Any], str]] = []
        for item in case["events"]:
            if not isinstance(item, dict):
                raise ContentError(f"{where}: every event is a mapping")
            if "record" in item:
                events.append((item.get("source"), item["record"], str(item.get("tenant") or CASE_TENANT)))
            else:
                events.append((None, item, CASE_TENANT))
        yield Case(path, str(case.get("name") or f"case {index + 1}"), expect, tuple(events), rules)


def case_files(paths: Iterable[Path]) -> list[Path]:
    return [tests_path(path) for path in rule_files(paths) if tests_path(path).exists()]
