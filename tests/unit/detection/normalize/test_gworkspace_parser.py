"""Google Workspace parser: Reports API activities and lists, Cloud Logging entries, the Sigma view."""

from __future__ import annotations

import copy
import json
from functools import partial
from typing import Any

import parser_fixtures
import pytest
from parser_fixtures import FIXTURES
from parser_properties import arbitrary_objects_test, replaced_fields_test

from deskguard.detection.event import ACTIVITIES, CLASSES
from deskguard.detection.normalize import detect_source, normalize
from deskguard.detection.normalize import gworkspace as parser
from deskguard.detection.parsing import Quarantined

GOOGLE = FIXTURES / "gworkspace"
load = partial(parser_fixtures.load, "gworkspace")
one = partial(parser_fixtures.one, parser)


def activity(
    name: str, app: str = "admin", event_type: str = "USER_SETTINGS", **params: Any
) -> dict[str, Any]:
    raw = load("admin_change_password.json")
    raw["id"]["applicationName"] = app
    parameters = [{"name": key, "value": value} for key, value in params.items()]
    raw["events"] = [{"type": event_type, "name": name, "parameters": parameters}]
    return raw


# -- activities ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "app", "class_name", "expected"),
    [
        ("login_success", "login", "authentication", "sign_in"),
        ("login_failure", "login", "authentication", "sign_in_failed"),
        ("login_challenge", "login", "authentication", "mfa_challenge"),
        ("login_verification", "login", "authentication", "mfa_challenge"),
        ("suspicious_login", "login", "authentication", "sign_in"),
        ("suspicious_login_less_secure_app", "login", "authentication", "sign_in"),
        ("suspicious_programmatic_login", "login", "authentication", "sign_in"),
        ("2sv_disable", "login", "account_change", "mfa_disabled"),
        ("2sv_enroll", "user_accounts", "account_change", "mfa_factor_enrolled"),
        ("password_edit", "login", "account_change", "password_change"),
        ("recovery_email_edit", "user_accounts", "account_change", "recovery_change"),
        ("recovery_phone_edit", "login", "account_change", "recovery_change"),
        ("recovery_secret_qa_edit", "login", "account_change", "recovery_change"),
        ("CHANGE_PASSWORD", "admin", "account_change", "password_reset"),
        ("TURN_OFF_2_STEP_VERIFICATION", "admin", "account_change", "mfa_disabled"),
        ("GENERATE_2SV_SCRATCH_CODES", "admin", "account_change", "temporary_access_pass"),
        ("CHANGE_RECOVERY_EMAIL", "admin", "account_change", "recovery_change"),
        ("CHANGE_RECOVERY_PHONE", "admin", "account_change", "recovery_change"),
        ("UNSUSPEND_USER", "admin", "account_change", "account_enable"),
        ("GRANT_ADMIN_PRIVILEGE", "admin", "user_access", "role_granted"),
        ("ASSIGN_ROLE", "admin", "user_access", "role_granted"),
        ("GRANT_DELEGATED_ADMIN_PRIVILEGES", "admin", "user_access", "role_granted"),
        ("CREATE_SSO_PROFILE", "admin", "entity_management", "idp_created"),
        ("INBOUND_SSO_PROFILE_CREATED", "admin", "entity_management", "idp_created"),
        ("UPDATE_SSO_PROFILE", "admin", "entity_management", "idp_changed"),
        ("CHANGE_SSO_SETTINGS", "admin", "entity_management", "idp_changed"),
        ("CHANGE_PASSWORD_ON_NEXT_LOGIN", "admin", "account_change", "other"),
        ("logout", "login", "authentication", "other"),
        ("titanium_unenroll", "user_accounts", "account_change", "other"),
        ("authorize", "token", "user_access", "other"),
        ("create", "drive", "api_activity", "other"),
    ],
)
def test_each_event_name(name: str, app: str, class_name: str, expected: str) -> None:
    event = one(activity(name, app))
    assert (event.class_name, event.activity, event.type) == (class_name, expected, name)
    assert event.activity in ACTIVITIES and event.class_name in CLASSES
    assert (event.source, event.product, event.service) == ("gworkspace", "gcp", f"google_workspace.{app}")


