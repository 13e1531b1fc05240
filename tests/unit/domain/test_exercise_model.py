"""The vishing exercises' pure logic: quarters, validation with the field named, blameless feedback,
trends per quarter, desk and agent, and the shipped tester scripts in English and French."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from deskguard.app.exercises import library, load_library
from deskguard.domain.errors import ValidationFailed
from deskguard.domain.exercises import (
    FailureCategory,
    Outcome,
    Quarter,
    feedback_message,
    new_call,
    new_campaign,
    trends,
)
from deskguard.domain.model import Operator, OperatorRole

OCT, NOV = datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 15, 10, 0, tzinfo=UTC)
ALICE = Operator(
    id="op_alice",
    username="a@x",
    display_name="Alice",
    role=OperatorRole.AGENT,
    provider_id="prv_in",
    tenant_ids=frozenset({"t"}),
)
OSCAR = Operator(
    id="op_oscar",
    username="o@x",
    display_name="Oscar",
    role=OperatorRole.AGENT,
    provider_id="prv_out",
    tenant_ids=frozenset({"t"}),
)


def _campaign(**over: object):  # noqa: ANN202
    fields: dict = dict(
        id="exc_1",
        tenant_id="t",
        name="  Q4   vishing ",
        quarter="2026-q4",
        provider_ids=["prv_out"],
        operator_ids=["op_alice"],
        script_ids=["cfo_lost_phone", "cfo_lost_phone"],
        starts_at=OCT,
        ends_at=datetime(2026, 12, 31, tzinfo=UTC),
        created_by="op_bruno",
        created_at=OCT,
        known_scripts={"cfo_lost_phone", "new_hire_locked_out"},
    )
    fields.update(over)
    return new_campaign(**fields)


def _call(
    outcome: str = "followed", failures: tuple[str, ...] = (), operator: Operator = ALICE, **over: object
):  # noqa: ANN202
    fields: dict = dict(
        id="exr_1",
        campaign=_campaign(),
        operator=operator,
        script_id="cfo_lost_phone",
        called_at=NOV,
        outcome=outcome,
        failures=failures,
        notes=" asked for a call-back ",
        recorded_by="op_bruno",
        recorded_at=NOV,
    )
    fields.update(over)
    return new_call(**fields)


def test_quarters_parse_print_and_bound_their_months() -> None:
    q4 = Quarter.parse("2026-q4")
    assert str(q4) == "2026-Q4" and q4.start() == OCT and q4.end() == datetime(2027, 1, 1, tzinfo=UTC)
    assert Quarter.of(datetime(2026, 5, 2, tzinfo=UTC)) == Quarter(2026, 2)
    with pytest.raises(ValidationFailed) as bad:
        Quarter.parse("2026-Q5")
    assert bad.value.field == "quarter"


def test_a_campaign_is_normalised_and_targets_desks_and_agents() -> None:
    campaign = _campaign()
    assert campaign.name == "Q4 vishing" and campaign.quarter == "2026-Q4"
    assert campaign.script_ids == ("cfo_lost_phone",)
    assert campaign.targets(ALICE) and campaign.targets(OSCAR)
    assert not _campaign(provider_ids=[]).targets(OSCAR)


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"name": " "}, "name"),
        ({"quarter": "Q4"}, "quarter"),
        ({"provider_ids": [], "operator_ids": []}, "targets"),
        ({"script_ids": []}, "script_ids"),
        ({"script_ids": ["nope"]}, "script_ids"),
        ({"ends_at": OCT}, "ends_at"),
        ({"starts_at": datetime(2026, 9, 30, tzinfo=UTC)}, "starts_at"),
    ],
)
def test_a_bad_campaign_names_its_field(over: dict, field: str) -> None:
    with pytest.raises(ValidationFailed) as bad:
        _campaign(**over)
    assert bad.value.field == field


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"outcome": "failed"}, "failures"),
        ({"outcome": "refused", "failures": ("skipped_approval",)}, "failures"),
        ({"outcome": "won"}, "outcome"),
        ({"outcome": "failed", "failures": ("was_silly",)}, "failures"),
        ({"script_id": "new_hire_locked_out"}, "script_id"),
        ({"called_at": datetime(2027, 1, 2, tzinfo=UTC)}, "called_at"),
        ({"recorded_at": datetime(2026, 11, 1, tzinfo=UTC)}, "called_at"),
        ({"recorded_by": "op_alice"}, "operator_id"),
        ({"notes": "x" * 2001}, "notes"),
        ({"campaign": _campaign(operator_ids=["op_other"], provider_ids=["prv_out"])}, "operator_id"),
    ],
)
def test_a_bad_call_names_its_field(over: dict, field: str) -> None:
    with pytest.raises(ValidationFailed) as bad:
        _call(**over)
    assert bad.value.field == field


def test_feedback_is_blameless_says_what_to_do_next_time_and_carries_no_score() -> None:
    script = library()["cfo_lost_phone"]
    call = _call("failed", ("accepted_knowledge_answer", "accepted_knowledge_answer"))
    assert call.failures == (FailureCategory.KNOWLEDGE_ANSWER,) and call.notes == "asked for a call-back"
    subject, text = feedback_message(call, script)
    assert "2026-Q4" in subject
    assert "a knowledge answer (birth date, address…) was taken as proof" in text
    assert "une réponse de connaissance" in text  # and in French
    assert script.text("expected", "en") in text and script.text("next_time", "fr") in text
    assert "asked for a call-back" in text and "nothing here is a score" in text
    for word in ("score:", "rank", "%", "/10", "fault", "blame"):
        assert word not in text.lower().replace("nothing here is a score", "")


def test_trends_share_outcomes_per_quarter_desk_and_agent_with_the_top_failures() -> None:
    calls = [
        _call("followed", id="1"),
        _call("failed", ("accepted_knowledge_answer", "skipped_approval"), id="2"),
        _call("failed", ("accepted_knowledge_answer",), operator=OSCAR, id="3"),
        _call("escalated", operator=OSCAR, id="4"),
    ]
    found = {(t.scope, t.key): t for t in trends(calls)}
    assert [(t.scope, t.key) for t in trends(calls)] == [
        ("all", ""),
        ("provider", "prv_in"),
        ("provider", "prv_out"),
        ("operator", "op_alice"),
        ("operator", "op_oscar"),
    ]
    every = found[("all", "")]
    assert every.calls == 4 and every.share(Outcome.FAILED) == 0.5 and every.share(Outcome.ESCALATED) == 0.25
    assert every.top_failures == (
        (FailureCategory.KNOWLEDGE_ANSWER, 2),
        (FailureCategory.SKIPPED_APPROVAL, 1),
    )
    assert found[("provider", "prv_out")].counts[Outcome.ESCALATED] == 1
    assert found[("operator", "op_alice")].share(Outcome.FOLLOWED) == 0.5
    assert trends([]) == []


def test_the_shipped_scripts_are_complete_in_both_languages(tmp_path) -> None:  # noqa: ANN001
    scripts = library()
    assert {"cfo_lost_phone", "new_hire_locked_out", "manager_on_holiday"} <= set(scripts)
    for script in scripts.values():
        assert script.text("expected", "fr") != script.text("expected", "en")
    (tmp_path / "bad.yml").write_text("id: x\ntitle: {en: X}\n", encoding="utf-8")
    with pytest.raises(ValidationFailed, match=r"bad.yml: title.fr must be a non-empty text"):
        load_library(tmp_path)
