"""Entra ID parser: directory audits and sign-ins from Graph and Azure Monitor, spellings, quarantine."""

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
from deskguard.detection.normalize import entra as parser
from deskguard.detection.parsing import Quarantined

ENTRA = FIXTURES / "entra"
load = partial(parser_fixtures.load, "entra")
one = partial(parser_fixtures.one, parser)


def audit(name: str = "Reset user password", **changes: Any) -> dict[str, Any]:
    raw = load("audit_admin_password_reset.json")
    raw["activityDisplayName"] = name
    raw.update(changes)
    return raw


def with_modified(name: str, *properties: tuple[str, Any, Any], **changes: Any) -> dict[str, Any]:
    raw = audit(name, **changes)
    raw["targetResources"][0]["modifiedProperties"] = [
        {"displayName": display, "oldValue": old, "newValue": new} for display, old, new in properties
    ]
    return raw


def signin(**status: Any) -> dict[str, Any]:
    raw = load("signins_value_list.json")["value"][0]
    raw["status"] = status
    return raw


def monitor(index: int) -> dict[str, Any]:
    return load("monitor_records_batch.json")["records"][index]


# -- directory audits ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "class_name", "activity"),
    [
        ("Reset user password", "account_change", "password_reset"),
        ("Reset password (by admin)", "account_change", "password_reset"),
        ("Change user password", "account_change", "password_change"),
        ("Reset password (self-service)", "account_change", "password_change"),
        ("Change password (self-service)", "account_change", "password_change"),
        ("Unlock user account (self-service)", "account_change", "account_unlock"),
        ("Enable account", "account_change", "account_enable"),
        ("User registered security info", "account_change", "mfa_factor_enrolled"),
        ("Admin registered security info", "account_change", "mfa_factor_enrolled"),
        ("User registered all required security info", "account_change", "mfa_factor_enrolled"),
        ("Admin updated security info", "account_change", "recovery_change"),
        ("User deleted security info", "account_change", "mfa_factor_removed"),
        ("Admin deleted security info", "account_change", "mfa_factor_removed"),
        ("Create Temporary Access Pass method for user", "account_change", "temporary_access_pass"),
        ("Disable Strong Authentication", "account_change", "mfa_disabled"),
        ("Register device", "account_change", "device_enrolled"),
        ("Add device", "account_change", "device_enrolled"),
        ("Add registered owner to device", "account_change", "device_enrolled"),
        ("Add registered users to device", "account_change", "device_enrolled"),
        ("Add member to role", "user_access", "role_granted"),
        ("Add eligible member to role", "user_access", "role_granted"),
        ("Add scoped member to role", "user_access", "role_granted"),
        ("Add member to role in PIM completed (permanent)", "user_access", "role_granted"),
        ("Add member to role in PIM completed (timebound)", "user_access", "role_granted"),
        ("Add eligible member to role in PIM completed (permanent)", "user_access", "role_granted"),
        ("Add member to role completed (PIM activation)", "user_access", "role_granted"),
        ("Add eligible member (permanent)", "user_access", "role_granted"),
        ("Add unverified domain", "entity_management", "idp_created"),
        ("Add identity provider", "entity_management", "idp_created"),
        ("Update identity provider", "entity_management", "idp_changed"),
        ("Set federation settings on domain", "entity_management", "idp_changed"),
        ("Set domain authentication", "entity_management", "idp_changed"),
        ("Revoke user sessions", "authentication", "session_revoked"),
        ("Invalidate all refresh tokens for a user", "authentication", "session_revoked"),
        ("Update user", "account_change", "other"),
        ("RESET USER PASSWORD", "account_change", "password_reset"),
    ],
)
def test_each_mapped_activity(name: str, class_name: str, activity: str) -> None:
    event = one(audit(name))
    assert (event.class_name, event.activity, event.type) == (class_name, activity, name)
    assert (event.source, event.product, event.service) == ("entra", "azure", "auditlogs")


def test_every_table_entry_is_in_the_vocabulary() -> None:
    for class_name, activity in parser.AUDIT_ACTIVITIES.values():
        assert class_name in CLASSES and activity in ACTIVITIES