def test_every_table_entry_is_in_the_vocabulary() -> None:
    for class_name, name in parser.ACTIVITIES.values():
        assert class_name in CLASSES and name in ACTIVITIES


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("ENFORCE_STRONG_AUTHENTICATION", "false", "mfa_disabled"),
        ("ALLOW_STRONG_AUTHENTICATION", "false", "mfa_disabled"),
        ("ENFORCE_STRONG_AUTHENTICATION", "true", "other"),
        ("ALLOW_STRONG_AUTHENTICATION", "true", "other"),
    ],
)
def test_strong_authentication_turned_off_is_mfa_disabled(name: str, value: str, expected: str) -> None:
    event = one(activity(name, event_type="SECURITY_SETTINGS", ORG_UNIT_NAME="Example Corp", NEW_VALUE=value))
    assert event.activity == expected


def test_an_sso_application_setting_is_an_identity_provider_change() -> None:
    raw = activity(
        "CREATE_APPLICATION_SETTING", event_type="APPLICATION_SETTINGS", SETTING_NAME="SSO profile"
    )
    assert one(raw).activity == "idp_created"
    raw = activity("CHANGE_APPLICATION_SETTING", event_type="APPLICATION_SETTINGS", SETTING_NAME="SAML IdP")
    assert one(raw).activity == "idp_changed"
    raw = activity(
        "CHANGE_APPLICATION_SETTING", event_type="APPLICATION_SETTINGS", SETTING_NAME="Drive sharing"
    )
    assert one(raw).activity == "other"


def test_an_admin_password_change_is_a_reset_of_the_user() -> None:
    raw = load("admin_change_password.json")
    event = one(raw)
    assert (event.activity, event.outcome) == ("password_reset", "success")
    assert event.id == "-5629873424978364421"
    assert event.time == pytest.approx(1709542931.904)
    assert (event.actor_user, event.actor_id, event.actor_type) == (
        "helpdesk.agent@example.com",
        "104729381746592837465",
        "human",
    )
    assert event.target_user == "jane.doe@example.com"
    assert event.src_ip == "198.51.100.23"
    assert event.extra["customer_id"] == "C03az79cb"
    assert event.raw is raw


def test_roles_come_from_the_parameters() -> None:
    events = parser.parse(load("admin_activities_list.json"))
    roles = {event.type: event.extra.get("role") for event in events if event.activity == "role_granted"}
    assert roles == {
        "ASSIGN_ROLE": "_SEED_ADMIN_ROLE",
        "GRANT_ADMIN_PRIVILEGE": None,
        "GRANT_DELEGATED_ADMIN_PRIVILEGES": "Helpdesk Admin",
    }


def test_an_api_key_caller_is_a_service() -> None:
    raw = load("admin_change_password.json")
    raw["actor"] = {"callerType": "KEY", "key": "SYSTEM"}
    event = one(raw)
    assert (event.actor_type, event.actor_id, event.actor_user) == ("service", "SYSTEM", "")


# -- login events -------------------------------------------------------------------------------------


def test_login_events() -> None:
    events = parser.parse(load("login_activities_list.json"))
    summary = [(event.type, event.activity, event.outcome) for event in events]
    assert summary == [
        ("login_success", "sign_in", "success"),
        ("login_failure", "sign_in_failed", "failure"),
        ("login_challenge", "mfa_challenge", "success"),
        ("2sv_enroll", "mfa_factor_enrolled", "success"),
        ("recovery_phone_edit", "recovery_change", "success"),
        ("password_edit", "password_change", "success"),
        ("2sv_disable", "mfa_disabled", "success"),
        ("suspicious_login", "sign_in", "unknown"),
    ]
    success, failure, challenge = events[:3]
    assert success.extra["suspicious"] is True  # is_suspicious
    assert success.extra["factor"] == ["password", "backup_code"]
    assert success.extra["login_type"] == "google_password"
    assert failure.reason == "login_failure_invalid_password"
    assert "suspicious" not in failure.extra
    assert challenge.extra["factor"] == "backup_code"
    assert events[-1].extra["suspicious"] is True
    assert all(event.target_user == "jane.doe@example.com" for event in events)  # the actor, or affected


