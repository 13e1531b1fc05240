"""Vishing exercises: quarterly campaigns of test calls to the helpdesk, and blameless feedback.

A supervisor plans a ``Campaign`` for a tenant and a quarter: which desks (providers) or agents
(operators) the tester calls, which tester scripts (``content/exercises/*.yml``, ``ExerciseScript``)
and in which window. Each test call is then recorded as an ``ExerciseCall``: the agent called, the
script used, and the outcome — ``followed`` (the procedure was followed), ``refused``, ``escalated``,
or ``failed`` with what went wrong, named by blameless ``FailureCategory`` (what the procedure
missed, never who is to blame). The agent is then sent their feedback: what the procedure expects,
what happened, and the phrasing to use next time (``feedback_message``); never a score or a rank.

``trends`` reads recorded calls into shares per quarter, desk and agent. Pure: no clock, no I/O;
the caller passes times. ``new_campaign`` and ``new_call`` validate and name the field at fault.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Protocol, TypeVar

from deskguard.domain.errors import ValidationFailed
from deskguard.domain.model import Operator

LANGUAGES = ("en", "fr")
MAX_NAME, MAX_NOTES = 200, 2000
E = TypeVar("E", bound=StrEnum)


class Outcome(StrEnum):
    FOLLOWED = "followed"  # the procedure was followed to the end (e.g. a call-back to the registered number)
    REFUSED = "refused"  # the agent declined, with the refusal script
    ESCALATED = "escalated"  # the agent handed the call to a supervisor or the SOC
    FAILED = "failed"  # the procedure was not followed: see the failure categories


class FailureCategory(StrEnum):
    """What the procedure missed, in blameless words (the step, not the person)."""

    KNOWLEDGE_ANSWER = "accepted_knowledge_answer"
    CALLED_GIVEN_NUMBER = "called_back_given_number"
    SKIPPED_APPROVAL = "skipped_approval"
    DISCLOSED_INFORMATION = "disclosed_information"
    SKIPPED_PROOF = "acted_without_proof"
    URGENCY_SHORTCUT = "urgency_shortened_procedure"


@dataclass(frozen=True, slots=True)
class Quarter:
    year: int
    number: int  # 1..4

    @classmethod
    def parse(cls, text: str) -> Quarter:
        found = re.fullmatch(r"(\d{4})-Q([1-4])", text.strip().upper())
        if not found:
            raise ValidationFailed(f"quarter {text!r} must look like 2026-Q4", field="quarter")
        return cls(int(found.group(1)), int(found.group(2)))

    @classmethod
    def of(cls, moment: datetime) -> Quarter:
        return cls(moment.year, (moment.month - 1) // 3 + 1)

    def start(self) -> datetime:
        return datetime(self.year, 3 * self.number - 2, 1, tzinfo=UTC)

    def end(self) -> datetime:
        """The first instant after the quarter."""
        return Quarter(self.year + self.number // 4, self.number % 4 + 1).start()

    def __str__(self) -> str:
        return f"{self.year}-Q{self.number}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ExerciseScript:
    """What the tester plays, and what the procedure expects from the agent, in each language."""

    id: str
    title: Mapping[str, str]
    pretext: Mapping[str, str]  # the tester's story
    expected: Mapping[str, str]  # what the procedure expects the agent to do
    next_time: Mapping[str, str]  # the phrasing to use next time (the refusal or redirection script)

    def text(self, part: str, lang: str) -> str:
        texts: Mapping[str, str] = getattr(self, part)
        return texts.get(lang) or texts["en"]


SCRIPT_FIELDS = ("title", "pretext", "expected", "next_time")


def parse_script(data: object, *, source: str) -> ExerciseScript:
    """One tester script from its parsed YAML; every field in every language, non-empty."""
    if not isinstance(data, Mapping) or not isinstance(data.get("id"), str) or not data["id"].strip():
        raise ValidationFailed(f"{source}: a tester script is a mapping with an id", field="id")
    unknown = sorted(set(data) - {"id", *SCRIPT_FIELDS})
    if unknown:
        raise ValidationFailed(f"{source}: unknown field {unknown[0]!r}", field=str(unknown[0]))
    parts: dict[str, dict[str, str]] = {}
    for name in SCRIPT_FIELDS:
        texts = data.get(name)
        for lang in LANGUAGES:
            text = texts.get(lang) if isinstance(texts, Mapping) else None
            if not isinstance(text, str) or not text.strip():
                raise ValidationFailed(f"{source}: {name}.{lang} must be a non-empty text", field=name)
        parts[name] = {lang: " ".join(texts[lang].split()) for lang in LANGUAGES}  # type: ignore[index]
    return ExerciseScript(id=data["id"].strip(), **parts)


@dataclass(frozen=True, slots=True, kw_only=True)
class Campaign:
    id: str
    tenant_id: str
    name: str
    quarter: str  # "2026-Q4"
    provider_ids: frozenset[str]  # desks: every agent of these providers
    operator_ids: frozenset[str]  # and these agents
    script_ids: tuple[str, ...]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    created_at: datetime

    def targets(self, operator: Operator) -> bool:
        return operator.id in self.operator_ids or operator.provider_id in self.provider_ids


@dataclass(frozen=True, slots=True, kw_only=True)
class ExerciseCall:
    id: str
    tenant_id: str
    campaign_id: str
    quarter: str
    operator_id: str
    provider_id: str  # the agent's desk when the call was made
    script_id: str
    called_at: datetime
    outcome: Outcome
    failures: tuple[FailureCategory, ...]
    notes: str
    recorded_by: str
    recorded_at: datetime
    feedback_sent_at: datetime | None = None
    feedback_channel: str = ""
    feedback_ref: str = ""


def _choice(kind: type[E], value: str, *, field: str) -> E:
    try:
        return kind(value)
    except ValueError:
        raise ValidationFailed(
            f"{field} {value!r} is not one of {', '.join(v.value for v in kind)}", field=field
        ) from None


def new_campaign(
    *,
    id: str,
    tenant_id: str,
    name: str,
    quarter: str,
    provider_ids: Iterable[str],
    operator_ids: Iterable[str],
    script_ids: Sequence[str],
    starts_at: datetime,
    ends_at: datetime,
    created_by: str,
    created_at: datetime,
    known_scripts: Iterable[str],
) -> Campaign:
    """A valid campaign, or ``ValidationFailed`` naming the field."""
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME:
        raise ValidationFailed(f"name must be 1 to {MAX_NAME} characters", field="name")
    period = Quarter.parse(quarter)
    providers, operators = frozenset(p for p in provider_ids if p), frozenset(o for o in operator_ids if o)
    if not providers and not operators:
        raise ValidationFailed("choose at least one desk or one agent to call", field="targets")
    scripts = tuple(dict.fromkeys(s for s in script_ids if s))
    if not scripts:
        raise ValidationFailed("choose at least one tester script", field="script_ids")
    unknown = sorted(set(scripts) - set(known_scripts))
    if unknown:
        raise ValidationFailed(f"tester script {unknown[0]!r} is not in the library", field="script_ids")
    if ends_at <= starts_at:
        raise ValidationFailed("the window must end after it starts", field="ends_at")
    if starts_at < period.start() or ends_at > period.end():
        raise ValidationFailed(f"the window must lie within {period}", field="starts_at")
    return Campaign(
        id=id,
        tenant_id=tenant_id,
        name=name,
        quarter=str(period),
        provider_ids=providers,
        operator_ids=operators,
        script_ids=scripts,
        starts_at=starts_at,
        ends_at=ends_at,
        created_by=created_by,
        created_at=created_at,
    )


def new_call(
    *,
    id: str,
    campaign: Campaign,
    operator: Operator,
    script_id: str,
    called_at: datetime,
    outcome: str,
    failures: Iterable[str],
    notes: str,
    recorded_by: str,
    recorded_at: datetime,
) -> ExerciseCall:
    """A valid exercise call of ``campaign``, or ``ValidationFailed`` naming the field."""
    if not campaign.targets(operator):
        raise ValidationFailed(f"agent {operator.id} is not called by this campaign", field="operator_id")
    if recorded_by == operator.id:
        raise ValidationFailed("an agent never records their own exercise call", field="operator_id")
    if script_id not in campaign.script_ids:
        raise ValidationFailed(
            f"tester script {script_id!r} is not one of this campaign's", field="script_id"
        )
    if not campaign.starts_at <= called_at <= campaign.ends_at:
        raise ValidationFailed("the call must fall within the campaign's window", field="called_at")
    if called_at > recorded_at:
        raise ValidationFailed("the call cannot be in the future", field="called_at")
    chosen = _choice(Outcome, outcome, field="outcome")
    categories = tuple(dict.fromkeys(_choice(FailureCategory, f, field="failures") for f in failures if f))
    if chosen == Outcome.FAILED and not categories:
        raise ValidationFailed("a failed call names at least one thing that went wrong", field="failures")
    if chosen != Outcome.FAILED and categories:
        raise ValidationFailed(f"a call that {chosen.value} has no failure categories", field="failures")
    notes = notes.strip()
    if len(notes) > MAX_NOTES:
        raise ValidationFailed(f"notes are at most {MAX_NOTES} characters", field="notes")
    return ExerciseCall(
        id=id,
        tenant_id=campaign.tenant_id,
        campaign_id=campaign.id,
        quarter=campaign.quarter,
        operator_id=operator.id,
        provider_id=operator.provider_id,
        script_id=script_id,
        called_at=called_at,
        outcome=chosen,
        failures=categories,
        notes=notes,
        recorded_by=recorded_by,
        recorded_at=recorded_at,
    )


def with_feedback(call: ExerciseCall, *, sent_at: datetime, channel: str, ref: str) -> ExerciseCall:
    return replace(call, feedback_sent_at=sent_at, feedback_channel=channel, feedback_ref=ref)


# The e-mail's wording, per language: blameless (the procedure's steps, never the agent's worth), and
# no score, no rank, no comparison with colleagues.
_OUTCOME_WORDS = {
    "en": {
        Outcome.FOLLOWED: "The procedure was followed: thank you, this is exactly what protects our users.",
        Outcome.REFUSED: "The request was refused: the procedure held, thank you.",
        Outcome.ESCALATED: "The call was escalated: asking for help under pressure is the right reflex.",
        Outcome.FAILED: "The procedure did not hold at these steps:",
    },
    "fr": {
        Outcome.FOLLOWED: "La procédure a été suivie : merci, c'est ce qui protège nos utilisateurs.",
        Outcome.REFUSED: "La demande a été refusée : la procédure a tenu, merci.",
        Outcome.ESCALATED: "L'appel a été escaladé : demander de l'aide sous pression est le bon réflexe.",
        Outcome.FAILED: "La procédure n'a pas tenu à ces étapes :",
    },
}
FAILURE_WORDS = {
    "en": {
        FailureCategory.KNOWLEDGE_ANSWER: "a knowledge answer (birth date, address…) was taken as proof",
        FailureCategory.CALLED_GIVEN_NUMBER: "the call-back went to the number given during the call",
        FailureCategory.SKIPPED_APPROVAL: "the second person's approval was not asked",
        FailureCategory.DISCLOSED_INFORMATION: "information about the account was shared before verification",
        FailureCategory.SKIPPED_PROOF: "the action went ahead without the required proof",
        FailureCategory.URGENCY_SHORTCUT: "the urgency of the story shortened the procedure",
    },
    "fr": {
        FailureCategory.KNOWLEDGE_ANSWER: (
            "une réponse de connaissance (date de naissance, adresse…) a servi de preuve"
        ),
        FailureCategory.CALLED_GIVEN_NUMBER: "le rappel a été fait au numéro donné pendant l'appel",
        FailureCategory.SKIPPED_APPROVAL: "l'approbation d'une seconde personne n'a pas été demandée",
        FailureCategory.DISCLOSED_INFORMATION: (
            "des informations sur le compte ont été données avant vérification"
        ),
        FailureCategory.SKIPPED_PROOF: "l'action a été faite sans la preuve requise",
        FailureCategory.URGENCY_SHORTCUT: "l'urgence de l'histoire a raccourci la procédure",
    },
}
_HEADINGS = {
    "en": ("Vishing exercise", "The scenario", "What the procedure expects", "What happened", "Next time"),
    "fr": (
        "Exercice de vishing",
        "Le scénario",
        "Ce que la procédure attend",
        "Ce qui s'est passé",
        "La prochaine fois",
    ),
}
_CLOSING = {
    "en": "This exercise tests our procedure, not you: nothing here is a score. Questions are welcome.",
    "fr": (
        "Cet exercice teste notre procédure, pas vous : rien ici n'est une note. "
        "Vos questions sont bienvenues."
    ),
}


def feedback_message(call: ExerciseCall, script: ExerciseScript) -> tuple[str, str]:
    """The subject and text of an agent's feedback, English then French."""
    blocks: list[str] = []
    for lang in LANGUAGES:
        exercise, scenario, expected, happened, next_time = _HEADINGS[lang]
        lines = [_OUTCOME_WORDS[lang][call.outcome]]
        lines += [f"- {FAILURE_WORDS[lang][f]}" for f in call.failures]
        if call.notes:
            lines.append(call.notes)
        blocks.append(
            "\n".join(
                [
                    f"{exercise}: {script.text('title', lang)} ({call.called_at:%Y-%m-%d %H:%M} UTC)",
                    f"{scenario}: {script.text('pretext', lang)}",
                    f"{expected}: {script.text('expected', lang)}",
                    f"{happened}:",
                    *lines,
                    f"{next_time}: {script.text('next_time', lang)}",
                    _CLOSING[lang],
                ]
            )
        )
    subject = f"deskguard: {_HEADINGS['en'][0].lower()} / {_HEADINGS['fr'][0].lower()} {call.quarter}"
    return subject, "\n\n".join(blocks)


