"""Learned baselines: their explanations in numbers, cross-tenant discretion, and survival of a restart.

The content's own cases (``content/rules/**/*.tests.yml``) show each learned rule firing and its
benign twin staying quiet; here: what the cases cannot say.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deskguard.detection import content as content_files
from deskguard.detection.alerts import RuleMeta
from deskguard.detection.analytics import AnalyticError, build
from deskguard.detection.analytics.operators import binomial_tail
from deskguard.detection.content import CASE_TENANT, load_cases, load_content
from deskguard.detection.pipeline import Pipeline
from deskguard.settings import REPO_ROOT

RULES = REPO_ROOT / "content" / "rules"
LEARNED = [
    RULES / "identity" / "person_baseline.yml",
    RULES / "identity" / "unusual_chain.yml",
    RULES / "identity" / "tenant_rate_baseline.yml",
    RULES / "telephony" / "caller_baseline.yml",
    RULES / "deskguard" / "operator_target_diversity.yml",
    RULES / "deskguard" / "operator_verification_failures.yml",
    RULES / "deskguard" / "operator_step_up_abandoned.yml",
    RULES / "deskguard" / "operator_new_tenant.yml",
    RULES / "deskguard" / "operator_rate_baseline.yml",
]


def _alerts(path: Path, case_name: str) -> list:
    content = load_content([path])
    case = next(case for case in load_cases(content_files.tests_path(path)) if case.name == case_name)
    pipeline = Pipeline(content)
    for source, record, tenant in case.events:
        pipeline.feed(record, source=source, tenant=tenant)
    return list(pipeline.alerts.values())


def test_every_learned_analytic_declares_state_and_every_rule_here_is_learned() -> None:
    content = load_content(LEARNED)
    assert {analytic.meta.rule_id for analytic in content.analytics if analytic.learned} == set(content.ids())


def test_person_explanation_gives_the_counts_behind_each_novelty() -> None:
    (alert,) = _alerts(LEARNED[0], "after twelve days in Lyon, a sign-in from Brazil on a new device at 03h")
    text = alert.explanation
    assert "first from Brazil (seen: France 12)" in text
    assert "a device never seen (1 known)" in text
    assert "at 03h UTC (0 of 12 sign-ins at that hour)" in text
    assert "novelty 4, threshold 3" in text


def test_watch_list_lowers_the_threshold_and_says_why() -> None:
    (alert,) = _alerts(LEARNED[0], "watch-listed after a password reset - a new country alone is enough")
    assert "watch-listed after the password reset at 09:00:00, threshold 2" in alert.explanation


def test_sequence_explanation_names_each_step_with_its_learned_probability() -> None:
    (alert,) = _alerts(LEARNED[1], "reset, then MFA reset, then a new factor within minutes")
    assert alert.entities["user"] == "jeanne.martin@acme.example"
    assert "password_reset -> mfa_reset -> mfa_factor_enrolled" in alert.explanation
    assert "password_reset -> mfa_reset 0.009 (0 of 6 password_reset seen)" in alert.explanation
    assert "mfa_reset -> mfa_factor_enrolled 0.767 (6 of 6 mfa_reset seen)" in alert.explanation


def test_tenant_volume_reports_a_poisson_tail() -> None:
    (alert,) = _alerts(LEARNED[2], "twenty-four resets and MFA resets in one hour")
    assert "baseline for Mondays 10h" in alert.explanation and "(p = " in alert.explanation


def test_caller_history_counts_other_tenants_and_never_names_their_people() -> None:
    meta = RuleMeta(rule_id="Telephony.Caller.NewIdentityOrTenant", title="t")
    caller = build("caller_baseline", meta, {"min_history": 3})
    pipeline_records = [
        ("tnt_a", "secret.person@a.example", f"2026-11-{10 + i:02d}T09:00:00Z") for i in range(3)
    ] + [("tnt_b", "claire.cfo@b.example", "2026-11-20T09:00:00Z")]
    findings = []
    for index, (tenant, claimed, at) in enumerate(pipeline_records):
        (event,) = _call_events(f"c{index}", at, "+33612345678", claimed, tenant)
        findings.extend(caller.observe(event))
    (finding,) = findings
    assert "claims claire.cfo@b.example, an identity this number never claimed" in finding.explanation
    assert "calls this tenant for the first time" in finding.explanation
    assert "called 1 other client tenant(s)" in finding.explanation
    assert "secret.person" not in finding.explanation and "tnt_a" not in finding.explanation


def _call_events(call_id: str, at: str, number: str, claimed: str, tenant: str) -> list:
    from deskguard.detection.normalize import normalize

    record = {"type": "call", "call_id": call_id, "started_at": at, "caller_number": number}
    record |= {"direction": "inbound", "attestation": "A", "claimed_identity": claimed}
    return normalize(record, tenant=tenant)


def test_operator_new_tenant_across_tenants() -> None:
    (alert,) = _alerts(LEARNED[7], "twenty-five requests for tnt_acme, then one for tnt_globex")
    assert alert.tenant == "tnt_globex"
    assert "after 25 requests in 1 other tenant(s)" in alert.explanation


@pytest.mark.parametrize(
    ("kind", "params", "message"),
    [
        ("sequence", {"prior": {"password_reset>sign_in": 1}}, "params.prior: 'password_reset>sign_in'"),
        ("sequence", {"prior": {"password_reset>end": -1}}, "params.prior.password_reset>end"),
        ("operator_baseline", {"watch": "moods"}, "params.watch: expected one of"),
        ("operator_baseline", {"watch": "verification_failures", "prior_rate": 3}, "params.prior_rate"),
        ("person_baseline", {"threshold": 0}, "params.threshold"),
        ("caller_baseline", {"colour": "red"}, "unknown parameter(s) colour"),
    ],
)
def test_bad_parameters_name_the_parameter(kind: str, params: dict, message: str) -> None:
    with pytest.raises(AnalyticError, match=message.replace("(", r"\(").replace(")", r"\)")):
        build(kind, RuleMeta(rule_id="X.Y.Z", title="t"), params)


def test_restore_refuses_a_state_of_the_wrong_shape() -> None:
    meta = RuleMeta(rule_id="X.Y.Z", title="t")
    with pytest.raises(AnalyticError, match=r"state._state: not a rate baseline"):
        build("rate_baseline", meta, {}).restore({"_state": [[["t", "op"], "not a baseline"]]})
    with pytest.raises(AnalyticError, match=r"state._people: expected \[key, value\] pairs"):
        build("person_baseline", meta, {}).restore({"_people": [["only a key"]]})


@given(p=st.floats(0.001, 0.999), n=st.integers(1, 60), k=st.integers(0, 60))
def test_binomial_tail_is_a_probability_and_decreases_in_k(p: float, n: int, k: int) -> None:
    tail = binomial_tail(k, n, p)
    assert 0.0 <= tail <= 1.0
    assert binomial_tail(k + 1, n, p) <= tail + 1e-12


# -- a restart in the middle of any case loses nothing ----------------------------------------------


def _cases() -> list[tuple[Path, str]]:
    return [(path, case.name) for path in LEARNED for case in load_cases(content_files.tests_path(path))]


@pytest.mark.parametrize(("path", "case_name"), _cases(), ids=lambda v: getattr(v, "stem", v))
@settings(max_examples=8, deadline=None)
@given(split=st.floats(0, 1))
def test_a_restart_anywhere_gives_the_alerts_of_an_uninterrupted_run(
    path: Path, case_name: str, split: float
) -> None:
    content = load_content([path])
    case = next(case for case in load_cases(content_files.tests_path(path)) if case.name == case_name)
    at = int(split * len(case.events))

    whole = Pipeline(content)
    for source, record, tenant in case.events:
        whole.feed(record, source=source, tenant=tenant)

    before = Pipeline(content)
    for source, record, tenant in case.events[:at]:
        before.feed(record, source=source, tenant=tenant or CASE_TENANT)
    saved = orjson.loads(orjson.dumps(before.engine.export_state()))  # through JSON, as the store keeps it
    after = Pipeline(content)
    after.engine.restore_state(saved)
    for source, record, tenant in case.events[at:]:
        after.feed(record, source=source, tenant=tenant)

    def said(pipeline: Pipeline) -> list[tuple[str, str]]:
        return sorted((a.rule_id, a.explanation) for a in pipeline.alerts.values())

    assert sorted(said(before) + said(after)) == said(whole)
    assert orjson.dumps(after.engine.export_state()) == orjson.dumps(whole.engine.export_state())


@given(values=st.lists(st.sampled_from([f"v{i}" for i in range(40)]), max_size=300))
def test_a_profile_remembers_a_bounded_number_of_values(values: list[str]) -> None:
    from deskguard.detection.analytics.profiles import MAX_VALUES, _bump

    counts: dict[str, int] = {}
    for value in values:
        _bump(counts, value)
        assert value in counts and len(counts) <= MAX_VALUES + 1
