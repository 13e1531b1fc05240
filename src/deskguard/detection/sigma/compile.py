"""Load standard Sigma rules with pySigma and compile each one to a fast predicate.

``load_rules(paths)`` reads YAML files (one or several documents each; directories recursively,
``*.yml`` and ``*.yaml``), parses them with pySigma (``SigmaCollection``, which applies ``action:
global/repeat``), compiles every detection rule to a ``CompiledRule`` and every correlation rule to
a ``CompiledCorrelation`` (``correlate.compile_correlation``), resolving rule references across all
the files loaded together. ``load_rules_text`` does the same from a string.

Nothing is dropped silently and nothing crashes the load: a document pySigma rejects, a modifier
or feature this compiler does not implement (``expand`` placeholders, timestamp parts, Sigma v1
``| count()`` aggregations and ``timeframe``, filters, the value_sum-like correlations…) becomes an
``Unsupported`` entry with the reason.

This is the one place in ``detection`` that reads files, and only the paths it is given.
"""

from __future__ import annotations

import copy
import itertools
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from sigma.collection import SigmaCollection
from sigma.conditions import ConditionOR
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError, SigmaRuleLocation
from sigma.filters import SigmaFilter
from sigma.rule import SigmaRule, SigmaRuleBase
from sigma.rule.base import SigmaYAMLLoader

from deskguard.detection.sigma.condition import compile_condition, derive_dispatch
from deskguard.detection.sigma.correlate import RANGE_KEY, compile_correlation
from deskguard.detection.sigma.model import (
    DESKGUARD,
    CompiledCorrelation,
    CompiledRule,
    LoadResult,
    Unsupported,
    logsource_matches,
)
from deskguard.detection.sigma.values import UnsupportedFeature

__all__ = [
    "CompiledRule",
    "LoadResult",
    "Unsupported",
    "compile_rule",
    "load_rules",
    "load_rules_text",
    "logsource_matches",
    "metadata",
    "rule_files",
]

_TECHNIQUE = re.compile(r"t\d{4}(?:\.\d{3})?", re.IGNORECASE)
_CORRELATION_OPS = ("gt", "gte", "lt", "lte", "eq", "neq")


def load_rules(paths: Iterable[Path | str]) -> LoadResult:
    """Load and compile the rules in these files and directories (recursively)."""
    loader = _Loader()
    for path in rule_files(paths):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            loader.result.unsupported.append(Unsupported(str(path), None, None, f"cannot read: {error}"))
            continue
        loader.add(text, str(path))
    return loader.finish()


def load_rules_text(text: str, *, path: str = "<text>") -> LoadResult:
    """Load and compile the rules in one YAML string (one or several documents)."""
    loader = _Loader()
    loader.add(text, path)
    return loader.finish()


def rule_files(paths: Iterable[Path | str]) -> list[Path]:
    """The rule files named by these paths: files as given, directories searched recursively."""
    files: list[Path] = []
    for item in paths:
        path = Path(item)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file()))
        else:
            files.append(path)
    return files


def compile_rule(rule: SigmaRule, *, path: str = "<rule>") -> CompiledRule:
    """One parsed pySigma rule to a ``CompiledRule``; raises ``UnsupportedFeature`` or ``SigmaError``."""
    product = (rule.logsource.product or "").lower()
    normalised = product == DESKGUARD
    if "timeframe" in rule.detection.detections:
        raise UnsupportedFeature(
            "detection.timeframe (a Sigma v1 aggregation window): write a correlation rule"
        )
    trees = [condition.parsed for condition in rule.detection.parsed_condition]
    node = trees[0] if len(trees) == 1 else ConditionOR(list(trees))
    predicate = compile_condition(node, normalised=normalised)
    dispatch_on, dispatch = derive_dispatch(node, normalised=normalised)
    meta = metadata(rule, path)
    return CompiledRule(
        **meta,
        logsource=(rule.logsource.product, rule.logsource.service, rule.logsource.category),
        predicate=predicate,
        dispatch=dispatch,
        dispatch_on=dispatch_on,
    )