@dataclass(frozen=True, slots=True, kw_only=True)
class Trend:
    """A group's calls in a quarter: shares of each outcome and the most frequent failures."""

    quarter: str
    scope: str  # all | provider | operator
    key: str  # "" for all, else the provider or operator id
    calls: int
    counts: Mapping[Outcome, int]
    top_failures: tuple[tuple[FailureCategory, int], ...]

    def share(self, outcome: Outcome) -> float:
        return self.counts.get(outcome, 0) / self.calls if self.calls else 0.0


TOP_FAILURES = 3


def _trend(quarter: str, scope: str, key: str, calls: Sequence[ExerciseCall]) -> Trend:
    outcomes = Counter(c.outcome for c in calls)
    failures = Counter(f for c in calls for f in c.failures)
    ranked = sorted(failures.items(), key=lambda item: (-item[1], item[0].value))[:TOP_FAILURES]
    return Trend(
        quarter=quarter,
        scope=scope,
        key=key,
        calls=len(calls),
        counts={o: outcomes.get(o, 0) for o in Outcome},
        top_failures=tuple(ranked),
    )


def trends(calls: Iterable[ExerciseCall]) -> list[Trend]:
    """Per quarter (oldest first): the whole tenant, then each desk, then each agent, by id."""
    by_quarter: dict[str, list[ExerciseCall]] = {}
    for call in calls:
        by_quarter.setdefault(call.quarter, []).append(call)
    out: list[Trend] = []
    for quarter in sorted(by_quarter):
        chosen = by_quarter[quarter]
        out.append(_trend(quarter, "all", "", chosen))
        for scope, attr in (("provider", "provider_id"), ("operator", "operator_id")):
            for key in sorted({getattr(c, attr) for c in chosen}):
                out.append(_trend(quarter, scope, key, [c for c in chosen if getattr(c, attr) == key]))
    return out


class ExerciseRepository(Protocol):
    """Campaigns and their calls, every query scoped by tenant."""

    def add_campaign(self, campaign: Campaign) -> None: ...

    def get_campaign(self, *, tenant_id: str, campaign_id: str) -> Campaign | None: ...

    def list_campaigns(self, *, tenant_id: str, quarter: str = "") -> Sequence[Campaign]:
        """Newest window first."""
        ...

    def add_call(self, call: ExerciseCall) -> None: ...

    def get_call(self, *, tenant_id: str, call_id: str) -> ExerciseCall | None: ...

    def list_calls(
        self, *, tenant_id: str, campaign_id: str = "", operator_id: str = "", quarter: str = ""
    ) -> Sequence[ExerciseCall]:
        """Oldest call first."""
        ...

    def mark_feedback(self, call: ExerciseCall) -> bool:
        """Store the call's feedback delivery, only if none was stored yet; False otherwise."""
        ...