def test_a_failed_challenge() -> None:
    raw = activity("login_challenge", "login", "login", login_challenge_status="Challenge Failed")
    event = one(raw)
    assert (event.activity, event.outcome, event.reason) == ("mfa_challenge", "failure", "Challenge Failed")


def test_a_multi_event_activity_gives_one_event_each_with_its_own_id() -> None:
    raw = load("login_activities_list.json")["items"][3]
    events = parser.parse(raw)
    assert [event.id for event in events] == [f"239837479200:{index}" for index in range(4)]
    assert all(event.raw is raw for event in events)
    assert len({event.time for event in events}) == 1


# -- the Sigma view -----------------------------------------------------------------------------------


def test_the_view_spells_the_event_as_sigma_rules_do() -> None:
    events = parser.parse(load("admin_activities_list.json"))
    enforce = next(event for event in events if event.type == "ENFORCE_STRONG_AUTHENTICATION")
    assert enforce.view is not None
    assert enforce.raw_field("eventService") == "admin.googleapis.com"
    assert enforce.raw_field("eventName") == "ENFORCE_STRONG_AUTHENTICATION"
    assert enforce.raw_field("eventType") == "SECURITY_SETTINGS"
    assert enforce.raw_field("new_value") == "false"  # NEW_VALUE, whatever the rule's case
    assert enforce.raw_field("NEW_VALUE") == "false"
    grant = next(event for event in events if event.type == "ASSIGN_ROLE")
    assert grant.raw_field("ROLE_NAME") == "_SEED_ADMIN_ROLE"
    assert grant.raw_field("USER_EMAIL") == "svc.backup@example.com"
    assert grant.raw_field("id.applicationName") == "admin"  # the raw activity still answers first


def test_the_view_answers_the_login_rules_on_a_reports_activity() -> None:
    raw = activity("suspicious_login", "login", "account_warning")
    event = one(raw)
    assert event.raw_field("protoPayload.serviceName") == "login.googleapis.com"
    assert (
        event.raw_field("protoPayload.Servicename") == "login.googleapis.com"
    )  # as one SigmaHQ rule spells it
    assert event.raw_field("protoPayload.metadata.event.eventName") == "suspicious_login"


def test_each_event_of_an_activity_has_its_own_view() -> None:
    events = parser.parse(load("admin_activities_list.json")["items"][0])
    assert [event.raw_field("eventName") for event in events] == [
        "CHANGE_PASSWORD",
        "CHANGE_PASSWORD_ON_NEXT_LOGIN",
        "GENERATE_2SV_SCRATCH_CODES",
    ]
    assert events[1].raw_field("NEW_VALUE") == "false"
    assert events[0].raw_field("NEW_VALUE") is None


def test_parameter_value_kinds() -> None:
    raw = load("admin_change_password.json")
    raw["events"][0]["parameters"] = [
        {"name": "USER_EMAIL", "value": "jane.doe@example.com"},
        {"name": "flag", "boolValue": True},
        {"name": "count", "intValue": "42"},
        {"name": "names", "multiValue": ["a", "b"]},
        {"name": "ids", "multiIntValue": ["1", "2"]},
        {"name": "nested", "messageValue": {"parameter": [{"name": "inner", "value": "x"}]}},
        {"name": "empty"},
        {"value": "nameless"},
    ]
    view = one(raw).view
    assert view is not None
    assert (view["flag"], view["count"], view["names"], view["ids"]) == (True, 42, ["a", "b"], ["1", "2"])
    assert view["nested"] == {"parameter": [{"name": "inner", "value": "x"}]}
    assert view["empty"] is None
    assert "nameless" not in view.values()


# -- Cloud Logging ------------------------------------------------------------------------------------


def test_a_cloud_logging_login_entry() -> None:
    raw = load("cloud_logging_login.json")
    event = one(raw)
    assert (event.activity, event.outcome, event.service) == ("sign_in", "success", "google_workspace.login")
    assert (event.id, event.actor_user, event.target_user, event.src_ip) == (
        "1x9q2w3e4r5t",
        "jane.doe@example.com",
        "jane.doe@example.com",
        "185.220.101.34",
    )
    assert event.time == pytest.approx(1709543742.318)
    assert event.extra["factor"] == ["password", "google_authenticator"]  # multiStrValue
    assert event.extra["method"] == "google.login.LoginService.loginSuccess"
    assert event.raw is raw
    assert event.raw_field("protoPayload.serviceName") == "login.googleapis.com"
    assert event.raw_field("eventService") == "login.googleapis.com"
    assert event.raw_field("protoPayload.metadata.event.eventName") == "login_success"  # through the view