@pytest.mark.parametrize(
    ("name", "category", "class_name"),
    [
        ("Add member to group", "GroupManagement", "group_management"),
        ("Add conditional access policy", "Policy", "entity_management"),
        ("Add service principal", "ApplicationManagement", "entity_management"),
        ("Suspicious activity reported", "UserManagement", "account_change"),
        ("Something new", "SomethingElse", "api_activity"),
    ],
)
def test_other_activities_get_their_class_from_the_category(
    name: str, category: str, class_name: str
) -> None:
    event = one(audit(name, category=category))
    assert (event.class_name, event.activity) == (class_name, "other")


def test_an_admin_password_reset() -> None:
    raw = load("audit_admin_password_reset.json")
    event = one(raw)
    assert event.activity == "password_reset" and event.outcome == "success"
    assert event.id == "Directory_7d1e6a4b-2f7c-4e1a-9b3d-5c8f0a2e6b14_9XK2L_41278653"
    assert event.time == pytest.approx(1709542931.904123)
    assert (event.actor_user, event.actor_id, event.actor_type) == (
        "helpdesk.agent@contoso.com",
        "4b8e2c1a-6d3f-4a9e-8b7c-1f2e3d4c5b6a",
        "human",
    )
    assert (event.target_user, event.target_id) == (
        "jane.doe@contoso.com",
        "d7f3a9b2-5c1e-4f8a-b6d2-9e0c3a7f1b45",
    )
    assert event.src_ip == "198.51.100.23"
    assert event.user_agent.endswith("Edg/122.0.0.0")
    assert event.extra["logged_by"] == "Core Directory"
    assert event.extra["correlation_id"] == "7d1e6a4b-2f7c-4e1a-9b3d-5c8f0a2e6b14"
    assert event.raw is raw


def test_a_reset_of_ones_own_password_is_a_change() -> None:
    raw = audit("Reset user password")
    raw["initiatedBy"]["user"]["userPrincipalName"] = "jane.doe@contoso.com"
    assert one(raw).activity == "password_change"


def test_an_app_initiated_audit_names_the_service() -> None:
    raw = audit("Update user")
    raw["initiatedBy"] = {
        "user": None,
        "app": {"appId": "a1", "displayName": "Microsoft Substrate Management", "servicePrincipalId": "sp1"},
    }
    event = one(raw)
    assert (event.actor_user, event.actor_id, event.actor_type, event.src_ip) == (
        "Microsoft Substrate Management",
        "a1",
        "service",
        "",
    )


@pytest.mark.parametrize(
    ("result", "outcome"), [("success", "success"), ("failure", "failure"), ("timeout", "unknown")]
)
def test_audit_outcomes(result: str, outcome: str) -> None:
    assert one(audit(result=result, resultReason="why")).outcome == outcome


@pytest.mark.parametrize(
    ("properties", "activity"),
    [
        (
            (("StrongAuthenticationRequirement", '[{"State":1}]', '[{"RelyingParty":"*","State":0}]'),),
            "mfa_disabled",
        ),
        ((("StrongAuthenticationRequirement", '[{"State":1}]', "[]"),), "mfa_disabled"),
        ((("StrongAuthenticationRequirement", "[]", '[{"State":1}]'),), "other"),
        ((("StrongAuthenticationUserDetails", "[]", '[{"PhoneNumber":"+40 7"}]'),), "recovery_change"),
        ((("StrongAuthenticationMethod", "[]", '[{"MethodType":6,"Default":true}]'),), "recovery_change"),
        ((("StrongAuthenticationPhoneAppDetail", "[]", "[{}]"),), "recovery_change"),
        ((("StsRefreshTokensValidFrom", '["2024-01-01"]', '["2024-03-04"]'),), "session_revoked"),
        ((("DisplayName", '["Jane"]', '["Jane D."]'),), "other"),
    ],
)
def test_update_user_is_refined_by_what_changed(
    properties: tuple[tuple[str, Any, Any], ...], activity: str
) -> None:
    event = one(with_modified("Update user", *properties))
    assert event.activity == activity
    assert event.extra["modified_properties"] == [display for display, _old, _new in properties]


