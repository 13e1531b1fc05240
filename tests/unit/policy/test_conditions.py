"""CEL conditions: fact rewriting, name checks, one program, fail-closed runtime, message templates."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deskguard.policy.conditions import (
    ConditionError,
    ConditionSet,
    Template,
    compile_condition,
    rewrite,
)


def test_rewrite_flattens_facts_and_lists_them() -> None:
    text, facts, bound = rewrite("target.privileged && context . local_hour < 7")
    assert text == "target__privileged && context__local_hour < 7"
    assert facts == ("target.privileged", "context.local_hour")
    assert bound == frozenset()


def test_float_facts_are_wrapped_in_double() -> None:
    assert rewrite("target.risk_score >= 70")[0] == "double(target__risk_score) >= 70"


@pytest.mark.parametrize(
    "literal",
    [
        '"target.privileged"',
        "'target.privileged'",
        'r"target.privileged"',
        '"""target.privileged"""',
        "'it\\'s target.privileged'",
    ],
)
def test_rewrite_leaves_string_literals_alone(literal: str) -> None:
    text, facts, _ = rewrite(f"request.channel == {literal}")
    assert text == f"request__channel == {literal}"
    assert facts == ("request.channel",)


@given(
    st.text(alphabet=st.characters(blacklist_characters='"\\\n', blacklist_categories=("Cs",)), max_size=40)
)
def test_rewrite_never_touches_any_string_content(content: str) -> None:
    source = f'target.department == "{content}"'
    assert rewrite(source)[0] == f'target__department == "{content}"'


def test_macro_variables_are_allowed() -> None:
    condition = compile_condition('target.groups.exists(g, g.startsWith("adm"))')
    assert condition.facts == ("target.groups",)
    assert condition.program.execute({"target__groups": ["admins"]}) is True


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("target.privilegd", "unknown fact 'target.privilegd' (did you mean target.privileged?)"),
        ("privileged", "unknown fact 'privileged'"),
        ("g == 1", "unknown fact 'g'"),
        ("target__privileged", "write facts with dots"),
        ("target.privileged &&", "CEL syntax error"),
        ("has(target.privileged)", "after rewriting"),
        ("target.", "CEL syntax error"),
    ],
)
def test_bad_conditions(source: str, message: str) -> None:
    with pytest.raises(
        ConditionError, match=message.replace("(", r"\(").replace(")", r"\)").replace("?", r"\?")
    ):
        compile_condition(source)


def test_one_program_only_referenced_facts() -> None:
    conditions = ConditionSet(
        [
            compile_condition("target.privileged"),
            compile_condition("context.local_hour < 7 || target.privileged"),
        ]
    )
    values = conditions.gather({"target.privileged": True, "context.local_hour": 3, "target.department": "x"})
    assert values == {"target__privileged": True, "context__local_hour": 3}
    assert conditions.run(values) == ([True, True], {})


def test_missing_fact_raises_key_error() -> None:
    conditions = ConditionSet([compile_condition("target.privileged")])
    with pytest.raises(KeyError, match="target.privileged"):
        conditions.gather({})


@pytest.mark.parametrize("score", [70, 70.0, 69.5, 1e300])
def test_float_facts_accept_ints_and_floats_alike(score: float) -> None:
    conditions = ConditionSet([compile_condition("target.risk_score + 0.5 >= 70.5")])
    results, errors = conditions.run(conditions.gather({"target.risk_score": score}))
    assert errors == {}
    assert results == [score >= 70]


def test_runtime_error_is_isolated_to_its_condition() -> None:
    conditions = ConditionSet(
        [
            compile_condition("target.privileged"),
            compile_condition("target.department > 3"),
            compile_condition("context.local_hour"),
        ]
    )
    values = conditions.gather(
        {"target.privileged": True, "target.department": "it", "context.local_hour": 3}
    )
    results, errors = conditions.run(values)
    assert results == [True, False, False]
    assert set(errors) == {1, 2}
    assert "not true or false" in errors[2]


def test_template_renders_fact_values() -> None:
    template = Template(
        "phone changed {target.phone_changed_days} day(s) ago, risk {target.risk_score:.1f} {{x}}"
    )
    assert template.facts == ("target.phone_changed_days", "target.risk_score")
    assert (
        template.render({"target.phone_changed_days": 1.0, "target.risk_score": 3})
        == "phone changed 1 day(s) ago, risk 3.0 {x}"
    )


def test_template_with_a_spec_that_does_not_fit_still_renders() -> None:
    template = Template("{target.department:d}")
    assert "sales" in template.render({"target.department": "sales"})


@pytest.mark.parametrize("text", ["{target.nope}", "{target.privileged!r}", "{oops"])
def test_bad_templates(text: str) -> None:
    with pytest.raises(ConditionError):
        Template(text)
