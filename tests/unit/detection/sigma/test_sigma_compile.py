"""The Sigma compiler: each modifier, wildcards, nulls, case, paths, conditions, dispatch, loading."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
import yaml
from sigma_events import make_event, okta

from deskguard.detection.sigma import (
    CompiledRule,
    dispatch_value,
    load_rules,
    load_rules_text,
    logsource_matches,
)


def compile_detection(
    detection: dict[str, Any], *, product: str = "okta", service: str | None = "okta", **meta: Any
) -> CompiledRule:
    logsource = {"product": product} | ({"service": service} if service else {})
    document = {"title": "test rule", "logsource": logsource, "detection": detection, **meta}
    result = load_rules_text(yaml.safe_dump(document, sort_keys=False))
    assert not result.unsupported, result.unsupported
    return result.rules[0]


def matcher(field: str, value: Any, **kwargs: Any) -> CompiledRule:
    return compile_detection({"selection": {field: value}, "condition": "selection"}, **kwargs)


def hits(rule: CompiledRule, **raw: Any) -> bool:
    return rule.predicate(make_event(raw))


def refusal(text: str) -> str:
    result = load_rules_text(text)
    assert not result.rules, result.rules
    assert len(result.unsupported) == 1, result.unsupported
    return result.unsupported[0].reason


RULE = """
title: refused
id: 9a1c5a0e-1111-4222-8333-444455556666
logsource: {product: okta, service: okta}
detection:
  selection:
    %s
  condition: %s