@pytest.mark.parametrize(
    ("new", "activity"), [('["Federated"]', "idp_created"), ('["Managed"]', "idp_changed")]
)
def test_set_domain_authentication_to_federated_creates_a_federation(new: str, activity: str) -> None:
    event = one(with_modified("Set domain authentication", ("LiveType", '["Managed"]', new)))
    assert event.activity == activity


@pytest.mark.parametrize(
    ("name", "changes"),
    [
        (
            "Admin registered security info",
            {"resultReason": "Admin registered temporary access pass method for user"},
        ),
        ("User registered security info", {"resultReason": "User registered Temporary Access Pass"}),
        (
            "Admin registered security info",
            {"additionalDetails": [{"key": "Method", "value": "Temporary Access Pass"}]},
        ),
        (
            "Admin updated security info",
            {"resultReason": "Admin updated temporary access pass method for user"},
        ),
    ],
)
def test_temporary_access_pass_variants(name: str, changes: dict[str, Any]) -> None:
    assert one(audit(name, **changes)).activity == "temporary_access_pass"


def test_role_name_from_modified_properties() -> None:
    event = one(monitor(1))
    assert event.activity == "role_granted"
    assert event.extra["role"] == "Privileged Authentication Administrator"
    assert event.target_user == "svc.backup@contoso.com"


def test_role_name_from_the_role_target() -> None:
    events = parser.parse(load("audit_value_list.json"))
    pim = next(event for event in events if event.type.startswith("Add eligible member"))
    assert (pim.activity, pim.extra["role"], pim.target_user) == (
        "role_granted",
        "Global Administrator",
        "svc.backup@contoso.com",
    )


def test_a_device_registration_names_the_device() -> None:
    events = parser.parse(load("audit_value_list.json"))
    device = next(event for event in events if event.type == "Register device")
    assert (device.activity, device.device_id, device.actor_type) == (
        "device_enrolled",
        "0f1e2d3c-4b5a-4968-8776-5a4b3c2d1e0f",
        "service",
    )


def test_a_graph_list_of_audits() -> None:
    raw = load("audit_value_list.json")
    events = parser.parse(raw)
    assert [event.activity for event in events] == [
        "mfa_factor_enrolled",
        "mfa_factor_removed",
        "mfa_disabled",
        "device_enrolled",
        "idp_created",
        "idp_changed",
        "mfa_disabled",
        "recovery_change",
        "account_enable",
        "password_change",
        "role_granted",
        "idp_created",
    ]
    assert [event.raw for event in events] == raw["value"]
    assert events[0].extra["method"] == "Microsoft Authenticator"
    failed = events[9]
    assert (failed.outcome, failed.reason) == ("failure", "User's account is locked")


# -- sign-ins -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "activity", "outcome"),
    [
        ({"errorCode": 0, "failureReason": "Other."}, "sign_in", "success"),
        ({"errorCode": 50126, "failureReason": "Invalid username or password"}, "sign_in_failed", "failure"),
        ({"errorCode": 50053, "failureReason": "Account is locked"}, "sign_in_failed", "failure"),
        ({"errorCode": 53003, "failureReason": "Blocked by Conditional Access"}, "sign_in_failed", "failure"),
        (
            {"errorCode": 50074, "failureReason": "Strong Authentication is required."},
            "mfa_challenge",
            "unknown",
        ),
        ({"errorCode": 50076, "failureReason": "MFA required"}, "mfa_challenge", "unknown"),
        (
            {
                "errorCode": 500121,
                "failureReason": "Authentication failed",
                "additionalDetails": "MFA denied; user declined",
            },
            "mfa_push_denied",
            "failure",
        ),
        ({"errorCode": 500121, "failureReason": "Authentication failed"}, "sign_in_failed", "failure"),
        ({"errorCode": "50126"}, "sign_in_failed", "failure"),
        ({}, "sign_in", "unknown"),
    ],
)
def test_sign_in_status(status: dict[str, Any], activity: str, outcome: str) -> None:
    event = one(signin(**status))
    assert (event.activity, event.outcome, event.class_name) == (activity, outcome, "authentication")
    if outcome == "success":
        assert event.reason == ""  # not Graph's "Other."
    elif status.get("failureReason"):
        assert event.reason == status["failureReason"]