def test_a_cloud_logging_admin_entry_with_two_events() -> None:
    raw = load("cloud_logging_admin.json")
    events = parser.parse(raw)
    assert [(event.id, event.activity) for event in events] == [
        ("-7h3j2k1l0:0", "mfa_disabled"),
        ("-7h3j2k1l0:1", "password_reset"),
    ]
    assert events[1].target_user == "sam.lee@example.com"
    assert events[0].raw_field("new_value") == "false"


def test_cloud_logging_time_from_the_activity_id() -> None:
    raw = load("cloud_logging_login.json")
    del raw["timestamp"]
    assert one(raw).time == pytest.approx(1709543742.318)


def test_a_flattened_cloud_logging_entry() -> None:
    raw = {
        "insertId": "abc",
        "timestamp": "2024-03-04T09:15:42.318Z",
        "protoPayload.serviceName": "login.googleapis.com",
        "protoPayload.authenticationInfo.principalEmail": "Jane.Doe@example.com",
        "protoPayload.requestMetadata.callerIp": "185.220.101.34",
        "protoPayload.metadata.event": [
            {"eventType": "login", "eventName": "login_failure", "parameter": []}
        ],
    }
    assert parser.detect(raw)
    event = one(raw)
    assert (event.activity, event.actor_user, event.src_ip) == (
        "sign_in_failed",
        "jane.doe@example.com",
        "185.220.101.34",
    )


# -- shapes, spellings, timestamps --------------------------------------------------------------------


def test_a_list_response_gives_every_event_of_every_activity() -> None:
    raw = load("admin_activities_list.json")
    events = parser.parse(raw)
    assert len(events) == 10
    assert [event.activity for event in events] == [
        "password_reset",
        "other",
        "temporary_access_pass",
        "role_granted",
        "mfa_disabled",
        "role_granted",
        "recovery_change",
        "account_enable",
        "idp_created",
        "role_granted",
    ]
    assert events[0].raw is raw["items"][0]


def test_an_empty_list_gives_no_events() -> None:
    assert parser.parse({"kind": "admin#reports#activities"}) == []
    assert parser.parse({"kind": "admin#reports#activities", "items": []}) == []


def test_lower_cased_keys_give_the_same_event() -> None:
    lowered = load("lowercased_activity.json")
    assert parser.detect(lowered)
    event = one(lowered)
    reference = one(load("admin_change_password.json"))
    for name in ("activity", "class_name", "actor_user", "actor_id", "target_user", "src_ip", "service"):
        assert getattr(event, name) == getattr(reference, name), name
    assert event.time == pytest.approx(1709543742.318)


def test_flattened_reports_activity() -> None:
    raw = {
        "id.time": "2024-03-04T09:02:11Z",
        "id.uniqueQualifier": "77",
        "id.applicationName": "admin",
        "actor.email": "Helpdesk.Agent@example.com",
        "events": [
            {
                "type": "USER_SETTINGS",
                "name": "CHANGE_PASSWORD",
                "parameters": [{"name": "USER_EMAIL", "value": "a@b.c"}],
            }
        ],
    }
    assert parser.detect(raw)
    event = one(raw)
    assert (event.activity, event.actor_user, event.target_user, event.id) == (
        "password_reset",
        "helpdesk.agent@example.com",
        "a@b.c",
        "77",
    )


@pytest.mark.parametrize(
    "when",
    [
        "2024-03-04T09:02:11.904Z",
        "2024-03-04T10:02:11.904+01:00",
        "2024-03-04 09:02:11.904",
        1709542931.904,
        1709542931904,
    ],
)
def test_timestamps_in_several_forms(when: Any) -> None:
    raw = load("admin_change_password.json")
    raw["id"]["time"] = when
    assert one(raw).time == pytest.approx(1709542931.904)


