"""Load a policy file: YAML with line numbers → ``PolicyDocument`` → ``CompiledPolicy``.

Every problem is a ``PolicyError`` naming the file and the line of the offending key: YAML syntax,
duplicate keys, unknown keys, wrong types, unknown action kinds or proof methods, ``knowledge`` in
a requirement, unknown facts, CEL syntax errors, duplicate rule ids, bad cases. ``lint_policy*``
returns all of them; ``load_policy*`` raises the first.

Compiling does all the work the evaluator would otherwise repeat per call: proof sets become
frozensets, rule scopes become per-action tuples, role names become ranks, messages become
templates, and every condition joins one CEL program (see ``conditions.py``).
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from deskguard.domain.actions import CATALOGUE, ActionKind, RiskTier
from deskguard.domain.decision import FACTS, TraceEntry
from deskguard.domain.errors import PolicyError
from deskguard.domain.requests import ProofMethod
from deskguard.policy import model as m
from deskguard.policy.conditions import ConditionError, ConditionSet, Template, compile_condition

_Path = tuple[str | int, ...]
# fields whose enum errors are about proof methods (every other enum is an action kind)
_PROOF_FIELDS = frozenset(
    {
        "proofs",
        "disallow_proofs",
        "require_any_of",
        "missing_includes",
        "acceptable_includes",
        "disallowed_includes",
        "acceptable_all_contain_any_of",
    }
)
# every key the schema knows, for "did you mean" on an unknown one
_ALL_KEYS = sorted(
    {
        name
        for cls in vars(m).values()
        if isinstance(cls, type) and issubclass(cls, BaseModel)
        for name in cls.model_fields
    }
)


@dataclass(frozen=True, slots=True)
class CompiledRule:
    id: str
    index: int  # position of its condition in the policy's ConditionSet
    line: int | None
    facts: tuple[str, ...]  # every fact its condition references (dotted), for the trace
    disallow: frozenset[ProofMethod]
    disallow_order: tuple[ProofMethod, ...]  # as written, so disallowed_proofs reads in file order
    require_any: frozenset[ProofMethod]
    add_approvals: int
    approval_role: str | None
    approval_rank: int
    require_grant: bool
    block: bool
    step_up: bool  # it has an effect other than block, so it is reported as a step-up
    message: Template
    reason: Template | None
    effect: str  # what it does when it matches, in words, for the trace


@dataclass(frozen=True, slots=True)
class CompiledAction:
    kind: ActionKind
    tier: RiskTier
    sets: tuple[tuple[frozenset[ProofMethod], tuple[ProofMethod, ...]], ...]  # (lookup, display order)
    approvals: int
    approval_role: str
    approval_rank: int
    secret_to_agent: bool
    requires_grant: bool
    base: TraceEntry  # the action's base requirement, as the first trace entry
    # every rule in file order: (rule, applies here, bitmask of the sets it removes when it matches)
    rules: tuple[tuple[CompiledRule, bool, int], ...]
    all_sets: int  # bitmask with one bit per set: the sets are tracked as an int while rules run


@dataclass(frozen=True, slots=True)
class CompiledPolicy:
    name: str
    version: int
    source: str
    digest: str  # sha256 of the file text
    document: m.PolicyDocument
    actions: Mapping[ActionKind, CompiledAction]
    rules: tuple[CompiledRule, ...]
    conditions: ConditionSet
    approval_roles: Mapping[str, int]  # role -> rank
    methods: frozenset[ProofMethod]  # every method some action may accept
    case_lines: tuple[int | None, ...]  # line of each case in document.cases


class _Loader(yaml.SafeLoader):
    """A SafeLoader that turns the node tree into plain data plus {path: line} for every key."""

    def __init__(self, text: str, *, source: str) -> None:
        super().__init__(text)
        self.source = source
        self.lines: dict[_Path, int] = {}
        self.errors: list[PolicyError] = []

    def to_data(self, node: yaml.Node, *, path: _Path) -> Any:
        lines, errors, source = self.lines, self.errors, self.source
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self.construct_object(key_node, deep=True)
                line = key_node.start_mark.line + 1
                if not isinstance(key, str | int):
                    errors.append(PolicyError(f"keys must be strings, not {key!r}", file=source, line=line))
                    continue
                if key in out:  # YAML would silently keep the last one; a policy must not
                    errors.append(PolicyError(f"duplicate key {key!r}", file=source, line=line))
                lines[(*path, key)] = line
                out[key] = self.to_data(value_node, path=(*path, key))
            return out
        if isinstance(node, yaml.SequenceNode):
            items = []
            for index, item in enumerate(node.value):
                lines[(*path, index)] = item.start_mark.line + 1
                items.append(self.to_data(item, path=(*path, index)))
            return items
        return self.construct_object(node, deep=True)


def _parse(text: str, *, source: str) -> tuple[Any, dict[_Path, int], list[PolicyError]]:
    loader = _Loader(text, source=source)
    try:
        node = loader.get_single_node()
        data = None if node is None else loader.to_data(node, path=())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        line = mark.line + 1 if mark else None
        return None, loader.lines, [PolicyError(f"YAML: {problem}", file=source, line=line)]
    finally:
        loader.dispose()
    return data, loader.lines, loader.errors


def _line(lines: Mapping[_Path, int], *, loc: tuple[Any, ...]) -> tuple[_Path, int | None]:
    """The data path and line for a pydantic ``loc``, skipping its union tags and ``[key]``."""
    path: _Path = ()
    for part in loc:
        if (*path, part) in lines:
            path = (*path, part)
    return path, lines.get(path, 1)


def _message(err: Mapping[str, Any]) -> str:
    loc, kind = err["loc"], err["type"]
    if kind == "extra_forbidden":
        close = difflib.get_close_matches(str(loc[-1]), _ALL_KEYS, n=1)
        return f"unknown key {loc[-1]!r}" + (f" (did you mean {close[0]!r}?)" if close else "")
    if kind == "missing":
        return f"missing required key {loc[-1]!r}"
    if kind == "enum":
        what = "proof method" if _PROOF_FIELDS & {str(p) for p in loc} else "action kind"
        return f"unknown {what} {err['input']!r}; expected one of {err['ctx']['expected']}"
    text = str(err["msg"]).removeprefix("Value error, ")
    return f"{loc[-1]}: {text}" if loc and isinstance(loc[-1], str) and loc[-1] != "[key]" else text


def _schema_errors(exc: ValidationError, *, lines: Mapping[_Path, int], source: str) -> list[PolicyError]:
    grouped: dict[_Path, tuple[int | None, list[str]]] = {}
    for err in exc.errors(include_url=False):
        path, line = _line(lines, loc=err["loc"])
        texts = grouped.setdefault(path, (line, []))[1]
        if _message(err) not in texts:
            texts.append(_message(err))
    errors = []
    for path, (line, texts) in grouped.items():
        # A union field reports one error per alternative; when one alternative got deeper into
        # the data (a list with a bad action kind), that one is the real problem.
        if any(len(other) > len(path) and other[: len(path)] == path for other in grouped):
            continue
        if len(texts) == 1:
            text = texts[0]
        elif path[-1] == "applies_to":
            text = "applies_to must be 'all', a list of action kinds, or {min_tier: low|medium|high|critical}"
        else:
            text = f"{path[-1]}: matches no accepted form ({'; '.join(texts)})"
        errors.append(PolicyError(text, file=source, line=line))
    return errors


def _effect_text(rule: m.Rule) -> str:
    parts = []
    if rule.block:
        parts.append("block")
    if rule.disallow_proofs:
        parts.append("disallow " + ", ".join(p.value for p in rule.disallow_proofs))
    if rule.require_any_of:
        parts.append("require one of " + ", ".join(p.value for p in rule.require_any_of))
    if rule.add_approvals:
        parts.append(
            f"+{rule.add_approvals} approval" + (f" ({rule.approval_role})" if rule.approval_role else "")
        )
    if rule.require_grant:
        parts.append("require a live just-in-time grant")
    return "; ".join(parts)


def _base_text(action: m.ActionPolicy) -> str:
    sets = " or ".join("[" + " + ".join(p.value for p in s) + "]" for s in action.proofs)
    text = f"proofs: {sets}; approvals: {action.approvals.count} {action.approvals.role}"
    return text + ("; requires a live grant" if action.requires_grant else "")


def _compile(
    doc: m.PolicyDocument, *, text: str, source: str, lines: Mapping[_Path, int]
) -> tuple[CompiledPolicy | None, list[PolicyError]]:
    errors: list[PolicyError] = []

    def fail(message: str, *path: str | int) -> None:
        errors.append(PolicyError(message, file=source, line=_line(lines, loc=path)[1]))

    ranks = doc.approval_roles
    for kind, action in doc.actions.items():
        if action.approvals.role not in ranks:
            fail(
                f"unknown approval role {action.approvals.role!r}; known: {sorted(ranks)}",
                "actions",
                kind,
                "approvals",
                "role",
            )
        if action.secret_to_agent and not CATALOGUE[kind].produces_secret:
            fail(f"{kind.value} produces no secret to show", "actions", kind, "secret_to_agent")

    rules: list[CompiledRule] = []
    conditions = []
    seen: set[str] = set()
    for i, rule in enumerate(doc.rules):
        if rule.id in seen:
            fail(f"duplicate rule id {rule.id!r}", "rules", i, "id")
        seen.add(rule.id)
        if rule.approval_role is not None and rule.approval_role not in ranks:
            fail(
                f"unknown approval role {rule.approval_role!r}; known: {sorted(ranks)}",
                "rules",
                i,
                "approval_role",
            )
        try:
            condition = compile_condition(rule.when)
        except ConditionError as exc:
            fail(f"rule {rule.id}: {exc}", "rules", i, "when")
            continue
        try:
            message = Template(rule.message)
            reason = Template(rule.reason) if rule.reason else None
        except ConditionError as exc:
            fail(f"rule {rule.id}: message or reason: {exc}", "rules", i, "message")
            continue
        conditions.append(condition)
        rules.append(
            CompiledRule(
                id=rule.id,
                index=len(conditions) - 1,
                line=_line(lines, loc=("rules", i, "id"))[1],
                facts=condition.facts,
                disallow=frozenset(rule.disallow_proofs),
                disallow_order=tuple(dict.fromkeys(rule.disallow_proofs)),
                require_any=frozenset(rule.require_any_of),
                add_approvals=rule.add_approvals,
                approval_role=rule.approval_role,
                approval_rank=ranks.get(rule.approval_role or "", 0),
                require_grant=rule.require_grant,
                block=rule.block,
                message=message,
                step_up=bool(
                    rule.disallow_proofs or rule.require_any_of or rule.add_approvals or rule.require_grant
                ),
                reason=reason,
                effect=_effect_text(rule),
            )
        )

    case_names: set[str] = set()
    for i, case in enumerate(doc.cases):
        if case.name in case_names:
            fail(f"duplicate case name {case.name!r}", "cases", i, "name")
        case_names.add(case.name)
        for name, value in case.facts.items():
            try:
                m.coerce_fact(name, value=value)
            except KeyError:
                close = difflib.get_close_matches(name, list(FACTS), n=1)
                fail(
                    f"unknown fact {name!r}" + (f" (did you mean {close[0]}?)" if close else ""),
                    "cases",
                    i,
                    "facts",
                    name,
                )
            except TypeError as exc:
                fail(str(exc), "cases", i, "facts", name)
        kind = case.facts.get("action.kind")
        if kind is not None and kind not in CATALOGUE:
            fail(f"unknown action kind {kind!r}", "cases", i, "facts", "action.kind")

    if errors:
        return None, errors
    by_rule = tuple(rules)
    actions = {
        kind: _compile_action(kind, action=a, rules=by_rule, specs=doc.rules, ranks=ranks)
        for kind, a in doc.actions.items()
    }
    return CompiledPolicy(
        name=doc.policy,
        version=doc.version,
        source=source,
        digest=hashlib.sha256(text.encode()).hexdigest(),
        document=doc,
        actions=actions,
        rules=by_rule,
        conditions=ConditionSet(conditions),
        approval_roles=dict(ranks),
        methods=frozenset(p for a in actions.values() for s, _ in a.sets for p in s),
        case_lines=tuple(_line(lines, loc=("cases", i))[1] for i in range(len(doc.cases))),
    ), []


def _compile_action(
    kind: ActionKind,
    *,
    action: m.ActionPolicy,
    rules: tuple[CompiledRule, ...],
    specs: list[m.Rule],
    ranks: Mapping[str, int],
) -> CompiledAction:
    sets = tuple((frozenset(s), tuple(dict.fromkeys(s))) for s in action.proofs)

    def removes(rule: CompiledRule) -> int:
        # which sets a matching rule drops is known now; the evaluator only masks bits
        return sum(
            1 << i
            for i, (lookup, _) in enumerate(sets)
            if rule.disallow & lookup or (rule.require_any and not rule.require_any & lookup)
        )

    return CompiledAction(
        kind=kind,
        tier=CATALOGUE[kind].tier,
        sets=sets,
        approvals=action.approvals.count,
        approval_role=action.approvals.role,
        approval_rank=ranks[action.approvals.role],
        secret_to_agent=action.secret_to_agent,
        requires_grant=action.requires_grant,
        base=TraceEntry(rule=f"action:{kind.value}", matched=True, values={}, effect=_base_text(action)),
        rules=tuple((r, spec.applies(kind), removes(r)) for r, spec in zip(rules, specs, strict=True)),
        all_sets=(1 << len(sets)) - 1,
    )


def lint_policy_text(
    text: str, *, source: str = "<string>"
) -> tuple[CompiledPolicy | None, list[PolicyError]]:
    """Check a policy; return the compiled policy (or None) and every error found."""
    data, lines, errors = _parse(text, source=source)
    if errors:
        return None, errors
    if not isinstance(data, dict):
        return None, [
            PolicyError("a policy file must be a mapping with 'policy:' and 'actions:'", file=source, line=1)
        ]
    try:
        doc = m.PolicyDocument.model_validate(data)
    except ValidationError as exc:
        return None, _schema_errors(exc, lines=lines, source=source)
    return _compile(doc, text=text, source=source, lines=lines)


def lint_policy(path: str | Path) -> tuple[CompiledPolicy | None, list[PolicyError]]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [PolicyError(f"cannot read policy: {exc}", file=str(path), line=None)]
    return lint_policy_text(text, source=str(path))


def load_policy_text(text: str, *, source: str = "<string>") -> CompiledPolicy:
    """Compile a policy from text; raise the first ``PolicyError`` (file:line) if it is invalid."""
    policy, errors = lint_policy_text(text, source=source)
    if policy is None:
        raise errors[0]
    return policy


def load_policy(path: str | Path) -> CompiledPolicy:
    policy, errors = lint_policy(path)
    if policy is None:
        raise errors[0]
    return policy