def test_a_graph_sign_in_from_abroad() -> None:
    raw = load("signins_value_list.json")["value"][0]
    event = one(raw)
    assert (event.service, event.type, event.id) == ("signinlogs", "Sign-in activity", raw["id"])
    assert event.actor_user == event.target_user == "jane.doe@contoso.com"
    assert event.actor_id == event.target_id == "d7f3a9b2-5c1e-4f8a-b6d2-9e0c3a7f1b45"
    assert (event.country, event.city, event.lat, event.lon) == ("BR", "Sao Paulo", -23.5505, -46.6333)
    assert (event.app, event.src_ip, event.device_id) == (
        "Graph Explorer",
        "185.220.101.34",
        "0f1e2d3c-4b5a-4968-8776-5a4b3c2d1e0f",
    )
    assert event.is_proxy is None
    assert event.extra["client_app"] == "Browser"
    assert event.extra["interactive"] is True


def test_a_graph_list_of_sign_ins() -> None:
    raw = load("signins_value_list.json")
    events = parser.parse(raw)
    assert [event.activity for event in events] == [
        "sign_in",
        "mfa_push_denied",
        "mfa_challenge",
        "sign_in_failed",
    ]
    assert [event.raw for event in events] == raw["value"]


def test_an_azure_monitor_sign_in_flagged_anonymous() -> None:
    event = one(monitor(2))
    assert (event.activity, event.outcome, event.is_proxy) == ("sign_in", "success", True)
    assert event.session_id == "8a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
    assert event.user_agent.startswith("Mozilla/5.0")
    assert event.extra["risk_level"] == "high"
    assert event.extra["authentication_requirement"] == "singleFactorAuthentication"
    assert event.extra["sign_in_category"] == "signinlogs"


def test_a_non_interactive_sign_in_failure() -> None:
    event = one(monitor(3))
    assert (event.activity, event.outcome, event.extra["error_code"]) == (
        "sign_in_failed",
        "failure",
        "50126",
    )
    assert event.extra["sign_in_category"] == "noninteractiveusersigninlogs"
    assert event.service == "signinlogs"


def test_the_record_result_type_stands_in_for_a_missing_status() -> None:
    raw = monitor(3)
    del raw["properties"]["status"]
    event = one(raw)
    assert (event.activity, event.reason) == (
        "sign_in_failed",
        "Error validating credentials due to invalid username or password.",
    )


def test_a_service_principal_sign_in() -> None:
    raw = monitor(2)
    raw["category"] = "ServicePrincipalSignInLogs"
    raw["properties"]["servicePrincipalName"] = "backup-sync"
    raw["properties"]["servicePrincipalId"] = "sp-77"
    event = one(raw)
    assert (event.actor_user, event.actor_id, event.actor_type, event.target_user) == (
        "backup-sync",
        "sp-77",
        "service",
        "",
    )


def test_a_single_azure_monitor_record_without_wrapper() -> None:
    raw = load("monitor_single_signin.json")
    event = one(raw)
    assert (event.activity, event.extra["error_code"], event.user_agent) == (
        "sign_in_failed",
        "53003",
        "python-requests/2.31.0",
    )
    assert event.raw is raw


# -- shapes -------------------------------------------------------------------------------------------


def test_an_azure_monitor_batch_gives_one_event_per_record() -> None:
    raw = load("monitor_records_batch.json")
    events = parser.parse(raw)
    assert [(event.service, event.activity) for event in events] == [
        ("auditlogs", "temporary_access_pass"),
        ("auditlogs", "role_granted"),
        ("signinlogs", "sign_in"),
        ("signinlogs", "sign_in_failed"),
    ]
    for event, record in zip(events, raw["records"], strict=True):
        assert event.raw is record
        assert event.view is not None and event.view.items() >= record["properties"].items()
        assert event.view["ActivityDisplayName"] == event.type  # the Sentinel columns Sigma rules name


