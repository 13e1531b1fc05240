"""The agent's scripts: what to say for each situation a decision puts them in, and what to read
when the caller pushes back ("I understand the urgency; our procedure requires a call-back…").

Scripts are content (``content/scripts/<lang>.yml``): one entry per situation, each with a
``title``, the phrasing to use (``say``) and the refusal script (``refusal``). Every language file
must define every situation of ``SITUATIONS`` and nothing else; a problem is a ``PolicyError``
naming the file and the situation.

``situations_for`` reads a recorded decision (``Decision.to_dict()``) and the person's card and
says which situations apply, in the order an agent meets them. Pure: no clock, the caller gives the
facts; ``load_scripts`` is the only function that reads a file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from deskguard.domain.errors import PolicyError

SITUATIONS = (
    "blocked",
    "knowledge_does_not_count",
    "callback_required",
    "push_required",
    "totp_required",
    "manager_required",
    "portal_required",
    "approval_required",
    "out_of_hours",
    "privileged_account",
    "phone_recently_changed",
    "elevated_risk",
)
FIELDS = ("title", "say", "refusal")
# policy rules (content/policies/default.yml) whose match names a situation of their own
RULE_SITUATIONS = {
    "outsourced-out-of-hours": "out_of_hours",
    "recent-phone-change": "phone_recently_changed",
    "elevated-risk": "elevated_risk",
    "critical-risk-block": "elevated_risk",
    "operator-elevated-risk": "elevated_risk",
}
# proof methods that, in the first missing set, mean "this proof is still required"
METHOD_SITUATIONS = (
    (("callback_automated", "callback_agent"), "callback_required"),
    (("push_number_match",), "push_required"),
    (("totp",), "totp_required"),
    (("manager_confirmation",), "manager_required"),
    (("self_service_initiated",), "portal_required"),
)


@dataclass(frozen=True, slots=True)
class Script:
    situation: str
    title: str
    say: str
    refusal: str


def parse_scripts(data: Any, *, source: str) -> dict[str, Script]:
    """A language's scripts from its parsed YAML, every situation present and complete."""
    if not isinstance(data, Mapping):
        raise PolicyError("must map situations to scripts", file=source, line=None, code="scripts.shape")
    unknown = sorted(set(data) - set(SITUATIONS))
    if unknown:
        raise PolicyError(
            f"unknown situation {unknown[0]!r}; known: {', '.join(SITUATIONS)}",
            file=source,
            line=None,
            code="scripts.unknown_situation",
        )
    scripts: dict[str, Script] = {}
    for situation in SITUATIONS:
        entry = data.get(situation)
        if not isinstance(entry, Mapping):
            raise PolicyError(
                f"situation {situation!r} is missing", file=source, line=None, code="scripts.missing"
            )
        texts = {name: entry.get(name) for name in FIELDS}
        empty = [name for name, text in texts.items() if not isinstance(text, str) or not text.strip()]
        if empty or set(entry) - set(FIELDS):
            wrong = empty[0] if empty else sorted(set(entry) - set(FIELDS))[0]
            raise PolicyError(
                f"{situation}.{wrong}: a script has {', '.join(FIELDS)}, each a non-empty text",
                file=source,
                line=None,
                code="scripts.field",
            )
        scripts[situation] = Script(situation, *(" ".join(str(texts[n]).split()) for n in FIELDS))
    return scripts


def load_scripts(path: Path) -> dict[str, Script]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise PolicyError(f"cannot be read: {exc}", file=path.name, line=None, code="scripts.read") from None
    return parse_scripts(data, source=path.name)


def situations_for(decision: Mapping[str, Any], *, privileged: bool, phone_recent: bool) -> list[str]:
    """The situations a decision puts the agent in (``SITUATIONS`` order, no repeats)."""
    found = {"knowledge_does_not_count"}  # the caller's "security answers" never count, always said
    if decision.get("blocked"):
        found.add("blocked")
    missing = decision.get("missing_proof_sets", [])
    if missing and not decision.get("proofs_satisfied"):
        first = set(missing[0])  # the policy lists its preferred set first: the one to follow on a call
        for methods, situation in METHOD_SITUATIONS:
            if first & set(methods):
                found.add(situation)
    if (decision.get("approvals") or {}).get("missing", 0) > 0:
        found.add("approval_required")
    for entry in decision.get("trace", []):
        if entry.get("matched") and entry.get("rule") in RULE_SITUATIONS:
            found.add(RULE_SITUATIONS[entry["rule"]])
    if privileged:
        found.add("privileged_account")
    if phone_recent:
        found.add("phone_recently_changed")
    return [s for s in SITUATIONS if s in found]