def metadata(rule: SigmaRuleBase, path: str) -> dict[str, Any]:
    """The metadata fields ``CompiledRule`` and ``CompiledCorrelation`` share."""
    custom = dict(rule.custom_attributes)
    custom.pop(RANGE_KEY, None)
    return {
        "id": rule_id(rule, path),
        "sigma_id": None if rule.id is None else str(rule.id),
        "name": rule.name,
        "title": rule.title,
        "description": rule.description,
        "level": None if rule.level is None else str(rule.level),
        "status": None if rule.status is None else str(rule.status),
        "tags": tuple(str(tag) for tag in rule.tags),
        "attack": tuple(
            tag.name.upper()
            for tag in rule.tags
            if tag.namespace == "attack" and _TECHNIQUE.fullmatch(tag.name)
        ),
        "falsepositives": tuple(str(item) for item in rule.falsepositives or ()),
        "references": tuple(str(item) for item in rule.references or ()),
        "fields": tuple(str(item) for item in rule.fields or ()),
        "custom": custom,
        "path": path,
    }


def rule_id(rule: SigmaRuleBase, path: str) -> str:
    """How deskguard names a rule: its ``name`` (``Source.Area.Behavior``), else its Sigma id."""
    if rule.name:
        return rule.name
    if rule.id is not None:
        return str(rule.id)
    return f"{Path(path).name}:{rule.title}"


class _Loader:
    def __init__(self) -> None:
        self.result = LoadResult()
        self.correlations: list[tuple[SigmaCorrelationRule, str]] = []
        self.refused: dict[str, str] = {}  # id or name of an unsupported rule -> its reason
        self.ids: set[str] = set()

    def add(self, text: str, path: str) -> None:
        try:
            documents = list(yaml.load_all(text, Loader=SigmaYAMLLoader))
        except yaml.YAMLError as error:
            self.result.unsupported.append(Unsupported(path, None, None, f"invalid YAML: {error}"))
            return
        documents = [_with_range(document) for document in documents]
        for item in self._parse(documents, path):
            if isinstance(item, Unsupported):
                self.result.unsupported.append(item)
            else:
                self._take(item, path)

    def _parse(self, documents: list[Any], path: str) -> list[SigmaRuleBase | SigmaFilter | Unsupported]:
        source = SigmaRuleLocation(path)
        try:
            collection = _collection(documents, source)
        except Exception:  # noqa: BLE001 - isolate the bad document below, keep the others
            return [item for document in documents for item in self._parse_one(document, source, path)]
        items: list[SigmaRuleBase | SigmaFilter | Unsupported] = [*collection.rules, *collection.filters]
        own = {id(error) for rule in items for error in getattr(rule, "errors", ())}
        for error in collection.errors:
            if id(error) not in own:
                items.append(Unsupported(path, None, None, _reason(error)))
        return items

    def _parse_one(
        self, document: Any, source: SigmaRuleLocation, path: str
    ) -> list[SigmaRuleBase | SigmaFilter | Unsupported]:
        if document is None:
            return []
        title = document.get("title") if isinstance(document, dict) else None
        if not isinstance(document, dict):
            return [Unsupported(path, None, None, "the YAML document is not a mapping")]
        try:
            collection = _collection([document], source)
        except Exception as error:  # noqa: BLE001 - pySigma may raise anything on odd input
            ident = document.get("id") or document.get("name")
            return [Unsupported(path, None if ident is None else str(ident), title, _reason(error))]
        return [*collection.rules, *collection.filters]

    def _take(self, rule: SigmaRuleBase | SigmaFilter, path: str) -> None:
        ident = rule_id(rule, path)
        if isinstance(rule, SigmaFilter):
            self._refuse(rule, path, "Sigma filters (meta filter rules) are not supported")
            return
        if rule.errors:
            self._refuse(rule, path, "; ".join(_reason(error) for error in rule.errors))
            return
        if isinstance(rule, SigmaCorrelationRule):
            self.correlations.append((rule, path))
            return
        try:
            compiled = compile_rule(rule, path=path)  # type: ignore[arg-type]
        except UnsupportedFeature as error:
            self._refuse(rule, path, error.reason)
            return
        except Exception as error:  # noqa: BLE001 - a rule must never crash the load
            self._refuse(rule, path, _reason(error))
            return
        if ident in self.ids:
            if rule.id is not None or rule.name:
                self._refuse(rule, path, f"duplicate rule id {ident}")
                return
            # Neither id nor name: the fallback (file:title) only needs to be unique.
            compiled.id = next(f"{ident}#{n}" for n in itertools.count(2) if f"{ident}#{n}" not in self.ids)
        self.ids.add(compiled.id)
        self.result.rules.append(compiled)

    def _refuse(self, rule: SigmaRuleBase | SigmaFilter, path: str, reason: str) -> None:
        ident = rule_id(rule, path)
        self.result.unsupported.append(Unsupported(path, ident, rule.title, reason))
        for ref in (ident, rule.name, None if rule.id is None else str(rule.id)):
            if ref:
                self.refused.setdefault(ref, reason)

    def finish(self) -> LoadResult:
        by_ref: dict[str, CompiledRule] = {}
        for rule in self.result.rules:
            for ref in (rule.id, rule.name, rule.sigma_id):
                if ref:
                    by_ref.setdefault(ref, rule)
        correlation_refs = {
            ref
            for correlation, path in self.correlations
            for ref in (
                rule_id(correlation, path),
                correlation.name,
                None if correlation.id is None else str(correlation.id),
            )
            if ref
        }
        for correlation, path in self.correlations:
            try:
                compiled = compile_correlation(
                    correlation,
                    metadata(correlation, path),
                    by_ref=by_ref,
                    refused=self.refused,
                    correlation_refs=correlation_refs,
                )
            except UnsupportedFeature as error:
                self._refuse(correlation, path, error.reason)
                continue
            except Exception as error:  # noqa: BLE001
                self._refuse(correlation, path, _reason(error))
                continue
            if any(existing.id == compiled.id for existing in self.result.correlations):
                self._refuse(correlation, path, f"duplicate correlation id {compiled.id}")
                continue
            self.result.correlations.append(compiled)
        _mark_generate(self.result.rules, self.result.correlations)
        return self.result