def test_sigma_sees_record_fields_and_properties() -> None:
    tap = one(monitor(0))
    assert tap.raw_field("operationName") == "Admin registered security info"
    assert tap.raw_field("LoggedByService") == "Authentication Methods"  # from properties, via view
    assert (
        tap.raw_field("properties.resultReason") == "Admin registered temporary access pass method for user"
    )
    graph = one(load("audit_admin_password_reset.json"))
    assert graph.raw_field("OperationName") == "Reset user password"  # a Graph object has no operationName
    assert graph.raw_field("loggedByService") == "Core Directory"
    graph_signin = one(signin(errorCode=50053, failureReason="Locked"))
    assert graph_signin.raw_field("ResultType") == "50053"


def test_empty_lists_give_no_events() -> None:
    assert parser.parse({"records": []}) == []
    assert parser.parse({"@odata.context": "x#auditLogs/signIns", "value": []}) == []


def test_lower_cased_graph_sign_in() -> None:
    raw = load("lowercased_signin.json")
    assert parser.detect(raw)
    event = one(raw)
    assert (event.activity, event.outcome, event.actor_user, event.device_id) == (
        "sign_in",
        "success",
        "jane.doe@contoso.com",
        "0f1e2d3c-4b5a-4968-8776-5a4b3c2d1e0f",
    )
    assert (event.country, event.lat, event.lon, event.time) == ("RO", 44.4268, 26.1025, 1709543742.0)


def test_flattened_azure_monitor_audit_record() -> None:
    raw = load("flattened_audit_record.json")
    assert parser.detect(raw)
    event = one(raw)
    assert (event.activity, event.actor_user, event.target_user, event.src_ip, event.outcome) == (
        "password_reset",
        "helpdesk.agent@contoso.com",
        "jane.doe@contoso.com",
        "198.51.100.23",
        "success",
    )
    assert event.raw is raw


def test_lower_cased_graph_audit_list() -> None:
    raw = load("audit_admin_password_reset.json")
    lowered = {key.lower(): value for key, value in raw.items()}
    lowered["initiatedby"] = {"user": {"userprincipalname": "Helpdesk.Agent@contoso.com"}}
    lowered["targetresources"] = [{"type": "User", "userprincipalname": "Jane.Doe@contoso.com"}]
    event = one({"value": [lowered]})
    assert (event.activity, event.actor_user, event.target_user) == (
        "password_reset",
        "helpdesk.agent@contoso.com",
        "jane.doe@contoso.com",
    )


def test_properties_as_a_json_string() -> None:
    raw = monitor(0)
    raw["properties"] = json.dumps(raw["properties"])
    event = one(raw)
    assert event.activity == "temporary_access_pass"
    assert event.view is not None and event.view["loggedByService"] == "Authentication Methods"


@pytest.mark.parametrize(
    "when",
    [
        "2024-03-04T09:02:11.9041234Z",
        "2024-03-04T09:02:11.9041234+00:00",
        "2024-03-04 09:02:11.9041234",
        1709542931.9041234,
    ],
)
def test_timestamps_in_several_forms(when: Any) -> None:
    assert one(audit(activityDateTime=when)).time == pytest.approx(1709542931.904123, abs=1e-5)


def test_the_record_time_stands_in_for_a_missing_activity_time() -> None:
    raw = monitor(0)
    del raw["properties"]["activityDateTime"]
    assert one(raw).time == pytest.approx(1709543133.123456, abs=1e-5)


# -- detection and the registry -----------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(path.name for path in ENTRA.glob("*.json")))
def test_every_fixture_is_detected_as_entra(name: str) -> None:
    raw = load(name)
    assert parser.detect(raw)
    assert detect_source(raw) == "entra"
    assert all(event.source == "entra" for event in normalize(raw))


@pytest.mark.parametrize(
    "raw",
    [
        {},
        {"records": []},
        {
            "records": [
                {"category": "Administrative", "operationName": "MICROSOFT.COMPUTE/VIRTUALMACHINES/WRITE"}
            ]
        },
        {"value": [{"name": "x"}]},
        {"category": "UserManagement"},
        json.loads((FIXTURES / "okta" / "session_start_abroad.json").read_text()),
        json.loads((FIXTURES / "gworkspace" / "admin_change_password.json").read_text()),
    ],
)
def test_other_shapes_are_not_entra(raw: dict[str, Any]) -> None:
    assert not parser.detect(raw)


