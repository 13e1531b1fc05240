"""``deskguard policy``: lint, test and explain assurance policy files.

A thin transport over ``deskguard.policy``: ``lint`` prints one ``file:line: message`` per problem
(exit 1), ``test`` runs the file's own cases as a Rich table (exit 1 on any failure), ``explain``
evaluates one request from ``--fact name=value`` pairs (parsed by the fact's type in ``FACTS``,
defaults from ``default_facts()``) and prints the decision in plain words or as JSON. Usage
errors (unknown fact, unparsable value) exit 2.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from deskguard.domain.actions import ActionKind
from deskguard.domain.decision import FACTS, Decision, Evidence
from deskguard.domain.requests import ProofMethod
from deskguard.policy.cases import facts_with_defaults, run_cases
from deskguard.policy.evaluator import evaluate
from deskguard.policy.loader import CompiledPolicy, lint_policy

policy_app = typer.Typer(help="Lint, test and explain assurance policies.", no_args_is_help=True)

FileArg = Annotated[Path, typer.Argument(help="a policy YAML file", show_default=False)]
_TRUE, _FALSE = {"true", "yes", "1", "on"}, {"false", "no", "0", "off"}


def _console() -> Console:
    # piped output (CI logs, CliRunner) would wrap at 80 columns and split file:line messages
    return Console(width=None if sys.stdout.isatty() else 160, highlight=False)


def _load(path: Path) -> CompiledPolicy:
    policy, errors = lint_policy(path)
    if policy is None:
        for error in errors:
            typer.echo(str(error))
        raise typer.Exit(1)
    return policy


@policy_app.command()
def lint(file: FileArg) -> None:
    """Check a policy file; print file:line: message for every problem."""
    policy = _load(file)
    typer.echo(
        f"{file}: ok ({len(policy.actions)} actions, {len(policy.rules)} rules, "
        f"{len(policy.document.cases)} cases)"
    )


@policy_app.command("test")
def test_cases(file: FileArg) -> None:
    """Run the cases the policy file carries."""
    policy = _load(file)
    results = run_cases(policy)
    table = Table(title=f"{file} — policy {policy.name}")
    for column in ("case", "line", "result", "details"):
        table.add_column(column)
    for result in results:
        table.add_row(
            escape(result.name),
            str(result.line or ""),
            "[green]pass[/green]" if result.passed else "[red]FAIL[/red]",
            escape("\n".join(result.mismatches)),
        )
    console = _console()
    console.print(table)
    failed = sum(not r.passed for r in results)
    console.print(f"{len(results) - failed} passed, {failed} failed", markup=False)
    if failed:
        raise typer.Exit(1)


def parse_fact(item: str) -> tuple[str, Any]:
    """``name=value`` → (name, value typed by FACTS); ``typer.BadParameter`` when it cannot be."""
    name, sep, raw = item.partition("=")
    name = name.strip()
    if not sep:
        raise typer.BadParameter(f"{item!r}: expected name=value", param_hint="--fact")
    if name not in FACTS:
        raise typer.BadParameter(
            f"unknown fact {name!r}; known facts: {', '.join(FACTS)}", param_hint="--fact"
        )
    kind = FACTS[name][0]
    try:
        if kind is bool:
            if raw.lower() not in _TRUE | _FALSE:
                raise ValueError("expected true or false")
            return name, raw.lower() in _TRUE
        if kind is list:
            return name, [part.strip() for part in raw.split(",") if part.strip()]
        return name, kind(raw)
    except ValueError as exc:
        raise typer.BadParameter(
            f"{name}={raw!r}: {kind.__name__} expected ({exc})", param_hint="--fact"
        ) from None


def _set(proof_set: tuple[ProofMethod, ...]) -> str:
    return " + ".join(p.value for p in proof_set) or "(nothing more)"


def describe(decision: Decision) -> list[str]:
    """The decision in plain words, one line per fact of it."""
    verdict = "BLOCKED" if decision.blocked else "ALLOWED" if decision.allowed else "NOT YET ALLOWED"
    lines = [
        f"{decision.action.value} ({decision.tier.label}) under policy {decision.policy} "
        f"[{decision.policy_digest[:12]}]: {verdict}"
    ]
    lines += [f"  blocked: {r.message} ({r.code})" for r in decision.blocking_reasons]
    if decision.proofs_satisfied:
        lines.append("proofs: satisfied")
    elif decision.acceptable_proof_sets:
        lines.append("proofs: complete any ONE of these sets (still missing in brackets)")
        lines += [
            f"  {i}. {_set(s)}   [missing: {_set(m)}]"
            for i, (s, m) in enumerate(
                zip(decision.acceptable_proof_sets, decision.missing_proof_sets, strict=True), 1
            )
        ]
    else:
        lines.append("proofs: no acceptable set remains")
    lines += [f"  not accepted here: {method}: {why}" for method, why in decision.disallowed_proofs.items()]
    lines.append("  knowledge-based answers never count as proof")
    lines.append(
        f"approvals: {decision.approvals_present} of {decision.approvals_required} "
        f"({decision.approval_role or 'none'} or higher)"
    )
    if decision.requires_grant:
        lines.append(
            f"just-in-time grant: required, {'present' if decision.grant_present else 'NOT present'}"
        )
    lines.append(f"secret shown to the agent: {'allowed' if decision.secret_to_agent_allowed else 'never'}")
    lines += [f"step-up {r.code}: {r.message}" for r in decision.step_ups]
    lines.append("trace:")
    for entry in decision.trace:
        seen = ", ".join(f"{k}={v!r}" for k, v in entry.values.items())
        mark = "matched" if entry.matched else "-------"
        lines.append(
            f"  {mark} {entry.rule}"
            + (f" ({seen})" if seen else "")
            + (f" -> {entry.effect}" if entry.effect else "")
        )
    return lines


@policy_app.command()
def explain(
    file: FileArg,
    action: Annotated[ActionKind, typer.Option(help="the action requested")],
    fact: Annotated[list[str] | None, typer.Option(help="name=value, e.g. target.privileged=true")] = None,
    proof: Annotated[list[ProofMethod] | None, typer.Option(help="a proof already obtained")] = None,
    approval: Annotated[list[str] | None, typer.Option(help="the role of an approver")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the decision as JSON")] = False,
) -> None:
    """Explain the decision for one request; unset facts take benign defaults."""
    overrides = dict(parse_fact(item) for item in fact or ())
    overrides.setdefault("action.kind", action.value)
    policy = _load(file)
    decision = evaluate(
        policy,
        facts=facts_with_defaults(overrides),
        evidence=Evidence(proofs=frozenset(proof or ()), approvals=tuple(approval or ())),
    )
    if as_json:
        typer.echo(json.dumps(decision.to_dict(), indent=2))
        return
    console = _console()
    for line in describe(decision):
        console.print(line, markup=False, soft_wrap=True)