# -- detection and the registry -----------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(path.name for path in GOOGLE.glob("*.json")))
def test_every_fixture_is_detected_as_gworkspace(name: str) -> None:
    raw = load(name)
    assert parser.detect(raw)
    assert detect_source(raw) == "gworkspace"
    assert all(event.source == "gworkspace" and event.view for event in normalize(raw))


@pytest.mark.parametrize(
    "raw",
    [
        {},
        {"kind": ["admin#reports#activity"]},
        {"protoPayload": {"serviceName": "compute.googleapis.com", "metadata": {}}},
        {"protoPayload.serviceName": ["login.googleapis.com"]},
        {"items": [{"name": "x"}]},
        json.loads((FIXTURES / "okta" / "session_start_abroad.json").read_text()),
        json.loads((FIXTURES / "entra" / "monitor_single_signin.json").read_text()),
    ],
)
def test_other_shapes_are_not_gworkspace(raw: dict[str, Any]) -> None:
    assert not parser.detect(raw)


# -- quarantine ---------------------------------------------------------------------------------------


def broken(change: Any) -> dict[str, Any]:
    raw = load("admin_change_password.json")
    change(raw)
    return raw


@pytest.mark.parametrize(
    ("raw", "reason", "detail"),
    [
        (broken(lambda raw: raw["id"].pop("time")), "missing_field", "id.time"),
        (broken(lambda raw: raw["id"].update(time="last tuesday")), "bad_timestamp", "id.time"),
        (broken(lambda raw: raw["id"].pop("uniqueQualifier")), "missing_field", "id.uniqueQualifier"),
        (broken(lambda raw: raw.pop("events")), "missing_field", "events"),
        (broken(lambda raw: raw.update(events={"name": "x"})), "wrong_shape", "events"),
        (broken(lambda raw: raw.update(events=["x"])), "wrong_shape", "events[0]"),
        (broken(lambda raw: raw["events"][0].pop("name")), "missing_field", "events[0].name"),
        (broken(lambda raw: raw["events"][0].update(parameters="USER_EMAIL")), "wrong_shape", "parameters"),
        (broken(lambda raw: raw["events"][0].update(parameters=[1])), "wrong_shape", "parameters[0]"),
        (broken(lambda raw: raw.update(actor="jane")), "wrong_shape", "actor"),
        ({"kind": "admin#reports#activities", "items": {}}, "wrong_shape", "items"),
        ({"kind": "admin#reports#activities", "items": [1]}, "wrong_shape", "items[0]"),
        ({**load("cloud_logging_login.json"), "insertId": ""}, "missing_field", "insertId"),
        ({**load("cloud_logging_login.json"), "protoPayload": "login"}, "wrong_shape", "protoPayload"),
        (
            {"insertId": "a", "timestamp": 1, "protoPayload": {"serviceName": "login.googleapis.com"}},
            "missing_field",
            "event",
        ),
    ],
)
def test_malformed_records_are_quarantined(raw: dict[str, Any], reason: str, detail: str) -> None:
    with pytest.raises(Quarantined) as caught:
        parser.parse(raw)
    assert caught.value.reason == reason
    assert detail in caught.value.detail


def test_an_empty_activity_gives_no_events() -> None:
    raw = load("admin_change_password.json")
    raw["events"] = []
    assert parser.parse(raw) == []


def test_raw_is_not_modified() -> None:
    raw = load("admin_activities_list.json")
    before = copy.deepcopy(raw)
    parser.parse(raw)
    assert raw == before


# -- properties ---------------------------------------------------------------------------------------

KEYS = [
    "kind",
    "id",
    "actor",
    "ipAddress",
    "events",
    "items",
    "protoPayload",
    "insertId",
    "timestamp",
    "protoPayload.serviceName",
    "id.time",
    "id.uniqueQualifier",
]

BASES = [
    load("admin_change_password.json"),
    load("cloud_logging_admin.json"),
    {"kind": "admin#reports#activities", "items": load("login_activities_list.json")["items"][:2]},
    load("lowercased_activity.json"),
]

test_arbitrary_objects_parse_or_are_quarantined = arbitrary_objects_test(parser, KEYS)
test_valid_records_with_any_field_replaced_parse_or_are_quarantined = replaced_fields_test(parser, BASES)
