"""CEL conditions of a policy: fact-name rewriting, one compiled program, fail-closed evaluation.

Policy authors write dotted fact names (``target.privileged && context.local_hour < 7``). The
``cel`` binding converts nested dict contexts slowly (~18 µs for 8 conditions) but flat variables
fast (~4 µs), so each dotted fact is rewritten to a flat identifier (``target__privileged``) by a
small tokenizer that leaves string literals alone. All conditions of a policy are then compiled
into ONE program returning a list of booleans, evaluated against a flat dict holding only the
referenced facts.

A runtime error (type mismatch, missing overload, non-boolean result) never turns into "false":
the set re-runs each condition alone to find the culprit and reports it, and the evaluator blocks.

``Template`` renders rule messages whose ``{target.phone_changed_days}`` placeholders name facts.
"""

from __future__ import annotations

import difflib
import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import cel

from deskguard.domain.decision import FACTS

SEP = "__"
NAMESPACES = frozenset(name.split(".", 1)[0] for name in FACTS)
_MACROS = frozenset({"all", "exists", "exists_one", "map", "filter"})
_EXACT = 2.0**53  # beyond this a float is not an exact integer, and an int may not fit CEL's int64

# String literals first, so that nothing inside quotes is ever taken for an identifier.
_TOKEN = re.compile(
    r'''
    (?P<str>(?:[bB][rR]?|[rR][bB]?)?(?:"""(?:\\.|[^\\])*?"""|'\'\'(?:\\.|[^\\])*?'\'\'
                                      |"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'))
  | (?P<num>0[xX][0-9a-fA-F]+[uU]?|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[uU]?)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<space>\s+)
  | (?P<other>.)
''',
    re.VERBOSE | re.DOTALL,
)


class ConditionError(ValueError):
    """A condition does not compile or names something that is not a fact."""


def flat_name(fact: str) -> str:
    return fact.replace(".", SEP)