def _collection(documents: list[Any], source: SigmaRuleLocation) -> SigmaCollection:
    return SigmaCollection.from_dicts(
        documents, collect_errors=True, source=source, collect_filters=True, resolve_references=False
    )


def _with_range(document: Any) -> Any:
    """pySigma accepts one operator per correlation condition; keep a range (gte + lte) aside."""
    if not isinstance(document, dict) or not isinstance(document.get("correlation"), dict):
        return document
    condition = document["correlation"].get("condition")
    if not isinstance(condition, dict):
        return document
    ops = [op for op in _CORRELATION_OPS if op in condition]
    if len(ops) < 2:
        return document
    document = copy.deepcopy(document)
    kept = {key: value for key, value in condition.items() if key not in _CORRELATION_OPS or key == ops[0]}
    document["correlation"]["condition"] = kept
    document[RANGE_KEY] = {op: condition[op] for op in ops}
    return document


def _mark_generate(rules: list[CompiledRule], correlations: list[CompiledCorrelation]) -> None:
    """Per Sigma, a rule referenced only by non-generating correlations raises no alert itself."""
    referenced: dict[str, bool] = {}
    for correlation in correlations:
        for rule in correlation.rules:
            referenced[rule.id] = referenced.get(rule.id, False) or correlation.generate
    for rule in rules:
        if rule.id in referenced:
            rule.generate = referenced[rule.id]


def _reason(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    if isinstance(error, SigmaError):
        return text
    return f"{type(error).__name__}: {text}"