# -- quarantine ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "reason", "detail"),
    [
        ({**load("audit_admin_password_reset.json"), "id": ""}, "missing_field", "id"),
        (
            {**load("audit_admin_password_reset.json"), "activityDisplayName": None},
            "missing_field",
            "activityDisplayName",
        ),
        (
            {**load("audit_admin_password_reset.json"), "activityDateTime": "soon"},
            "bad_timestamp",
            "activityDateTime",
        ),
        (
            {**load("audit_admin_password_reset.json"), "targetResources": {"type": "User"}},
            "wrong_shape",
            "targetResources",
        ),
        (
            {**load("audit_admin_password_reset.json"), "targetResources": ["User"]},
            "wrong_shape",
            "targetResources[0]",
        ),
        (
            {**load("audit_admin_password_reset.json"), "additionalDetails": "UA"},
            "wrong_shape",
            "additionalDetails",
        ),
        ({**signin(errorCode=0), "id": None}, "missing_field", "id"),
        ({**signin(errorCode=0), "createdDateTime": "x"}, "bad_timestamp", "createdDateTime"),
        ({"records": {"category": "AuditLogs"}}, "wrong_shape", "records"),
        ({"records": [1]}, "wrong_shape", "records[0]"),
        ({"records": [{"properties": {}}]}, "missing_field", "category"),
        (
            {"records": [{"category": "Administrative", "properties": {}}]},
            "unsupported_event",
            "Administrative",
        ),
        ({**load("monitor_single_signin.json"), "properties": 7}, "wrong_shape", "properties"),
        ({**load("monitor_single_signin.json"), "properties": "{not json"}, "wrong_shape", "properties"),
        ({**load("monitor_single_signin.json"), "properties": "[1]"}, "wrong_shape", "properties"),
        ({"value": [{"name": "x"}]}, "wrong_shape", "directoryAudit"),
        ({"value": ["x"]}, "wrong_shape", "value[0]"),
    ],
)
def test_malformed_records_are_quarantined(raw: dict[str, Any], reason: str, detail: str) -> None:
    with pytest.raises(Quarantined) as caught:
        parser.parse(raw)
    assert caught.value.reason == reason
    assert detail in caught.value.detail


def test_a_modified_property_that_is_not_an_object_is_quarantined() -> None:
    raw = audit("Update user")
    raw["targetResources"][0]["modifiedProperties"] = ["StrongAuthenticationRequirement"]
    with pytest.raises(Quarantined) as caught:
        parser.parse(raw)
    assert caught.value.reason == "wrong_shape"


def test_a_batch_with_one_bad_record_is_quarantined_whole() -> None:
    raw = load("monitor_records_batch.json")
    del raw["records"][2]["properties"]["id"]
    with pytest.raises(Quarantined) as caught:
        parser.parse(raw)
    assert (caught.value.reason, caught.value.detail) == ("missing_field", "id")


def test_raw_is_not_modified() -> None:
    raw = load("monitor_records_batch.json")
    before = copy.deepcopy(raw)
    parser.parse(raw)
    assert raw == before


# -- properties ---------------------------------------------------------------------------------------

KEYS = [
    "records",
    "value",
    "@odata.context",
    "category",
    "properties",
    "time",
    "operationName",
    "resultType",
    "id",
    "activityDisplayName",
    "activityDateTime",
    "createdDateTime",
    "userPrincipalName",
    "status",
    "initiatedBy",
    "targetResources",
    "additionalDetails",
    "location",
]

BASES = [
    load("audit_admin_password_reset.json"),
    load("monitor_single_signin.json"),
    {"records": load("monitor_records_batch.json")["records"][:2]},
    load("flattened_audit_record.json"),
    load("lowercased_signin.json"),
]

test_arbitrary_objects_parse_or_are_quarantined = arbitrary_objects_test(parser, KEYS)
test_valid_records_with_any_field_replaced_parse_or_are_quarantined = replaced_fields_test(parser, BASES)