def _unknown(name: str) -> ConditionError:
    close = difflib.get_close_matches(name, list(FACTS), n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return ConditionError(f"unknown fact {name!r}{hint}")


def rewrite(source: str) -> tuple[str, tuple[str, ...], frozenset[str]]:
    """Rewrite dotted facts to flat names; return (text, facts referenced, macro-bound names)."""
    tokens = [(m.lastgroup, m.group()) for m in _TOKEN.finditer(source)]
    # indexes of meaningful tokens, so "target . privileged" is seen like "target.privileged"
    solid = [i for i, (kind, _) in enumerate(tokens) if kind != "space"]
    out = [text for _, text in tokens]
    facts: list[str] = []
    bound: set[str] = set()
    for pos, i in enumerate(solid):
        kind, text = tokens[i]
        if kind != "ident":
            continue
        if SEP in text:
            raise ConditionError(f"{text!r}: write facts with dots, e.g. target.privileged")
        prev = tokens[solid[pos - 1]][1] if pos else ""
        nxt = [tokens[j] for j in solid[pos + 1 : pos + 4]]
        if (
            prev == "."
            and text in _MACROS
            and len(nxt) == 3
            and nxt[0][1] == "("
            and nxt[1][0] == "ident"
            and nxt[2][1] == ","
        ):
            bound.add(nxt[1][1])
        if prev == "." or text not in NAMESPACES or not nxt or nxt[0][1] != ".":
            continue
        if len(nxt) < 2 or nxt[1][0] != "ident":
            raise ConditionError(f"{text}. must be followed by a fact name")
        fact = f"{text}.{nxt[1][1]}"
        if fact not in FACTS:
            raise _unknown(fact)
        facts.append(fact)
        # float facts may arrive as ints (see ConditionSet.gather); double() makes them doubles
        out[i] = f"double({flat_name(fact)})" if FACTS[fact][0] is float else flat_name(fact)
        # drop the dot and the member (and any spaces between them) now merged into one name
        for j in range(i + 1, solid[pos + 2] + 1):
            out[j] = ""
    return "".join(out), tuple(dict.fromkeys(facts)), frozenset(bound)


def _cel_message(exc: Exception) -> str:
    text = str(exc).replace("Failed to parse expression", "CEL syntax error in")
    return " ".join(text.split())


@dataclass(frozen=True, slots=True)
class Condition:
    source: str
    flat_source: str
    facts: tuple[str, ...]  # dotted fact names, in order of first use
    program: cel.Program  # this condition alone, to find the culprit of a runtime error


def compile_condition(source: str) -> Condition:
    """Compile one condition; raise ``ConditionError`` for syntax errors and unknown names."""
    try:
        # syntax first, on the author's own text, so CEL's column numbers point into it
        cel.compile(source)
    except Exception as exc:  # the binding raises ValueError, but any failure is the author's
        raise ConditionError(_cel_message(exc)) from None
    flat, facts, bound = rewrite(source)
    try:
        program = cel.compile(flat)
    except Exception as exc:  # e.g. has(target.x): facts are plain variables, not fields
        raise ConditionError(f"{_cel_message(exc)} (after rewriting facts to {flat!r})") from None
    known = {flat_name(f) for f in facts} | bound
    unknown = sorted(set(program.variables()) - known)
    if unknown:
        raise _unknown(unknown[0])
    return Condition(source=source, flat_source=flat, facts=facts, program=program)


class ConditionSet:
    """All conditions of a policy as one CEL program returning ``[c1, c2, ...]``."""

    __slots__ = ("conditions", "floats", "inputs", "program")

    def __init__(self, conditions: Sequence[Condition]) -> None:
        self.conditions = tuple(conditions)
        names = list(dict.fromkeys(f for c in self.conditions for f in c.facts))
        self.inputs = tuple((flat_name(f), f) for f in names)
        self.floats = tuple(flat_name(f) for f in names if FACTS[f][0] is float)
        # `c ? true : false` makes CEL itself reject a non-boolean condition (no overload), so a
        # result list is always all booleans and needs no per-call type check
        self.program = cel.compile(
            "[" + ", ".join(f"(({c.flat_source}) ? true : false)" for c in self.conditions) + "]"
        )

    def gather(self, facts: Mapping[str, Any]) -> dict[str, Any]:
        """The flat variables for one evaluation; ``KeyError`` names a missing fact."""
        values = {flat: facts[dotted] for flat, dotted in self.inputs}
        # The binding converts a Python float ~1 µs slower than an int (a failed int extraction
        # first), and float facts are usually whole (risk 35.0, 1e9 minutes). Whole floats go in
        # as ints; the rewritten condition wraps every float fact in double(), so CEL sees the
        # same double either way, and an int given for a float fact works too.
        for flat in self.floats:
            value = values[flat]
            if type(value) is float:
                if value.is_integer() and -_EXACT <= value <= _EXACT:
                    values[flat] = int(value)
            elif type(value) is not int:
                # double() would coerce a string ("0" -> 0.0) or a bool: pass null instead, which
                # double() refuses, so the condition errors and its rule fails closed.
                values[flat] = None
        return values

    def run(self, values: dict[str, Any]) -> tuple[list[bool], dict[int, str]]:
        """Evaluate every condition; return the results and {index: error} for those that failed."""
        try:
            return self.program.execute(values), {}
        except Exception:  # any runtime failure: find which condition(s) caused it
            return self._one_by_one(values)

    def _one_by_one(self, values: dict[str, Any]) -> tuple[list[bool], dict[int, str]]:
        results: list[bool] = []
        errors: dict[int, str] = {}
        for index, condition in enumerate(self.conditions):
            try:
                result = condition.program.execute(values)
            except Exception as exc:
                result, errors[index] = False, _cel_message(exc)
            else:
                if type(result) is not bool:
                    result, errors[index] = False, f"condition returned {result!r}, not true or false"
            results.append(result)
        return results, errors


class Template:
    """A message with ``{fact.name}`` placeholders (optionally ``{fact:.0f}``), checked at load."""

    __slots__ = ("facts", "source", "text")

    def __init__(self, text: str) -> None:
        self.source = text
        parts: list[str] = []
        facts: list[str] = []
        try:
            parsed = list(string.Formatter().parse(text))
        except ValueError as exc:
            raise ConditionError(f"bad message template: {exc}") from None
        for literal, field, spec, conversion in parsed:
            parts.append(literal.replace("{", "{{").replace("}", "}}"))
            if field is None:
                continue
            if field not in FACTS:
                raise _unknown(field)
            if conversion:
                raise ConditionError(f"message placeholder {{{field}!{conversion}}}: no conversions")
            parts.append(f"{{{len(facts)}{':' + spec if spec else ''}}}")
            facts.append(field)
        self.text = "".join(parts)
        self.facts = tuple(facts)

    def render(self, facts: Mapping[str, Any]) -> str:
        values = [_show(facts.get(f)) for f in self.facts]
        try:
            return self.text.format(*values)
        except (TypeError, ValueError):  # a format spec that does not fit this value's type
            return f"{self.source} {dict(zip(self.facts, values, strict=True))}"


def _show(value: Any) -> Any:
    # 1.0 days reads badly in a message shown to an agent; whole floats print as integers
    if type(value) is float and value.is_integer():
        return int(value)
    return value