"""

# --- strings, case, wildcards -------------------------------------------------------------------


def test_plain_equality_ignores_case_and_must_be_whole() -> None:
    rule = matcher("eventType", "User.MFA.Factor.Deactivate")
    assert hits(rule, eventType="user.mfa.factor.deactivate")
    assert hits(rule, eventType="USER.MFA.FACTOR.DEACTIVATE")
    assert not hits(rule, eventType="user.mfa.factor.deactivate.extra")
    assert not hits(rule, other="user.mfa.factor.deactivate")


def test_a_value_list_is_or_and_a_map_is_and() -> None:
    rule = compile_detection({"selection": {"a": ["x", "y"], "b": "z"}, "condition": "selection"})
    assert hits(rule, a="x", b="z") and hits(rule, a="Y", b="Z")
    assert not hits(rule, a="x", b="w")
    assert not hits(rule, a="w", b="z")


def test_contains_startswith_endswith() -> None:
    assert hits(matcher("a|contains", "Admin"), a="the ADMIN console")
    assert not hits(matcher("a|contains", "Admin"), a="the adm console")
    assert hits(matcher("a|startswith", "/api/v1"), a="/API/v1/users")
    assert not hits(matcher("a|startswith", "/api/v1"), a="x/api/v1")
    assert hits(matcher("a|endswith", ".EXE"), a="cmd.exe")
    assert not hits(matcher("a|endswith", ".exe"), a="cmd.exe.txt")


def test_several_patterns_on_one_field() -> None:
    rule = matcher("a|startswith", ["alpha", "beta"])
    assert hits(rule, a="alphabet") and hits(rule, a="betamax")
    assert not hits(rule, a="gamma")
    mixed = compile_detection(
        {"selection": {"a": ["exact", "pre*", "*post", "*mid*", "a?c"]}, "condition": "selection"}
    )
    for value in ("EXACT", "prefix", "signpost", "a mid b", "abc"):
        assert hits(mixed, a=value), value
    for value in ("exactly", "apre", "posts", "m-i-d", "abbc"):
        assert not hits(mixed, a=value), value


def test_all_needs_every_value() -> None:
    rule = matcher("a|contains|all", ["Add", "member to role"])
    assert hits(rule, a="Add member to role")
    assert not hits(rule, a="Add owner to role")
    plain_all = matcher("tags|all", ["x", "y"])
    assert hits(plain_all, tags=["x", "y", "z"])
    assert not hits(plain_all, tags=["x"])


def test_cased_is_case_sensitive() -> None:
    rule = matcher("a|cased", "CamelCase")
    assert hits(rule, a="CamelCase")
    assert not hits(rule, a="camelcase")
    contains = matcher("a|contains|cased", "Secret")
    assert hits(contains, a="my Secret here")
    assert not hits(contains, a="my secret here")


def test_wildcards_and_escapes() -> None:
    assert hits(matcher("a", "a*c"), a="abbbc") and hits(matcher("a", "a*c"), a="ac")
    assert hits(matcher("a", "a?c"), a="abc") and not hits(matcher("a", "a?c"), a="ac")
    assert hits(matcher("a", "a*c"), a="a\nb\nc")  # * spans newlines
    literal_star = matcher("a", "a\\*c")
    assert hits(literal_star, a="a*c") and not hits(literal_star, a="abc")
    literal_question = matcher("a", "what\\?")
    assert hits(literal_question, a="what?") and not hits(literal_question, a="whatx")
    backslash_then_wildcard = matcher("a", "dir\\\\*")  # \\ is one backslash, then *
    assert hits(backslash_then_wildcard, a="dir\\file") and not hits(backslash_then_wildcard, a="dirfile")
    plain_backslash = matcher("a", "C:\\Windows\\System32")
    assert hits(plain_backslash, a="c:\\windows\\system32")
    assert hits(matcher("a", "*"), a="") and not hits(matcher("a", "*"))


def test_regular_expressions_search_case_sensitively_unless_i() -> None:
    rule = matcher("a|re", "^0oa[0-9a-z]+$")
    assert hits(rule, a="0oa1b2c3") and not hits(rule, a="0OA1B2C3")
    assert hits(matcher("a|re", "admin"), a="the admin console")  # unanchored search
    assert hits(matcher("a|re|i", "^0OA"), a="0oa1")
    multiline = matcher("a|re|m", "^second$")
    assert hits(multiline, a="first\nsecond\nthird")
    assert not hits(matcher("a|re", "^second$"), a="first\nsecond\nthird")
    dotall = matcher("a|re|s", "one.two")
    assert hits(dotall, a="one\ntwo") and not hits(matcher("a|re", "one.two"), a="one\ntwo")


def test_cidr_ipv4_and_ipv6() -> None:
    rule = matcher("ip|cidr", ["10.0.0.0/8", "2001:db8::/32"])
    assert hits(rule, ip="10.20.30.40") and hits(rule, ip="2001:db8::1")
    assert not hits(rule, ip="11.0.0.1") and not hits(rule, ip="2001:db9::1")
    assert not hits(rule, ip="not an address") and not hits(rule, ip=167772161)
    everything_v6 = matcher("ip|cidr", "::/0")
    assert not hits(everything_v6, ip="10.0.0.1")  # the versions must agree
    assert hits(everything_v6, ip="::ffff:a00:1")


def test_exists() -> None:
    present = matcher("a|exists", True)
    absent = matcher("a|exists", False)
    assert hits(present, a="x") and hits(present, a="") and hits(present, a=None)  # null still exists
    assert not hits(present, b="x")
    assert hits(absent, b="x") and not hits(absent, a=None)
    nested = matcher("a.b|exists", True)
    assert hits(nested, a={"b": None}) and not hits(nested, a={"c": 1})


def test_windash_base64_and_base64offset() -> None:
    windash = matcher("cmd|windash|contains", " -force")
    for text in ("run -force", "run /force", "run \u2013force", "run \u2014force"):
        assert hits(windash, cmd=text), text
    assert not hits(windash, cmd="run force")
    secret = base64.b64encode(b"secret").decode()
    assert hits(matcher("a|base64", "secret"), a=secret)
    offset = matcher("a|base64offset|contains", "http://")
    for prefix in (b"", b"x", b"xy"):
        encoded = base64.b64encode(prefix + b"http://evil.example").decode()
        assert hits(offset, a=encoded), prefix


def test_numeric_comparisons() -> None:
    rule = matcher("n|gte", 3)
    assert hits(rule, n=3) and hits(rule, n=3.5) and hits(rule, n="4") and hits(rule, n=" 10 ")
    assert not hits(rule, n=2) and not hits(rule, n="many") and not hits(rule, n=True)
    assert hits(matcher("n|gt", 3), n=4) and not hits(matcher("n|gt", 3), n=3)
    assert hits(matcher("n|lt", 3), n=2.9) and not hits(matcher("n|lt", 3), n=3)
    assert hits(matcher("n|lte", 3), n="3") and not hits(matcher("n|lte", 3), n=3.01)
    assert hits(matcher("n|gt", 3), n=[1, 5])  # any element


def test_field_references() -> None:
    same = matcher("actor|fieldref", "target")
    assert hits(same, actor="Jane@acme.com", target="jane@ACME.com")
    assert not hits(same, actor="jane@acme.com", target="bob@acme.com")
    assert not hits(same, actor="jane@acme.com")
    prefix = matcher("a|fieldref|startswith", "b")
    assert hits(prefix, a="jane.doe", b="jane") and not hits(prefix, a="doe.jane", b="jane")
    inside = matcher("a|fieldref|contains", "b")
    assert hits(inside, a="xx-jane-yy", b="jane")


def test_null_matches_missing_or_json_null_but_not_empty_raw() -> None:
    rule = matcher("a", None)
    assert hits(rule) and hits(rule, a=None)
    assert not hits(rule, a="") and not hits(rule, a="x")
    either = matcher("a", ["x", None])
    assert hits(either, a="x") and hits(either) and not hits(either, a="y")


def test_numbers_and_strings_compare_as_sigma_backends_do() -> None:
    number = matcher("n", 5)
    for value in (5, 5.0, "5", " 5", "5.0", "05"):
        assert hits(number, n=value), value
    for value in (6, "5a", True, "five"):
        assert not hits(number, n=value), value
    text = matcher("n", "5")
    assert hits(text, n=5) and hits(text, n=5.0) and hits(text, n="5")
    assert not hits(matcher("n", "5.0"), n=5)  # a string compares as text
    assert hits(matcher("n", "5*"), n=55)


def test_booleans() -> None:
    rule = matcher("flag", True)
    assert hits(rule, flag=True) and hits(rule, flag="TRUE") and hits(rule, flag="true")
    assert not hits(rule, flag=False) and not hits(rule, flag=1) and not hits(rule, flag="yes")
    assert hits(matcher("flag", "true"), flag=True)  # a string pattern sees a bool as "true"


def test_nested_paths_and_forgiving_lookup() -> None:
    rule = matcher("actor.alternateId", "jane@acme.com")
    assert hits(rule, actor={"alternateId": "jane@acme.com"})
    assert hits(rule, **{"actor.alternateId": "jane@acme.com"})  # a flattened key
    assert hits(rule, actor={"alternateid": "jane@acme.com"})  # a pipeline lower-cased it
    assert hits(rule, actor_alternate_id="jane@acme.com")
    assert not hits(rule, actor={"alternateId": "bob@acme.com"})


def test_list_valued_fields_match_any_element() -> None:
    rule = matcher("target.alternateId", "jane@acme.com")
    assert hits(rule, target=[{"alternateId": "bob@acme.com"}, {"alternateId": "jane@acme.com"}])
    assert not hits(rule, target=[{"alternateId": "bob@acme.com"}, {"type": "User"}])
    tags = matcher("tags|contains", "admin")
    assert hits(tags, tags=["user", "super-admin"]) and not hits(tags, tags=["user"])
    assert hits(tags, tags=[["nested", ["admins"]]])


def test_reading_the_view_a_parser_provides() -> None:
    rule = matcher("eventName", "CHANGE_PASSWORD", product="gcp", service="google_workspace.admin")
    event = make_event({"events": [{"name": "CHANGE_PASSWORD"}]}, product="gcp")
    event.view = {"eventName": "CHANGE_PASSWORD"}
    assert rule.predicate(event)


# --- keywords -----------------------------------------------------------------------------------


def test_keywords_search_every_value_of_the_raw_event() -> None:
    rule = compile_detection(
        {"keywords": ["Microsoft.Authorization/roleAssignments/write"], "condition": "keywords"},
        product="azure",
        service="activitylogs",
    )
    assert hits(rule, operationName="MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/WRITE")
    assert hits(rule, properties={"list": [{"op": "x Microsoft.Authorization/roleAssignments/write y"}]})
    assert not hits(rule, **{"Microsoft.Authorization/roleAssignments/write": "key, not value"})
    assert not hits(rule, operationName="Microsoft.Authorization/roleAssignments/read")
    number = compile_detection({"keywords": [4624], "condition": "keywords"})
    assert hits(number, code=4624) and hits(number, text="event 4624 seen")


# --- conditions ---------------------------------------------------------------------------------

DETECTION = {
    "sel_a": {"a": "1"},
    "sel_b": {"b": "1"},
    "filter_c": {"c": "1"},
}


@pytest.mark.parametrize(
    ("condition", "truth"),
    [
        ("sel_a and sel_b", lambda a, b, c: a and b),
        ("sel_a or filter_c", lambda a, b, c: a or c),
        ("sel_a and not filter_c", lambda a, b, c: a and not c),
        ("not sel_a", lambda a, b, c: not a),
        ("sel_a or sel_b and filter_c", lambda a, b, c: a or (b and c)),  # and binds tighter
        ("(sel_a or sel_b) and filter_c", lambda a, b, c: (a or b) and c),
        ("not (sel_a or sel_b)", lambda a, b, c: not (a or b)),
        ("1 of sel_*", lambda a, b, c: a or b),
        ("all of sel_*", lambda a, b, c: a and b),
        ("any of sel_*", lambda a, b, c: a or b),
        ("1 of them", lambda a, b, c: a or b or c),
        ("all of them", lambda a, b, c: a and b and c),
        ("1 of sel_* and not 1 of filter*", lambda a, b, c: (a or b) and not c),
    ],
)
def test_condition_forms(condition: str, truth: Any) -> None:
    rule = compile_detection({**DETECTION, "condition": condition})
    for a in (False, True):
        for b in (False, True):
            for c in (False, True):
                raw = {"a": "1" if a else "0", "b": "1" if b else "0", "c": "1" if c else "0"}
                assert rule.predicate(make_event(raw)) == truth(a, b, c), (condition, raw)


def test_a_list_of_conditions_is_or() -> None:
    rule = compile_detection({**DETECTION, "condition": ["sel_a", "sel_b"]})
    assert hits(rule, a="1") and hits(rule, b="1") and not hits(rule, c="1")


def test_a_list_of_maps_is_or_of_ands() -> None:
    rule = compile_detection({"selection": [{"a": "1", "b": "1"}, {"c": "1"}], "condition": "selection"})
    assert hits(rule, a="1", b="1") and hits(rule, c="1") and not hits(rule, a="1")


def test_predicates_return_booleans() -> None:
    rule = compile_detection({"sel": {"a|re": "x"}, "other": {"b": "y"}, "condition": "sel or other"})
    assert rule.predicate(make_event({"a": "x"})) is True
    assert rule.predicate(make_event({"a": "z"})) is False


# --- the normalised model -----------------------------------------------------------------------


def test_deskguard_rules_read_the_normalised_model() -> None:
    rule = compile_detection(
        {
            "selection": {"activity": "mfa_reset", "user|endswith": "@acme.com", "extra.kind": "reset_mfa"},
            "condition": "selection",
        },
        product="deskguard",
        service=None,
    )
    event = make_event(
        {"activity": "not this"},
        activity="mfa_reset",
        target_user="jane@acme.com",
        extra={"kind": "reset_mfa"},
        product="okta",
    )
    assert rule.predicate(event)
    assert not rule.predicate(make_event({"activity": "mfa_reset"}, activity="sign_in"))
    assert rule.dispatch_on == "activity" and rule.dispatch == {"mfa_reset"}


def test_deskguard_rules_treat_empty_as_null() -> None:
    unknown = compile_detection(
        {"selection": {"src_ip": None}, "condition": "selection"}, product="deskguard"
    )
    known = compile_detection(
        {"selection": {"src_ip|exists": True}, "condition": "selection"}, product="deskguard"
    )
    assert unknown.predicate(make_event()) and not known.predicate(make_event())
    with_ip = make_event(src_ip="10.0.0.1")
    assert known.predicate(with_ip) and not unknown.predicate(with_ip)


# --- dispatch -----------------------------------------------------------------------------------


def dispatch_of(detection: dict[str, Any], **kwargs: Any) -> frozenset[str] | None:
    return compile_detection(detection, **kwargs).dispatch


def test_dispatch_from_a_type_equality_list() -> None:
    detection = {
        "selection": {
            "eventType": ["user.mfa.factor.deactivate", "User.MFA.Factor.Reset_All"],
            "x|contains": "y",
        },
        "condition": "selection",
    }
    assert dispatch_of(detection) == {
        "user.mfa.factor.deactivate",
        "User.MFA.Factor.Reset_All",
        "user.mfa.factor.reset_all",
    }


def test_dispatch_values_are_found_whatever_the_case() -> None:
    rule = matcher("operationName", "Microsoft.Authorization/roleAssignments/write", product="azure")
    event = make_event(type="MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/WRITE", product="azure")
    assert dispatch_value(event, rule.dispatch_on) in rule.dispatch
    assert "Microsoft.Authorization/roleAssignments/write" in rule.dispatch


@pytest.mark.parametrize(
    ("detection", "expected"),
    [
        ({"sel": {"eventType": "a"}, "condition": "not sel"}, None),
        ({"sel": {"eventType": "a"}, "other": {"x": "1"}, "condition": "sel or other"}, None),
        ({"sel": {"eventType|startswith": "user."}, "condition": "sel"}, None),
        ({"sel": {"eventType": "user.*"}, "condition": "sel"}, None),
        ({"sel": {"legacyEventType": "a"}, "condition": "sel"}, None),
        ({"kw": ["user.session.start"], "condition": "kw"}, None),
        ({"sel": {"eventType": "a"}, "filter": {"x": "1"}, "condition": "sel and not filter"}, {"a"}),
        ({"sel_a": {"eventType": "a"}, "sel_b": {"eventtype": "b"}, "condition": "1 of sel_*"}, {"a", "b"}),
        (
            {
                "sel": {"eventType": ["a", "b"]},
                "more": {"eventType": ["b", "c"]},
                "condition": "sel and more",
            },
            {"b"},
        ),
        (
            {
                "sel": {"eventType": ["a", "b"]},
                "more": {"eventName": ["b", "c"]},
                "condition": "sel and more",
            },
            {"a", "b"},
        ),
        ({"sel": [{"eventType": "a"}, {"eventType": "b", "x": "1"}], "condition": "sel"}, {"a", "b"}),
        ({"sel": {"eventType": "a"}, "other": {"eventType": "b"}, "condition": "sel and not other"}, {"a"}),
    ],
)
def test_dispatch_derivation(detection: dict[str, Any], expected: set[str] | None) -> None:
    found = dispatch_of(detection)
    assert found == (None if expected is None else frozenset(expected))


def test_dispatch_for_deskguard_rules() -> None:
    by_type = dispatch_of(
        {"sel": {"type": "user.mfa.factor.deactivate"}, "condition": "sel"}, product="deskguard"
    )
    assert by_type == {"user.mfa.factor.deactivate"}
    mixed = compile_detection(
        {"a": {"activity": "mfa_reset"}, "b": {"type": "x"}, "condition": "a or b"}, product="deskguard"
    )
    assert mixed.dispatch is None
    both = compile_detection(
        {"a": {"activity": "mfa_reset", "type": "x"}, "condition": "a"}, product="deskguard"
    )
    assert both.dispatch in ({"mfa_reset"}, {"x"})


# --- metadata, logsource ------------------------------------------------------------------------


def test_metadata() -> None:
    text = """
title: Okta MFA reset
id: 50e068d7-1e6b-4054-87e5-0a592c40c7e0
name: Okta.MFA.Reset
status: test
description: MFA was reset.
references: [https://example.com/a]
author: someone
date: 2026-01-01
tags: [attack.persistence, attack.t1556.006, attack.T1098, car.2016-04-005]
logsource: {product: okta, service: okta, category: identity}
detection:
  selection: {eventType: user.mfa.factor.reset_all}
  condition: selection
fields: [actor.alternateId]
falsepositives: [An administrator helping a user]
level: high
response: Call the person back.
"""
    rule = load_rules_text(text, path="rules/okta.yml").rules[0]
    assert rule.id == "Okta.MFA.Reset" and rule.name == "Okta.MFA.Reset"
    assert rule.sigma_id == "50e068d7-1e6b-4054-87e5-0a592c40c7e0"
    assert (rule.title, rule.description, rule.level, rule.status) == (
        "Okta MFA reset",
        "MFA was reset.",
        "high",
        "test",
    )
    assert rule.tags == ("attack.persistence", "attack.t1556.006", "attack.T1098", "car.2016-04-005")
    assert rule.attack == ("T1556.006", "T1098")
    assert rule.references == ("https://example.com/a",)
    assert rule.falsepositives == ("An administrator helping a user",)
    assert rule.fields == ("actor.alternateId",)
    assert rule.logsource == ("okta", "okta", "identity")
    assert rule.custom == {"response": "Call the person back."}
    assert rule.path == "rules/okta.yml"
    assert rule.generate is True


def test_a_rule_without_name_is_known_by_its_sigma_id() -> None:
    rule = matcher("eventType", "x", id="50e068d7-1e6b-4054-87e5-0a592c40c7e0")
    assert rule.id == rule.sigma_id == "50e068d7-1e6b-4054-87e5-0a592c40c7e0"


def test_logsource_matching() -> None:
    okta_event = make_event(product="okta", service="okta", source="okta")
    entra_event = make_event(product="azure", service="auditlogs", source="entra")
    assert logsource_matches(("okta", "okta", None), okta_event)
    assert logsource_matches(("Okta", None, None), okta_event)
    assert not logsource_matches(("okta", "okta", None), entra_event)
    assert not logsource_matches(("azure", "signinlogs", None), entra_event)
    assert logsource_matches((None, None, "authentication"), okta_event)  # the event declares no category
    assert logsource_matches(("deskguard", None, None), entra_event)
    assert logsource_matches(("deskguard", "entra", None), entra_event)
    assert not logsource_matches(("deskguard", "okta", None), entra_event)
    categorised = make_event(product="okta", extra={"logsource_category": "authentication"})
    assert logsource_matches(("okta", None, "authentication"), categorised)
    assert not logsource_matches(("okta", None, "process_creation"), categorised)


# --- loading and refusing -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("selection", "condition", "reason"),
    [
        ("a|expand: '%admins%'", "selection", "placeholder %admins%"),
        ("a|nosuchmodifier: x", "selection", "Unknown modifier"),
        ("a: x", "selection | count() > 5", "pipe syntax"),
        ("a|minute: 5", "selection", "timestamp part"),
        ("a: x", "selection and missing", "missing"),
        ("a: x", "1 of nothing*", "doesn't match any detection"),
        ("a|re: '(unclosed'", "selection", "invalid"),
        ("a|cidr: 10.0.0.0/33", "selection", "CIDR"),
    ],
)
def test_unsupported_rules_are_reported_with_a_reason(selection: str, condition: str, reason: str) -> None:
    found = refusal(RULE % (selection, condition))
    assert reason.lower() in found.lower(), found


def test_v1_timeframe_is_refused() -> None:
    text = RULE % ("a: x", "selection") + "  timeframe: 5m\n"
    assert "timeframe" in refusal(text)


def test_broken_documents_never_crash_the_load() -> None:
    text = "\n---\n".join(
        [
            "title: no detection\nlogsource: {product: okta}",
            "just a string",
            "title: good\nlogsource: {product: okta}\ndetection: {sel: {a: x}, condition: sel}",
            "title: bad level\nlevel: apocalyptic\nlogsource: {product: okta}\n"
            "detection: {sel: {a: x}, condition: sel}",
        ]
    )
    result = load_rules_text(text)
    assert [rule.title for rule in result.rules] == ["good"]
    assert len(result.unsupported) == 3
    assert all(item.reason for item in result.unsupported)


def test_invalid_yaml_is_reported_for_the_file(tmp_path: Path) -> None:
    (tmp_path / "broken.yml").write_text("title: [unclosed\n")
    (tmp_path / "dup.yml").write_text("title: a\ntitle: b\n")
    result = load_rules([tmp_path])
    reasons = {Path(item.path).name: item.reason for item in result.unsupported}
    assert "invalid YAML" in reasons["broken.yml"] and "Duplicate key" in reasons["dup.yml"]


def test_loading_directories_recursively(tmp_path: Path) -> None:
    good = "title: {t}\nlogsource: {{product: okta}}\ndetection: {{sel: {{a: x}}, condition: sel}}\n"
    (tmp_path / "deep" / "er").mkdir(parents=True)
    (tmp_path / "one.yml").write_text(good.format(t="one"))
    (tmp_path / "deep" / "two.yaml").write_text(good.format(t="two"))
    (tmp_path / "deep" / "er" / "three.yml").write_text(
        good.format(t="three") + "---\n" + good.format(t="four")
    )
    (tmp_path / "notes.txt").write_text("not a rule")
    result = load_rules([tmp_path])
    assert sorted(rule.title for rule in result.rules) == ["four", "one", "three", "two"]
    assert not result.unsupported


def test_global_action_documents() -> None:
    text = """
action: global
title: shared
logsource: {product: okta, service: okta}
detection:
  condition: selection
---
detection:
  selection: {eventType: a}
---
detection:
  selection: {eventType: b}
"""
    result = load_rules_text(text)
    assert not result.unsupported
    assert [rule.dispatch for rule in result.rules] == [{"a"}, {"b"}]


def test_duplicate_ids_are_refused() -> None:
    one = "title: {t}\nid: 50e068d7-1e6b-4054-87e5-0a592c40c7e0\nlogsource: {{product: okta}}\n"
    one += "detection: {{sel: {{a: x}}, condition: sel}}\n"
    result = load_rules_text(one.format(t="first") + "---\n" + one.format(t="second"))
    assert [rule.title for rule in result.rules] == ["first"]
    assert "duplicate" in result.unsupported[0].reason


def test_an_okta_event_from_the_helper() -> None:
    rule = matcher("target.alternateId", "jane@acme.com")
    assert rule.predicate(okta("user.mfa.factor.deactivate", user="jane@acme.com"))
